// Package storetest starts the stores that remote-backend tests talk to, on
// 127.0.0.1: a real redis-server (optionally with a password), and a TLS
// front for any TCP store, signed by a certificate authority generated for
// the test — one the runner does not trust unless the test names it.
package storetest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/testkit"
	"github.com/rclone/gofakes3"
	"github.com/rclone/gofakes3/s3mem"
	"golang.org/x/net/webdav"
)

// Redis is a running redis-server.
type Redis struct {
	// Addr is 127.0.0.1:<port>.
	Addr string
	// Password is the one requirepass was given ("" for none).
	Password string
}

// StartRedis runs redis-server on a free port without persistence, with
// password as requirepass when it is not empty, and stops it when the test
// ends. Without redis-server the test is skipped (failed under CI).
func StartRedis(t testing.TB, password string) *Redis {
	t.Helper()
	bin := testkit.NeedTool(t, "redis-server")
	port := testkit.FreePort(t)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}
	if password != "" {
		args = append(args, "--requirepass", password)
	}
	return &Redis{Addr: startServer(t, bin, args, "127.0.0.1:"+port), Password: password}
}

// StartMemcached runs memcached on a free loopback port (TCP only) and
// returns its address; it stops when the test ends. Without memcached the
// test is skipped (failed under CI).
func StartMemcached(t testing.TB) string {
	t.Helper()
	bin := testkit.NeedTool(t, "memcached")
	port := testkit.FreePort(t)
	args := []string{"-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "16"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses to run as root otherwise
	}
	return startServer(t, bin, args, "127.0.0.1:"+port)
}

// startServer runs bin with args until the test ends and waits until addr
// accepts connections.
func startServer(t testing.TB, bin string, args []string, addr string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(bin), err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s did not start", filepath.Base(bin), addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Keys returns the number of keys in database 0 (DBSIZE).
func (r *Redis) Keys(t testing.TB) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	if r.Password != "" {
		fmt.Fprintf(c, "AUTH %s\r\n", r.Password)
		if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "+OK") {
			t.Fatalf("AUTH: %q", l)
		}
	}
	fmt.Fprint(c, "DBSIZE\r\n")
	l, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, ":") {
		t.Fatalf("DBSIZE: %q %v", l, err)
	}
	var n int
	fmt.Sscanf(l, ":%d", &n)
	return n
}

// CA is a certificate authority made for one test.
type CA struct {
	// File is a PEM file holding the CA certificate (for SSL_CERT_FILE).
	File string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA generates a CA and writes its certificate under the test's temp dir.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rustcache test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	f := filepath.Join(t.TempDir(), "test-ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &CA{File: f, cert: cert, key: key}
}

// serverConfig is a TLS configuration with a certificate for 127.0.0.1
// and localhost signed by the CA.
func (ca *CA) serverConfig(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TLSFront listens on a free loopback port with TLS signed by ca and
// forwards every connection to backend. It returns the address and stops
// when the test ends.
func TLSFront(t testing.TB, ca *CA, backend string) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", ca.serverConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				b, err := net.DialTimeout("tcp", backend, 5*time.Second)
				if err != nil {
					return
				}
				defer b.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(b, c); done <- struct{}{} }()
				go func() { io.Copy(c, b); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return l.Addr().String()
}

// ClosedAddr is a loopback address where nothing listens.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + testkit.FreePort(t)
}

// S3 is an S3-compatible server (rclone's gofakes3, in memory) that checks
// Signature V4 against its key pairs.
type S3 struct {
	// URL is http://127.0.0.1:<port>.
	URL string
}

// StartS3 serves an S3-compatible store holding bucket, accepting requests
// signed with one of keys (access key id → secret), until the test ends.
func StartS3(t testing.TB, bucket string, keys map[string]string) *S3 {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem, gofakes3.WithV4Auth(keys), gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	return &S3{URL: srv.URL}
}

// StartWebDAV serves an in-memory WebDAV store (golang.org/x/net/webdav)
// that wants HTTP basic authentication with user and password, and returns
// its URL; it stops when the test ends.
func StartWebDAV(t testing.TB, user, password string) string {
	t.Helper()
	dav := &webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="sccache"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		dav.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}
