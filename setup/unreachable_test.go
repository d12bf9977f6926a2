package setup_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/state"
)

const crossToml = "# the user's own\n[build.env]\npassthrough = [\"FOO\"]\n"

// unreachable arranges a release server that cannot deliver: the named
// file hangs or stalls on every request, and the step's limits are short.
type unreachable struct {
	name    string
	file    func(r *actiontest.Runner) string
	fault   fakerelease.Fault
	version string        // sccache-version ("" the default)
	limit   string        // job.TimeoutVar ("" none)
	idle    time.Duration // the idle timeout on bodies (0 the default)
	want    string        // in the warning
}

func asset(r *actiontest.Runner) string {
	return arch.AssetName(r.Version, "x86_64-unknown-linux-musl")
}

var unreachableCases = []unreachable{
	{name: "asset never answers", file: asset, fault: fakerelease.Hang, limit: "1s", want: "within 1s (setup-timeout-minutes)"},
	{name: "asset stalls mid-body", file: asset, fault: fakerelease.Stall, idle: 200 * time.Millisecond, want: "no byte moved for 200ms"},
	{name: "latest never answers", file: func(*actiontest.Runner) string { return fakerelease.LatestName }, fault: fakerelease.Hang,
		version: "latest", limit: "1s", want: "within 1s"},
}

func (u unreachable) arrange(t *testing.T, r *actiontest.Runner) map[string]string {
	t.Helper()
	r.Release.Fail(u.file(r), u.fault, -1)
	if u.limit != "" {
		r.Env[job.TimeoutVar] = u.limit
	}
	r.Timeouts.Idle = u.idle
	if err := os.WriteFile(filepath.Join(r.Workspace, "Cross.toml"), []byte(crossToml), 0o644); err != nil {
		t.Fatal(err)
	}
	in := map[string]string{"sccache-version": r.Version, "cross": "true"}
	if u.version != "" {
		in["sccache-version"] = u.version
	}
	return in
}

// TestSetupWithoutSccache: a release server that never answers, or stalls,
// does not fail the build. setup warns once, installs nothing, exports
// nothing that points a build at sccache and leaves the cross configuration
// alone; restore and save then skip with a notice each, without a request
// to the cache service.
func TestSetupWithoutSccache(t *testing.T) {
	for _, u := range unreachableCases {
		t.Run(u.name, func(t *testing.T) {
			svc := fakecache.NewV1(t)
			r := actiontest.New(t).With(svc.Env())
			in := u.arrange(t, r)
			jobEnv := map[string]string{}
			s := r.Run("setup", in, jobEnv)
			if s.Code != 0 {
				t.Fatalf("setup exit %d\n%s", s.Code, s.Stdout)
			}
			w := s.Annotations("warning")
			if len(w) != 1 || !strings.Contains(w[0], "sccache could not be downloaded") || !strings.Contains(w[0], u.want) ||
				!strings.Contains(w[0], "sccache-url") || len(s.Annotations("error")) != 0 {
				t.Errorf("warnings %q, want one saying %q and what to do\n%s", w, u.want, s.Stdout)
			}
			root := filepath.Join(r.Temp, "rustcache")
			if d := cmp.Diff(map[string]string{"RUSTCACHE_ROOT": root}, s.Env); d != "" {
				t.Errorf("GITHUB_ENV (-want +got):\n%s", d)
			}
			if d := cmp.Diff(map[string]string{"cache-root": root}, s.Outputs); d != "" {
				t.Errorf("outputs (-want +got):\n%s", d)
			}
			if len(s.Path) != 0 {
				t.Errorf("GITHUB_PATH = %q", s.Path)
			}
			if b, _ := os.ReadFile(filepath.Join(r.Workspace, "Cross.toml")); string(b) != crossToml {
				t.Errorf("Cross.toml changed:\n%s", b)
			}
			for _, f := range []string{"bin/sccache", "bin/sccache-wait", "sccache.conf"} {
				if _, err := os.Lstat(filepath.Join(root, f)); err == nil {
					t.Errorf("%s written under the root", f)
				}
			}
			if st, err := state.Load(root); err != nil || st.WithoutSccache == "" || st.SccachePath != "" {
				t.Errorf("state = %+v, %v; want it to say why there is no sccache", st, err)
			}

			for _, step := range []string{"restore", "save"} {
				s := r.Run(step, map[string]string{}, jobEnv)
				n := s.Annotations("notice")
				if s.Code != 0 || len(s.Annotations("warning")) != 0 || len(s.Annotations("error")) != 0 ||
					len(n) != 1 || !strings.Contains(n[0], "skipped: sccache is not set up") {
					t.Errorf("%s: exit %d, notices %q; want exit 0 and one notice, no warning\n%s", step, s.Code, n, s.Stdout)
				}
			}
			if reqs := svc.Requests(); len(reqs) != 0 {
				t.Errorf("the cache service got %d requests", len(reqs))
			}
		})
	}
}

// TestSetupUnreachableStrict: with fail-on-cache-error the same faults fail
// the step, and nothing is written.
func TestSetupUnreachableStrict(t *testing.T) {
	u := unreachableCases[0]
	r := actiontest.New(t)
	in := u.arrange(t, r)
	in["fail-on-cache-error"] = "true"
	s := r.Run("setup", in, nil)
	errs := s.Annotations("error")
	if s.Code == 0 || len(errs) != 1 || !strings.Contains(errs[0], "fail-on-cache-error is set") || len(s.Annotations("warning")) != 0 {
		t.Fatalf("exit %d, errors %q; want a failure naming fail-on-cache-error\n%s", s.Code, errs, s.Stdout)
	}
	if len(s.Env) != 0 || len(s.Path) != 0 || len(s.Outputs) != 0 {
		t.Errorf("failed setup wrote env %v path %v outputs %v", s.Env, s.Path, s.Outputs)
	}
	if _, err := os.Lstat(filepath.Join(r.Temp, "rustcache")); err == nil {
		t.Errorf("failed setup created the root")
	}
	if b, _ := os.ReadFile(filepath.Join(r.Workspace, "Cross.toml")); string(b) != crossToml {
		t.Errorf("Cross.toml changed:\n%s", b)
	}
}
