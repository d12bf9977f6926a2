package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the annotations of testdata/inputs/*.txtar")

// TestInputErrors runs one step per testdata/inputs/*.txtar file with the
// inputs (and environment) it lists and compares every workflow command the
// step prints with the file's annotations section, exactly. Every case is a
// misconfiguration: exit 1, nothing written to GITHUB_ENV, GITHUB_OUTPUT or
// GITHUB_PATH.
//
// Sections: "step" (setup, restore or save); "inputs" and "env", one
// NAME=VALUE a line, VALUE Go-quoted when it starts with a double quote;
// "annotations", the expected lines. $WORKSPACE and $TEMP stand for the
// runner's GITHUB_WORKSPACE and RUNNER_TEMP.
func TestInputErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "inputs", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := testkit.ReadTxtar(file)
			if err != nil {
				t.Fatal(err)
			}
			r := actiontest.New(t)
			placeholders := strings.NewReplacer("$WORKSPACE", r.Workspace, "$TEMP", r.Temp)
			unplace := strings.NewReplacer(r.Workspace, "$WORKSPACE", r.Temp, "$TEMP")
			section := func(name string) string {
				b, _ := ar.Get(name)
				return string(b)
			}
			vars := func(name string) map[string]string {
				m := map[string]string{}
				for _, line := range strings.Split(section(name), "\n") {
					if line == "" {
						continue
					}
					k, v, ok := strings.Cut(line, "=")
					if !ok {
						t.Fatalf("%s: %q is not NAME=VALUE", name, line)
					}
					if strings.HasPrefix(v, `"`) {
						if v, err = strconv.Unquote(v); err != nil {
							t.Fatalf("%s: %q: %v", name, line, err)
						}
					}
					m[k] = placeholders.Replace(v)
				}
				return m
			}
			r.With(vars("env"))
			step := strings.TrimSpace(section("step"))
			s := r.Run(step, vars("inputs"), nil)

			var got strings.Builder
			for _, l := range strings.Split(s.Stdout, "\n") {
				if strings.HasPrefix(l, "::") {
					got.WriteString(unplace.Replace(l) + "\n")
				}
			}
			if *update {
				ar.Set("annotations", []byte(got.String()))
				if err := testkit.WriteTxtar(file, ar); err != nil {
					t.Fatal(err)
				}
			} else if diff := cmp.Diff(section("annotations"), got.String()); diff != "" {
				t.Errorf("annotations (-want +got):\n%s\nstdout:\n%s", diff, s.Stdout)
			}
			if s.Code != 1 {
				t.Errorf("exit %d, want 1", s.Code)
			}
			if len(s.Env)+len(s.Outputs)+len(s.Path) != 0 {
				t.Errorf("the failed step wrote env %v outputs %v path %v", keys(s.Env), keys(s.Outputs), s.Path)
			}
			if _, err := os.Stat(filepath.Join(r.Temp, "rustcache")); err == nil {
				t.Errorf("the failed step created its root under RUNNER_TEMP")
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
