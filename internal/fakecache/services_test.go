package fakecache

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const v1Accept = "application/json;api-version=6.0-preview.1"

func v1Call(t *testing.T, v *V1, method, resource, body string, extra map[string]string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{"Accept": v1Accept, "Content-Type": "application/json"}
	for k, val := range extra {
		h[k] = val
	}
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return do(t, call{method: method, url: v.URL + "_apis/artifactcache/" + resource, header: h, body: b})
}

func TestV1(t *testing.T) {
	v := NewV1(t)
	v.Put("Key-Old", "ver", []byte("old"))
	v.Put("key-new", "ver", []byte("new"))
	v.Put("key", "other-version", []byte("x"))

	// Keys are lowercased; exact beats prefix; prefix takes the newest.
	resp, body := v1Call(t, v, "GET", "cache?keys=KEY-OLD,key-&version=ver", "", nil)
	var hit struct{ CacheKey, ArchiveLocation string }
	if err := json.Unmarshal(body, &hit); err != nil || resp.StatusCode != 200 || hit.CacheKey != "key-old" {
		t.Fatalf("exact lookup: %s %s", resp.Status, body)
	}
	resp, body = v1Call(t, v, "GET", "cache?keys=nope,key-&version=ver", "", nil)
	if err := json.Unmarshal(body, &hit); err != nil || resp.StatusCode != 200 || hit.CacheKey != "key-new" {
		t.Fatalf("prefix lookup: %s %s", resp.Status, body)
	}
	if resp, _ := do(t, call{method: "GET", url: hit.ArchiveLocation}); resp.StatusCode != 200 {
		t.Fatalf("download: %s", resp.Status)
	}
	if resp, _ := v1Call(t, v, "GET", "cache?keys=zzz&version=ver", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("miss: %s", resp.Status)
	}
	if resp, _ := do(t, call{method: "GET", url: v.URL + "_apis/artifactcache/cache?keys=key&version=ver"}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("no api-version in Accept: %s", resp.Status)
	}

	// Reserve, upload with a gap, commit refuses; fill the gap, commit.
	resp, body = v1Call(t, v, "POST", "caches", `{"key":"New","version":"ver","cacheSize":6}`, nil)
	var res struct{ CacheID int64 }
	if err := json.Unmarshal(body, &res); err != nil || res.CacheID == 0 {
		t.Fatalf("reserve: %s %s", resp.Status, body)
	}
	if resp, _ := v1Call(t, v, "POST", "caches", `{"key":"new","version":"ver"}`, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second reserve: %s, want 409", resp.Status)
	}
	id := jsonInt(res.CacheID)
	oct := map[string]string{"Content-Type": "application/octet-stream"}
	oct["Content-Range"] = "bytes 3-5/*"
	if resp, b := v1Call(t, v, "PATCH", "caches/"+id, "def", oct); resp.StatusCode/100 != 2 {
		t.Fatalf("patch: %s %s", resp.Status, b)
	}
	if resp, _ := v1Call(t, v, "POST", "caches/"+id, `{"size":6}`, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("commit with a gap: %s, want 400", resp.Status)
	}
	oct["Content-Range"] = "bytes 0-2/*"
	v1Call(t, v, "PATCH", "caches/"+id, "abc", oct)
	if resp, b := v1Call(t, v, "POST", "caches/"+id, `{"size":6}`, nil); resp.StatusCode/100 != 2 {
		t.Fatalf("commit: %s %s", resp.Status, b)
	}
	if got := v.Entries(); len(got) != 4 || !got[3].Complete || got[3].Size != 6 || got[3].Key != "new" {
		t.Fatalf("entries: %+v", got)
	}

	// A token, once set, is required.
	v.Token = "tok"
	if resp, _ := v1Call(t, v, "GET", "cache?keys=new&version=ver", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %s", resp.Status)
	}
	if resp, _ := v1Call(t, v, "GET", "cache?keys=new&version=ver", "", map[string]string{"Authorization": "Bearer tok"}); resp.StatusCode != 200 {
		t.Fatalf("with token: %s", resp.Status)
	}
	if env := v.Env(); env["ACTIONS_CACHE_URL"] != v.URL || env["ACTIONS_RUNTIME_TOKEN"] != "tok" || !strings.HasSuffix(v.URL, "/") {
		t.Fatalf("Env: %v", env)
	}
	if n := v.Count(KindLookup); n != 6 {
		t.Errorf("%d lookups counted, want 6", n)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func twirp(t *testing.T, v *V2, method, body string) (int, map[string]any) {
	t.Helper()
	resp, b := do(t, call{method: "POST", url: v.URL + "twirp/github.actions.results.api.v1.CacheService/" + method, body: []byte(body),
		header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + v.Token}})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestV2(t *testing.T) {
	v := NewV2(t, NewMemBlobs(t))
	if err := v.Put("Key-A", "ver", []byte("payload")); err != nil {
		t.Fatal(err)
	}
	if code, m := twirp(t, v, "GetCacheEntryDownloadURL", `{"key":"key-a","version":"ver"}`); code != 200 || m["ok"] != false {
		t.Fatalf("keys are case-sensitive: %d %v", code, m)
	}
	code, m := twirp(t, v, "GetCacheEntryDownloadURL", `{"key":"nope","restore_keys":["Key-"],"version":"ver"}`)
	if code != 200 || m["ok"] != true || m["matched_key"] != "Key-A" {
		t.Fatalf("restore-key lookup: %d %v", code, m)
	}
	resp, body := do(t, call{method: "GET", url: m["signed_download_url"].(string)})
	if resp.StatusCode != 200 || string(body) != "payload" {
		t.Fatalf("download through the proxy: %s %q", resp.Status, body)
	}
	if code, m := twirp(t, v, "CreateCacheEntry", `{"key":"Key-A","version":"ver"}`); code != http.StatusConflict || m["code"] != "already_exists" {
		t.Fatalf("create of a finalized key: %d %v", code, m)
	}
	_, first := twirp(t, v, "CreateCacheEntry", `{"key":"k2","version":"ver"}`)
	_, again := twirp(t, v, "CreateCacheEntry", `{"key":"k2","version":"ver"}`)
	u1, u2 := first["signed_upload_url"].(string), again["signed_upload_url"].(string)
	if strings.Split(u1, "?")[0] != strings.Split(u2, "?")[0] {
		t.Fatalf("re-creating a pending entry names another blob: %s vs %s", u1, u2)
	}
	do(t, call{method: "PUT", url: u2, body: []byte("12345"), header: map[string]string{"x-ms-blob-type": "BlockBlob"}})
	if _, m := twirp(t, v, "FinalizeCacheEntryUpload", `{"key":"k2","version":"ver","size_bytes":"4"}`); m["ok"] != false {
		t.Fatalf("finalize with the wrong size: %v", m)
	}
	if _, m := twirp(t, v, "FinalizeCacheEntryUpload", `{"key":"k2","version":"ver","size_bytes":"5"}`); m["ok"] != true || m["entry_id"] != "2" {
		t.Fatalf("finalize: %v", m)
	}
	v.Token = "other"
	resp, _ = do(t, call{method: "POST", url: v.URL + "twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL",
		body: []byte(`{"key":"k2","version":"ver"}`), header: map[string]string{"Content-Type": "application/json"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %s", resp.Status)
	}
	if got := v.Count(KindUpload); got != 1 {
		t.Errorf("%d uploads counted through the proxy, want 1", got)
	}
}

func TestFaults(t *testing.T) {
	v := NewV1(t)
	v.Put("k", "ver", []byte(strings.Repeat("x", 1000)))
	_, body := v1Call(t, v, "GET", "cache?keys=k&version=ver", "", nil)
	var hit struct{ ArchiveLocation string }
	_ = json.Unmarshal(body, &hit)
	// No keep-alive: a reused connection that is reset would be retried
	// by the transport, hiding the fault.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (*http.Response, []byte, error) {
		resp, err := client.Get(hit.ArchiveLocation)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	v.Inject(KindDownload, Fault{Status: 429, RetryAfter: "7", Body: "slow down"})
	if resp, b, _ := get(); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || string(b) != "slow down" {
		t.Fatalf("status fault: %v %q", resp, b)
	}
	v.Inject(KindDownload, Fault{Reset: true})
	if _, _, err := get(); err == nil {
		t.Fatal("reset: no error")
	}
	v.Inject(KindDownload, Fault{Truncate: true, TruncateAt: 10})
	if _, b, err := get(); !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 10 {
		t.Fatalf("truncate: %d bytes, %v", len(b), err)
	}
	v.Inject(KindDownload, Fault{Flip: true, FlipAt: 3})
	if _, b, err := get(); err != nil || b[3] != 'x'^0xff || b[2] != 'x' || len(b) != 1000 {
		t.Fatalf("flip: %v %q", err, b[:5])
	}
	start := time.Now()
	v.Inject(KindDownload, Fault{Delay: 50 * time.Millisecond})
	if resp, _, err := get(); err != nil || resp.StatusCode != 200 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("delay: %v %v", resp, err)
	}
	v.Hook(func(k Kind, r *http.Request) *Fault {
		if k == KindDownload {
			return &Fault{Status: 503}
		}
		return nil
	})
	v.Always(KindDownload, Fault{Status: 500})
	if resp, _, _ := get(); resp.StatusCode != 500 {
		t.Fatalf("always beats the hook: %d", resp.StatusCode)
	}
	v.ClearFaults()
	v.Hook(func(k Kind, r *http.Request) *Fault { return &Fault{Status: 503} })
	if resp, _, _ := get(); resp.StatusCode != 503 {
		t.Fatalf("hook: %d", resp.StatusCode)
	}
	v.ClearFaults()
	if resp, _, _ := get(); resp.StatusCode != 200 {
		t.Fatalf("after ClearFaults: %d", resp.StatusCode)
	}
	if n := v.Count(KindDownload); n != 8 {
		t.Errorf("%d downloads counted, want 8", n)
	}
}
