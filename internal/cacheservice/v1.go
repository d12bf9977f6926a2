package cacheservice

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// v1Accept is the Accept header the v1 service requires.
const v1Accept = "application/json;api-version=6.0-preview.1"

// v1Client speaks the v1 protocol:
//
//	GET   {base}_apis/artifactcache/cache?keys=k1,k2&version=V
//	      → 204 (miss) or 200 {"cacheKey","archiveLocation",...}
//	POST  {base}_apis/artifactcache/caches {"key","version","cacheSize"}
//	      → {"cacheId"}; 409 when the key and version exist
//	PATCH {base}_apis/artifactcache/caches/{id}, Content-Range: bytes a-b/*
//	POST  {base}_apis/artifactcache/caches/{id} {"size"}
type v1Client struct {
	cfg  Config
	h    *httpClient
	base string // ends with "/"
}

func newV1(cfg Config, h *httpClient, base *url.URL) *v1Client {
	s := base.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return &v1Client{cfg: cfg, h: h, base: s}
}

func (c *v1Client) Protocol() string { return ProtocolV1 }

func (c *v1Client) api(resource string) string {
	return c.base + "_apis/artifactcache/" + resource
}

func (c *v1Client) header(contentType string) http.Header {
	h := http.Header{}
	h.Set("Accept", v1Accept)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return h
}

// v1Entry is the lookup answer.
type v1Entry struct {
	CacheKey        string `json:"cacheKey"`
	ArchiveLocation string `json:"archiveLocation"`
}

func (c *v1Client) find(ctx context.Context, keys []string, version string) (*v1Entry, error) {
	const op = "v1 lookup"
	// encodeURIComponent, as the official client sends it.
	q := strings.ReplaceAll(url.QueryEscape(strings.Join(keys, ",")), "+", "%20")
	resp, err := c.h.do(ctx, request{
		op: op, method: http.MethodGet, auth: true,
		url:    c.api("cache?keys=" + q + "&version=" + url.QueryEscape(version)),
		header: c.header(""),
	})
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		drain(resp)
		return nil, nil
	case resp.StatusCode/100 != 2:
		return nil, c.h.statusError(op, resp, false)
	}
	b, err := readAll(op, resp, 1<<20)
	if err != nil {
		return nil, err
	}
	var e v1Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: decode answer: %w", op, err)
	}
	if e.ArchiveLocation == "" {
		return nil, fmt.Errorf("%s: answer has no archiveLocation", op)
	}
	return &e, nil
}

func (c *v1Client) Lookup(ctx context.Context, key string, restoreKeys []string, version string) (*Entry, error) {
	keys := append([]string{key}, restoreKeys...)
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	found, err := c.find(ctx, keys, version)
	if err != nil || found == nil {
		return nil, err
	}
	matched := found.CacheKey
	if err := checkMatch("v1 lookup", matched, key, restoreKeys); err != nil {
		return nil, err
	}
	e := &Entry{
		Key:      matched,
		Version:  version,
		Exact:    strings.EqualFold(matched, key),
		Size:     -1,
		location: found.ArchiveLocation,
	}
	e.refresh = func(ctx context.Context) (string, error) {
		again, err := c.find(ctx, []string{matched}, version)
		if err != nil {
			return "", err
		}
		if again == nil || !strings.EqualFold(again.CacheKey, matched) {
			return "", fmt.Errorf("v1 lookup: entry %q is gone", matched)
		}
		return again.ArchiveLocation, nil
	}
	return e, nil
}

func (c *v1Client) Download(ctx context.Context, e *Entry, w io.Writer) (int64, error) {
	d := &downloader{
		h:           c.h,
		op:          "v1 download",
		url:         &signedURL{url: e.location, renew: e.refresh, op: "v1 download"},
		segment:     c.cfg.DownloadSegmentSize,
		concurrency: c.cfg.DownloadConcurrency,
	}
	n, total, err := d.run(ctx, w)
	if total >= 0 {
		e.Size = total
	}
	return n, err
}

func (c *v1Client) Save(ctx context.Context, key, version string, r io.Reader) (int64, error) {
	if err := checkKeys([]string{key}); err != nil {
		return 0, err
	}
	// Read the first chunk before reserving: when it holds the whole stream
	// the reservation can state the size, as the official client does.
	first := make([]byte, c.cfg.UploadChunkSize)
	n, eof, err := readChunk(r, first)
	if err != nil {
		return 0, err
	}
	first = first[:n]
	size := int64(-1)
	if eof {
		size = int64(n)
	}
	id, err := c.reserve(ctx, key, version, size)
	if err != nil {
		return 0, err
	}
	resource := c.api(fmt.Sprintf("caches/%d", id))
	total, _, err := sendChunks(ctx, r, first, eof, c.cfg.UploadChunkSize, c.cfg.UploadConcurrency,
		func(ctx context.Context, _ int, off int64, data []byte) error {
			return c.patch(ctx, resource, off, data)
		})
	if err != nil {
		return 0, err
	}
	if err := c.commit(ctx, resource, total); err != nil {
		return 0, err
	}
	return total, nil
}

// reserve creates the entry and returns its id. size < 0 leaves cacheSize
// out (the stream's length is not known yet).
func (c *v1Client) reserve(ctx context.Context, key, version string, size int64) (int64, error) {
	const op = "v1 reserve"
	req := struct {
		Key       string `json:"key"`
		Version   string `json:"version"`
		CacheSize *int64 `json:"cacheSize,omitempty"`
	}{Key: key, Version: version}
	if size > 0 {
		req.CacheSize = &size
	}
	body, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	resp, err := c.h.do(ctx, request{
		op: op, method: http.MethodPost, auth: true, url: c.api("caches"),
		body: body, header: c.header("application/json"),
	})
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		err := c.h.statusError(op, resp, true)
		if se, ok := err.(*StatusError); ok && se.kind == nil && resp.StatusCode == http.StatusBadRequest {
			se.kind = ErrRefused // e.g. over the size cap
		}
		return 0, err
	}
	b, err := readAll(op, resp, 1<<20)
	if err != nil {
		return 0, err
	}
	var out struct {
		CacheID int64 `json:"cacheId"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, fmt.Errorf("%s: decode answer: %w", op, err)
	}
	if out.CacheID <= 0 {
		return 0, &StatusError{Op: op, StatusCode: resp.StatusCode, Message: "no cacheId in answer", kind: ErrRefused}
	}
	return out.CacheID, nil
}

func (c *v1Client) patch(ctx context.Context, resource string, off int64, data []byte) error {
	op := fmt.Sprintf("v1 upload bytes %d-%d", off, off+int64(len(data))-1)
	h := c.header("application/octet-stream")
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/*", off, off+int64(len(data))-1))
	resp, err := c.h.do(ctx, request{op: op, method: http.MethodPatch, auth: true, url: resource, body: data, header: h})
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return c.h.statusError(op, resp, false)
	}
	drain(resp)
	return nil
}

func (c *v1Client) commit(ctx context.Context, resource string, size int64) error {
	const op = "v1 commit"
	body, _ := json.Marshal(struct {
		Size int64 `json:"size"`
	}{size})
	resp, err := c.h.do(ctx, request{
		op: op, method: http.MethodPost, auth: true, url: resource,
		body: body, header: c.header("application/json"),
	})
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return c.h.statusError(op, resp, false)
	}
	drain(resp)
	return nil
}
