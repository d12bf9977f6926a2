package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
)

// sinkV1 is the thinnest possible v1 cache service: it reserves any key and
// throws the uploaded chunks away. Uploading to it measures what our client
// and loopback HTTP can push, without the copying a real fake does to keep
// the bytes (fakecache.V1 reads each chunk with io.ReadAll and joins them on
// commit).
func sinkV1() (env map[string]string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, _ := strings.CutPrefix(r.URL.Path, "/_apis/artifactcache/")
		switch {
		case r.Method == http.MethodPost && rest == "caches":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"cacheId":1}`)
		case r.Method == http.MethodPatch && strings.HasPrefix(rest, "caches/"):
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPost && strings.HasPrefix(rest, "caches/"):
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	return map[string]string{"ACTIONS_CACHE_URL": srv.URL + "/"}, srv.Close
}
