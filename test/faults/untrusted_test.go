package faults_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/fakecache"
)

// TestServiceEchoStraddlingTheCut: a service that repeats the token it got
// inside a long message, at every offset where the token straddles the cut
// that keeps a message short (300 bytes), leaves no prefix of the token in
// the log, the job summary, state.json, report.md or any other file.
func TestServiceEchoStraddlingTheCut(t *testing.T) {
	prefix := runtimeToken[:8]
	const said = "refused Bearer " // what the service says before the token
	first := 300 - len(said) - len(runtimeToken) - 2
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			svc := newService(t, p)
			j := newJob(t, svc, nil)
			j.seed(sampleArchive(t))
			for off := first; off <= 300; off++ {
				svc.Hook(func(k fakecache.Kind, r *http.Request) *fakecache.Fault {
					b, _ := json.Marshal(map[string]string{"message": strings.Repeat("x", off) + "refused " + r.Header.Get("Authorization") + " " + strings.Repeat("y", 200)})
					return &fakecache.Fault{Status: 401, Body: string(b)}
				})
				j.fill()
				for _, step := range []string{"restore", "save"} {
					s := j.run(step, nil)
					if s.Code != 0 {
						t.Fatalf("offset %d: %s exit %d\n%s", off, step, s.Code, s.Stdout)
					}
					if !strings.Contains(s.Stdout, "::warning") {
						t.Fatalf("offset %d: %s gave no warning; the fault was not hit:\n%s", off, step, s.Stdout)
					}
					for _, l := range strings.Split(s.Stdout, "\n") {
						if strings.Contains(l, prefix) && l != "::add-mask::"+runtimeToken {
							t.Errorf("offset %d: %s prints a prefix of the token: %q", off, step, l)
						}
					}
					if strings.Contains(s.Summary, prefix) {
						t.Errorf("offset %d: %s summary holds a prefix of the token", off, step)
					}
				}
				for _, f := range []string{filepath.Join(j.root, "state.json"), filepath.Join(j.root, "report.md")} {
					if b, err := os.ReadFile(f); err != nil || strings.Contains(string(b), prefix) {
						t.Errorf("offset %d: %s holds a prefix of the token (%v)", off, f, err)
					}
				}
			}
			_ = filepath.WalkDir(j.r.Dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return nil
				}
				if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), prefix) {
					t.Errorf("%s holds a prefix of the token", path)
				}
				return nil
			})
			if t.Failed() {
				return
			}
			// The messages were kept (redacted), not dropped.
			b, err := os.ReadFile(filepath.Join(j.root, "report.md"))
			if err != nil || !strings.Contains(string(b), "refused Bearer ***") && !strings.Contains(string(b), "xxxx") {
				t.Errorf("report.md does not show the service's message (%v):\n%s", err, b)
			}
		})
	}
}

// TestHostileMatchedKey: the key a lookup's answer names comes from the
// service (or from whoever saved a crafted entry under the job's prefix).
// One with a line break, a carriage return or the old fixed file-command
// delimiter is refused (a warning, exit 0, nothing restored); one that is
// merely odd ("::", "|", the delimiter without a line break) reaches
// GITHUB_OUTPUT as exactly one value and the summary as one cell.
func TestHostileMatchedKey(t *testing.T) {
	const oldDelim = "_GitHubActionsFileCommandDelimeter_"
	for _, tc := range []struct {
		name, suffix string
		refused      bool
	}{
		{"newline command", "\n::error::forged\ncache-hit=true", true},
		{"crlf output", "\r\ncache-hit=true\r\n", true},
		{"old delimiter", "\n" + oldDelim + "\nINJECTED<<" + oldDelim + "\nx", true},
		{"nul", "\x00", true},
		{"colons and bar", "::error::not-a-command|x", false},
		{"delimiter inline", oldDelim, false},
	} {
		for _, p := range protos {
			t.Run(tc.name+"/"+string(p), func(t *testing.T) {
				t.Parallel()
				svc := newService(t, p)
				j := newJob(t, svc, nil)
				key, version := j.keys()
				planted := strings.TrimSuffix(key, "-1000-1") + "-999-1" + tc.suffix
				if err := svc.put(planted, version, sampleArchive(t)); err != nil {
					t.Fatal(err)
				}
				s := j.run("restore", nil)
				if s.Code != 0 {
					t.Fatalf("restore exit %d\n%s", s.Code, s.Stdout)
				}
				if got := names(s.Outputs); strings.Join(got, " ") != "cache-hit cache-matched-key cache-primary-key" {
					t.Errorf("GITHUB_OUTPUT names %q", got)
				}
				for _, l := range strings.Split(s.Stdout, "\n") {
					if strings.HasPrefix(strings.TrimSpace(l), "::error") || strings.Contains(l, "##[") {
						t.Errorf("a forged command line: %q", l)
					}
				}
				warned := strings.Contains(strings.Join(s.Annotations("warning"), "\n"), "did not ask for")
				switch {
				case tc.refused && (!warned || s.Outputs["cache-matched-key"] != "" || s.Outputs["cache-hit"] != "false"):
					t.Errorf("the entry was not refused: warned %v, outputs %q\n%s", warned, s.Outputs, s.Stdout)
				case !tc.refused && (warned || !strings.EqualFold(s.Outputs["cache-matched-key"], planted)): // v1 servers fold case
					t.Errorf("cache-matched-key = %q, want %q (warned %v)\n%s", s.Outputs["cache-matched-key"], planted, warned, s.Stdout)
				}
				if tc.refused {
					if left, _ := os.ReadDir(j.cacheDir); len(left) != 0 {
						t.Errorf("the refused entry was restored: %d files in the cache", len(left))
					}
				}
				j.fill()
				s = j.run("save", nil)
				if s.Code != 0 {
					t.Fatalf("save exit %d\n%s", s.Code, s.Stdout)
				}
				for _, l := range strings.Split(s.Summary, "\n") {
					if l != "" && strings.HasPrefix(l, "|") && strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") != 3 {
						t.Errorf("a broken summary row: %q", l)
					}
				}
				if got := names(s.Outputs); len(got) == 0 || strings.Contains(strings.Join(got, ""), "INJECTED") {
					t.Errorf("save outputs %q", got)
				}
			})
		}
	}
}
