package crossconf

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/merge")

// defaultEntries are merged by every golden case unless its args say
// otherwise.
var defaultEntries = Entries{
	Passthrough: []string{"RUSTC_WRAPPER", "SCCACHE_DIR", "RUSTCACHE_ROOT", "SCCACHE_SERVER_PORT=4227"},
	Volumes:     []string{"RUSTCACHE_ROOT"},
}

// goldenCase is one testdata/merge/*.txtar file:
//
//	-- args --        optional lines "key: value" (prefix, passthrough,
//	                  volumes, crlf, bom, no-final-newline, replaceable)
//	-- input.toml --  the document before the merge
//	-- want.toml --   the expected document (or)
//	-- error --       the expected error message
//
// With crlf: true the input's line endings are converted to CRLF and the
// output must use CRLF only; want.toml stays LF so the file is easy to read.
type goldenCase struct {
	prefix          string
	entries         Entries
	crlf, noFinalNL bool
	bom             bool
}

func parseArgs(t *testing.T, args []byte) goldenCase {
	t.Helper()
	gc := goldenCase{entries: defaultEntries}
	for _, line := range strings.Split(string(args), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad args line %q", line)
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "prefix":
			gc.prefix = v
		case "passthrough":
			gc.entries.Passthrough = strings.Fields(v)
		case "volumes":
			gc.entries.Volumes = strings.Fields(v)
		case "crlf":
			gc.crlf = v == "true"
		case "bom":
			gc.bom = v == "true"
		case "no-final-newline":
			gc.noFinalNL = v == "true"
		case "replaceable":
			// Items whose value starts with this prefix count as ours.
			p := v
			gc.entries.Replaceable = func(s string) bool { return strings.HasPrefix(s, p) }
		default:
			t.Fatalf("unknown args key %q", k)
		}
	}
	return gc
}

func TestMergeGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "merge", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := testkit.ReadTxtar(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string][]byte{}
			for _, f := range ar.Files {
				sections[f.Name] = f.Data
			}
			input, ok := sections["input.toml"]
			if !ok {
				t.Fatal("no input.toml section")
			}
			gc := parseArgs(t, sections["args"])
			if gc.noFinalNL {
				input = bytes.TrimSuffix(input, []byte("\n"))
			}
			if gc.crlf {
				input = bytes.ReplaceAll(input, []byte("\n"), []byte("\r\n"))
			}
			if gc.bom {
				input = append(bytes.Clone(bom), input...)
			}

			out, changed, err := Merge(input, gc.prefix, gc.entries)

			if want, isErr := sections["error"]; isErr {
				if err == nil {
					t.Fatalf("Merge succeeded, want error %q; output:\n%s", want, out)
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Errorf("error %T is not a *ParseError", err)
				}
				got := err.Error() + "\n"
				if *update {
					ar.Set("error", []byte(got))
					if err := testkit.WriteTxtar(file, ar); err != nil {
						t.Fatal(err)
					}
					return
				}
				if got != string(want) {
					t.Errorf("error = %q, want %q", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if changed != !bytes.Equal(out, input) {
				t.Errorf("changed = %v, but input and output equal = %v", changed, bytes.Equal(out, input))
			}
			got := out
			if gc.crlf {
				if n := bytes.Count(out, []byte("\n")); n != bytes.Count(out, []byte("\r\n")) {
					t.Errorf("CRLF document got LF-only line endings:\n%q", out)
				}
				got = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
			}
			if gc.bom {
				if !bytes.HasPrefix(got, bom) {
					t.Errorf("byte order mark lost: %q", got)
				}
				got = bytes.TrimPrefix(got, bom)
			}
			if *update {
				ar.Set("want.toml", got)
				if err := testkit.WriteTxtar(file, ar); err != nil {
					t.Fatal(err)
				}
			} else if diff := cmp.Diff(string(sections["want.toml"]), string(got)); diff != "" {
				t.Errorf("merged document mismatch (-want +got):\n%s", diff)
			}

			// Idempotent: a second merge changes nothing.
			again, changed2, err := Merge(out, gc.prefix, gc.entries)
			if err != nil {
				t.Fatalf("second Merge: %v", err)
			}
			if changed2 || !bytes.Equal(again, out) {
				t.Errorf("second Merge changed the document:\n%s", cmp.Diff(string(out), string(again)))
			}
			// Nothing the user wrote was removed (unless replaced on purpose).
			if gc.entries.Replaceable == nil && !isSubsequence(input, out) {
				t.Errorf("the merge deleted or altered input bytes")
			}
			checkEffective(t, bytes.TrimPrefix(out, bom), gc.prefix, gc.entries)
		})
	}
}

// isSubsequence reports whether a's bytes appear in b in order.
func isSubsequence(a, b []byte) bool {
	i := 0
	for j := 0; i < len(a) && j < len(b); j++ {
		if a[i] == b[j] {
			i++
		}
	}
	return i == len(a)
}

// The cross schema (src/cross_toml.rs), as far as this package relies on it.
type crossEnv struct {
	Volumes     []string `toml:"volumes"`
	Passthrough []string `toml:"passthrough"`
}

type crossBuild struct {
	Env           crossEnv `toml:"env"`
	Xargo         *bool    `toml:"xargo"`
	BuildStd      any      `toml:"build-std"`
	Zig           any      `toml:"zig"`
	DefaultTarget string   `toml:"default-target"`
	PreBuild      any      `toml:"pre-build"`
	Dockerfile    any      `toml:"dockerfile"`
}

type crossTarget struct {
	Env        crossEnv `toml:"env"`
	Xargo      *bool    `toml:"xargo"`
	BuildStd   any      `toml:"build-std"`
	Zig        any      `toml:"zig"`
	Image      any      `toml:"image"`
	Dockerfile any      `toml:"dockerfile"`
	PreBuild   any      `toml:"pre-build"`
	Runner     string   `toml:"runner"`
}

type crossToml struct {
	Build  crossBuild             `toml:"build"`
	Target map[string]crossTarget `toml:"target"`
}

type cargoManifest struct {
	Workspace struct {
		Metadata struct {
			Cross crossToml `toml:"cross"`
		} `toml:"metadata"`
	} `toml:"workspace"`
	Package struct {
		Metadata struct {
			Cross crossToml `toml:"cross"`
		} `toml:"metadata"`
	} `toml:"package"`
}

// checkEffective decodes doc with cross's schema and checks that every entry
// has an item for its name in the build lists and in every target list.
func checkEffective(t *testing.T, doc []byte, prefix string, e Entries) {
	t.Helper()
	var ct crossToml
	switch prefix {
	case "":
		if err := toml.Unmarshal(doc, &ct); err != nil {
			t.Fatalf("output does not decode with cross's schema: %v", err)
		}
	default:
		var m cargoManifest
		if err := toml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("output does not decode with cross's schema: %v", err)
		}
		ct = m.Package.Metadata.Cross
		if prefix == WorkspaceMetadata {
			ct = m.Workspace.Metadata.Cross
		}
	}
	has := func(list []string, item string) bool {
		for _, v := range list {
			if nameOf(v) == nameOf(item) {
				return true
			}
		}
		return false
	}
	for _, p := range e.Passthrough {
		if !has(ct.Build.Env.Passthrough, p) {
			t.Errorf("build.env.passthrough %q lacks %q", ct.Build.Env.Passthrough, p)
		}
	}
	for _, v := range e.Volumes {
		if !has(ct.Build.Env.Volumes, v) {
			t.Errorf("build.env.volumes %q lacks %q", ct.Build.Env.Volumes, v)
		}
	}
	for name, tc := range ct.Target {
		for _, v := range e.Volumes {
			if tc.Env.Volumes != nil && !has(tc.Env.Volumes, v) {
				t.Errorf("target.%s.env.volumes %q lacks %q", name, tc.Env.Volumes, v)
			}
		}
		for _, p := range e.Passthrough {
			if tc.Env.Passthrough != nil && !has(tc.Env.Passthrough, p) {
				t.Errorf("target.%s.env.passthrough %q lacks %q", name, tc.Env.Passthrough, p)
			}
		}
	}
}
