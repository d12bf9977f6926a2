package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/cli"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/runenv"
)

// githubToken is the recognisable github-token input of the secrets test.
const githubToken = "ghs_FAKEGITHUBTOKEN0123456789abcdef"

// line is one line of a step's output and when it was written.
type line struct {
	at   time.Time
	text string
}

// stampWriter records the time each output line was written.
type stampWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []line
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		w.lines = append(w.lines, line{time.Now(), string(w.buf.Next(i + 1)[:i])})
	}
	return len(p), nil
}

// sent is one HTTP request a step made and the credentials it carried.
type sent struct {
	at   time.Time
	url  string
	auth string
}

// recordingTransport notes every request before passing it on.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []sent
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.reqs = append(t.reqs, sent{time.Now(), r.URL.String(), r.Header.Get("Authorization")})
	t.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// stampedStep is a step run with its output lines and requests recorded.
type stampedStep struct {
	*actiontest.Step
	lines []line
	reqs  []sent
	files map[string]string // the workflow command files' contents
}

// runStamped runs a step like actiontest.Runner.Run does (same workflow
// command files, same environment), with a clock on every output line and
// every request.
func runStamped(j *job, cmd string, inputs map[string]string) *stampedStep {
	j.t.Helper()
	r := j.r
	if cmd == "setup" {
		r.Env["GITHUB_SERVER_URL"] = j.releaseURL
	} else {
		r.Env["GITHUB_SERVER_URL"] = serviceHost
	}
	env := map[string]string{}
	for k, v := range r.Env {
		env[k] = v
	}
	for k, v := range j.env {
		env[k] = v
	}
	files := map[string]string{}
	for _, f := range []string{"GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(r.Dir, "stamped", cmd+"-"+strings.ToLower(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			j.t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			j.t.Fatal(err)
		}
		files[f], env[f] = p, p
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	w := &stampWriter{}
	tr := &recordingTransport{}
	e := runenv.FromMap(env, w, &http.Client{Transport: tr})
	code := cli.Main(context.Background(), []string{"rustcache-action", cmd}, e)
	s := &stampedStep{Step: &actiontest.Step{Code: code}, files: map[string]string{}}
	w.mu.Lock()
	s.Stdout = w.buf.String()
	s.lines = append(s.lines, w.lines...)
	if w.buf.Len() > 0 {
		s.lines = append(s.lines, line{time.Now(), w.buf.String()})
	}
	w.mu.Unlock()
	var all strings.Builder
	for _, l := range s.lines {
		all.WriteString(l.text + "\n")
	}
	s.Stdout = all.String()
	for k, p := range files {
		b, _ := os.ReadFile(p)
		s.files[k] = string(b)
	}
	s.Env = actiontest.ParseKV(s.files["GITHUB_ENV"])
	s.Outputs = actiontest.ParseKV(s.files["GITHUB_OUTPUT"])
	s.Summary = s.files["GITHUB_STEP_SUMMARY"]
	for k, v := range s.Env {
		j.env[k] = v
	}
	tr.mu.Lock()
	s.reqs = append(s.reqs, tr.reqs...)
	tr.mu.Unlock()
	return s
}

// checkSecrets applies the rule for one step and one token: the token
// appears in the output only on ::add-mask:: lines; when it appears at all,
// or when the step sends it anywhere, an ::add-mask:: line for it comes
// first; and it is in none of the workflow command files.
func checkSecrets(t *testing.T, name string, s *stampedStep, token string) {
	t.Helper()
	var masked time.Time
	for i, l := range s.lines {
		if !strings.Contains(l.text, token) {
			continue
		}
		if l.text == "::add-mask::"+token {
			if masked.IsZero() {
				masked = l.at
			}
			continue
		}
		// Any other line is a leak, masked or not: the runner hides a
		// masked value in its log, but not in the summary or the files a
		// later step reads.
		t.Errorf("%s: output line %d shows the token: %q", name, i+1, l.text)
	}
	for _, r := range s.reqs {
		if h := hostOf(r.url); !strings.HasPrefix(h, "127.0.0.1:") {
			t.Errorf("%s: a request left the machine: %s", name, h)
		}
		if !strings.Contains(r.auth, token) {
			continue
		}
		if masked.IsZero() || r.at.Before(masked) {
			t.Errorf("%s: sent the token to %s before any ::add-mask:: for it", name, hostOf(r.url))
		}
		break
	}
	for k, v := range s.files {
		if strings.Contains(v, token) {
			t.Errorf("%s: %s holds the token", name, k)
		}
	}
}

func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	return u
}

// scanFiles fails for every file under dir that holds one of the tokens.
func scanFiles(t *testing.T, dir string, tokens ...string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, tok := range tokens {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("%s holds a token", p)
			}
		}
		return nil
	})
}

// echo is the error answer of a verbose (or hostile) service that repeats
// the credentials it received: the Authorization header and the query of a
// signed URL.
func echo(r *http.Request) string {
	b, _ := json.Marshal(map[string]string{"message": "refused " + r.Header.Get("Authorization") + " " + r.URL.RawQuery})
	return string(b)
}

// TestSecretsNeverLeak runs every subcommand, in success and failure
// paths, with a recognisable runtime token and github-token, and looks for
// them in the output, the job summary, GITHUB_ENV/GITHUB_OUTPUT/GITHUB_PATH,
// Cross.toml and every file of the runner.
func TestSecretsNeverLeak(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			tokens := []string{runtimeToken, githubToken}
			var steps []*stampedStep
			var names []string
			run := func(j *job, label, cmd string, in map[string]string) *stampedStep {
				in2 := map[string]string{"key": "faults"}
				for k, v := range in {
					in2[k] = v
				}
				s := runStamped(j, cmd, in2)
				steps, names = append(steps, s), append(names, label)
				return s
			}

			// Success: setup resolves latest with the token, restore hits,
			// save uploads and prunes with the token.
			svc := newService(t, p)
			j := newJob(t, svc, nil)
			writeTree(t, j.r.Workspace, map[string][]byte{"Cargo.toml": []byte("[package]\nname = \"app\"\nversion = \"0.1.0\"\n")})
			if s := run(j, "setup ok", "setup", map[string]string{"sccache-version": "latest", "github-token": githubToken, "cross": "true"}); s.Code != 0 {
				t.Fatalf("setup: %d\n%s", s.Code, s.Stdout)
			}
			j.seed(sampleArchive(t))
			if s := run(j, "restore ok", "restore", nil); s.Code != 0 || s.Outputs["cache-matched-key"] == "" {
				t.Fatalf("restore: %d %v\n%s", s.Code, s.Outputs, s.Stdout)
			}
			writeTree(t, j.cacheDir, map[string][]byte{"f/f/new-entry": []byte("compiled")})
			// Pruning lists the repository's caches at GITHUB_API_URL, the
			// release fake here, which has no cache API: the 404 makes save
			// skip pruning with a notice.
			j.r.Release.Allow("/api/v3/repos/octo/app/actions/caches")
			if s := run(j, "save ok", "save", map[string]string{"github-token": githubToken}); s.Code != 0 || s.Outputs["saved"] != "true" {
				t.Fatalf("save: %d %v\n%s", s.Code, s.Outputs, s.Stdout)
			}
			run(j, "version", "version", nil)

			// Failure: every service answer repeats the credentials.
			svc2 := newService(t, p)
			j2 := newJob(t, svc2, nil)
			j2.r.Release.Fail(fakerelease.LatestName, fakerelease.NotFound, -1)
			if s := run(j2, "setup failing", "setup", map[string]string{"sccache-version": "latest", "github-token": githubToken}); s.Code == 0 {
				t.Fatalf("setup with a failing release server succeeded:\n%s", s.Stdout)
			}
			j2.seed(sampleArchive(t))
			j2.fill()
			svc2.Hook(func(k fakecache.Kind, r *http.Request) *fakecache.Fault {
				return &fakecache.Fault{Status: 401, Body: echo(r)}
			})
			// The REST API that pruning calls repeats what it got, too.
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, echo(r))
			}))
			t.Cleanup(api.Close)
			j2.r.Env["GITHUB_API_URL"] = api.URL
			for _, strict := range []string{"false", "true"} {
				if s := run(j2, "restore failing strict="+strict, "restore", map[string]string{"fail-on-cache-error": strict}); (s.Code != 0) != (strict == "true") {
					t.Errorf("restore failing strict=%s: exit %d\n%s", strict, s.Code, s.Stdout)
				}
				if s := run(j2, "save failing strict="+strict, "save", map[string]string{"github-token": githubToken, "fail-on-cache-error": strict}); (s.Code != 0) != (strict == "true") {
					t.Errorf("save failing strict=%s: exit %d\n%s", strict, s.Code, s.Stdout)
				}
			}
			// Only the storage refuses, repeating the signed URL's query
			// (its signature is a credential too).
			svc2.Hook(func(k fakecache.Kind, r *http.Request) *fakecache.Fault {
				if k == fakecache.KindDownload || k == fakecache.KindUpload {
					return &fakecache.Fault{Status: 403, Body: echo(r)}
				}
				return nil
			})
			run(j2, "restore storage failing", "restore", nil)
			run(j2, "save storage failing", "save", map[string]string{"github-token": githubToken})
			run(j2, "unknown command", "frobnicate", nil)

			for i, s := range steps {
				for _, tok := range tokens {
					checkSecrets(t, names[i], s, tok)
				}
				if strings.Contains(s.Stdout, "sig=") || strings.Contains(s.Summary, "sig=") {
					t.Errorf("%s: shows a signed URL's signature:\n%s%s", names[i], s.Stdout, s.Summary)
				}
			}
			// Every file of both runners: root, cache, state, Cross.toml,
			// tool cache, workflow command files.
			scanFiles(t, j.r.Dir, append(tokens, "sig=")...)
			scanFiles(t, j2.r.Dir, append(tokens, "sig=")...)
			if b, err := os.ReadFile(filepath.Join(j.r.Workspace, "Cross.toml")); err != nil || len(b) == 0 {
				t.Errorf("setup with cross: true wrote no Cross.toml to scan (%v)", err)
			}
		})
	}
}
