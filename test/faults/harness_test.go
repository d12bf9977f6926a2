// Package faults_test is the reliability and security suite of the action:
// it runs the real setup, restore and save steps (through cli.Main, see
// internal/actiontest) against the fake cache services with faults injected,
// hostile cache entries, bad inputs and leaked-secret scans, and checks the
// promise of the README's "Never breaking the build": a cache fault is one
// warning and exit 0 (exit 1 with fail-on-cache-error), the cache directory
// is the complete entry or what it was before, nothing is left behind, and
// every step ends in bounded time.
package faults_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/fakecache"
	jobpkg "github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/state"
)

// runtimeToken is the recognisable ACTIONS_RUNTIME_TOKEN of every job here;
// the secrets test looks for it everywhere.
const runtimeToken = "rtok-7f3a9c-FAKE-RUNTIME-TOKEN"

// Every step runs with jobpkg.TimeoutVar set to stepTimeout (cases of a service
// that never answers use a shorter one), and any step that takes longer than
// stepDeadline is hanging.
const (
	stepTimeout  = 15 * time.Second
	stepDeadline = 45 * time.Second
)

// proto names a cache-service protocol of the fakes.
type proto string

const (
	v1 proto = "v1"
	v2 proto = "v2"
)

var protos = []proto{v1, v2}

// service is a fake cache service of either protocol.
type service struct {
	proto proto
	*fakecache.Controls
	env     func() map[string]string
	entries func() []fakecache.Entry
	put     func(key, version string, data []byte) error
	v2      *fakecache.V2 // nil for v1
}

// newService starts a fake of protocol p that insists on runtimeToken.
func newService(t *testing.T, p proto) *service {
	t.Helper()
	switch p {
	case v1:
		s := fakecache.NewV1(t)
		s.Token = runtimeToken
		return &service{proto: p, Controls: s.Controls, env: s.Env, entries: s.Entries,
			put: func(k, v string, d []byte) error { s.Put(k, v, d); return nil }}
	default:
		s := fakecache.NewV2(t, fakecache.NewMemBlobs(t))
		s.Token = runtimeToken
		return &service{proto: p, Controls: s.Controls, env: s.Env, entries: s.Entries, put: s.Put, v2: s}
	}
}

// complete returns the committed entries.
func (s *service) complete() []fakecache.Entry {
	var out []fakecache.Entry
	for _, e := range s.entries() {
		if e.Complete {
			out = append(out, e)
		}
	}
	return out
}

// job is one emulated job: a runner whose setup step has run.
type job struct {
	t        *testing.T
	r        *actiontest.Runner
	svc      *service
	env      map[string]string // the job environment after setup
	root     string
	cacheDir string
	// releaseURL is the fake release server, the GITHUB_SERVER_URL of
	// setup; restore and save get a github.com-like host that is never
	// contacted, so the v2 fake is not taken for an Enterprise Server.
	releaseURL string
}

// serviceHost is the GITHUB_SERVER_URL of restore and save steps: not an
// Enterprise Server host (so the environment decides the protocol), and not
// an address anything connects to.
const serviceHost = "https://faults.localhost"

// newJob makes a runner that reaches svc (nil: no cache service), runs setup
// and fails the test if setup fails.
func newJob(t *testing.T, svc *service, setupInputs map[string]string) *job {
	t.Helper()
	r := actiontest.New(t)
	r.Env[jobpkg.TimeoutVar] = stepTimeout.String()
	j := &job{t: t, r: r, svc: svc, env: map[string]string{}, releaseURL: r.Env["GITHUB_SERVER_URL"]}
	if svc != nil {
		r.With(svc.env())
	}
	in := map[string]string{"sccache-version": r.Version, "key": "faults"}
	for k, v := range setupInputs {
		in[k] = v
	}
	s := j.run("setup", in)
	if s.Code != 0 {
		t.Fatalf("setup: exit %d\n%s", s.Code, s.Stdout)
	}
	j.root, j.cacheDir = j.env["RUSTCACHE_ROOT"], j.env["SCCACHE_DIR"]
	if j.root == "" || j.cacheDir == "" {
		t.Fatalf("setup exported no root: %v", j.env)
	}
	return j
}

// run runs one step with inputs (the key input defaults to "faults") and
// checks that it ended within stepDeadline.
func (j *job) run(cmd string, in map[string]string) *actiontest.Step {
	j.t.Helper()
	inputs := map[string]string{"key": "faults"}
	for k, v := range in {
		inputs[k] = v
	}
	if cmd == "setup" {
		j.r.Env["GITHUB_SERVER_URL"] = j.releaseURL
	} else {
		j.r.Env["GITHUB_SERVER_URL"] = serviceHost
	}
	start := time.Now()
	s := j.r.Run(cmd, inputs, j.env)
	if d := time.Since(start); d > stepDeadline {
		j.t.Errorf("%s took %v, more than the %v any step may take here", cmd, d.Round(time.Millisecond), stepDeadline)
	}
	return s
}

// state reads the root's state file.
func (j *job) state() *state.State {
	j.t.Helper()
	st, err := state.Load(j.root)
	if err != nil {
		j.t.Fatal(err)
	}
	return st
}

// keys runs a restore against an empty service to learn the primary key and
// the version this job uses, then resets the service's counters.
func (j *job) keys() (key, version string) {
	j.t.Helper()
	s := j.run("restore", nil)
	if s.Code != 0 {
		j.t.Fatalf("restore on an empty service: exit %d\n%s", s.Code, s.Stdout)
	}
	rs := j.state().Restore
	if rs == nil || rs.PrimaryKey == "" || rs.Version == "" {
		j.t.Fatalf("restore recorded no keys:\n%s", s.Stdout)
	}
	if j.svc != nil {
		j.svc.ResetCounts()
	}
	return rs.PrimaryKey, rs.Version
}

// seed stores data in the service as the entry of an earlier run of this
// job's configuration (a restore-key match), and returns its key.
func (j *job) seed(data []byte) string {
	j.t.Helper()
	key, version := j.keys()
	old := strings.TrimSuffix(key, "-1000-1") + "-999-1"
	if old == key {
		j.t.Fatalf("primary key %q does not end with the run id", key)
	}
	if err := j.svc.put(old, version, data); err != nil {
		j.t.Fatal(err)
	}
	return old
}

// fill writes the sample cache content into the job's cache directory.
func (j *job) fill() {
	j.t.Helper()
	writeTree(j.t, j.cacheDir, sampleFiles())
}

// tree lists dir: relative path → "dir" or the SHA-256 of the file (symlinks
// and other files as their type). A missing dir is an empty tree.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && os.IsNotExist(err) {
				return filepath.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case rel == ".":
		case d.IsDir():
			out[rel] = "dir"
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(sum[:8])
		default:
			out[rel] = d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	return out
}

// leftoverRE matches the temporary siblings the archive and state writers
// create (".<name>.tmp-*", ".<name>.old-*") and setup's probe and copy files.
var leftoverRE = regexp.MustCompile(`^\..+\.(tmp|old)-|^\.probe-|^\.sccache-`)

// leftovers lists temporary files and directories under the given trees.
func leftovers(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && leftoverRE.MatchString(d.Name()) {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// checkNoLeftovers fails on temporary files under the root and RUNNER_TEMP.
func (j *job) checkNoLeftovers() {
	j.t.Helper()
	if l := leftovers(j.t, j.root, j.r.Temp); len(l) > 0 {
		j.t.Errorf("temporary files left behind: %q", l)
	}
}

// sample is the cache content used throughout: an sccache-shaped directory
// with entries large enough (about 9 MiB, incompressible) that downloads
// take several ranged GETs.
var (
	sampleOnce sync.Once
	sampleMap  map[string][]byte
)

func sampleFiles() map[string][]byte {
	sampleOnce.Do(func() {
		rng := rand.New(rand.NewSource(1))
		sampleMap = map[string][]byte{}
		sizes := []int{3 << 20, 2 << 20, 2 << 20, 1 << 20, 700 << 10, 300 << 10, 60 << 10, 5 << 10, 512, 1, 0}
		for i, n := range sizes {
			b := make([]byte, n)
			rng.Read(b)
			name := filepath.Join(string("0123456789abcdef"[i%16]), string("fedcba9876543210"[i%16]), hex.EncodeToString(b[:min(n, 8)])+"-"+string(rune('a'+i)))
			sampleMap[name] = b
		}
	})
	return sampleMap
}

// writeTree creates files under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sampleTree is tree() of a directory holding exactly sampleFiles.
func sampleTree(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, sampleFiles())
	return tree(t, dir)
}

// sampleArchive is the sample content as the entry a runner with
// actiontest's layout saves: names relative to the workspace
// ("../temp/rustcache/cache/...").
var (
	archiveOnce sync.Once
	archiveData []byte
	archiveErr  error
)

func sampleArchive(t *testing.T) []byte {
	t.Helper()
	archiveOnce.Do(func() {
		base, err := os.MkdirTemp("", "faults-sample-")
		if err != nil {
			archiveErr = err
			return
		}
		defer os.RemoveAll(base)
		dir := filepath.Join(base, "temp", "rustcache", "cache")
		writeTree(t, dir, sampleFiles())
		var buf bytes.Buffer
		_, archiveErr = archive.Write(context.Background(), &buf, dir, filepath.Join(base, "work"), archive.WriteOptions{})
		archiveData = buf.Bytes()
	})
	if archiveErr != nil {
		t.Fatal(archiveErr)
	}
	return archiveData
}

// treeDiff describes how got differs from want, or "".
func treeDiff(want, got map[string]string) string {
	return cmp.Diff(want, got)
}

// names returns the sorted keys of a tree, for short messages.
func names(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// removeContents empties dir, keeping dir itself.
func removeContents(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
