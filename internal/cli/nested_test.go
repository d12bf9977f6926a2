package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/transport"
	"github.com/org/rustcache-action/internal/workload"
)

// nestedJob is one job on an emulated runner whose run steps see no
// cache-service credentials (every GitHub-hosted runner), with the action's
// nested actions/cache steps played by the stand-in on the official client,
// which does get them (service).
type nestedJob struct {
	t       *testing.T
	r       *actiontest.Runner
	service map[string]string
	env     map[string]string // the job environment
	in      map[string]string // inputs of every step
}

func newNestedJob(t *testing.T, r *actiontest.Runner, service map[string]string, run string) *nestedJob {
	t.Helper()
	r.Fresh()
	r.Env["GITHUB_RUN_ID"] = run
	r.Env[transport.NestedVar] = "true"
	j := &nestedJob{t: t, r: r, service: service, env: map[string]string{}, in: map[string]string{"key": "nested"}}
	if s := r.Run("setup", map[string]string{"sccache-version": r.Version, "key": "nested"}, j.env); s.Code != 0 {
		t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
	}
	return j
}

// step runs a subcommand with extra variables in its env: only.
func (j *nestedJob) step(cmd string, extra map[string]string) *actiontest.Step {
	j.t.Helper()
	env := map[string]string{}
	for k, v := range j.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	s := j.r.Run(cmd, j.in, env)
	if s.Code != 0 {
		j.t.Fatalf("%s: exit %d\n%s", cmd, s.Code, s.Stdout)
	}
	return s
}

// restore runs restore and, when it hands over, the nested step and
// restore-finish, as the action file chains them.
func (j *nestedJob) restore() (handed, finished *actiontest.Step) {
	j.t.Helper()
	handed = j.step("restore", nil)
	if handed.Outputs["handoff"] != "actions-cache" {
		return handed, nil
	}
	out, log, ok := j.r.Nested("restore", map[string]string{
		"path": handed.Outputs["path"], "key": handed.Outputs["key"], "restore-keys": handed.Outputs["restore-keys"],
	}, j.service)
	if !ok {
		j.t.Fatalf("nested restore failed:\n%s", log)
	}
	return handed, j.step("restore-finish", map[string]string{
		"RUSTCACHE_MATCHED_KEY": out["cache-matched-key"], "RUSTCACHE_NESTED_OUTCOME": "success",
	})
}

// save runs save and, when it hands over, the nested step and save-finish.
func (j *nestedJob) save() (handed, finished *actiontest.Step) {
	j.t.Helper()
	handed = j.step("save", nil)
	if handed.Outputs["handoff"] != "actions-cache" {
		return handed, nil
	}
	_, log, ok := j.r.Nested("save", map[string]string{"path": handed.Outputs["path"], "key": handed.Outputs["key"]}, j.service)
	if !ok || !strings.Contains(log, "Cache saved with key: "+handed.Outputs["key"]) {
		j.t.Fatalf("nested save did not save:\n%s", log)
	}
	return handed, j.step("save-finish", map[string]string{"RUSTCACHE_NESTED_OUTCOME": "success"})
}

// build adds a cache entry, as a compilation that missed would.
func (j *nestedJob) build(name string) {
	j.t.Helper()
	p := filepath.Join(j.env["SCCACHE_DIR"], "a", "b", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		j.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Repeat(name, 1000)), 0o644); err != nil {
		j.t.Fatal(err)
	}
}

func noWarnings(t *testing.T, steps ...*actiontest.Step) {
	t.Helper()
	for _, s := range steps {
		if s == nil {
			continue
		}
		if w := s.Annotations("warning"); len(w) > 0 {
			t.Errorf("unexpected warning: %q", w)
		}
	}
}

// TestNestedRoute: without credentials in the run steps, restore and save
// hand the keys and the entry's paths to actions/cache, which moves the
// archive; the program still checks, skips an unchanged cache and reports.
// actions/cache files entries under the version of the paths it is given,
// the program's own client under one for every root: an entry one route
// saved is not found by the other.
func TestNestedRoute(t *testing.T) {
	svc := fakecache.NewV1(t)
	r := actiontest.New(t)

	// Job 1: a miss, one compilation, a save through actions/cache.
	j1 := newNestedJob(t, r, svc.Env(), "1")
	handed, finished := j1.restore()
	dirs := j1.env["SCCACHE_DIR"] + "\n" + filepath.Join(j1.env["RUSTCACHE_ROOT"], "targets")
	if handed.Outputs["path"] != dirs || handed.Outputs["key"] == "" || handed.Outputs["restore-keys"] == "" {
		t.Fatalf("restore handed over %v, want the entry's directories %q, the key and restore keys", handed.Outputs, dirs)
	}
	if finished.Outputs["cache-hit"] != "false" || finished.Outputs["cache-matched-key"] != "" || finished.Outputs["cache-primary-key"] != handed.Outputs["key"] {
		t.Errorf("restore-finish outputs %v after a miss", finished.Outputs)
	}
	j1.build("first")
	saveHanded, saved := j1.save()
	key1 := saveHanded.Outputs["key"]
	if key1 != handed.Outputs["key"] || saveHanded.Outputs["path"] != dirs {
		t.Fatalf("save handed over %v, want restore's key %q", saveHanded.Outputs, handed.Outputs["key"])
	}
	if saveHanded.Summary != "" || saved == nil {
		t.Fatalf("save published before actions/cache/save ran:\n%s", saveHanded.Summary)
	}
	if saved.Outputs["saved"] != "true" || saved.Outputs["saved-key"] != key1 || saved.Outputs["misses"] != "1" {
		t.Errorf("save-finish outputs %v", saved.Outputs)
	}
	if !strings.Contains(saved.Summary, "handed to actions/cache/save") || !strings.Contains(saved.Summary, "Cache misses | 1") {
		t.Errorf("summary:\n%s", saved.Summary)
	}
	noWarnings(t, handed, finished, saveHanded, saved)
	entries := svc.Entries()
	if len(entries) != 1 {
		t.Fatalf("service holds %d entries, want 1", len(entries))
	}
	if want := cacheservice.Version(strings.Split(dirs, "\n"), cacheservice.CompressionZstd, false); entries[0].Version != want {
		t.Errorf("actions/cache saved version %s, want the version of the path it was given, %s", entries[0].Version, want)
	}

	// Job 2: actions/cache restores job 1's entry; a second compilation.
	j2 := newNestedJob(t, r, svc.Env(), "2")
	_, finished = j2.restore()
	if finished == nil || finished.Outputs["cache-matched-key"] != key1 || finished.Outputs["cache-hit"] != "false" {
		t.Fatalf("nested restore of job 1's entry: %+v", finished)
	}
	if _, err := os.Stat(filepath.Join(j2.env["SCCACHE_DIR"], "a", "b", "first")); err != nil {
		t.Errorf("job 1's entry not restored: %v", err)
	}
	j2.build("second")
	saveHanded, saved = j2.save()
	if saved == nil || saved.Outputs["hits"] != "0" || saved.Outputs["misses"] != "1" {
		t.Fatalf("job 2 save: %v", saveHanded.Outputs)
	}

	// Job 3: restores job 2's entry; nothing changed, so nothing is handed
	// to actions/cache/save.
	j3 := newNestedJob(t, r, svc.Env(), "3")
	if _, finished = j3.restore(); finished.Outputs["cache-matched-key"] != saved.Outputs["saved-key"] {
		t.Fatalf("job 3 restored %q, want job 2's %q", finished.Outputs["cache-matched-key"], saved.Outputs["saved-key"])
	}
	saveHanded, saved = j3.save()
	if saved != nil || saveHanded.Outputs["handoff"] != "" || saveHanded.Outputs["saved"] != "false" || !strings.Contains(saveHanded.Summary, "nothing changed since restore") {
		t.Errorf("an unchanged cache was handed over or saved: %v\n%s", saveHanded.Outputs, saveHanded.Summary)
	}

	// Job 4, credentials present: the program's client does not find the
	// entries actions/cache saved (another version), and saves its own.
	r.With(svc.Env())
	j4 := newNestedJob(t, r, svc.Env(), "4")
	handed, finished = j4.restore()
	if finished != nil || handed.Outputs["handoff"] != "" || handed.Outputs["cache-matched-key"] != "" {
		t.Fatalf("with credentials, restore outputs %v (handed over: %v), want a miss by the program's client", handed.Outputs, finished != nil)
	}
	j4.build("fourth")
	if s, fin := j4.save(); fin != nil || s.Outputs["saved"] != "true" {
		t.Fatalf("with credentials, save outputs %v (handed over: %v)", s.Outputs, fin != nil)
	}
	if n := len(svc.Entries()); n != 3 {
		t.Errorf("service holds %d entries, want 3", n)
	}
}

// TestNestedModeRead: where a run step sees ACTIONS_CACHE_MODE=read, the
// restore is handed over and the save is not: no actions/cache/save step.
func TestNestedModeRead(t *testing.T) {
	svc := fakecache.NewV1(t)
	r := actiontest.New(t).With(map[string]string{"ACTIONS_CACHE_MODE": "read"})
	j := newNestedJob(t, r, svc.Env(), "1")
	handed, finished := j.restore()
	if finished == nil {
		t.Fatalf("read mode: restore not handed over: %v\n%s", handed.Outputs, handed.Stdout)
	}
	j.build("x")
	s, finishedSave := j.save()
	if finishedSave != nil || s.Outputs["handoff"] != "" || s.Outputs["saved"] != "false" {
		t.Fatalf("read mode: save handed over or saved: %v", s.Outputs)
	}
	if !strings.Contains(s.Summary, "ACTIONS_CACHE_MODE=read does not allow writing") {
		t.Errorf("summary does not say why:\n%s", s.Summary)
	}
	noWarnings(t, handed, finished, s)
	if n := len(svc.Entries()); n != 0 {
		t.Errorf("%d entries saved in read mode", n)
	}
}

// TestNestedRestoreChecksEntry: what actions/cache extracted is held to the
// program's own rules: a symbolic link empties the cache dir, with a warning,
// and the build starts from an empty cache.
func TestNestedRestoreChecksEntry(t *testing.T) {
	r := actiontest.New(t)
	j := newNestedJob(t, r, nil, "1")
	handed := j.step("restore", nil)
	dir := j.env["SCCACHE_DIR"]
	j.build("planted")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "a", "link")); err != nil {
		t.Fatal(err)
	}
	s := j.step("restore-finish", map[string]string{"RUSTCACHE_MATCHED_KEY": handed.Outputs["key"], "RUSTCACHE_NESTED_OUTCOME": "success"})
	if w := s.Annotations("warning"); len(w) != 1 || !strings.Contains(w[0], "rejected") || !strings.Contains(w[0], "not a regular file") {
		t.Errorf("warnings %q, want one saying the entry was rejected", w)
	}
	if s.Outputs["cache-matched-key"] != "" || s.Outputs["cache-hit"] != "false" {
		t.Errorf("outputs %v after a rejected entry", s.Outputs)
	}
	left, err := os.ReadDir(dir)
	if err != nil || len(left) != 0 {
		t.Errorf("cache dir holds %v (%v), want it empty", left, err)
	}
}

// TestNestedStepFailed: a nested step that failed is one warning; the job
// goes on, save-finish reports nothing saved and prunes nothing.
func TestNestedStepFailed(t *testing.T) {
	r := actiontest.New(t)
	j := newNestedJob(t, r, nil, "1")
	handed := j.step("restore", nil)
	j.build("half-extracted")
	s := j.step("restore-finish", map[string]string{"RUSTCACHE_MATCHED_KEY": "", "RUSTCACHE_NESTED_OUTCOME": "failure"})
	if w := s.Annotations("warning"); len(w) != 1 || !strings.Contains(w[0], "actions/cache/restore ended with failure") {
		t.Errorf("restore-finish warnings %q", w)
	}
	if left, err := os.ReadDir(j.env["SCCACHE_DIR"]); err != nil || len(left) != 0 {
		t.Errorf("after a failed nested restore the cache dir holds %v (%v), want it empty", left, err)
	}
	if s.Outputs["cache-primary-key"] != handed.Outputs["key"] {
		t.Errorf("outputs %v", s.Outputs)
	}
	j.build("x")
	if h := j.step("save", nil); h.Outputs["handoff"] != "actions-cache" {
		t.Fatalf("save outputs %v", h.Outputs)
	}
	s = j.step("save-finish", map[string]string{"RUSTCACHE_NESTED_OUTCOME": "failure"})
	if s.Outputs["saved"] != "false" || s.Outputs["saved-key"] != "" || !strings.Contains(s.Summary, "actions/cache/save ended with failure") {
		t.Errorf("save-finish outputs %v\n%s", s.Outputs, s.Summary)
	}
	if w := s.Annotations("warning"); len(w) != 1 {
		t.Errorf("save-finish warnings %q, want one", w)
	}
}

// TestOffWithoutNestedStep: the program run on its own (no actions/cache
// step after it, no credentials) says once that persistence is off.
func TestOffWithoutNestedStep(t *testing.T) {
	r := actiontest.New(t)
	j := newNestedJob(t, r, nil, "1")
	delete(r.Env, transport.NestedVar)
	s := j.step("restore", nil)
	if w := s.Annotations("warning"); len(w) != 1 || !strings.Contains(w[0], "cache persistence is off") || s.Outputs["handoff"] != "" {
		t.Errorf("warnings %q, outputs %v", w, s.Outputs)
	}
}

// TestForceRejectsUnknown: a wrong RUSTCACHE_TRANSPORT fails restore and
// save, naming it, before anything is written.
func TestForceRejectsUnknown(t *testing.T) {
	r := actiontest.New(t)
	j := newNestedJob(t, r, nil, "1")
	r.Env[transport.ForceVar] = "docker"
	for _, cmd := range []string{"restore", "save"} {
		s := r.Run(cmd, map[string]string{"key": "nested"}, j.env)
		if e := s.Annotations("error"); s.Code != 1 || len(e) != 1 || !strings.Contains(e[0], `RUSTCACHE_TRANSPORT: invalid value "docker"`) {
			t.Errorf("%s: exit %d, errors %q", cmd, s.Code, e)
		}
		if len(s.Outputs) != 0 || s.Summary != "" {
			t.Errorf("%s wrote outputs %v or a summary", cmd, s.Outputs)
		}
	}
	if _, err := os.Stat(filepath.Join(j.env["RUSTCACHE_ROOT"], "snapshot.txt")); err == nil {
		t.Errorf("restore took a snapshot")
	}
}

// TestNestedTargetPart: the target part travels through actions/cache too:
// the cold job's save stages it beside the sccache directory before
// actions/cache/save archives both, and the warm job's restore-finish puts
// it back, so cargo compiles only the workspace crates.
func TestNestedTargetPart(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	svc := fakecache.NewV1(t)
	r := actiontest.New(t)
	members := append([]string{workload.CrateName}, workload.Members...)
	sort.Strings(members)
	job := func(run string) (string, *actiontest.Step) {
		t.Helper()
		r.Fresh()
		dir, err := workload.Prepare(r.Workspace)
		if err != nil {
			t.Fatal(err)
		}
		ws := filepath.Join(r.Workspace, "ws")
		if err := os.Rename(dir, ws); err != nil {
			t.Fatal(err)
		}
		r.Env["GITHUB_RUN_ID"] = run
		r.Env[transport.NestedVar] = "true"
		j := &nestedJob{t: t, r: r, service: svc.Env(), env: map[string]string{}, in: map[string]string{"key": "targets", "working-directory": "ws"}}
		if s := r.Run("setup", map[string]string{"sccache-version": r.Version, "key": "targets", "working-directory": "ws"}, j.env); s.Code != 0 {
			t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
		}
		if _, fin := j.restore(); fin == nil {
			t.Fatal("restore was not handed to actions/cache")
		}
		out, err := r.Cargo(ws, j.env, "build")
		if err != nil {
			t.Fatalf("cargo build: %v\n%s", err, out)
		}
		handed, saved := j.save()
		if saved == nil {
			return out, handed // nothing changed: nothing handed over
		}
		return out, saved
	}
	coldOut, cold := job("1")
	if cold.Outputs["saved"] != "true" || !strings.Contains(cold.Summary, "handed to actions/cache/save") || len(compiled(coldOut)) <= len(members) {
		t.Fatalf("cold job: outputs %v, compiled %v", cold.Outputs, compiled(coldOut))
	}
	if !regexp.MustCompile(`Target part \| [0-9.]+ MiB, [1-9][0-9]* units`).MatchString(cold.Summary) {
		t.Errorf("cold summary lacks the target part:\n%s", cold.Summary)
	}
	warmOut, warm := job("2")
	if !strings.Contains(warm.Summary, "nothing changed since restore") {
		t.Errorf("warm job saved again:\n%s", warm.Summary)
	}
	if d := cmp.Diff(members, compiled(warmOut)); d != "" {
		t.Errorf("warm job compiled more than the workspace crates (-want +got):\n%s\n%s", d, warmOut)
	}
}
