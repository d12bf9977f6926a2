package backend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/inputs"
	"github.com/org/rustcache-action/internal/storetest"
)

func TestReadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]string
		want Options
		err  string // substring of the input error; "" for none
	}{
		{name: "default", in: nil, want: Options{Kind: GHA, ReadOnly: "auto"}},
		{name: "redis", in: map[string]string{"backend": "redis", "backend-endpoint": "redis://cache:6379"},
			want: Options{Kind: Redis, Endpoint: "redis://cache:6379", ReadOnly: "auto"}},
		{name: "s3", in: map[string]string{"backend": "s3", "backend-bucket": "b", "backend-region": "eu-west-1", "backend-read-only": "false"},
			want: Options{Kind: S3, Bucket: "b", Region: "eu-west-1", ReadOnly: "false"}},
		{name: "unknown backend", in: map[string]string{"backend": "nfs"}, err: "input backend"},
		{name: "s3 without bucket", in: map[string]string{"backend": "s3"}, err: "a bucket name is required"},
		{name: "azure without container", in: map[string]string{"backend": "azure"}, err: "a blob container name is required"},
		{name: "webdav without endpoint", in: map[string]string{"backend": "webdav"}, err: "the WebDAV URL is required"},
		{name: "webdav not http", in: map[string]string{"backend": "webdav", "backend-endpoint": "ftp://x"}, err: "expected an http(s) URL"},
		{name: "bucket with redis", in: map[string]string{"backend": "redis", "backend-bucket": "b"}, err: "only used with backend s3 or gcs"},
		{name: "keep-local without a backend", in: map[string]string{"backend-keep-local": "true"}, err: "backend-keep-local"},
		{name: "password in the endpoint", in: map[string]string{"backend": "redis", "backend-endpoint": "redis://:hunter2@cache:6379"},
			err: "map the password from a secret into env: as SCCACHE_REDIS_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inputs.NewReader(func(k string) string { return tc.in[k] })
			got := ReadOptions(r)
			err := r.Err()
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("options (-want +got):\n%s", d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want it to contain %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        Options
		version  string
		readOnly bool
		env      map[string]string
		want     map[string]string
		unusable string
		chain    bool
		note     string
	}{
		{name: "redis 0.4 endpoint", o: Options{Kind: Redis, Endpoint: "redis://cache:6379"}, version: "0.4.0",
			want: map[string]string{"SCCACHE_REDIS": "redis://cache:6379"}},
		{name: "redis 0.8 endpoint and prefix", o: Options{Kind: Redis, Endpoint: "redis://cache:6379", KeyPrefix: "ci"}, version: "v0.8.2",
			want: map[string]string{"SCCACHE_REDIS_ENDPOINT": "redis://cache:6379", "SCCACHE_REDIS_KEY_PREFIX": "ci"}},
		{name: "redis 0.4 prefix ignored", o: Options{Kind: Redis, Endpoint: "redis://cache", KeyPrefix: "ci"}, version: "0.4.0",
			want: map[string]string{"SCCACHE_REDIS": "redis://cache"}, note: "no key prefix for redis"},
		{name: "redis URL from a secret", o: Options{Kind: Redis}, version: "0.4.0", env: map[string]string{"SCCACHE_REDIS": "redis://:pw@cache"},
			want: map[string]string{}},
		{name: "redis 0.4 password variable", o: Options{Kind: Redis, Endpoint: "redis://cache"}, version: "0.4.0",
			env: map[string]string{"SCCACHE_REDIS_PASSWORD": "pw"}, unusable: "SCCACHE_REDIS_PASSWORD needs 0.8"},
		{name: "redis cluster from env", o: Options{Kind: Redis}, version: "0.10.0",
			env: map[string]string{"SCCACHE_REDIS_CLUSTER_ENDPOINTS": "redis://a:1,redis://b:2"}, want: map[string]string{}},
		{name: "redis without address", o: Options{Kind: Redis}, version: "0.18.0", unusable: "no redis address"},
		{name: "redis read-only 0.16", o: Options{Kind: Redis, Endpoint: "redis://cache"}, version: "0.16.0", readOnly: true,
			want: map[string]string{"SCCACHE_REDIS_ENDPOINT": "redis://cache", "SCCACHE_REDIS_RW_MODE": "READ_ONLY"}},
		{name: "redis read-only 0.4", o: Options{Kind: Redis, Endpoint: "redis://cache"}, version: "0.4.0", readOnly: true,
			unusable: "no read-only mode for redis (0.16 and later)"},
		{name: "s3 0.4 strips the scheme", o: Options{Kind: S3, Bucket: "b", Endpoint: "http://127.0.0.1:9000", Region: "auto", KeyPrefix: "p"}, version: "0.4.0",
			want: map[string]string{"SCCACHE_BUCKET": "b", "SCCACHE_ENDPOINT": "127.0.0.1:9000", "SCCACHE_S3_USE_SSL": "false", "SCCACHE_REGION": "auto", "SCCACHE_S3_KEY_PREFIX": "p"}},
		{name: "s3 0.17 keeps the URL", o: Options{Kind: S3, Bucket: "b", Endpoint: "https://acct.r2.cloudflarestorage.com"}, version: "0.17.0",
			want: map[string]string{"SCCACHE_BUCKET": "b", "SCCACHE_ENDPOINT": "https://acct.r2.cloudflarestorage.com", "SCCACHE_S3_USE_SSL": "true"}},
		{name: "s3 read-only without keys reads anonymously", o: Options{Kind: S3, Bucket: "b"}, version: "0.4.0", readOnly: true,
			want: map[string]string{"SCCACHE_BUCKET": "b", "SCCACHE_S3_NO_CREDENTIALS": "true"}},
		{name: "s3 read-only with keys on 0.4", o: Options{Kind: S3, Bucket: "b"}, version: "0.4.0", readOnly: true,
			env: map[string]string{"AWS_ACCESS_KEY_ID": "id"}, unusable: "no read-only mode for s3"},
		{name: "gcs read-write is explicit", o: Options{Kind: GCS, Bucket: "b"}, version: "0.4.0",
			want: map[string]string{"SCCACHE_GCS_BUCKET": "b", "SCCACHE_GCS_RW_MODE": "READ_WRITE"}},
		{name: "gcs read-only on 0.4", o: Options{Kind: GCS, Bucket: "b"}, version: "0.4.0", readOnly: true,
			want: map[string]string{"SCCACHE_GCS_BUCKET": "b", "SCCACHE_GCS_RW_MODE": "READ_ONLY"}},
		{name: "azure", o: Options{Kind: Azure, Container: "c", KeyPrefix: "k"}, version: "0.4.0",
			env:  map[string]string{"SCCACHE_AZURE_CONNECTION_STRING": "AccountName=a;AccountKey=eA=="},
			want: map[string]string{"SCCACHE_AZURE_BLOB_CONTAINER": "c", "SCCACHE_AZURE_KEY_PREFIX": "k"}},
		{name: "azure without secret", o: Options{Kind: Azure, Container: "c"}, version: "0.4.0", unusable: "SCCACHE_AZURE_CONNECTION_STRING is not set"},
		{name: "webdav", o: Options{Kind: WebDAV, Endpoint: "https://dav.example/cache"}, version: "0.5.0",
			want: map[string]string{"SCCACHE_WEBDAV_ENDPOINT": "https://dav.example/cache"}},
		{name: "webdav before 0.4", o: Options{Kind: WebDAV, Endpoint: "https://dav"}, version: "0.3.3", unusable: "no WebDAV backend"},
		{name: "memcached 0.4", o: Options{Kind: Memcached, Endpoint: "tcp://127.0.0.1:11211"}, version: "0.4.0",
			want: map[string]string{"SCCACHE_MEMCACHED": "tcp://127.0.0.1:11211"}},
		{name: "memcached 0.10", o: Options{Kind: Memcached, Endpoint: "tcp://127.0.0.1:11211"}, version: "0.10.0",
			want: map[string]string{"SCCACHE_MEMCACHED_ENDPOINT": "tcp://127.0.0.1:11211"}},
		{name: "keep local on 0.15", o: Options{Kind: Redis, Endpoint: "redis://c", KeepLocal: true}, version: "0.15.0", chain: true,
			want: map[string]string{"SCCACHE_REDIS_ENDPOINT": "redis://c", "SCCACHE_MULTILEVEL_CHAIN": "disk,redis"}},
		{name: "keep local on 0.4", o: Options{Kind: Redis, Endpoint: "redis://c", KeepLocal: true}, version: "0.4.0",
			want: map[string]string{"SCCACHE_REDIS": "redis://c"}, note: "no multi-level cache (0.15 and later)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Configure(tc.o, tc.version, tc.readOnly, envOf(tc.env))
			if tc.unusable != "" {
				var u *Unusable
				if !errors.As(err, &u) || !strings.Contains(u.Reason, tc.unusable) {
					t.Fatalf("err = %v, want unusable %q", err, tc.unusable)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, s.Exports); d != "" {
				t.Errorf("exports (-want +got):\n%s", d)
			}
			if s.Chain != tc.chain {
				t.Errorf("chain = %v", s.Chain)
			}
			if notes := strings.Join(s.Notes, "\n"); (tc.note == "") != (notes == "") || !strings.Contains(notes, tc.note) {
				t.Errorf("notes = %q, want %q", notes, tc.note)
			}
		})
	}
}

// TestNoSecretExported: what the action exports never holds a credential,
// whatever the environment holds.
func TestNoSecretExported(t *testing.T) {
	env := map[string]string{
		"SCCACHE_REDIS": "redis://:pw1@h", "SCCACHE_REDIS_PASSWORD": "pw2", "AWS_SECRET_ACCESS_KEY": "pw3",
		"AWS_ACCESS_KEY_ID": "id", "SCCACHE_AZURE_CONNECTION_STRING": "AccountName=a;AccountKey=pw4", "SCCACHE_WEBDAV_PASSWORD": "pw5",
		"SCCACHE_MEMCACHED_PASSWORD": "pw6",
	}
	opts := []Options{{Kind: Redis}, {Kind: S3, Bucket: "b"}, {Kind: Azure, Container: "c"}, {Kind: WebDAV, Endpoint: "https://d"},
		{Kind: Memcached, Endpoint: "tcp://m:1"}, {Kind: GCS, Bucket: "b"}}
	for _, o := range opts {
		for _, v := range []string{"0.4.0", "0.18.0"} {
			s, err := Configure(o, v, false, envOf(env))
			if err != nil {
				continue
			}
			for _, kv := range s.Env() {
				if strings.Contains(kv, "pw") {
					t.Errorf("%s %s exports %s", o.Kind, v, kv)
				}
			}
		}
	}
}

func TestSecretsAndRedact(t *testing.T) {
	env := map[string]string{"SCCACHE_REDIS": "redis://user:p%40ss@host:6379", "SCCACHE_REDIS_PASSWORD": "other"}
	got := Secrets(Redis, envOf(env))
	want := []string{"redis://user:p%40ss@host:6379", "p%40ss", "p@ss", "other"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("secrets (-want +got):\n%s", d)
	}
	// A password inside a URL of a variable that is not itself a secret.
	if got := Secrets(WebDAV, envOf(map[string]string{"SCCACHE_WEBDAV_ENDPOINT": "https://u:dav-pw@dav.example/"})); !slices.Contains(got, "dav-pw") {
		t.Errorf("WebDAV endpoint password not masked: %v", got)
	}
	if r := Redact("dial redis://user:pw@host:1 and rediss://:x@h"); r != "dial redis://***@host:1 and rediss://***@h" {
		t.Errorf("Redact = %q", r)
	}
}

func TestCrossNames(t *testing.T) {
	pass, vols := CrossNames(GCS)
	for _, n := range []string{"SCCACHE_GCS_BUCKET", "SCCACHE_GCS_KEY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if !contains(pass, n) {
			t.Errorf("passthrough lacks %s: %v", n, pass)
		}
	}
	if d := cmp.Diff([]string{"SSL_CERT_FILE", "SSL_CERT_DIR", "SCCACHE_GCS_KEY_PATH"}, vols); d != "" {
		t.Errorf("volumes (-want +got):\n%s", d)
	}
	for _, n := range pass {
		if strings.Contains(n, "=") {
			t.Errorf("passthrough %q carries a value", n)
		}
	}
	if p, v := CrossNames(GHA); p != nil || v != nil {
		t.Errorf("gha has cross names %v %v", p, v)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDetectTrust(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	pr := func(head, base string) string {
		return `{"pull_request":{"head":{"repo":{"full_name":"` + head + `"}},"base":{"repo":{"full_name":"` + base + `"}}}}`
	}
	for _, tc := range []struct {
		name, event, payload string
		untrusted            bool
		reason               string
	}{
		{name: "push", event: "push", payload: `{}`},
		{name: "same-repository pull request", event: "pull_request", payload: pr("org/repo", "org/repo")},
		{name: "fork pull request", event: "pull_request", payload: pr("someone/repo", "org/repo"), untrusted: true, reason: "fork someone/repo"},
		{name: "fork pull_request_target", event: "pull_request_target", payload: pr("someone/repo", "org/repo"), untrusted: true},
		{name: "deleted fork", event: "pull_request", payload: `{"pull_request":{"head":{"repo":null},"base":{"repo":{"full_name":"org/repo"}}}}`, untrusted: true, reason: "deleted fork"},
		{name: "unreadable payload", event: "pull_request", payload: "", untrusted: true, reason: "could not be read"},
		{name: "not JSON", event: "pull_request", payload: "{", untrusted: true, reason: "not JSON"},
		{name: "workflow_run from a fork", event: "workflow_run",
			payload:   `{"workflow_run":{"event":"pull_request","head_repository":{"full_name":"x/repo"},"repository":{"full_name":"org/repo"}}}`,
			untrusted: true, reason: "fork x/repo"},
		{name: "workflow_run of the repository", event: "workflow_run",
			payload: `{"workflow_run":{"event":"push","head_repository":{"full_name":"org/repo"},"repository":{"full_name":"org/repo"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "missing.json")
			if tc.payload != "" {
				path = write(strings.ReplaceAll(tc.name, " ", "-")+".json", tc.payload)
			}
			got := DetectTrust(envOf(map[string]string{"GITHUB_EVENT_NAME": tc.event, "GITHUB_EVENT_PATH": path}), os.ReadFile)
			if got.Untrusted != tc.untrusted || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("trust = %+v, want untrusted %v with %q", got, tc.untrusted, tc.reason)
			}
			for input, want := range map[string]bool{"auto": tc.untrusted, "true": true, "false": false} {
				if ReadOnly(input, got) != want {
					t.Errorf("ReadOnly(%s) = %v", input, !want)
				}
			}
		})
	}
}

func TestServerStats(t *testing.T) {
	dir := t.TempDir()
	stats := func(hits, misses int) string {
		return `{"stats":{"compile_requests":9,"cache_hits":{"counts":{"Rust":` + strconv.Itoa(hits) + `}},"cache_misses":{"counts":{"Rust":` + strconv.Itoa(misses) + `}}}}`
	}
	os.WriteFile(filepath.Join(dir, "20001-4026532001.json"), []byte(stats(10, 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "20001-4026532002.json"), []byte(stats(5, 0)), 0o644)
	os.WriteFile(filepath.Join(dir, "20000-4026531841.json"), []byte(stats(100, 100)), 0o644) // the runner's own
	os.WriteFile(filepath.Join(dir, "20001-4026532003.json"), []byte(`{"stats":`), 0o644)     // cut short
	sum, n, err := ServerStats(dir, 20000)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || sum.Hits != 15 || sum.Misses != 1 {
		t.Errorf("ServerStats = %+v from %d servers, want 15 hits, 1 miss from 2", sum, n)
	}
	if _, n, err := ServerStats(filepath.Join(dir, "absent"), 1); err != nil || n != 0 {
		t.Errorf("missing dir: %d %v", n, err)
	}
}

// TestDecide: the order of the checks and the reasons of a fallback.
func TestDecide(t *testing.T) {
	redis := storetest.StartRedis(t, "").Addr
	for _, tc := range []struct {
		name      string
		o         Options
		server    error
		want      string
		active    bool
		serverRan bool
	}{
		{name: "no backend", o: Options{Kind: GHA}},
		{name: "healthy", o: Options{Kind: Redis, Endpoint: "redis://" + redis, ReadOnly: "false"}, active: true, serverRan: true},
		{name: "sccache without the backend", o: Options{Kind: Redis, Endpoint: "redis://" + redis, ReadOnly: "false"},
			server: errors.New("sccache --start-server: exit status 2: sccache: error: Server startup failed: cache type is not enabled"),
			want:   "was built without the redis backend", serverRan: true},
		{name: "store down: sccache not tried", o: Options{Kind: Redis, Endpoint: "redis://127.0.0.1:1", ReadOnly: "false"}, want: "unreachable"},
		{name: "read-only run on 0.4", o: Options{Kind: Redis, Endpoint: "redis://" + redis, ReadOnly: "true"}, want: "no read-only mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			d := Decide(context.Background(), Request{
				Options: tc.o, Version: "0.4.0", Getenv: envOf(nil), ReadFile: os.ReadFile,
				TryServer: func(context.Context, []string) (string, error) { ran = true; return "Redis", tc.server },
				Prober:    &Prober{Getenv: envOf(nil)},
			})
			if d.Active != tc.active || !strings.Contains(d.Fallback, tc.want) || (tc.want == "") != (d.Fallback == "") {
				t.Errorf("decision = %+v, want active %v, fallback %q", d, tc.active, tc.want)
			}
			if ran != tc.serverRan {
				t.Errorf("sccache server tried = %v, want %v", ran, tc.serverRan)
			}
		})
	}
}
