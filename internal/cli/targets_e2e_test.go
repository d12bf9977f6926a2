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
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
	"github.com/org/rustcache-action/internal/workload"
)

var compilingLine = regexp.MustCompile(`(?m)^\s+Compiling (\S+) v`)

// compiled lists the packages a cargo output says it compiled.
func compiled(out string) []string {
	var got []string
	for _, m := range compilingLine.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	sort.Strings(got)
	return got
}

// TestTargetPartWarmAndLockfileChanged runs the workload through three jobs
// on fresh runners: cold; unchanged, where cargo compiles the workspace
// crates only; and with a dependency added (a new Cargo.lock, restored by
// prefix), where cargo compiles that dependency and the workspace crates.
func TestTargetPartWarmAndLockfileChanged(t *testing.T) {
	testkit.NeedTool(t, "cargo")
	svc := fakecache.NewV1(t)
	r := actiontest.New(t).With(svc.Env())
	members := append([]string{workload.CrateName}, workload.Members...)
	job := func(run string, edit func(ws string)) (string, *actiontest.Step) {
		t.Helper()
		r.Fresh()
		r.Env["GITHUB_RUN_ID"] = run
		dir, err := workload.Prepare(r.Workspace)
		if err != nil {
			t.Fatal(err)
		}
		ws := filepath.Join(r.Workspace, "ws")
		if err := os.Rename(dir, ws); err != nil {
			t.Fatal(err)
		}
		jobEnv := map[string]string{}
		if edit != nil {
			edit(ws)
			if out, err := r.Cargo(ws, jobEnv, "metadata", "--format-version=1", "-q"); err != nil {
				t.Fatalf("cargo metadata: %v\n%s", err, out)
			}
		}
		in := map[string]string{"sccache-version": r.Version, "key": "targets", "working-directory": "ws"}
		for _, step := range []string{"setup", "restore"} {
			if s := r.Run(step, in, jobEnv); s.Code != 0 {
				t.Fatalf("%s: %d\n%s", step, s.Code, s.Stdout)
			}
		}
		out, err := r.Cargo(ws, jobEnv, "build")
		if err != nil {
			t.Fatalf("cargo build: %v\n%s", err, out)
		}
		s := r.Run("save", map[string]string{"key": "targets", "working-directory": "ws"}, jobEnv)
		if s.Code != 0 {
			t.Fatalf("save: %d\n%s", s.Code, s.Stdout)
		}
		return out, s
	}

	coldOut, cold := job("1", nil)
	if cold.Outputs["saved"] != "true" || len(compiled(coldOut)) <= len(members) {
		t.Fatalf("cold job: outputs %v, compiled %v\n%s", cold.Outputs, compiled(coldOut), cold.Stdout)
	}
	if !regexp.MustCompile(`Target part \| [0-9.]+ MiB, [1-9][0-9]* units`).MatchString(cold.Summary) {
		t.Errorf("cold summary lacks the target part:\n%s", cold.Summary)
	}

	warmOut, warm := job("2", nil)
	want := append([]string(nil), members...)
	sort.Strings(want)
	if diff := cmp.Diff(want, compiled(warmOut)); diff != "" {
		t.Errorf("warm build compiled (-want +got):\n%s\n%s", diff, warmOut)
	}
	crates := regexp.MustCompile(`Dependencies fresh from the target part \| (\d+) of (\d+) dependency crates`).FindStringSubmatch(warm.Summary)
	if crates == nil || crates[1] != crates[2] || crates[1] == "0" {
		t.Errorf("warm summary: fresh crates %v\n%s", crates, warm.Summary)
	}
	if warm.Outputs["saved"] != "false" || !strings.Contains(warm.Summary, "nothing changed since restore") {
		t.Errorf("unchanged warm job uploaded: %v\n%s", warm.Outputs, warm.Summary)
	}

	addDep := func(ws string) {
		if err := workload.AddDependency(ws); err != nil {
			t.Fatal(err)
		}
	}
	lockOut, lock := job("3", addDep)
	want = append([]string{workload.AddedDependency}, members...)
	sort.Strings(want)
	if diff := cmp.Diff(want, compiled(lockOut)); diff != "" {
		t.Errorf("after the lockfile change cargo compiled (-want +got):\n%s\n%s", diff, lockOut)
	}
	if !strings.Contains(lock.Summary, "prefix") || lock.Outputs["saved"] != "true" {
		t.Errorf("lockfile-changed job: %v\n%s", lock.Outputs, lock.Summary)
	}
}
