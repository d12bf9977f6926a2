package backend

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/storetest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestProbeRedis runs the Redis probe against real redis-servers: open,
// with a password, behind TLS signed by a test CA, and down.
func TestProbeRedis(t *testing.T) {
	open := storetest.StartRedis(t, "")
	locked := storetest.StartRedis(t, "s3cr3t-pw")
	ca := storetest.NewCA(t)
	tlsAddr := storetest.TLSFront(t, ca, open.Addr)
	down := storetest.ClosedAddr(t)
	for _, tc := range []struct {
		name     string
		endpoint string
		env      map[string]string
		readOnly bool
		want     string // substring of the reason; "" for success
	}{
		{name: "open", endpoint: "redis://" + open.Addr},
		{name: "host:port without scheme", endpoint: open.Addr},
		{name: "read-only", endpoint: "redis://" + open.Addr, readOnly: true},
		{name: "password in the URL", endpoint: "redis://:s3cr3t-pw@" + locked.Addr},
		{name: "password variable", endpoint: "redis://" + locked.Addr, env: map[string]string{"SCCACHE_REDIS_PASSWORD": "s3cr3t-pw"}},
		{name: "wrong password", endpoint: "redis://:wrong@" + locked.Addr, want: "credentials refused"},
		{name: "no password", endpoint: "redis://" + locked.Addr, want: "wants a password"},
		{name: "down", endpoint: "redis://" + down, want: "unreachable"},
		{name: "TLS, unknown CA", endpoint: "rediss://" + tlsAddr, want: "authority the runner does not trust"},
		{name: "TLS, CA in SSL_CERT_FILE", endpoint: "rediss://" + tlsAddr, env: map[string]string{"SSL_CERT_FILE": ca.File}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Prober{Getenv: envOf(tc.env), Timeout: 5 * time.Second}
			err := p.Check(context.Background(), &Settings{Kind: Redis, Endpoint: tc.endpoint, ReadOnly: tc.readOnly})
			checkReason(t, err, tc.want)
			if err != nil && strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Errorf("the reason holds the password: %v", err)
			}
		})
	}
	if n := open.Keys(t); n != 0 {
		t.Errorf("the probe left %d keys behind", n)
	}
}

func checkReason(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("probe failed: %v", err)
	case want != "" && err == nil:
		t.Fatalf("probe passed, want a reason containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("reason %q, want it to contain %q", err, want)
	}
}

// TestProbeAzure reads container properties from Azurite with the
// development account's shared key, a wrong key and a SAS-less string.
func TestProbeAzure(t *testing.T) {
	a := fakecache.StartAzurite(t)
	conn := func(key string) string {
		return "DefaultEndpointsProtocol=http;AccountName=" + fakecache.DevAccount + ";AccountKey=" + key +
			";BlobEndpoint=" + a.URL + "/" + fakecache.DevAccount + ";"
	}
	good := conn(fakecache.DevAccountKey)
	createContainer(t, good, "sccache")
	for _, tc := range []struct {
		name, conn, container, want string
	}{
		{name: "shared key", conn: good, container: "sccache"},
		{name: "wrong key", conn: conn("d3Jvbmcta2V5LXdyb25nLWtleQ=="), container: "sccache", want: "credentials refused"},
		{name: "key not base64", conn: conn("not base64!"), container: "sccache", want: "not base64"},
		{name: "missing container", conn: good, container: "absent", want: "container absent does not exist"},
		{name: "no key", conn: "BlobEndpoint=" + a.URL + "/" + fakecache.DevAccount, container: "sccache", want: "neither AccountKey"},
		{name: "down", conn: "DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;BlobEndpoint=http://" + storetest.ClosedAddr(t) + "/x",
			container: "sccache", want: "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SCCACHE_AZURE_CONNECTION_STRING": tc.conn}
			s, err := Configure(Options{Kind: Azure, Container: tc.container}, "0.4.0", false, envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			p := &Prober{Getenv: envOf(env), Timeout: 10 * time.Second}
			checkReason(t, p.Check(context.Background(), s), tc.want)
		})
	}
}

// createContainer creates a blob container with a Shared Key request.
func createContainer(t *testing.T, conn, name string) {
	t.Helper()
	cs := parseConnectionString(conn)
	req, _ := http.NewRequest(http.MethodPut, azureEndpoint(conn)+"/"+name+"?restype=container", nil)
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", "2021-08-06")
	req.ContentLength = 0
	key := mustBase64(t, cs["accountkey"])
	// A PUT without a body signs Content-Length as empty, like a GET.
	req.Header.Set("Authorization", "SharedKey "+cs["accountname"]+":"+azureSign(req, cs["accountname"], key))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create container: HTTP %d", resp.StatusCode)
	}
}

// TestProbeHTTPStores maps the answers of WebDAV and S3 endpoints to
// reasons, and checks what the probes send.
func TestProbeHTTPStores(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   Kind
		status int
		env    map[string]string
		check  func(*http.Request) bool
		want   string
	}{
		{name: "webdav multistatus", kind: WebDAV, status: http.StatusMultiStatus,
			env: map[string]string{"SCCACHE_WEBDAV_USERNAME": "u", "SCCACHE_WEBDAV_PASSWORD": "p"},
			check: func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return r.Method == "PROPFIND" && ok && u == "u" && p == "p"
			}},
		{name: "webdav token", kind: WebDAV, status: http.StatusMultiStatus, env: map[string]string{"SCCACHE_WEBDAV_TOKEN": "tok"},
			check: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok" }},
		{name: "webdav unauthorized", kind: WebDAV, status: http.StatusUnauthorized, want: "credentials refused (HTTP 401)"},
		{name: "s3 signed", kind: S3, status: http.StatusOK,
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"},
			check: func(r *http.Request) bool {
				return r.Method == http.MethodHead && r.URL.Path == "/bucket" &&
					strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/") &&
					strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/s3/aws4_request")
			}},
		{name: "s3 forbidden", kind: S3, status: http.StatusForbidden, env: map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x"},
			want: "credentials refused (HTTP 403)"},
		{name: "s3 missing bucket", kind: S3, status: http.StatusNotFound, want: "bucket bucket does not exist"},
		{name: "s3 server error", kind: S3, status: http.StatusInternalServerError, want: "HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			o := Options{Kind: tc.kind, Endpoint: srv.URL, Bucket: "bucket", Region: "eu-west-1"}
			s, err := Configure(o, "0.17.0", false, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			p := &Prober{Getenv: envOf(tc.env), Timeout: 5 * time.Second}
			checkReason(t, p.Check(context.Background(), s), tc.want)
			if got == nil {
				t.Fatal("no request reached the store")
			}
			if tc.check != nil && !tc.check(got) {
				t.Errorf("unexpected request: %s %s %v", got.Method, got.URL, got.Header)
			}
		})
	}
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProbeS3 signs a HEAD of the bucket for an S3-compatible server that
// checks Signature V4 (rclone's gofakes3).
func TestProbeS3(t *testing.T) {
	srv := storetest.StartS3(t, "sccache", map[string]string{"AKIDTEST": "right-S3cret"})
	for _, tc := range []struct {
		name, bucket, secret, want string
		version                    string
	}{
		{name: "right key", bucket: "sccache", secret: "right-S3cret", version: "0.17.0"},
		{name: "right key, host-only endpoint of 0.4", bucket: "sccache", secret: "right-S3cret", version: "0.4.0"},
		{name: "wrong secret", bucket: "sccache", secret: "wrong", want: "credentials refused (HTTP 403)", version: "0.17.0"},
		{name: "missing bucket", bucket: "absent", secret: "right-S3cret", want: "bucket absent does not exist", version: "0.17.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": tc.secret}
			s, err := Configure(Options{Kind: S3, Bucket: tc.bucket, Endpoint: srv.URL, Region: "us-east-1"}, tc.version, false, envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			p := &Prober{Getenv: envOf(env), Timeout: 5 * time.Second}
			checkReason(t, p.Check(context.Background(), s), tc.want)
		})
	}
}

// TestProbeMemcached asks a real memcached, a Redis (not memcached) and a
// closed port.
func TestProbeMemcached(t *testing.T) {
	mc := storetest.StartMemcached(t)
	redis := storetest.StartRedis(t, "")
	for _, tc := range []struct{ name, endpoint, want string }{
		{name: "memcached", endpoint: "tcp://" + mc},
		{name: "list of servers", endpoint: mc + ",127.0.0.1:1"},
		{name: "not memcached", endpoint: "tcp://" + redis.Addr, want: "not a memcached server"},
		{name: "down", endpoint: "tcp://" + storetest.ClosedAddr(t), want: "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Prober{Getenv: envOf(nil), Timeout: 5 * time.Second}
			checkReason(t, p.Check(context.Background(), &Settings{Kind: Memcached, Endpoint: tc.endpoint}), tc.want)
		})
	}
}

// TestProbeWebDAV asks a real WebDAV server (golang.org/x/net/webdav) for
// the endpoint's properties with the right and a wrong password.
func TestProbeWebDAV(t *testing.T) {
	url := storetest.StartWebDAV(t, "ci", "dav-Pa55")
	for _, tc := range []struct{ name, password, want string }{
		{name: "right password", password: "dav-Pa55"},
		{name: "wrong password", password: "nope", want: "credentials refused (HTTP 401)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SCCACHE_WEBDAV_USERNAME": "ci", "SCCACHE_WEBDAV_PASSWORD": tc.password}
			s, err := Configure(Options{Kind: WebDAV, Endpoint: url}, "0.17.0", false, envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			p := &Prober{Getenv: envOf(env), Timeout: 5 * time.Second}
			checkReason(t, p.Check(context.Background(), s), tc.want)
		})
	}
}
