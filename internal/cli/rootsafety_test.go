package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
)

// rootInputs are the inputs of setup and restore in these tests.
func rootInputs(r *actiontest.Runner) map[string]string {
	return map[string]string{"sccache-version": r.Version, "key": "root"}
}

// startJob runs steps (setup, then restore if asked) of run on r, each of
// which must succeed, and returns the job environment.
func startJob(t *testing.T, r *actiontest.Runner, run string, steps ...string) map[string]string {
	t.Helper()
	r.Env["GITHUB_RUN_ID"] = run
	jobEnv := map[string]string{}
	for _, step := range steps {
		if s := r.Run(step, rootInputs(r), jobEnv); s.Code != 0 {
			t.Fatalf("%s: %d\n%s", step, s.Code, s.Stdout)
		}
	}
	return jobEnv
}

// newRunner is a runner with a fake v1 cache service.
func newRunner(t *testing.T) *actiontest.Runner {
	return actiontest.New(t).With(fakecache.NewV1(t).Env())
}

// fullJob runs setup, restore, a "build" that adds a cache entry, and save
// on r, so every file the steps write under the root exists; it returns the
// job environment.
func fullJob(t *testing.T, r *actiontest.Runner, run string) map[string]string {
	t.Helper()
	jobEnv := startJob(t, r, run, "setup", "restore")
	entry := filepath.Join(jobEnv["SCCACHE_DIR"], "a", "b", "entry-"+run)
	os.MkdirAll(filepath.Dir(entry), 0o755)
	if err := os.WriteFile(entry, []byte("object "+run), 0o644); err != nil {
		t.Fatal(err)
	}
	if s := r.Run("save", map[string]string{"key": "root"}, jobEnv); s.Code != 0 {
		t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
	}
	return jobEnv
}

// asNobody runs a shell command as uid/gid 65534 without supplementary
// groups: another local user of a shared runner.
func asNobody(script string, args ...string) error {
	cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script, "sh"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// TestRootNotEditableByAnotherUser: after a whole job, another local user
// can neither change a file under the root nor add, rename or remove one in
// any of its directories (state.json used to be mode 0666: the next step
// ran whatever program it named).
func TestRootNotEditableByAnotherUser(t *testing.T) {
	testkit.NeedTool(t, "setpriv")
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user (CI runs as root)")
	}
	r := newRunner(t)
	jobEnv := fullJob(t, r, "1")
	root := jobEnv["RUSTCACHE_ROOT"]
	// Let the other user reach the root, as on a runner whose RUNNER_TEMP
	// others can traverse.
	for d := root; d != filepath.Dir(d); d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	control := filepath.Join(r.Dir, "control")
	os.WriteFile(control, nil, 0o644)
	os.Chmod(control, 0o666)
	if err := asNobody(`echo x >> "$1"`, control); err != nil {
		t.Fatalf("the other user cannot write even a mode 0666 file: the test proves nothing: %v", err)
	}

	before := actiontest.Tree(t, root)
	var files, dirs int
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		if fi.IsDir() {
			dirs++
			if err := asNobody(`touch "$1/planted"`, p); err == nil {
				t.Errorf("another user created a file in %s (mode %v)", rel, fi.Mode())
			}
			return nil
		}
		files++
		if err := asNobody(`echo x >> "$1"`, p); err == nil {
			t.Errorf("another user appended to %s (mode %v)", rel, fi.Mode())
		}
		if err := asNobody(`mv -f "$1" "$1.moved"`, p); err == nil {
			t.Errorf("another user renamed %s", rel)
		}
		return nil
	})
	if files < 6 || dirs < 4 {
		t.Errorf("walked %d files and %d directories: the job wrote less than expected\n%v", files, dirs, before)
	}
	if d := cmp.Diff(before, actiontest.Tree(t, root)); d != "" {
		t.Errorf("the root changed (-before +after):\n%s", d)
	}
}

// TestStateNamesNoProgram: a state.json edited to name another program
// (and another cache directory) does not make restore or save run it (they
// used to run its sccache_path for --stop-server and --show-stats) or touch
// that directory.
func TestStateNamesNoProgram(t *testing.T) {
	r := newRunner(t)
	jobEnv := startJob(t, r, "1", "setup")
	in := rootInputs(r)
	marker := filepath.Join(r.Dir, "ran")
	evil := filepath.Join(r.Dir, "evil.sh")
	os.WriteFile(evil, []byte("#!/bin/sh\necho \"$@\" >> "+marker+"\n"), 0o755)
	elsewhere := filepath.Join(r.Dir, "elsewhere")
	os.MkdirAll(filepath.Join(elsewhere, "x"), 0o755)
	os.WriteFile(filepath.Join(elsewhere, "x", "precious"), []byte("keep"), 0o644)
	otherBefore := actiontest.Tree(t, elsewhere)

	statePath := filepath.Join(jobEnv["RUSTCACHE_ROOT"], "state.json")
	edit := func() {
		b, err := os.ReadFile(statePath)
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		st["sccache_path"], st["cache_dir"] = evil, elsewhere
		b, _ = json.Marshal(st)
		if err := os.WriteFile(statePath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit()
	if s := r.Run("restore", in, jobEnv); s.Code != 0 {
		t.Fatalf("restore: %d\n%s", s.Code, s.Stdout)
	}
	edit()
	os.WriteFile(filepath.Join(jobEnv["SCCACHE_DIR"], "entry"), []byte("object"), 0o644)
	s := r.Run("save", map[string]string{"key": "root"}, jobEnv)
	if s.Code != 0 {
		t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Errorf("the program state.json named was run: %q", b)
	}
	if d := cmp.Diff(otherBefore, actiontest.Tree(t, elsewhere)); d != "" {
		t.Errorf("the directory state.json named changed:\n%s", d)
	}
	if s.Outputs["saved"] != "true" || s.Outputs["misses"] != "1" {
		t.Errorf("save did not save the real cache directory: %v\n%s", s.Outputs, s.Stdout)
	}
}

// TestPlantedLinks: a link planted at the name of any file the steps write
// under the root (a build inside a cross container can plant one: the root
// is mounted read-write) is replaced, never written through — its target
// stays byte-identical — and links in place of bin/ and cache/ are replaced
// by directories.
func TestPlantedLinks(t *testing.T) {
	r := newRunner(t)
	root := fullJob(t, r, "1")["RUSTCACHE_ROOT"]
	// (A link in place of the marker makes setup refuse the root: see
	// internal/rootdir.)
	names := []string{"state.json", "snapshot.txt", "report.md", "sccache.conf", "bin/sccache", "bin/sccache-wait"}
	victims := filepath.Join(r.Dir, "victims")
	os.Mkdir(victims, 0o755)
	for i, n := range names {
		p := filepath.Join(root, filepath.FromSlash(n))
		if _, err := os.Lstat(p); err != nil {
			t.Fatalf("the job did not write %s: %v", n, err)
		}
		v := filepath.Join(victims, fmt.Sprintf("victim-%d", i))
		os.WriteFile(v, []byte("victim of "+n+"\n"), 0o755)
		os.Remove(p)
		if err := os.Symlink(v, p); err != nil {
			t.Fatal(err)
		}
	}
	victimsBefore := actiontest.Tree(t, victims)
	fullJob(t, r, "2")
	if d := cmp.Diff(victimsBefore, actiontest.Tree(t, victims)); d != "" {
		t.Errorf("written through a planted link (-before +after):\n%s", d)
	}
	for _, n := range names {
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(n))); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s after the job: %v, %v; want a regular file", n, fi, err)
		}
	}

	// Directories: bin/ and cache/ as links to directories outside.
	for _, d := range []string{"bin", "cache"} {
		out := filepath.Join(r.Dir, "outside-"+d)
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "keep"), []byte("keep"), 0o644)
		os.RemoveAll(filepath.Join(root, d))
		os.Symlink(out, filepath.Join(root, d))
	}
	outBefore := actiontest.Tree(t, r.Dir+"/outside-bin")
	cacheBefore := actiontest.Tree(t, r.Dir+"/outside-cache")
	fullJob(t, r, "3")
	if d := cmp.Diff(outBefore, actiontest.Tree(t, r.Dir+"/outside-bin")); d != "" {
		t.Errorf("installed through a planted bin/ link:\n%s", d)
	}
	if d := cmp.Diff(cacheBefore, actiontest.Tree(t, r.Dir+"/outside-cache")); d != "" {
		t.Errorf("restored through a planted cache/ link:\n%s", d)
	}
	for _, d := range []string{"bin", "cache"} {
		if fi, err := os.Lstat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s after the job: %v, %v; want a directory", d, fi, err)
		}
	}
}

// TestLinksPlantedDuringTheBuild: links a container plants between restore
// and save, at the names of the snapshot, the report and the state, are not
// written through or read by save, which warns and exits 0 (a planted state
// link used to fail the step).
func TestLinksPlantedDuringTheBuild(t *testing.T) {
	r := newRunner(t)
	jobEnv := startJob(t, r, "1", "setup", "restore")
	in := rootInputs(r)
	root := jobEnv["RUSTCACHE_ROOT"]
	victim := filepath.Join(r.Dir, "victim")
	os.WriteFile(victim, []byte("keep me\n"), 0o644)
	for _, n := range []string{"snapshot.txt", "report.md", "state.json"} {
		os.Remove(filepath.Join(root, n))
		os.Symlink(victim, filepath.Join(root, n))
	}
	os.WriteFile(filepath.Join(jobEnv["SCCACHE_DIR"], "entry"), []byte("object"), 0o644)
	s := r.Run("save", map[string]string{"key": "root"}, jobEnv)
	if s.Code != 0 {
		t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("save wrote through a planted link: %q", b)
	}
	// With the state replaced by a link there is no usable setup: one
	// warning, exit 0, nothing saved.
	if w := strings.Join(s.Annotations("warning"), "\n"); !strings.Contains(w, "state") || s.Outputs["saved"] == "true" {
		t.Errorf("a state file replaced by a link is not reported: %q %v", w, s.Outputs)
	}
	// The same with the state left alone: the snapshot link is reported.
	os.Remove(filepath.Join(root, "state.json"))
	r.Run("setup", in, jobEnv)
	if s := r.Run("restore", in, jobEnv); s.Code != 0 {
		t.Fatalf("restore: %s", s.Stdout)
	}
	os.Remove(filepath.Join(root, "snapshot.txt"))
	os.Symlink(victim, filepath.Join(root, "snapshot.txt"))
	s = r.Run("save", map[string]string{"key": "root"}, jobEnv)
	if b, _ := os.ReadFile(victim); s.Code != 0 || string(b) != "keep me\n" {
		t.Errorf("save: %d, victim %q\n%s", s.Code, b, s.Stdout)
	}
	if w := strings.Join(s.Annotations("warning"), "\n"); !strings.Contains(w, "snapshot") {
		t.Errorf("a snapshot replaced by a link is not reported: %q", w)
	}
}

// TestStepsRefuseAForeignRoot: restore and save given a cache-root setup did
// not prepare (the workspace, holding its own cache/ and even a copied
// state.json) touch nothing in it.
func TestStepsRefuseAForeignRoot(t *testing.T) {
	r := newRunner(t)
	jobEnv := startJob(t, r, "1", "setup")
	os.MkdirAll(filepath.Join(r.Workspace, "cache"), 0o755)
	os.WriteFile(filepath.Join(r.Workspace, "cache", "kept.txt"), []byte("the repository's own"), 0o644)
	st, _ := os.ReadFile(filepath.Join(jobEnv["RUSTCACHE_ROOT"], "state.json"))
	os.WriteFile(filepath.Join(r.Workspace, "state.json"), st, 0o644)
	before := actiontest.Tree(t, r.Workspace)
	foreign := map[string]string{"key": "root", "cache-root": r.Workspace}
	if s := r.Run("restore", foreign, jobEnv); s.Code == 0 || !strings.Contains(s.Stdout, "no sccache setup found") {
		t.Errorf("restore into the workspace: %d\n%s", s.Code, s.Stdout)
	}
	if s := r.Run("save", foreign, jobEnv); len(s.Annotations("warning")) == 0 || s.Outputs["saved"] == "true" {
		t.Errorf("save from the workspace: %d %v\n%s", s.Code, s.Outputs, s.Stdout)
	}
	if d := cmp.Diff(before, actiontest.Tree(t, r.Workspace)); d != "" {
		t.Errorf("the workspace changed (-before +after):\n%s", d)
	}
}
