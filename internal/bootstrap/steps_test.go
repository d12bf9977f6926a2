package bootstrap

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/testkit"
)

// The credential hand-off of the composite actions: a probe step, a
// container step that receives the credentials from the runner and writes
// them as step outputs, and the Go step that takes them from its env. These
// tests run the three pieces of shell as the runner would, chained.

// actionFiles are the entry points with the credential container step (the
// fast ones), and the cache step it hands over to.
var actionFiles = []struct{ path, step string }{
	{"fast/action.yml", "restore"},
	{"fast/save/action.yml", "save"},
}

// handoffVars are the variables the runner gives container steps but not
// composite run steps (actions/runner ContainerActionHandler.cs), that the
// Go steps read.
var handoffVars = []string{"ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL", "ACTIONS_CACHE_MODE"}

// step is one composite step of an action.yml, by id.
type step struct {
	lines []string // the step's lines, the "- id:" line first
}

// findStep returns the step with the given id. It understands just the YAML
// the action files use: "- id: x" opening each step, two-space indents.
func findStep(t *testing.T, yml, id string) step {
	t.Helper()
	lines := strings.Split(yml, "\n")
	re := regexp.MustCompile(`^(\s*)- id: ` + regexp.QuoteMeta(id) + `$`)
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		end := i + 1
		for end < len(lines) && (strings.TrimSpace(lines[end]) == "" || indent(lines[end]) > len(m[1])) {
			end++
		}
		return step{lines: lines[i:end]}
	}
	t.Fatalf("no step with id %q", id)
	return step{}
}

func indent(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// field returns a scalar of the step by dotted path ("run", "with.args",
// "env.RUSTCACHE_BIN"), decoding plain, single-quoted, literal (|) and folded
// (>-) scalars; ok is false when it is absent.
func (s step) field(path string) (string, bool) {
	lines := s.lines
	base := indent(lines[0]) + 2 // keys of the step sit under "- "
	lines = append([]string{strings.Repeat(" ", base) + strings.TrimLeft(lines[0], " -")}, lines[1:]...)
	keys := strings.Split(path, ".")
	for k, key := range keys {
		found := -1
		for i, l := range lines {
			if indent(l) == base && strings.HasPrefix(strings.TrimSpace(l), key+":") {
				found = i
				break
			}
		}
		if found < 0 {
			return "", false
		}
		value := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[found]), key+":"))
		var block []string
		for _, l := range lines[found+1:] {
			if strings.TrimSpace(l) != "" && indent(l) <= base {
				break
			}
			block = append(block, l)
		}
		if k < len(keys)-1 {
			lines, base = block, base+2
			continue
		}
		return decodeScalar(value, block), true
	}
	return "", false
}

func decodeScalar(head string, block []string) string {
	switch head {
	case "|", ">-":
		in := -1
		var out []string
		for _, l := range block {
			if in < 0 && strings.TrimSpace(l) != "" {
				in = indent(l)
			}
			if len(l) >= in && in >= 0 {
				l = l[in:]
			}
			out = append(out, l)
		}
		for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
			out = out[:len(out)-1]
		}
		if head == "|" {
			return strings.Join(out, "\n") + "\n"
		}
		return strings.Join(out, " ")
	}
	if strings.HasPrefix(head, "'") && strings.HasSuffix(head, "'") {
		return strings.ReplaceAll(head[1:len(head)-1], "''", "'")
	}
	return head
}

func readAction(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// splitDotNet splits a command line as .NET's Process does on Unix (the
// runner passes a container step's args to `docker run` that way).
func splitDotNet(s string) []string {
	var args []string
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		var b strings.Builder
		quoted := false
		for i < len(s) && (quoted || (s[i] != ' ' && s[i] != '\t')) {
			switch c := s[i]; c {
			case '\\':
				n := 0
				for i < len(s) && s[i] == '\\' {
					n++
					i++
				}
				if i < len(s) && s[i] == '"' {
					b.WriteString(strings.Repeat(`\`, n/2))
					if n%2 == 1 {
						b.WriteByte('"')
						i++
					}
				} else {
					b.WriteString(strings.Repeat(`\`, n))
				}
			case '"':
				if quoted && i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				quoted = !quoted
				i++
			default:
				b.WriteByte(c)
				i++
			}
		}
		args = append(args, b.String())
	}
	return args
}

// splitPOSIX splits words as a POSIX shell does without expanding anything
// (act splits a container step's args that way).
func splitPOSIX(s string) []string {
	var args []string
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				args, in = append(args, b.String()), false
				b.Reset()
			}
			continue
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
		in = true
	}
	if in {
		args = append(args, b.String())
	}
	return args
}

func TestSplitters(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`-c "echo \"a b\"; x"`, []string{"-c", `echo "a b"; x`}},
		{`a  b`, []string{"a", "b"}},
		{`"$X" 'y'`, []string{"$X", "'y'"}},
	} {
		if got := splitDotNet(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitDotNet(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := splitPOSIX(`-c "echo \"a b\" \$X \n"  'q r'`); !slices.Equal(got, []string{"-c", `echo "a b" $X \n`, "q r"}) {
		t.Errorf("splitPOSIX = %q", got)
	}
}

// runScript runs a composite run step's script the way the runner runs
// `shell: bash`, with exactly env, and returns its output.
func runScript(t *testing.T, script string, env map[string]string) (string, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "step.sh")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", f)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func emptyFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func needShells(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the container step runs on Linux runners only")
	}
	testkit.NeedTool(t, "bash")
	testkit.NeedTool(t, "sh")
}

func TestCredentialStepsAgree(t *testing.T) {
	var first []string
	for _, a := range actionFiles {
		yml := readAction(t, a.path)
		for i, l := range strings.Split(yml, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") && strings.Contains(l, "GITHUB_ENV") {
				t.Errorf("%s:%d writes GITHUB_ENV: the credentials must reach only the Go step", a.path, i+1)
			}
		}
		c := findStep(t, yml, "credentials")
		uses, _ := c.field("uses")
		if !regexp.MustCompile(`^docker://[a-z0-9./-]+@sha256:[0-9a-f]{64}$`).MatchString(uses) {
			t.Errorf("%s: credentials step uses %q, want an image pinned by digest", a.path, uses)
		}
		if coe, _ := c.field("continue-on-error"); coe != "true" {
			t.Errorf("%s: the credentials step must not fail the build (continue-on-error %q)", a.path, coe)
		}
		probe := findStep(t, yml, "probe")
		cond, _ := probe.field("if")
		if !strings.HasPrefix(cond, "runner.os == 'Linux'") {
			t.Errorf("%s: probe runs when %q, want Linux runners only", a.path, cond)
		}
		if ci, _ := c.field("if"); ci != "steps.probe.outputs.credentials == 'missing'" {
			t.Errorf("%s: credentials step runs when %q", a.path, ci)
		}
		var parts []string
		for _, f := range []string{"run"} {
			v, _ := probe.field(f)
			parts = append(parts, v)
		}
		for _, f := range []string{"uses", "with.entrypoint", "with.args"} {
			v, _ := c.field(f)
			parts = append(parts, v)
		}
		g := findStep(t, yml, a.step)
		run, _ := g.field("run")
		parts = append(parts, strings.Replace(run, `"$RUSTCACHE_BIN" `+a.step, `"$RUSTCACHE_BIN" <step>`, 1))
		for _, v := range handoffVars {
			e, _ := g.field("env.RUSTCACHE_" + v)
			parts = append(parts, e)
		}
		if first == nil {
			first = parts
		} else if d := cmp.Diff(first, parts); d != "" {
			t.Errorf("%s hands the credentials over differently from %s (-first +this):\n%s", a.path, actionFiles[0].path, d)
		}
	}
}

func TestProbe(t *testing.T) {
	needShells(t)
	run, _ := findStep(t, readAction(t, "fast/action.yml"), "probe").field("run")
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "missing"},
		{map[string]string{"ACTIONS_RUNTIME_TOKEN": "t"}, "missing"},
		{map[string]string{"ACTIONS_CACHE_URL": "http://127.0.0.1:1/"}, ""}, // act, GHES runners that export it
		{map[string]string{"ACTIONS_RESULTS_URL": "https://results.example/"}, ""},
	} {
		out := emptyFile(t)
		tc.env["GITHUB_OUTPUT"] = out
		if log, err := runScript(t, run, tc.env); err != nil {
			t.Fatalf("probe with %v: %v\n%s", tc.env, err, log)
		}
		if got := readOutputs(t, out)["credentials"]; got != tc.want {
			t.Errorf("probe with %v: credentials=%q, want %q", tc.env, got, tc.want)
		}
	}
}

// TestHandoff chains the container step and the Go step: what the runner
// gives the container reaches the Go program, the token is masked before
// anything else is printed, and a value the runner already gives the Go step
// is never hidden by an empty output.
func TestHandoff(t *testing.T) {
	needShells(t)
	for _, a := range actionFiles {
		yml := readAction(t, a.path)
		c := findStep(t, yml, "credentials")
		args, _ := c.field("with.args")
		entry, _ := c.field("with.entrypoint")
		argv := splitDotNet(args)
		if d := cmp.Diff(argv, splitPOSIX(args)); d != "" {
			t.Fatalf("%s: the runner and act would split the args differently:\n%s", a.path, d)
		}
		if entry != "/bin/sh" || len(argv) != 2 || argv[0] != "-c" {
			t.Fatalf("%s: container runs %q %q, want /bin/sh -c <script>", a.path, entry, argv)
		}
		script := argv[1]
		g := findStep(t, yml, a.step)
		goRun, _ := g.field("run")

		// The Go program: prints what it received.
		bin := filepath.Join(t.TempDir(), "rustcache-action")
		stub := "#!/bin/sh\necho \"args=$*\"\n"
		for _, v := range append(slices.Clone(handoffVars), "RUSTCACHE_ACTIONS_RUNTIME_TOKEN") {
			stub += "echo \"" + v + "=${" + v + "-<unset>}\"\n"
		}
		if err := os.WriteFile(bin, []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name      string
			container map[string]string // nil: the container step is skipped
			host      map[string]string // what the runner gives run steps
			want      map[string]string
		}{
			{
				name:      "github-hosted",
				container: map[string]string{"ACTIONS_RUNTIME_TOKEN": "tok.en-1", "ACTIONS_RESULTS_URL": "https://results.example/", "ACTIONS_CACHE_URL": "https://cache.example/x/", "ACTIONS_CACHE_MODE": "read"},
				host:      map[string]string{},
				want:      map[string]string{"ACTIONS_RUNTIME_TOKEN": "tok.en-1", "ACTIONS_RESULTS_URL": "https://results.example/", "ACTIONS_CACHE_URL": "https://cache.example/x/", "ACTIONS_CACHE_MODE": "read"},
			},
			{
				name:      "no cache mode",
				container: map[string]string{"ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_RESULTS_URL": "https://results.example/"},
				host:      map[string]string{},
				want:      map[string]string{"ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_RESULTS_URL": "https://results.example/", "ACTIONS_CACHE_URL": "<unset>", "ACTIONS_CACHE_MODE": "<unset>"},
			},
			{
				name: "already present",
				host: map[string]string{"ACTIONS_CACHE_URL": "http://127.0.0.1:9/", "ACTIONS_CACHE_MODE": "write"},
				want: map[string]string{"ACTIONS_RUNTIME_TOKEN": "<unset>", "ACTIONS_RESULTS_URL": "<unset>", "ACTIONS_CACHE_URL": "http://127.0.0.1:9/", "ACTIONS_CACHE_MODE": "write"},
			},
		} {
			t.Run(a.path+"/"+tc.name, func(t *testing.T) {
				outputs := map[string]string{}
				if tc.container != nil {
					out := emptyFile(t)
					cmd := exec.Command("sh", "-c", script)
					cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GITHUB_OUTPUT=" + out}
					for k, v := range tc.container {
						cmd.Env = append(cmd.Env, k+"="+v)
					}
					var stdout bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stdout
					if err := cmd.Run(); err != nil {
						t.Fatalf("container script: %v\n%s", err, stdout.String())
					}
					if want := "::add-mask::" + tc.container["ACTIONS_RUNTIME_TOKEN"] + "\n"; stdout.String() != want {
						t.Errorf("container printed %q, want only %q", stdout.String(), want)
					}
					outputs = readOutputs(t, out)
				}

				// The runner evaluates the Go step's env: an output of a
				// skipped step is the empty string.
				env := map[string]string{"RUSTCACHE_BIN": bin, "GITHUB_ENV": emptyFile(t)}
				for k, v := range tc.host {
					env[k] = v
				}
				outRef := regexp.MustCompile(`^\$\{\{ steps\.credentials\.outputs\.([a-z-]+) \}\}$`)
				for _, v := range handoffVars {
					expr, ok := g.field("env.RUSTCACHE_" + v)
					m := outRef.FindStringSubmatch(expr)
					if !ok || m == nil {
						t.Fatalf("env.RUSTCACHE_%s is %q, want a credentials step output", v, expr)
					}
					if tc.container != nil {
						if _, written := outputs[m[1]]; !written {
							t.Errorf("env.RUSTCACHE_%s reads output %q, which the container step does not write (it writes %v)", v, m[1], outputs)
						}
					}
					env["RUSTCACHE_"+v] = outputs[m[1]]
				}
				log, err := runScript(t, goRun, env)
				if err != nil {
					t.Fatalf("Go step: %v\n%s", err, log)
				}
				got := readOutputsString(log)
				if got["args"] != a.step {
					t.Errorf("Go step ran %q, want %q", got["args"], a.step)
				}
				if got["RUSTCACHE_ACTIONS_RUNTIME_TOKEN"] != "<unset>" {
					t.Errorf("the hand-off copy of the token reaches the program (and its children): %q", got["RUSTCACHE_ACTIONS_RUNTIME_TOKEN"])
				}
				for k, want := range tc.want {
					if got[k] != want && !(want == "<unset>" && got[k] == "") {
						t.Errorf("%s = %q, want %q", k, got[k], want)
					}
				}
				if b, _ := os.ReadFile(env["GITHUB_ENV"]); len(b) != 0 {
					t.Errorf("GITHUB_ENV written: %q", b)
				}
			})
		}
	}
}

func readOutputsString(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}
