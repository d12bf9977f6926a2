package faults_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
)

// TestConcurrentSavesOfOneKey runs two save steps of the same key and
// version at once (two jobs of one configuration on a self-hosted runner
// that share a cache-root): one uploads, the other finds the entry taken
// and says so in a notice; both exit 0 with no warning, and the service
// holds one complete entry.
func TestConcurrentSavesOfOneKey(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			svc := newService(t, p)
			shared := filepath.Join(t.TempDir(), "root")
			a := newJob(t, svc, map[string]string{"cache-root": shared})
			b := newJob(t, svc, map[string]string{"cache-root": shared})
			a.keys()
			b.keys()
			a.fill()
			// The first upload is slow, so the other save starts while the
			// entry is still being written.
			svc.Inject(fakecache.KindUpload, fakecache.Fault{Delay: time.Second})

			steps := make([]*actiontest.Step, 2)
			var wg sync.WaitGroup
			for i, j := range []*job{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					steps[i] = j.run("save", nil)
				}()
			}
			wg.Wait()

			saved := 0
			for i, s := range steps {
				if s.Code != 0 || len(s.Annotations("warning")) != 0 || len(s.Annotations("error")) != 0 {
					t.Errorf("save %d: exit %d, warnings %q, errors %q", i, s.Code, s.Annotations("warning"), s.Annotations("error"))
				}
				if s.Outputs["saved"] == "true" {
					saved++
					continue
				}
				notices := strings.Join(s.Annotations("notice"), "\n")
				if !regexp.MustCompile(`already exists|another job`).MatchString(notices) {
					t.Errorf("save %d did not upload and gave no notice why: %q\n%s", i, notices, s.Stdout)
				}
			}
			if saved != 1 {
				t.Errorf("%d saves uploaded, want exactly 1", saved)
			}
			if n := len(svc.complete()); n != 1 {
				t.Errorf("service holds %d complete entries, want 1", n)
			}
			// The entry restores whole.
			svc.ClearFaults()
			if err := removeContents(a.cacheDir); err != nil {
				t.Fatal(err)
			}
			if s := a.run("restore", nil); s.Code != 0 || len(s.Annotations("warning")) != 0 {
				t.Fatalf("restore: exit %d\n%s", s.Code, s.Stdout)
			}
			if d := treeDiff(sampleTree(t), tree(t, a.cacheDir)); d != "" {
				t.Errorf("restored entry differs (-want +got):\n%s", d)
			}
			a.checkNoLeftovers()
		})
	}
}

// TestConcurrentRestores restores two jobs with their own roots at once
// from one service; downloads are slowed so they overlap. Each root gets its
// complete entry.
func TestConcurrentRestores(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			svc := newService(t, p)
			a, b := newJob(t, svc, nil), newJob(t, svc, nil)
			a.seed(sampleArchive(t))
			b.seed(sampleArchive(t))
			svc.Always(fakecache.KindDownload, fakecache.Fault{Delay: 200 * time.Millisecond})
			steps := make([]*actiontest.Step, 2)
			var wg sync.WaitGroup
			for i, j := range []*job{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					steps[i] = j.run("restore", nil)
				}()
			}
			wg.Wait()
			for i, j := range []*job{a, b} {
				s := steps[i]
				if s.Code != 0 || len(s.Annotations("warning")) != 0 || s.Outputs["cache-matched-key"] == "" {
					t.Errorf("restore %d: exit %d outputs %v\n%s", i, s.Code, s.Outputs, s.Stdout)
				}
				if d := treeDiff(sampleTree(t), tree(t, j.cacheDir)); d != "" {
					t.Errorf("restore %d: cache dir differs (-want +got):\n%s", i, d)
				}
				j.checkNoLeftovers()
			}
		})
	}
}

// TestCacheMode checks ACTIONS_CACHE_MODE: restore only when it allows
// reading, save only when it allows writing, a notice (not a warning) when
// a step is skipped, exit 0 always. An unknown value allows both, as the
// official client does.
func TestCacheMode(t *testing.T) {
	tests := []struct {
		mode            string
		restore, upload bool
	}{
		{"read", true, false},
		{"none", false, false},
		{"write-only", false, true},
		{"write", true, true},
		{"bogus", true, true},
	}
	for _, tc := range tests {
		for _, p := range protos {
			t.Run(tc.mode+"/"+string(p), func(t *testing.T) {
				t.Parallel()
				svc := newService(t, p)
				j := newJob(t, svc, nil)
				j.seed(sampleArchive(t))
				j.r.Env["ACTIONS_CACHE_MODE"] = tc.mode

				rs := j.run("restore", nil)
				if rs.Code != 0 || len(rs.Annotations("warning")) != 0 {
					t.Fatalf("restore: exit %d\n%s", rs.Code, rs.Stdout)
				}
				looked := svc.Count(fakecache.KindLookup) > 0
				if looked != tc.restore || (rs.Outputs["cache-matched-key"] != "") != tc.restore {
					t.Errorf("restore looked the cache up: %v, matched %q; want %v", looked, rs.Outputs["cache-matched-key"], tc.restore)
				}
				if !tc.restore && !strings.Contains(strings.Join(rs.Annotations("notice"), "\n"), "ACTIONS_CACHE_MODE="+tc.mode) {
					t.Errorf("skipped restore gave no notice naming ACTIONS_CACHE_MODE:\n%s", rs.Stdout)
				}
				if tc.restore {
					if d := treeDiff(sampleTree(t), tree(t, j.cacheDir)); d != "" {
						t.Errorf("cache dir is not the entry (-want +got):\n%s", d)
					}
				} else if len(tree(t, j.cacheDir)) != 0 {
					t.Errorf("restore skipped, yet the cache dir holds %v", names(tree(t, j.cacheDir)))
				}

				writeTree(t, j.cacheDir, map[string][]byte{"e/e/compiled-now": []byte("new")})
				ss := j.run("save", nil)
				if ss.Code != 0 || len(ss.Annotations("warning")) != 0 {
					t.Fatalf("save: exit %d\n%s", ss.Code, ss.Stdout)
				}
				uploaded := svc.Count(fakecache.KindReserve) > 0
				if uploaded != tc.upload || (ss.Outputs["saved"] == "true") != tc.upload {
					t.Errorf("save reserved an entry: %v, saved %q; want %v", uploaded, ss.Outputs["saved"], tc.upload)
				}
				if !tc.upload && !strings.Contains(ss.Summary+ss.Stdout, "ACTIONS_CACHE_MODE="+tc.mode) {
					t.Errorf("skipped save does not say ACTIONS_CACHE_MODE=%s:\n%s\n%s", tc.mode, ss.Stdout, ss.Summary)
				}
				j.checkNoLeftovers()
			})
		}
	}
}

// TestStaleServerIsStopped starts a real sccache server on the job's port
// with another SCCACHE_DIR (what an earlier job on a self-hosted runner may
// leave behind), runs setup, and builds with cargo: the compiles must land
// in this job's SCCACHE_DIR, none in the other one.
func TestStaleServerIsStopped(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	svc := newService(t, v1)
	j := newJob(t, svc, nil)
	st := j.state()
	port := j.env["SCCACHE_SERVER_PORT"]
	other := filepath.Join(j.r.Dir, "other-cache")
	sccache := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(st.SccachePath, args...)
		cmd.Env = append(os.Environ(), "SCCACHE_SERVER_PORT="+port, "SCCACHE_DIR="+dir, "SCCACHE_IDLE_TIMEOUT=0")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { _, _ = sccache(other, "--stop-server") })
	if out, err := sccache(other, "--start-server"); err != nil {
		t.Fatalf("start the stale server: %v\n%s", err, out)
	}
	if loc := cacheLocation(t, sccache, other); !strings.Contains(loc, other) {
		t.Fatalf("the stale server reports cache location %q, want %s", loc, other)
	}

	if s := j.run("setup", map[string]string{"sccache-version": j.r.Version}); s.Code != 0 {
		t.Fatalf("setup: exit %d\n%s", s.Code, s.Stdout)
	}
	tinyWorkspace(t, j.r.Workspace)
	if out, err := j.r.Cargo(j.r.Workspace, j.env, "build", "-q"); err != nil {
		t.Fatalf("cargo build: %v\n%s", err, out)
	}
	if loc := cacheLocation(t, sccache, j.cacheDir); !strings.Contains(loc, j.cacheDir) {
		t.Errorf("after setup the job's server uses %q, want %s", loc, j.cacheDir)
	}
	if n := len(entriesIn(t, j.cacheDir)); n == 0 {
		t.Errorf("no compile reached this job's SCCACHE_DIR %s", j.cacheDir)
	}
	if e := entriesIn(t, other); len(e) != 0 {
		t.Errorf("compiles went to the stale server's directory: %v", e)
	}
	s := j.run("save", nil)
	if s.Code != 0 || s.Outputs["misses"] == "0" {
		t.Errorf("save: exit %d outputs %v\n%s", s.Code, s.Outputs, s.Stdout)
	}
}

// cacheLocation asks the server on the job's port where its cache is.
func cacheLocation(t *testing.T, sccache func(string, ...string) (string, error), dir string) string {
	t.Helper()
	out, err := sccache(dir, "--show-stats", "--stats-format=json")
	if err != nil {
		t.Fatalf("sccache --show-stats: %v\n%s", err, out)
	}
	var v struct {
		CacheLocation string `json:"cache_location"`
	}
	if err := json.Unmarshal([]byte(out[strings.IndexByte(out, '{'):]), &v); err != nil {
		t.Fatalf("sccache --show-stats: %v\n%s", err, out)
	}
	return v.CacheLocation
}

// entriesIn lists the cache entries (regular files) under dir.
func entriesIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for k, v := range tree(t, dir) {
		if v != "dir" {
			out = append(out, k)
		}
	}
	return out
}

// tinyWorkspace writes a Cargo workspace of two crates without
// dependencies.
func tinyWorkspace(t *testing.T, dir string) {
	t.Helper()
	writeTree(t, dir, map[string][]byte{
		"Cargo.toml":      []byte("[workspace]\nmembers = [\"app\", \"lib\"]\nresolver = \"2\"\n"),
		"app/Cargo.toml":  []byte("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nlib = { path = \"../lib\" }\n"),
		"app/src/main.rs": []byte("fn main() { println!(\"{}\", lib::answer()); }\n"),
		"lib/Cargo.toml":  []byte("[package]\nname = \"lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
		"lib/src/lib.rs":  []byte("pub fn answer() -> u32 { 42 }\n"),
	})
}
