package cacheservice

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// azureAPIVersion is the Blob service REST version sent with storage
// requests: old enough for every emulator, new enough for everything used
// here (Put Blob, Put Block, Put Block List, ranged Get Blob with MD5).
const azureAPIVersion = "2020-10-02"

// blobUploader writes one block blob through a signed URL.
type blobUploader struct {
	h   *httpClient
	url *signedURL
	// prefix makes this upload's block ids distinct from an earlier
	// attempt's uncommitted blocks.
	prefix string
}

func newBlobUploader(h *httpClient, u *signedURL) *blobUploader {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &blobUploader{h: h, url: u, prefix: hex.EncodeToString(b[:])}
}

// blockID returns the id of block i. Azure wants ids of equal length,
// base64-encoded.
func (b *blobUploader) blockID(i int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s-%010d", b.prefix, i)))
}

// putBlob stores data as the whole blob in one request (Put Blob).
func (b *blobUploader) putBlob(ctx context.Context, data []byte) error {
	h := blobHeader(data)
	h.Set("x-ms-blob-type", "BlockBlob")
	return b.put(ctx, "blob put", "", h, data)
}

// putBlock stages block i (Put Block).
func (b *blobUploader) putBlock(ctx context.Context, i int, data []byte) error {
	q := "comp=block&blockid=" + url.QueryEscape(b.blockID(i))
	return b.put(ctx, fmt.Sprintf("blob put block %d", i), q, blobHeader(data), data)
}

// putBlockList commits blocks 0..n-1 in order (Put Block List).
func (b *blobUploader) putBlockList(ctx context.Context, n int) error {
	var body strings.Builder
	body.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for i := range n {
		body.WriteString("<Latest>")
		body.WriteString(b.blockID(i))
		body.WriteString("</Latest>")
	}
	body.WriteString("</BlockList>")
	h := http.Header{}
	h.Set("x-ms-version", azureAPIVersion)
	h.Set("Content-Type", "application/xml")
	return b.put(ctx, "blob put block list", "comp=blocklist", h, []byte(body.String()))
}

// put sends one PUT to the signed URL plus extra query parameters,
// renewing the URL once when the storage answers 403.
func (b *blobUploader) put(ctx context.Context, op, query string, h http.Header, body []byte) error {
	for {
		u, gen := b.url.get()
		if query != "" {
			u = withQuery(u, query)
		}
		resp, err := b.h.do(ctx, request{op: op, method: http.MethodPut, url: u, body: body, header: h})
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusForbidden:
			drain(resp)
			if err := b.url.expired(ctx, gen); err != nil {
				return err
			}
		case resp.StatusCode/100 == 2:
			drain(resp)
			return nil
		default:
			return b.h.statusError(op, resp, false)
		}
	}
}

// blobHeader returns the headers of a data-carrying blob request: the API
// version and the body's MD5, which the storage verifies on arrival.
func blobHeader(data []byte) http.Header {
	h := http.Header{}
	h.Set("x-ms-version", azureAPIVersion)
	h.Set("Content-Type", "application/octet-stream")
	sum := md5.Sum(data)
	h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	return h
}

// withQuery appends raw query parameters to a URL that may already have a
// query (the signature).
func withQuery(u, q string) string {
	if strings.Contains(u, "?") {
		return u + "&" + q
	}
	return u + "?" + q
}
