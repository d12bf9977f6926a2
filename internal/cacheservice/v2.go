package cacheservice

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// twirpService is the v2 cache service's twirp path.
const twirpService = "/twirp/github.actions.results.api.v1.CacheService/"

// v2Client speaks the v2 protocol: JSON twirp RPCs (POST, snake_case fields,
// int64 values as strings) under the origin of ACTIONS_RESULTS_URL:
//
//	GetCacheEntryDownloadURL {key, restore_keys, version}
//	    → {ok, signed_download_url, matched_key}; ok=false is a miss
//	CreateCacheEntry {key, version} → {ok, signed_upload_url, message}
//	FinalizeCacheEntryUpload {key, version, size_bytes} → {ok, entry_id, message}
//
// The bytes go to and from the signed Azure Blob URLs.
type v2Client struct {
	cfg  Config
	h    *httpClient
	base string // scheme://host + twirpService
}

func newV2(cfg Config, h *httpClient, base *url.URL) *v2Client {
	origin := url.URL{Scheme: base.Scheme, Host: base.Host}
	return &v2Client{cfg: cfg, h: h, base: origin.String() + twirpService}
}

func (c *v2Client) Protocol() string { return ProtocolV2 }

// rpcAnswer is a decoded twirp JSON answer. Fields are looked up by their
// proto name and, for robustness, by their JSON (lowerCamel) name.
type rpcAnswer map[string]json.RawMessage

func (a rpcAnswer) raw(name string) json.RawMessage {
	if v, ok := a[name]; ok {
		return v
	}
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return a[strings.Join(parts, "")]
}

func (a rpcAnswer) str(name string) string {
	var s string
	_ = json.Unmarshal(a.raw(name), &s)
	return s
}

func (a rpcAnswer) ok() bool {
	var b bool
	_ = json.Unmarshal(a.raw("ok"), &b)
	return b
}

// rpc calls one method. reserving marks CreateCacheEntry, for which 409
// means ErrAlreadyExists.
func (c *v2Client) rpc(ctx context.Context, method string, in any, reserving bool) (rpcAnswer, error) {
	op := "v2 " + method
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	resp, err := c.h.do(ctx, request{op: op, method: http.MethodPost, url: c.base + method, body: body, header: h, auth: true})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.h.statusError(op, resp, reserving)
	}
	b, err := readAll(op, resp, 1<<20)
	if err != nil {
		return nil, err
	}
	var a rpcAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: decode answer: %w", op, err)
	}
	return a, nil
}

// refused builds the error for an ok=false answer.
func (h *httpClient) refused(op string, a rpcAnswer) error {
	msg := h.clean(a.str("message"))
	kind := ErrRefused
	if strings.Contains(strings.ToLower(msg), "already exists") {
		kind = ErrAlreadyExists
	}
	return &StatusError{Op: op, StatusCode: http.StatusOK, Message: msg, kind: kind}
}

type v2LookupRequest struct {
	Key         string   `json:"key"`
	RestoreKeys []string `json:"restore_keys,omitempty"`
	Version     string   `json:"version"`
}

// downloadURL asks for an entry's download URL; ok=false is (nil, "", nil).
func (c *v2Client) downloadURL(ctx context.Context, req v2LookupRequest) (rpcAnswer, error) {
	a, err := c.rpc(ctx, "GetCacheEntryDownloadURL", req, false)
	if err != nil || !a.ok() {
		return nil, err
	}
	if a.str("signed_download_url") == "" {
		return nil, fmt.Errorf("v2 GetCacheEntryDownloadURL: answer has no signed_download_url")
	}
	return a, nil
}

func (c *v2Client) Lookup(ctx context.Context, key string, restoreKeys []string, version string) (*Entry, error) {
	if err := checkKeys(append([]string{key}, restoreKeys...)); err != nil {
		return nil, err
	}
	a, err := c.downloadURL(ctx, v2LookupRequest{Key: key, RestoreKeys: restoreKeys, Version: version})
	if err != nil || a == nil {
		return nil, err
	}
	matched := a.str("matched_key")
	if matched == "" {
		matched = key
	}
	if err := checkMatch("v2 GetCacheEntryDownloadURL", matched, key, restoreKeys); err != nil {
		return nil, err
	}
	e := &Entry{
		Key:      matched,
		Version:  version,
		Exact:    matched == key,
		Size:     -1,
		location: a.str("signed_download_url"),
	}
	e.refresh = func(ctx context.Context) (string, error) {
		a, err := c.downloadURL(ctx, v2LookupRequest{Key: matched, Version: version})
		if err != nil {
			return "", err
		}
		if a == nil || a.str("matched_key") != matched && a.str("matched_key") != "" {
			return "", fmt.Errorf("v2 GetCacheEntryDownloadURL: entry %q is gone", matched)
		}
		return a.str("signed_download_url"), nil
	}
	return e, nil
}

func (c *v2Client) Download(ctx context.Context, e *Entry, w io.Writer) (int64, error) {
	d := &downloader{
		h:           c.h,
		op:          "v2 download",
		url:         &signedURL{url: e.location, renew: e.refresh, op: "v2 download"},
		azure:       true,
		segment:     c.cfg.DownloadSegmentSize,
		concurrency: c.cfg.DownloadConcurrency,
	}
	n, total, err := d.run(ctx, w)
	if total >= 0 {
		e.Size = total
	}
	return n, err
}

type v2CreateRequest struct {
	Key     string `json:"key"`
	Version string `json:"version"`
}

func (c *v2Client) create(ctx context.Context, key, version string) (string, error) {
	const op = "v2 CreateCacheEntry"
	a, err := c.rpc(ctx, "CreateCacheEntry", v2CreateRequest{Key: key, Version: version}, true)
	if err != nil {
		return "", err
	}
	if !a.ok() {
		return "", c.h.refused(op, a)
	}
	u := a.str("signed_upload_url")
	if u == "" {
		return "", fmt.Errorf("%s: answer has no signed_upload_url", op)
	}
	return u, nil
}

func (c *v2Client) Save(ctx context.Context, key, version string, r io.Reader) (int64, error) {
	if err := checkKeys([]string{key}); err != nil {
		return 0, err
	}
	upload, err := c.create(ctx, key, version)
	if err != nil {
		return 0, err
	}
	signed := &signedURL{url: upload, op: "v2 upload"}
	signed.renew = func(ctx context.Context) (string, error) {
		// The storage refused the URL (expired): ask for the entry again and
		// continue only if the fresh URL names the same blob, since the
		// blocks already sent live there.
		fresh, err := c.create(ctx, key, version)
		if err != nil {
			return "", fmt.Errorf("renew upload URL: %w", err)
		}
		if !sameBlob(fresh, upload) {
			return "", &StatusError{Op: "v2 upload", StatusCode: http.StatusForbidden, Message: "upload URL expired and the renewed one names another blob", kind: ErrForbidden}
		}
		return fresh, nil
	}
	blob := newBlobUploader(c.h, signed)

	first := make([]byte, c.cfg.UploadChunkSize)
	n, eof, err := readChunk(r, first)
	if err != nil {
		return 0, err
	}
	var size int64
	if eof {
		// The whole stream fits in one chunk: one Put Blob.
		if err := blob.putBlob(ctx, first[:n]); err != nil {
			return 0, err
		}
		size = int64(n)
	} else {
		total, blocks, err := sendChunks(ctx, r, first[:n], false, c.cfg.UploadChunkSize, c.cfg.UploadConcurrency,
			func(ctx context.Context, i int, _ int64, data []byte) error {
				return blob.putBlock(ctx, i, data)
			})
		if err != nil {
			return 0, err
		}
		if err := blob.putBlockList(ctx, blocks); err != nil {
			return 0, err
		}
		size = total
	}

	const op = "v2 FinalizeCacheEntryUpload"
	a, err := c.rpc(ctx, "FinalizeCacheEntryUpload", struct {
		Key       string `json:"key"`
		SizeBytes string `json:"size_bytes"`
		Version   string `json:"version"`
	}{key, strconv.FormatInt(size, 10), version}, false)
	if err != nil {
		return 0, err
	}
	if !a.ok() {
		return 0, c.h.refused(op, a)
	}
	return size, nil
}

// sameBlob reports whether two signed URLs name the same blob.
func sameBlob(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && ua.Host == ub.Host && ua.Path == ub.Path
}
