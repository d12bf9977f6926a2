package save_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/job"
)

// cacheFiles are cache entries whose names a line-based snapshot could not
// hold: a newline inside, one at the end, one that reads like a record.
var cacheFiles = []string{"a/x\ny", "a/x", "b/1 2 3:q\n", "c/plain"}

// job runs setup and restore on a fresh runner sharing svc, with the cache
// files written when fill is set (as a build would), and returns the job
// environment.
func runUntilSave(t *testing.T, r *actiontest.Runner, run string, fill bool) map[string]string {
	t.Helper()
	r.Fresh()
	r.Env["GITHUB_RUN_ID"] = run
	jobEnv := map[string]string{}
	in := map[string]string{"sccache-version": r.Version, "key": "snap"}
	if s := r.Run("setup", in, jobEnv); s.Code != 0 {
		t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
	}
	if s := r.Run("restore", in, jobEnv); s.Code != 0 {
		t.Fatalf("restore: %d\n%s", s.Code, s.Stdout)
	}
	if fill {
		t0 := time.Unix(1_700_000_000, 0)
		for _, n := range cacheFiles {
			p := filepath.Join(jobEnv["SCCACHE_DIR"], filepath.FromSlash(n))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("entry "+n), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, t0, t0)
		}
	}
	return jobEnv
}

// TestSaveCountsNamesWithNewlines: an untouched cache restored with such
// names is "nothing changed" (it used to count 0 hits, 4 misses and upload
// again, the snapshot failing to load and the error ignored).
func TestSaveCountsNamesWithNewlines(t *testing.T) {
	svc := fakecache.NewV1(t)
	r := actiontest.New(t).With(svc.Env())
	cold := r.Run("save", map[string]string{"key": "snap"}, runUntilSave(t, r, "1", true))
	if cold.Code != 0 || cold.Outputs["saved"] != "true" || cold.Outputs["misses"] != "4" {
		t.Fatalf("cold save: %d %v\n%s", cold.Code, cold.Outputs, cold.Stdout)
	}
	warm := r.Run("save", map[string]string{"key": "snap"}, runUntilSave(t, r, "2", false))
	if warm.Code != 0 || warm.Outputs["saved"] != "false" || warm.Outputs["misses"] != "0" || warm.Outputs["hits"] != "0" {
		t.Errorf("warm save of an untouched cache: %d %v\n%s", warm.Code, warm.Outputs, warm.Stdout)
	}
	if !strings.Contains(warm.Summary, "nothing changed since restore") || len(warm.Annotations("warning")) != 0 {
		t.Errorf("summary:\n%s\nlog:\n%s", warm.Summary, warm.Stdout)
	}
	if n := len(svc.Entries()); n != 1 {
		t.Errorf("service holds %d entries, want 1", n)
	}
}

// TestSaveBrokenSnapshot: a snapshot that does not load is a warning, the
// counts are reported as unknown (not as every file a miss), and the upload
// decision says why it uploads.
func TestSaveBrokenSnapshot(t *testing.T) {
	for name, damage := range map[string]func(path string){
		"old format": func(p string) { os.WriteFile(p, []byte("1 2 a/x\n"), 0o644) },
		"cut short":  func(p string) { b, _ := os.ReadFile(p); os.WriteFile(p, b[:len(b)-3], 0o644) },
		"missing":    func(p string) { os.Remove(p) },
	} {
		t.Run(name, func(t *testing.T) {
			svc := fakecache.NewV1(t)
			r := actiontest.New(t).With(svc.Env())
			if s := r.Run("save", map[string]string{"key": "snap"}, runUntilSave(t, r, "1", true)); s.Code != 0 {
				t.Fatalf("cold save: %s", s.Stdout)
			}
			jobEnv := runUntilSave(t, r, "2", false)
			damage(filepath.Join(jobEnv["RUSTCACHE_ROOT"], job.SnapshotFile))
			s := r.Run("save", map[string]string{"key": "snap"}, jobEnv)
			if s.Code != 0 {
				t.Fatalf("save exit %d\n%s", s.Code, s.Stdout)
			}
			w := s.Annotations("warning")
			if len(w) != 1 || !strings.Contains(w[0], "cache accounting") || !strings.Contains(w[0], "snapshot") {
				t.Errorf("warnings = %q", w)
			}
			if s.Outputs["saved"] != "true" || s.Outputs["misses"] != "" || s.Outputs["hits"] != "" || !strings.Contains(s.Stdout, "whether the cache changed since restore is unknown") {
				t.Errorf("the upload decision does not say why: %v\n%s", s.Outputs, s.Stdout)
			}
			if !strings.Contains(s.Summary, "unknown: the snapshot restore took is unreadable") || strings.Contains(s.Summary, "Cache misses") {
				t.Errorf("summary:\n%s", s.Summary)
			}
		})
	}
}
