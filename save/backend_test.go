package save_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/state"
)

// TestRemoteBackendSkipsArchive: when the builds used a remote store (as
// setup recorded) and the entry would carry nothing else (cache-targets:
// false), restore and save make no cache-service request, say why in the
// summary, and count hits and misses from the servers' statistics — those
// the wrapper left for containers included.
func TestRemoteBackendSkipsArchive(t *testing.T) {
	svc := fakecache.NewV1(t)
	r := actiontest.New(t).With(svc.Env())
	jobEnv := map[string]string{}
	in := map[string]string{"sccache-version": r.Version, "key": "remote", "cache-targets": "false"}
	if s := r.Run("setup", in, jobEnv); s.Code != 0 {
		t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
	}
	root := jobEnv["RUSTCACHE_ROOT"]
	st, err := state.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	st.Backend = &state.Backend{Kind: "redis", Active: true, Describe: "redis at redis://***@cache:6379 (read-write)"}
	if err := state.Save(root, st); err != nil {
		t.Fatal(err)
	}
	restore := r.Run("restore", in, jobEnv)
	if restore.Code != 0 || !strings.Contains(restore.Stdout, "the remote cache redis holds the cache") {
		t.Fatalf("restore: %d\n%s", restore.Code, restore.Stdout)
	}
	// Two containers' servers, as the wrapper leaves them.
	dir := filepath.Join(root, backend.StatsDir)
	os.MkdirAll(dir, 0o755)
	for name, body := range map[string]string{
		"40001-4026532001.json": `{"stats":{"compile_requests":30,"cache_hits":{"counts":{"Rust":23}},"cache_misses":{"counts":{"Rust":1}}}}`,
		"40001-4026532002.json": `{"stats":{"compile_requests":5,"cache_hits":{"counts":{"Rust":4}},"cache_misses":{"counts":{}}}}`,
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	s := r.Run("save", in, jobEnv)
	if s.Code != 0 {
		t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
	}
	if s.Outputs["hits"] != "27" || s.Outputs["misses"] != "1" || s.Outputs["saved"] != "false" {
		t.Errorf("outputs = %v", s.Outputs)
	}
	for _, want := range []string{"| Remote cache | redis at redis://***@cache:6379 (read-write); hits and misses from 2 container servers",
		"not saved: the remote cache holds the cache (no GitHub Actions cache entry)"} {
		if !strings.Contains(s.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, s.Summary)
		}
	}
	if reqs := svc.Requests(); len(reqs) != 0 {
		t.Errorf("cache-service requests with a remote backend: %v", reqs)
	}
}

// TestFallbackStatsIgnoreStoreVariables: after a fallback, the server save
// asks for statistics runs on the local disk cache even though the job's env
// still selects the store (with Debian's sccache, which has no remote
// backend, a server started with it would not start at all).
func TestFallbackStatsIgnoreStoreVariables(t *testing.T) {
	svc := fakecache.NewV1(t)
	r := actiontest.New(t).With(svc.Env())
	jobEnv := map[string]string{}
	in := map[string]string{"sccache-version": r.Version, "key": "fallback", "backend": "redis", "backend-endpoint": "redis://127.0.0.1:1"}
	if s := r.Run("setup", in, jobEnv); s.Code != 0 || len(s.Annotations("warning")) != 1 {
		t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
	}
	jobEnv["SCCACHE_REDIS"] = "redis://127.0.0.1:1"
	s := r.Run("save", map[string]string{"key": "fallback"}, jobEnv)
	if s.Code != 0 {
		t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
	}
	if strings.Contains(s.Stdout, "statistics unavailable") || !strings.Contains(s.Summary, "| Runner's sccache server |") {
		t.Errorf("save could not read the runner's statistics:\n%s", s.Stdout)
	}
	if !strings.Contains(s.Summary, "| Remote cache | redis: not used (unreachable") {
		t.Errorf("summary lacks the fallback:\n%s", s.Summary)
	}
}
