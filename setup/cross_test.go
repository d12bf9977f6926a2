package setup_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/actiontest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var portRE = regexp.MustCompile(`SCCACHE_SERVER_PORT=[0-9]+`)

// TestCrossGolden runs setup on a workspace's Cross.toml and compares the
// result (with the job-specific port replaced) with testdata/cross/*.want.toml.
// A second setup must change nothing.
func TestCrossGolden(t *testing.T) {
	ins, _ := filepath.Glob("testdata/cross/*.in.toml")
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.toml")
		if name == "malformed" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := actiontest.New(t)
			src, _ := os.ReadFile(in)
			cross := filepath.Join(r.Workspace, "Cross.toml")
			os.WriteFile(cross, src, 0o644)
			os.WriteFile(filepath.Join(r.Workspace, "Cargo.toml"), []byte("[package]\nname = \"x\"\nversion = \"0.1.0\"\n"), 0o644)
			s := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil)
			if s.Code != 0 {
				t.Fatalf("setup: %s", s.Stdout)
			}
			got, _ := os.ReadFile(cross)
			norm := portRE.ReplaceAllString(string(got), "SCCACHE_SERVER_PORT=<port>")
			want := filepath.Join("testdata/cross", name+".want.toml")
			if *update {
				os.WriteFile(want, []byte(norm), 0o644)
			}
			w, _ := os.ReadFile(want)
			if d := cmp.Diff(string(w), norm); d != "" {
				t.Errorf("Cross.toml (-want +got):\n%s", d)
			}
			if !strings.Contains(string(got), "SCCACHE_SERVER_PORT="+portOf(t, s.Env)) {
				t.Errorf("the container port is not the host port + 1: %s", got)
			}
			s2 := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil)
			again, _ := os.ReadFile(cross)
			if s2.Code != 0 || string(again) != string(got) {
				t.Errorf("second setup changed Cross.toml:\n%s", cmp.Diff(string(got), string(again)))
			}
		})
	}
}

func portOf(t *testing.T, env map[string]string) string {
	n, err := strconv.Atoi(env["SCCACHE_SERVER_PORT"])
	if err != nil {
		t.Fatalf("SCCACHE_SERVER_PORT: %v", err)
	}
	return strconv.Itoa(n + 1)
}

func TestCrossCreateAndAuto(t *testing.T) {
	r := actiontest.New(t)
	cross := filepath.Join(r.Workspace, "Cross.toml")
	if s := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil); s.Code != 0 {
		t.Fatal(s.Stdout)
	}
	if _, err := os.Stat(cross); !os.IsNotExist(err) {
		t.Fatalf("cross: auto created a Cross.toml in a project without cross configuration")
	}
	if s := r.Run("setup", map[string]string{"sccache-version": r.Version, "cross": "true"}, nil); s.Code != 0 {
		t.Fatal(s.Stdout)
	}
	b, err := os.ReadFile(cross)
	if err != nil || !strings.Contains(string(b), `volumes = ["RUSTCACHE_ROOT"]`) || !strings.Contains(string(b), `"RUSTC_WRAPPER"`) {
		t.Errorf("cross: true wrote %q (%v)", b, err)
	}
}

func TestCrossMalformedChangesNothing(t *testing.T) {
	r := actiontest.New(t)
	src, _ := os.ReadFile("testdata/cross/malformed.in.toml")
	cross := filepath.Join(r.Workspace, "Cross.toml")
	os.WriteFile(cross, src, 0o644)
	s := r.Run("setup", map[string]string{"sccache-version": r.Version}, nil)
	if s.Code == 0 {
		t.Fatal("setup accepted a malformed Cross.toml")
	}
	errs := s.Annotations("error")
	if len(errs) != 1 || !strings.Contains(errs[0], "file="+cross+",line=") {
		t.Errorf("error annotation %q does not point at the file and line", errs)
	}
	after, _ := os.ReadFile(cross)
	if string(after) != string(src) {
		t.Error("malformed Cross.toml was modified")
	}
	if len(s.Env) != 0 || len(s.Outputs) != 0 {
		t.Errorf("failed setup exported %v %v", s.Env, s.Outputs)
	}
	if _, err := os.Stat(filepath.Join(r.Temp, "rustcache", "bin", "sccache")); err == nil {
		t.Error("failed setup installed sccache")
	}
}

// TestCrossOnMacOS: cross containers are Linux; on another runner, auto
// leaves the configuration alone with a notice and true is an error.
func TestCrossOnMacOS(t *testing.T) {
	for _, mode := range []string{"auto", "true"} {
		t.Run(mode, func(t *testing.T) {
			r := actiontest.New(t).With(map[string]string{"RUNNER_OS": "macOS", "RUNNER_ARCH": "ARM64"})
			cross := filepath.Join(r.Workspace, "Cross.toml")
			os.WriteFile(cross, []byte("[build]\n"), 0o644)
			s := r.Run("setup", map[string]string{"sccache-version": r.Version, "cross": mode}, nil)
			b, _ := os.ReadFile(cross)
			if string(b) != "[build]\n" {
				t.Errorf("Cross.toml changed: %q", b)
			}
			switch mode {
			case "auto":
				if s.Code != 0 || !strings.Contains(strings.Join(s.Annotations("notice"), "\n"), "needs a Linux runner") {
					t.Errorf("auto: exit %d\n%s", s.Code, s.Stdout)
				}
			case "true":
				if s.Code == 0 || !strings.Contains(strings.Join(s.Annotations("error"), "\n"), "input cross") {
					t.Errorf("true: exit %d\n%s", s.Code, s.Stdout)
				}
			}
		})
	}
}

// TestCrossEnvOverrideAdvice: with the cross lists replaced from the
// environment, the warning names every entry setup merged into Cross.toml
// (the advice is built from the same list, so none is missing).
func TestCrossEnvOverrideAdvice(t *testing.T) {
	r := actiontest.New(t).With(map[string]string{"CROSS_BUILD_ENV_PASSTHROUGH": "FOO"})
	s := r.Run("setup", map[string]string{"sccache-version": r.Version, "cross": "true"}, nil)
	if s.Code != 0 {
		t.Fatal(s.Stdout)
	}
	warn := strings.Join(s.Annotations("warning"), "\n")
	if !strings.Contains(warn, "CROSS_BUILD_ENV_PASSTHROUGH set in the environment") {
		t.Fatalf("no warning about the override:\n%s", s.Stdout)
	}
	b, err := os.ReadFile(filepath.Join(r.Workspace, "Cross.toml"))
	if err != nil {
		t.Fatal(err)
	}
	entries := regexp.MustCompile(`"([A-Z_]+(=[0-9]+)?)"`).FindAllStringSubmatch(string(b), -1)
	if len(entries) < 8 {
		t.Fatalf("Cross.toml holds only %d entries:\n%s", len(entries), b)
	}
	for _, m := range entries {
		if !strings.Contains(warn, m[1]) {
			t.Errorf("the advice does not name %s, which Cross.toml holds:\n%s", m[1], warn)
		}
	}
}
