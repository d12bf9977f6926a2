package bootstrap

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/testkit"
)

// uses is one `uses:` of an action file.
type uses struct {
	line    int
	ref     string
	comment string // the comment line right above it, if any
}

var usesRE = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*['"]?([^'"\s#]+)`)

func usesOf(t *testing.T, path string) []uses {
	t.Helper()
	var out []uses
	lines := strings.Split(readAction(t, path), "\n")
	for i, l := range lines {
		m := usesRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		u := uses{line: i + 1, ref: m[1]}
		if i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			u.comment = strings.TrimSpace(lines[i-1])
		}
		out = append(out, u)
	}
	return out
}

// TestEntryPointsListed: every action file of the repository is an entry
// point this package knows, so the checks below cover a new one too.
func TestEntryPointsListed(t *testing.T) {
	root := repoRoot(t)
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && (rel == "test" || rel == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == "action.yml" || d.Name() == "action.yaml") {
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range EntryPoints {
		want = append(want, e.Path)
	}
	slices.Sort(found)
	slices.Sort(want)
	if d := cmp.Diff(want, found); d != "" {
		t.Errorf("action files differ from EntryPoints (-listed +found):\n%s", d)
	}
}

// TestNoImagePullByDefault: the runner queues the image of every container
// step an action nests, at any depth and whatever its `if:`, for a pull at job
// set-up, and a Linux runner without Docker fails the job there
// (actions/runner ActionManager.cs). So the default entry points hold no
// container step, run no Dockerfile, and nest nothing but the pinned
// actions/cache JavaScript actions (`runs.using: node24` at that commit) —
// and no `./` action, which the runner would look up in the user's workspace.
func TestNoImagePullByDefault(t *testing.T) {
	for _, e := range EntryPoints {
		yml := readAction(t, e.Path)
		if !regexp.MustCompile(`(?m)^\s+using:\s*['"]?composite['"]?\s*$`).MatchString(yml) {
			t.Errorf("%s: not a composite action", e.Path)
		}
		dir := filepath.Join(repoRoot(t), filepath.Dir(e.Path))
		for _, name := range []string{"Dockerfile", "dockerfile"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				t.Errorf("%s: a %s beside it is built at job set-up", e.Path, name)
			}
		}
		containers := 0
		for _, u := range usesOf(t, e.Path) {
			switch {
			case strings.HasPrefix(u.ref, "docker://"):
				containers++
				if !e.Container {
					t.Errorf("%s:%d: %s makes every runner pull an image at job set-up (and fails the job without Docker); only the fast entry points may", e.Path, u.line, u.ref)
				}
			case strings.HasPrefix(u.ref, "./") || strings.HasPrefix(u.ref, "../"):
				t.Errorf("%s:%d: %s is looked up in the user's workspace, not in this action", e.Path, u.line, u.ref)
			default:
				name, ref, _ := strings.Cut(u.ref, "@")
				if name != ActionsCache+"/restore" && name != ActionsCache+"/save" {
					t.Errorf("%s:%d: nests %s; only %s/restore and /save (JavaScript actions) are known to pull no image", e.Path, u.line, name, ActionsCache)
				}
				if ref != ActionsCacheCommit {
					t.Errorf("%s:%d: %s pinned to %q, want ActionsCacheCommit %s", e.Path, u.line, name, ref, ActionsCacheCommit)
				}
				if !regexp.MustCompile(`^# actions/cache v\d+\.\d+\.\d+$`).MatchString(u.comment) {
					t.Errorf("%s:%d: the pin needs a comment naming its version above it, got %q", e.Path, u.line, u.comment)
				}
			}
		}
		if e.Container && containers == 0 {
			t.Errorf("%s: a fast entry point without a credential container step", e.Path)
		}
	}
}

// TestNestedStepsAgree: every entry point hands over to actions/cache the
// same way: the nested step and the program's step after it are the same in
// each file of a kind.
func TestNestedStepsAgree(t *testing.T) {
	fields := []string{"if", "continue-on-error", "uses", "with.path", "with.key", "with.restore-keys"}
	after := map[string][]string{
		"restored": {"if", "run", "env.RUSTCACHE_MATCHED_KEY", "env.RUSTCACHE_NESTED_OUTCOME", "env.INPUT_WORKING-DIRECTORY"},
		"saved":    {"if", "run", "env.RUSTCACHE_NESTED_OUTCOME", "env.INPUT_KEEP", "env.INPUT_GITHUB-TOKEN"},
	}
	first := map[string][]string{}
	for _, e := range EntryPoints {
		yml := readAction(t, e.Path)
		kind, finish := "restore", "restored"
		if strings.HasSuffix(e.Path, "save/action.yml") {
			kind, finish = "save", "saved"
		}
		var parts []string
		n := findStep(t, yml, "nested")
		for _, f := range fields {
			v, _ := n.field(f)
			parts = append(parts, f+"="+v)
		}
		g := findStep(t, yml, kind)
		if v, _ := g.field("env.RUSTCACHE_NESTED"); v != `"true"` {
			t.Errorf("%s: the %s step does not say that actions/cache follows (env.RUSTCACHE_NESTED %q)", e.Path, kind, v)
		}
		f := findStep(t, yml, finish)
		for _, k := range after[finish] {
			v, _ := f.field(k)
			parts = append(parts, finish+"."+k+"="+v)
		}
		if prev, ok := first[kind]; !ok {
			first[kind] = parts
		} else if d := cmp.Diff(prev, parts); d != "" {
			t.Errorf("%s hands over to actions/cache differently (-first +this):\n%s", e.Path, d)
		}
	}
}

// TestFastMatchesDefault: a fast entry point takes the inputs and gives the
// outputs of its default twin, and hands its program the same inputs.
func TestFastMatchesDefault(t *testing.T) {
	inputRE := regexp.MustCompile(`(?m)^  ([a-z-]+):\n    description: .*\n(?:    required: .*\n)?(?:    default: (.*)\n)?`)
	envRE := regexp.MustCompile(`(?m)^        (INPUT_[A-Z-]+): `)
	section := func(yml, name string) string {
		a := strings.Index(yml, "\n"+name+":\n")
		if a < 0 {
			return ""
		}
		rest := yml[a+len(name)+3:]
		if b := regexp.MustCompile(`(?m)^\S`).FindStringIndex(rest); b != nil {
			rest = rest[:b[0]]
		}
		return rest
	}
	shape := func(path string) []string {
		yml := readAction(t, path)
		var out []string
		for _, m := range inputRE.FindAllStringSubmatch(section(yml, "inputs"), -1) {
			out = append(out, "input "+m[1]+" default "+m[2])
		}
		for _, m := range regexp.MustCompile(`(?m)^  ([a-z-]+):$`).FindAllStringSubmatch(section(yml, "outputs"), -1) {
			out = append(out, "output "+m[1])
		}
		seen := map[string]bool{}
		for _, m := range envRE.FindAllStringSubmatch(yml, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, "env "+m[1])
			}
		}
		slices.Sort(out)
		return out
	}
	for fast, def := range map[string]string{"fast/action.yml": "action.yml", "fast/save/action.yml": "save/action.yml"} {
		want, got := shape(def), shape(fast)
		if len(want) < 10 {
			t.Fatalf("%s: read only %q", def, want)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s differs from %s (-%s +%s):\n%s", fast, def, def, fast, d)
		}
	}
}

// TestActionlint lints a workflow that uses every entry point with its
// inputs, and the test workflows, against the action files.
func TestActionlint(t *testing.T) {
	bin := testkit.NeedTool(t, "actionlint")
	testkit.NeedTool(t, "git")
	dir := actRepo(t, "credentials.yml")
	wf := "name: every-entry-point\non: push\npermissions:\n  contents: read\njobs:\n  j:\n" +
		"    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-latest, windows-latest]\n" +
		"    runs-on: ${{ matrix.os }}\n    steps:\n"
	for _, e := range EntryPoints {
		id := strings.NewReplacer("/action.yml", "", "action.yml", "setup", "/", "-").Replace(e.Path)
		wf += "      - id: " + id + "\n        uses: ./" + strings.TrimSuffix(strings.TrimSuffix(e.Path, "action.yml"), "/") + "\n"
		if strings.HasSuffix(e.Path, "save/action.yml") {
			wf += "        if: always()\n        with:\n          keep: 2\n          save-if: ${{ github.ref == 'refs/heads/main' }}\n"
			wf += "      - run: echo \"${{ steps." + id + ".outputs.saved }} ${{ steps." + id + ".outputs.hit-rate }}\"\n"
		} else {
			wf += "        with:\n          key: ${{ matrix.os }}\n"
			wf += "      - run: echo \"${{ steps." + id + ".outputs.cache-hit }} ${{ steps." + id + ".outputs.cache-matched-key }}\"\n"
		}
	}
	wf = strings.ReplaceAll(wf, "uses: ./\n", "uses: ./.\n")
	if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", "every.yml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-shellcheck=", "-pyflakes=")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s\n%s", err, out, wf)
	}
}
