package fakecache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// V1 is a fake v1 cache service ("_apis/artifactcache"), modelled on act's
// cache server: keys are lowercased, lookups match exactly and then by
// prefix, newest first. Unlike act it refuses to reserve a key and version
// that already exist (409), as GitHub's service did, checks that uploaded
// chunks cover the committed size, and checks the bearer token when Token
// is set.
type V1 struct {
	*Controls
	// URL is the ACTIONS_CACHE_URL value (with a path prefix and the
	// trailing slash, like act's).
	URL string
	// Token, when not empty, is the bearer token every API request must
	// carry. Set it before the first request.
	Token string

	srv    *httptest.Server
	prefix string // "/<hex>/"
	store  *store
}

// NewV1 starts a fake v1 service, closed when the test ends.
func NewV1(t testing.TB) *V1 {
	t.Helper()
	v := &V1{Controls: newControls(t, "v1"), prefix: "/" + randomHex(8) + "/", store: &store{fold: true}}
	v.srv = httptest.NewServer(http.HandlerFunc(v.route))
	t.Cleanup(v.srv.Close)
	v.URL = v.srv.URL + v.prefix
	return v
}

// Env returns the environment a client needs to use this service:
// ACTIONS_CACHE_URL, and ACTIONS_RUNTIME_TOKEN when Token is set.
func (v *V1) Env() map[string]string {
	env := map[string]string{"ACTIONS_CACHE_URL": v.URL}
	if v.Token != "" {
		env["ACTIONS_RUNTIME_TOKEN"] = v.Token
	}
	return env
}

// Entries returns the entries held, oldest first.
func (v *V1) Entries() []Entry { return v.store.entries() }

// Put stores a complete entry directly, as if a client had saved it.
func (v *V1) Put(key, version string, data []byte) {
	r := v.store.add(key, version)
	v.store.mu.Lock()
	defer v.store.mu.Unlock()
	r.data = append([]byte(nil), data...)
	r.Size = int64(len(data))
	r.Complete = true
}

func (v *V1) route(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, v.prefix+"_apis/artifactcache/")
	if !ok {
		v.unknown(w, r, http.NotFound)
		return
	}
	switch {
	case r.Method == http.MethodGet && rest == "cache":
		v.serve(KindLookup, w, r, v.api(v.find))
	case r.Method == http.MethodPost && rest == "caches":
		v.serve(KindReserve, w, r, v.api(v.reserve))
	case r.Method == http.MethodPatch && strings.HasPrefix(rest, "caches/"):
		v.serve(KindUpload, w, r, v.api(v.upload))
	case r.Method == http.MethodPost && strings.HasPrefix(rest, "caches/"):
		v.serve(KindCommit, w, r, v.api(v.commit))
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(rest, "artifacts/"):
		v.serve(KindDownload, w, r, v.download)
	default:
		v.unknown(w, r, http.NotFound)
	}
}

// api checks the token and the Accept header of an API request.
func (v *V1) api(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if v.Token != "" && r.Header.Get("Authorization") != "Bearer "+v.Token {
			v1Error(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "api-version=6.0-preview.1") {
			v1Error(w, http.StatusBadRequest, "Accept header lacks api-version=6.0-preview.1")
			return
		}
		next(w, r)
	}
}

func (v *V1) find(w http.ResponseWriter, r *http.Request) {
	keys := strings.Split(r.URL.Query().Get("keys"), ",")
	version := r.URL.Query().Get("version")
	rec := v.store.find(keys, version)
	if rec == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"cacheKey":        rec.Key,
		"cacheVersion":    rec.Version,
		"scope":           "refs/heads/main",
		"creationTime":    rec.Created.UTC().Format(time.RFC3339),
		"archiveLocation": fmt.Sprintf("%s%s_apis/artifactcache/artifacts/%d", v.srv.URL, v.prefix, rec.ID),
	})
}

func (v *V1) reserve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Key       string `json:"key"`
		Version   string `json:"version"`
		CacheSize int64  `json:"cacheSize"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Key == "" || req.Version == "" {
		v1Error(w, http.StatusBadRequest, "bad reserve request")
		return
	}
	if v.store.lookupExact(req.Key, req.Version) != nil {
		v1Error(w, http.StatusConflict, fmt.Sprintf("Cache already exists. Scope: refs/heads/main, Key: %s, Version: %s", req.Key, req.Version))
		return
	}
	rec := v.store.add(req.Key, req.Version)
	v.store.mu.Lock()
	rec.reserved = req.CacheSize
	rec.chunks = map[int64][]byte{}
	v.store.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"cacheId": rec.ID})
}

func (v *V1) record(w http.ResponseWriter, r *http.Request, prefix string) *record {
	rest := strings.TrimPrefix(r.URL.Path, v.prefix+"_apis/artifactcache/"+prefix)
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		v1Error(w, http.StatusBadRequest, "bad cache id")
		return nil
	}
	rec := v.store.byID(id)
	if rec == nil {
		v1Error(w, http.StatusNotFound, fmt.Sprintf("cache %d not reserved", id))
		return nil
	}
	return rec
}

func (v *V1) upload(w http.ResponseWriter, r *http.Request) {
	rec := v.record(w, r, "caches/")
	if rec == nil {
		return
	}
	start, end, err := parseUploadRange(r.Header.Get("Content-Range"))
	if err != nil {
		v1Error(w, http.StatusBadRequest, err.Error())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		v1Error(w, http.StatusBadRequest, "Content-Type must be application/octet-stream")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if int64(len(body)) != end-start+1 {
		v1Error(w, http.StatusBadRequest, fmt.Sprintf("Content-Range says %d bytes, body has %d", end-start+1, len(body)))
		return
	}
	v.store.mu.Lock()
	defer v.store.mu.Unlock()
	if rec.Complete {
		v1Error(w, http.StatusBadRequest, "cache already committed")
		return
	}
	rec.chunks[start] = body
	w.WriteHeader(http.StatusNoContent)
}

func (v *V1) commit(w http.ResponseWriter, r *http.Request) {
	rec := v.record(w, r, "caches/")
	if rec == nil {
		return
	}
	var req struct {
		Size *int64 `json:"size"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Size == nil {
		v1Error(w, http.StatusBadRequest, "bad commit request")
		return
	}
	v.store.mu.Lock()
	defer v.store.mu.Unlock()
	if rec.Complete {
		v1Error(w, http.StatusBadRequest, "cache already committed")
		return
	}
	offsets := make([]int64, 0, len(rec.chunks))
	for off := range rec.chunks {
		offsets = append(offsets, off)
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	var buf bytes.Buffer
	for _, off := range offsets {
		if off != int64(buf.Len()) {
			v1Error(w, http.StatusBadRequest, fmt.Sprintf("chunks leave a gap or overlap at byte %d", buf.Len()))
			return
		}
		buf.Write(rec.chunks[off])
	}
	if int64(buf.Len()) != *req.Size || (rec.reserved > 0 && rec.reserved != *req.Size) {
		v1Error(w, http.StatusBadRequest, fmt.Sprintf("size %d does not match the %d bytes uploaded (reserved %d)", *req.Size, buf.Len(), rec.reserved))
		return
	}
	rec.data = buf.Bytes()
	rec.chunks = nil
	rec.Size = int64(buf.Len())
	rec.Complete = true
	w.WriteHeader(http.StatusNoContent)
}

func (v *V1) download(w http.ResponseWriter, r *http.Request) {
	rec := v.record(w, r, "artifacts/")
	if rec == nil {
		return
	}
	v.store.mu.Lock()
	data, complete, created := rec.data, rec.Complete, rec.Created
	v.store.mu.Unlock()
	if !complete {
		v1Error(w, http.StatusNotFound, "cache not committed")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", created, bytes.NewReader(data))
}

// parseUploadRange parses "bytes a-b/*".
func parseUploadRange(s string) (int64, int64, error) {
	span, ok := strings.CutPrefix(s, "bytes ")
	if !ok || !strings.HasSuffix(span, "/*") {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	a, b, ok := strings.Cut(strings.TrimSuffix(span, "/*"), "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	return start, end, nil
}

// v1Error answers in the shape GitHub's v1 service used.
func v1Error(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"$id": "1", "innerException": nil, "message": msg, "typeName": "FakeCacheException", "errorCode": 0})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
