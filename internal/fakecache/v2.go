package fakecache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Container is the blob container the fake v2 service keeps entries in.
const Container = "actions-cache"

// twirpPrefix is the path of the v2 cache service's RPCs.
const twirpPrefix = "/twirp/github.actions.results.api.v1.CacheService/"

// V2 is a fake v2 cache service: the twirp JSON RPCs GetCacheEntryDownloadURL,
// CreateCacheEntry and FinalizeCacheEntryUpload, handing out SAS URLs for
// blobs in a BlobStore. The signed URLs point at this server, which forwards
// /devstoreaccount1/... to the store, so blob requests are counted and can be
// given faults like the RPCs.
//
// Keys are case-sensitive. CreateCacheEntry answers 409 (twirp
// already_exists) for a key and version already finalized; for one still
// pending it hands out a fresh URL for the same blob (how a client renews an
// expired upload URL). Finalize checks the blob's size against size_bytes.
type V2 struct {
	*Controls
	// URL is the ACTIONS_RESULTS_URL value.
	URL string
	// Token is the bearer token every RPC must carry (default
	// "fake-runtime-token"; empty accepts any). Set it before the first
	// request.
	Token string
	// URLTTL is how long signed URLs stay valid (default 10 minutes).
	URLTTL time.Duration

	srv   *httptest.Server
	name  string // prefix of this fake's blob names, unique per store
	blobs BlobStore
	store *store
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	expired int // the next this many signed URLs are already expired
}

// NewV2 starts a fake v2 service over the given blob store (Azurite or
// MemBlobs), creating its container; both are closed when the test ends.
func NewV2(t testing.TB, blobs BlobStore) *V2 {
	t.Helper()
	target, err := url.Parse(blobs.BaseURL())
	if err != nil {
		t.Fatalf("fakecache: blob store URL: %v", err)
	}
	v := &V2{
		Controls: newControls(t, "v2"),
		Token:    "fake-runtime-token",
		URLTTL:   10 * time.Minute,
		blobs:    blobs,
		store:    &store{},
		name:     randomHex(6),
	}
	v.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	v.srv = httptest.NewServer(http.HandlerFunc(v.route))
	t.Cleanup(v.srv.Close)
	v.URL = v.srv.URL + "/"

	// Create the container with an account SAS.
	req, _ := http.NewRequest(http.MethodPut,
		blobs.BaseURL()+"/"+DevAccount+"/"+Container+"?restype=container&"+AccountSAS("rwdlac", "sco", time.Now().Add(time.Hour)), nil)
	req.Header.Set("x-ms-version", SASVersion)
	resp, err := direct.Do(req)
	if err != nil {
		t.Fatalf("fakecache: create container: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		t.Fatalf("fakecache: create container: %s: %s", resp.Status, body)
	}
	return v
}

// Env returns the environment a client needs to use this service:
// ACTIONS_RESULTS_URL, ACTIONS_CACHE_SERVICE_V2, ACTIONS_RUNTIME_TOKEN (when
// Token is set) and GITHUB_SERVER_URL (github.com, so no client mistakes it
// for an Enterprise Server).
func (v *V2) Env() map[string]string {
	env := map[string]string{
		"ACTIONS_RESULTS_URL":      v.URL,
		"ACTIONS_CACHE_SERVICE_V2": "true",
		"GITHUB_SERVER_URL":        "https://github.com",
	}
	if v.Token != "" {
		env["ACTIONS_RUNTIME_TOKEN"] = v.Token
	}
	return env
}

// Entries returns the entries held, oldest first.
func (v *V2) Entries() []Entry { return v.store.entries() }

// ExpireURLs makes the next n signed URLs handed out already expired, so the
// blob store refuses them with 403.
func (v *V2) ExpireURLs(n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.expired = n
}

// Put stores a finalized entry directly (its blob goes straight to the
// store, not through the fault hooks).
func (v *V2) Put(key, version string, data []byte) error {
	rec := v.store.add(key, version)
	blob := v.blobName(rec.ID)
	u := v.blobs.BaseURL() + "/" + DevAccount + "/" + Container + "/" + blob + "?" + BlobSAS(Container, blob, "cw", time.Now().Add(time.Hour))
	req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	req.Header.Set("x-ms-version", SASVersion)
	resp, err := direct.Do(req)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("put blob: %s: %s", resp.Status, b)
	}
	v.store.mu.Lock()
	defer v.store.mu.Unlock()
	rec.blob, rec.Size, rec.Complete = blob, int64(len(data)), true
	return nil
}

// signedURL returns a SAS URL for blob through this server.
func (v *V2) signedURL(blob, perms string) string {
	v.mu.Lock()
	expiry := time.Now().Add(v.URLTTL)
	if v.expired > 0 {
		v.expired--
		expiry = time.Now().Add(-time.Minute)
	}
	v.mu.Unlock()
	return v.srv.URL + "/" + DevAccount + "/" + Container + "/" + blob + "?" + BlobSAS(Container, blob, perms, expiry)
}

func (v *V2) route(w http.ResponseWriter, r *http.Request) {
	if method, ok := strings.CutPrefix(r.URL.Path, twirpPrefix); ok {
		kind := map[string]Kind{
			"GetCacheEntryDownloadURL": KindLookup,
			"CreateCacheEntry":         KindReserve,
			"FinalizeCacheEntryUpload": KindCommit,
		}[method]
		answer := func(w http.ResponseWriter, r *http.Request) { v.rpc(w, r, method) }
		if kind == "" || r.Method != http.MethodPost {
			v.unknown(w, r, answer)
			return
		}
		v.serve(kind, w, r, answer)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/"+DevAccount+"/") {
		kind := KindOther
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			kind = KindDownload
		case r.Method == http.MethodPut && r.URL.Query().Get("comp") == "blocklist":
			kind = KindBlockList
		case r.Method == http.MethodPut:
			kind = KindUpload
		}
		if kind == KindOther {
			v.unknown(w, r, v.proxy.ServeHTTP)
			return
		}
		v.serve(kind, w, r, v.proxy.ServeHTTP)
		return
	}
	v.unknown(w, r, http.NotFound)
}

// twirpError answers with a twirp error.
func twirpError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "msg": msg})
}

func (v *V2) rpc(w http.ResponseWriter, r *http.Request, method string) {
	if r.Method != http.MethodPost {
		twirpError(w, http.StatusBadRequest, "bad_route", "twirp RPCs are POSTed")
		return
	}
	if v.Token != "" && r.Header.Get("Authorization") != "Bearer "+v.Token {
		twirpError(w, http.StatusUnauthorized, "unauthenticated", "missing or wrong bearer token")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		twirpError(w, http.StatusBadRequest, "malformed", "this fake speaks JSON only")
		return
	}
	var req struct {
		Key         string   `json:"key"`
		RestoreKeys []string `json:"restore_keys"`
		Version     string   `json:"version"`
		SizeBytes   string   `json:"size_bytes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		twirpError(w, http.StatusBadRequest, "malformed", "bad JSON")
		return
	}
	if req.Key == "" || req.Version == "" {
		twirpError(w, http.StatusBadRequest, "invalid_argument", "key and version are required")
		return
	}
	switch method {
	case "GetCacheEntryDownloadURL":
		rec := v.store.find(append([]string{req.Key}, req.RestoreKeys...), req.Version)
		if rec == nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"ok":                  true,
			"signed_download_url": v.signedURL(rec.blob, "r"),
			"matched_key":         rec.Key,
		})
	case "CreateCacheEntry":
		rec := v.store.lookupExact(req.Key, req.Version)
		v.store.mu.Lock()
		complete := rec != nil && rec.Complete
		v.store.mu.Unlock()
		if complete {
			twirpError(w, http.StatusConflict, "already_exists", "cache entry with the same key, version, and scope already exists")
			return
		}
		if rec == nil {
			rec = v.store.add(req.Key, req.Version)
			v.store.mu.Lock()
			rec.blob = v.blobName(rec.ID)
			v.store.mu.Unlock()
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "signed_upload_url": v.signedURL(rec.blob, "cw")})
	case "FinalizeCacheEntryUpload":
		size, err := strconv.ParseInt(req.SizeBytes, 10, 64)
		if err != nil && req.SizeBytes != "" {
			twirpError(w, http.StatusBadRequest, "malformed", "size_bytes is not an int64")
			return
		}
		rec := v.store.lookupExact(req.Key, req.Version)
		if rec == nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": "no cache entry is being uploaded under this key and version"})
			return
		}
		v.store.mu.Lock()
		complete, blob := rec.Complete, rec.blob
		v.store.mu.Unlock()
		if complete {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": "cache entry already finalized"})
			return
		}
		actual, err := v.blobSize(r.Context(), blob)
		if err != nil || actual != size {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": fmt.Sprintf("uploaded blob has %d bytes, not %d (%v)", actual, size, err)})
			return
		}
		v.store.mu.Lock()
		rec.Size, rec.Complete = size, true
		v.store.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "entry_id": strconv.FormatInt(rec.ID, 10)})
	default:
		twirpError(w, http.StatusNotFound, "bad_route", "no such method "+method)
	}
}

// blobSize asks the store for a blob's size (directly, not through the
// fault hooks).
func (v *V2) blobSize(ctx context.Context, blob string) (int64, error) {
	u := v.blobs.BaseURL() + "/" + DevAccount + "/" + Container + "/" + blob + "?" + BlobSAS(Container, blob, "r", time.Now().Add(time.Hour))
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	req.Header.Set("x-ms-version", SASVersion)
	resp, err := direct.Do(req)
	if err != nil {
		return -1, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1, fmt.Errorf("blob properties: %s", resp.Status)
	}
	return resp.ContentLength, nil
}

// direct is the client the fake uses for its own calls to the blob store.
var direct = &http.Client{Timeout: 30 * time.Second}

func (v *V2) blobName(id int64) string { return fmt.Sprintf("%s/entry-%d", v.name, id) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
