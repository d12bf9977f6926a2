package fakecache

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type call struct {
	method string
	url    string
	header map[string]string
	body   []byte
}

func do(t *testing.T, c call) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, c.url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// TestBlobStores checks that the SAS URLs made here are accepted by Azurite,
// and that MemBlobs answers the same requests the same way.
func TestBlobStores(t *testing.T) {
	stores := []struct {
		name string
		make func(t *testing.T) BlobStore
	}{
		{"memblobs", func(t *testing.T) BlobStore { return NewMemBlobs(t) }},
		{"azurite", func(t *testing.T) BlobStore { return StartAzurite(t) }},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			store := s.make(t)
			base := store.BaseURL() + "/" + DevAccount + "/"
			hour := time.Now().Add(time.Hour)
			v := map[string]string{"x-ms-version": SASVersion}

			resp, body := do(t, call{method: "PUT", url: base + "box?restype=container&" + AccountSAS("c", "c", hour), header: v})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create container: %s %s", resp.Status, body)
			}
			blobURL := func(name, perms string, expiry time.Time) string {
				return base + "box/" + name + "?" + BlobSAS("box", name, perms, expiry)
			}

			data := []byte("0123456789abcdef")
			put := map[string]string{"x-ms-version": SASVersion, "x-ms-blob-type": "BlockBlob"}
			if resp, body := do(t, call{method: "PUT", url: blobURL("dir/b1", "cw", hour), header: put, body: data}); resp.StatusCode != http.StatusCreated {
				t.Fatalf("put blob: %s %s", resp.Status, body)
			}
			// Read it back, whole and ranged, with the range's MD5.
			if resp, body := do(t, call{method: "GET", url: blobURL("dir/b1", "r", hour), header: v}); resp.StatusCode != 200 || !bytes.Equal(body, data) {
				t.Fatalf("get: %s %q", resp.Status, body)
			}
			rng := map[string]string{"x-ms-version": SASVersion, "x-ms-range": "bytes=4-9", "x-ms-range-get-content-md5": "true"}
			resp, body = do(t, call{method: "GET", url: blobURL("dir/b1", "r", hour), header: rng})
			sum := md5.Sum(data[4:10])
			if resp.StatusCode != http.StatusPartialContent || string(body) != "456789" ||
				resp.Header.Get("Content-Range") != "bytes 4-9/16" || resp.Header.Get("Content-MD5") != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Fatalf("ranged get: %s %q %v", resp.Status, body, resp.Header)
			}
			// Azure answers 416; Azurite 3.37 an empty 206 "bytes 16-15/16".
			if resp, b := do(t, call{method: "GET", url: blobURL("dir/b1", "r", hour), header: map[string]string{"Range": "bytes=16-"}}); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable &&
				(resp.StatusCode != http.StatusPartialContent || len(b) != 0) {
				t.Fatalf("range past the end: %s %v %q", resp.Status, resp.Header, b)
			}
			// Refusals: expired, wrong permission, tampered signature, MD5 mismatch.
			if resp, _ := do(t, call{method: "GET", url: blobURL("dir/b1", "r", time.Now().Add(-time.Minute)), header: v}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("expired SAS: %s, want 403", resp.Status)
			}
			if resp, _ := do(t, call{method: "PUT", url: blobURL("dir/b2", "r", hour), header: put, body: data}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("read-only SAS used to write: %s, want 403", resp.Status)
			}
			if resp, _ := do(t, call{method: "GET", url: strings.Replace(blobURL("dir/b1", "r", hour), "sig=", "sig=AA", 1), header: v}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("tampered signature: %s, want 403", resp.Status)
			}
			bad := map[string]string{"x-ms-version": SASVersion, "x-ms-blob-type": "BlockBlob", "Content-MD5": base64.StdEncoding.EncodeToString(make([]byte, 16))}
			if resp, _ := do(t, call{method: "PUT", url: blobURL("dir/b3", "cw", hour), header: bad, body: data}); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("wrong Content-MD5: %s, want 400", resp.Status)
			}
			// Blocks and a block list.
			u := blobURL("dir/blocks", "cw", hour)
			ids := []string{base64.StdEncoding.EncodeToString([]byte("blk-0")), base64.StdEncoding.EncodeToString([]byte("blk-1"))}
			for i, part := range []string{"hello ", "blocks"} {
				if resp, body := do(t, call{method: "PUT", url: u + "&comp=block&blockid=" + urlQueryEscape(ids[i]), header: v, body: []byte(part)}); resp.StatusCode != http.StatusCreated {
					t.Fatalf("put block: %s %s", resp.Status, body)
				}
			}
			list := `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>` + ids[0] + `</Latest><Latest>` + ids[1] + `</Latest></BlockList>`
			if resp, body := do(t, call{method: "PUT", url: u + "&comp=blocklist", header: v, body: []byte(list)}); resp.StatusCode != http.StatusCreated {
				t.Fatalf("put block list: %s %s", resp.Status, body)
			}
			if resp, body := do(t, call{method: "GET", url: blobURL("dir/blocks", "r", hour), header: v}); string(body) != "hello blocks" {
				t.Fatalf("get block blob: %s %q", resp.Status, body)
			}
		})
	}
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D")
	return r.Replace(s)
}
