package setup_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/state"
	"github.com/org/rustcache-action/internal/storetest"
	"github.com/org/rustcache-action/internal/testkit"
	"github.com/pelletier/go-toml/v2"
)

// TestBackendFallback: whatever is wrong with the remote cache — the store
// down, a wrong password or key, TLS signed by an unknown CA, or an sccache
// built without the backend (Debian's 0.4 has none) — setup succeeds with
// one warning naming the backend and the reason, exports none of the
// backend's variables, and the wrapper keeps the credentials the job's env
// still holds away from sccache: a compile through it works on the local
// disk cache. No secret appears anywhere but in ::add-mask::.
func TestBackendFallback(t *testing.T) {
	rustc := testkit.NeedTool(t, "rustc")
	open := storetest.StartRedis(t, "")
	locked := storetest.StartRedis(t, "right-Pa55word")
	ca := storetest.NewCA(t)
	tlsAddr := storetest.TLSFront(t, ca, open.Addr)
	az := fakecache.StartAzurite(t)
	azConn := func(key string) string {
		return "DefaultEndpointsProtocol=http;AccountName=" + fakecache.DevAccount + ";AccountKey=" + key +
			";BlobEndpoint=" + az.URL + "/" + fakecache.DevAccount
	}
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		env    map[string]string // the job's env: secrets mapped by the user
		secret string
		reason string
	}{
		{name: "redis: sccache without the backend", inputs: map[string]string{"backend": "redis", "backend-endpoint": "redis://" + open.Addr},
			reason: "was built without the redis backend"},
		{name: "redis: store down", inputs: map[string]string{"backend": "redis", "backend-endpoint": "redis://" + storetest.ClosedAddr(t)},
			reason: "unreachable"},
		{name: "redis: wrong password in the URL secret", inputs: map[string]string{"backend": "redis"},
			env: map[string]string{"SCCACHE_REDIS": "redis://:wrong-Pa55word@" + locked.Addr}, secret: "wrong-Pa55word", reason: "credentials refused"},
		{name: "redis: TLS with an unknown CA", inputs: map[string]string{"backend": "redis", "backend-endpoint": "rediss://" + tlsAddr},
			reason: "authority the runner does not trust"},
		{name: "azure: wrong key", inputs: map[string]string{"backend": "azure", "backend-container": "sccache"},
			env:    map[string]string{"SCCACHE_AZURE_CONNECTION_STRING": azConn("V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5")},
			secret: "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5", reason: "credentials refused"},
		{name: "redis: read-only run (a fork) and sccache 0.4 has no read-only mode",
			inputs: map[string]string{"backend": "redis", "backend-endpoint": "redis://" + open.Addr},
			env:    map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": forkEvent(t)},
			reason: "no read-only mode for redis (0.16 and later) (read-only because this is a pull request from the fork someone/app)"},
		{name: "azure: no secret (a pull request from a fork)", inputs: map[string]string{"backend": "azure", "backend-container": "sccache"},
			reason: "SCCACHE_AZURE_CONNECTION_STRING is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := actiontest.New(t)
			job := map[string]string{}
			for k, v := range tc.env {
				job[k] = v
			}
			in := map[string]string{"sccache-version": r.Version}
			for k, v := range tc.inputs {
				in[k] = v
			}
			s := r.Run("setup", in, job)
			if s.Code != 0 {
				t.Fatalf("setup exit %d\n%s", s.Code, s.Stdout)
			}
			warns := s.Annotations("warning")
			if len(warns) != 1 || !strings.Contains(warns[0], "remote cache "+tc.inputs["backend"]+" not used") || !strings.Contains(warns[0], tc.reason) {
				t.Fatalf("warnings = %q, want one naming %s and %q", warns, tc.inputs["backend"], tc.reason)
			}
			for k := range s.Env {
				if strings.HasPrefix(k, "SCCACHE_REDIS") || strings.HasPrefix(k, "SCCACHE_AZURE") || k == "SSL_CERT_FILE" {
					t.Errorf("fallback exported %s", k)
				}
			}
			root := filepath.Join(r.Temp, "rustcache")
			if tc.secret != "" {
				assertNoSecret(t, tc.secret, s, root)
			}
			st, err := state.Load(root)
			if err != nil || st.Backend == nil || st.Backend.Active || !strings.Contains(st.Backend.Fallback, tc.reason) {
				t.Errorf("state backend = %+v (%v)", st.Backend, err)
			}

			// A compile through the wrapper, with the job's env still holding
			// the store's variables: sccache must run on the local disk cache.
			src := filepath.Join(r.Dir, "lib.rs")
			os.WriteFile(src, []byte("pub fn f() -> u32 { 7 }\n"), 0o644)
			env := append(os.Environ(), "TMPDIR="+t.TempDir(), "SCCACHE_REDIS=redis://"+open.Addr, "SCCACHE_AZURE_CONNECTION_STRING="+azConn(fakecache.DevAccountKey),
				"SCCACHE_AZURE_BLOB_CONTAINER=sccache")
			for k, v := range s.Env {
				env = append(env, k+"="+v)
			}
			cmd := exec.Command(s.Env["RUSTC_WRAPPER"], rustc, "--crate-type", "lib", "--crate-name", "probe", "--emit", "link", "-o", filepath.Join(r.Dir, "libprobe.rlib"), src)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			stop := exec.Command(filepath.Join(root, "bin", "sccache"), "--stop-server")
			stop.Env = env // the job's port: the server the compile started
			stop.Run()
			if err != nil {
				t.Fatalf("compile through the wrapper: %v\n%s", err, out)
			}
			if open.Keys(t) != 0 {
				t.Errorf("the fallback compile wrote to Redis")
			}
		})
	}
}

// forkEvent writes the payload of a pull request from a fork.
func forkEvent(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(p, []byte(`{"pull_request":{"head":{"repo":{"full_name":"someone/app"}},"base":{"repo":{"full_name":"octo/app"}}}}`), 0o644)
	return p
}

// assertNoSecret fails when secret appears in the step's output (outside
// ::add-mask::), its exports, outputs, summary, or any file under the root.
func assertNoSecret(t *testing.T, secret string, s *actiontest.Step, root string) {
	t.Helper()
	masked := false
	for _, l := range strings.Split(s.Stdout, "\n") {
		if strings.HasPrefix(l, "::add-mask::") {
			masked = masked || strings.Contains(l, secret)
			continue
		}
		if strings.Contains(l, secret) {
			t.Errorf("log line holds the secret: %q", l)
		}
	}
	if !masked {
		t.Errorf("the secret was never masked")
	}
	for k, v := range s.Env {
		if strings.Contains(v, secret) {
			t.Errorf("GITHUB_ENV %s holds the secret", k)
		}
	}
	for k, v := range s.Outputs {
		if strings.Contains(v, secret) {
			t.Errorf("output %s holds the secret", k)
		}
	}
	if strings.Contains(s.Summary, secret) {
		t.Errorf("the summary holds the secret")
	}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+"bin"+string(filepath.Separator)) {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("%s holds the secret", p)
		}
		return nil
	})
}

// TestBackendCrossEntries: with a remote backend the cross configuration
// passes the backend's variables and the CA bundle by name, mounts the
// bundle, and never holds a value of them.
func TestBackendCrossEntries(t *testing.T) {
	r := actiontest.New(t)
	in := map[string]string{"sccache-version": r.Version, "cross": "true", "backend": "redis", "backend-endpoint": "redis://" + storetest.ClosedAddr(t)}
	s := r.Run("setup", in, map[string]string{"SCCACHE_REDIS_PASSWORD": "cross-Secret-1"})
	if s.Code != 0 {
		t.Fatal(s.Stdout)
	}
	doc, err := crossconfDecode(filepath.Join(r.Workspace, "Cross.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"SCCACHE_REDIS", "SCCACHE_REDIS_ENDPOINT", "SCCACHE_REDIS_PASSWORD", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if !slices.Contains(doc.Build.Env.Passthrough, n) {
			t.Errorf("passthrough lacks %s: %v", n, doc.Build.Env.Passthrough)
		}
	}
	for _, item := range doc.Build.Env.Passthrough {
		if strings.Contains(item, "=") && !strings.HasPrefix(item, "SCCACHE_SERVER_PORT=") {
			t.Errorf("passthrough carries a value: %q", item)
		}
	}
	if !slices.Contains(doc.Build.Env.Volumes, "SSL_CERT_FILE") {
		t.Errorf("volumes lack SSL_CERT_FILE: %v", doc.Build.Env.Volumes)
	}
	assertNoSecret(t, "cross-Secret-1", s, filepath.Join(r.Temp, "rustcache"))
}

type crossDoc struct {
	Build struct {
		Env struct {
			Passthrough []string `toml:"passthrough"`
			Volumes     []string `toml:"volumes"`
		} `toml:"env"`
	} `toml:"build"`
}

func crossconfDecode(path string) (*crossDoc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d crossDoc
	return &d, toml.Unmarshal(b, &d)
}

// TestBackendWrapperForEveryRelease: with a backend the wrapper is the
// script even for releases that need no waiting, since it collects the
// containers' statistics and guards a fallback; the statistics directory
// is made new for each setup.
func TestBackendWrapperForEveryRelease(t *testing.T) {
	r := actiontest.New(t)
	r.Release = fakerelease.New(t, fakerelease.Options{Versions: []string{"v0.18.1"}})
	r.Env["GITHUB_SERVER_URL"], r.Env["GITHUB_API_URL"] = r.Release.ServerURL(), r.Release.APIURL()
	in := map[string]string{"sccache-version": "v0.18.1", "backend": "memcached", "backend-endpoint": "tcp://" + storetest.ClosedAddr(t)}
	root := filepath.Join(r.Temp, "rustcache")
	if s := r.Run("setup", in, nil); s.Code != 0 {
		t.Fatal(s.Stdout)
	}
	old := filepath.Join(root, "stats", "20001-1.json")
	if err := os.WriteFile(old, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := r.Run("setup", in, nil)
	if s.Code != 0 {
		t.Fatal(s.Stdout)
	}
	if got := filepath.Base(s.Env["RUSTC_WRAPPER"]); got != "sccache-wait" {
		t.Errorf("RUSTC_WRAPPER = %s, want sccache-wait", got)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("statistics of an earlier job survived setup: %v", err)
	}
	if fi, err := os.Stat(filepath.Dir(old)); err != nil || !fi.IsDir() {
		t.Errorf("no statistics directory: %v", err)
	}
}
