package backend

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// Prober checks that a store answers, accepts the credentials and presents
// a certificate the runner trusts — the same things sccache needs — by
// speaking the store's own protocol.
type Prober struct {
	// Getenv reads the credentials and SSL_CERT_FILE / SSL_CERT_DIR.
	Getenv func(string) string
	// HTTP is the base client whose transport HTTP stores are probed with.
	HTTP *http.Client
	// ReadFile reads a CA bundle or a credential file.
	ReadFile func(string) ([]byte, error)
	// Now is the clock (request signatures carry the time).
	Now func() time.Time
	// Timeout bounds the whole probe (default 10 s).
	Timeout time.Duration
}

// Check probes the store of s. A failure is an *Unusable naming the reason.
func (p *Prober) Check(ctx context.Context, s *Settings) error {
	to := p.Timeout
	if to == 0 {
		to = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	var err error
	switch s.Kind {
	case Redis:
		err = p.redis(ctx, s)
	case Memcached:
		err = p.memcached(ctx, s)
	case Azure:
		err = p.azure(ctx, s)
	case S3:
		err = p.s3(ctx, s)
	case WebDAV:
		err = p.webdav(ctx, s)
	case GCS:
		err = p.gcs(ctx, s)
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	var u *Unusable
	if errors.As(err, &u) {
		return u
	}
	return &Unusable{describe(err)}
}

// describe turns a transport error into a reason a user can act on.
func describe(err error) string {
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	var hn x509.HostnameError
	var op *net.OpError
	switch {
	case errors.As(err, &ua), errors.As(err, &cv) && errors.As(cv.Err, &ua):
		return "TLS: the store's certificate is signed by an authority the runner does not trust (add its CA to the bundle SSL_CERT_FILE names)"
	case errors.As(err, &hn):
		return "TLS: " + hn.Error()
	case errors.As(err, &cv):
		return "TLS: " + cv.Err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "the store did not answer in time"
	case errors.As(err, &op) && op.Op == "dial":
		return "unreachable: " + op.Err.Error()
	}
	return err.Error()
}

// roots is the system pool plus the bundles SSL_CERT_FILE and SSL_CERT_DIR
// name in the job's environment.
func (p *Prober) roots() *x509.CertPool {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if f := p.Getenv("SSL_CERT_FILE"); f != "" {
		if b, err := p.readFile(f); err == nil {
			pool.AppendCertsFromPEM(b)
		}
	}
	if d := p.Getenv("SSL_CERT_DIR"); d != "" {
		for _, dir := range strings.Split(d, ":") {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if b, err := p.readFile(dir + "/" + e.Name()); err == nil {
					pool.AppendCertsFromPEM(b)
				}
			}
		}
	}
	return pool
}

func (p *Prober) readFile(name string) ([]byte, error) {
	if p.ReadFile != nil {
		return p.ReadFile(name)
	}
	return os.ReadFile(name)
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// client is an HTTP client that verifies against roots().
func (p *Prober) client() *http.Client {
	var tr *http.Transport
	if p.HTTP != nil {
		if t, ok := p.HTTP.Transport.(*http.Transport); ok {
			tr = t.Clone()
		}
	}
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: p.roots(), MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dial opens a TCP (or TLS, or unix-socket) connection with the deadline of ctx.
func (p *Prober) dial(ctx context.Context, network, addr string, useTLS bool) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if !useTLS {
		return c, nil
	}
	host, _, _ := net.SplitHostPort(addr)
	tc := tls.Client(c, &tls.Config{ServerName: host, RootCAs: p.roots(), MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

func probeKey() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "rustcache-probe-" + hex.EncodeToString(b)
}

// redis speaks RESP: AUTH when there is a password, SELECT for a database,
// PING, and — unless read-only — SET and DEL of a probe key.
func (p *Prober) redis(ctx context.Context, s *Settings) error {
	raw := strings.Split(s.Endpoint, ",")[0]
	if !strings.Contains(raw, "://") {
		raw = "redis://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &Unusable{"the Redis address is not a URL"}
	}
	network, addr, useTLS := "tcp", u.Host, false
	switch u.Scheme {
	case "redis", "tcp":
	case "rediss":
		useTLS = true
	case "unix", "redis+unix":
		network, addr = "unix", u.Path
	default:
		return &Unusable{fmt.Sprintf("unknown Redis URL scheme %q", u.Scheme)}
	}
	if network == "tcp" && u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "6379")
	}
	user, pass := u.User.Username(), ""
	if pw, ok := u.User.Password(); ok {
		pass = pw
	}
	if pass == "" {
		pass = p.Getenv("SCCACHE_REDIS_PASSWORD")
	}
	if user == "" {
		user = p.Getenv("SCCACHE_REDIS_USERNAME")
	}
	db := strings.Trim(u.Path, "/")
	if v := u.Query().Get("db"); v != "" {
		db = v
	}
	if v := p.Getenv("SCCACHE_REDIS_DB"); v != "" && db == "" {
		db = v
	}
	c, err := p.dial(ctx, network, addr, useTLS)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	cmd := func(args ...string) (string, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			return "", err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("the store closed the connection: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "$") && line != "$-1" {
			// A bulk reply (GET): skip its payload.
			if _, err := br.ReadString('\n'); err != nil {
				return "", err
			}
		}
		return line, nil
	}
	if pass != "" {
		args := []string{"AUTH", pass}
		if user != "" {
			args = []string{"AUTH", user, pass}
		}
		r, err := cmd(args...)
		if err != nil {
			return err
		}
		if strings.HasPrefix(r, "-") {
			return &Unusable{"credentials refused: " + redisError(r)}
		}
	}
	if db != "" && db != "0" {
		if r, err := cmd("SELECT", db); err != nil {
			return err
		} else if strings.HasPrefix(r, "-") {
			return &Unusable{"database " + db + ": " + redisError(r)}
		}
	}
	r, err := cmd("PING")
	if err != nil {
		return err
	}
	if strings.HasPrefix(r, "-") {
		if strings.HasPrefix(r, "-NOAUTH") {
			return &Unusable{"the store wants a password (SCCACHE_REDIS_PASSWORD, or inside SCCACHE_REDIS)"}
		}
		return &Unusable{redisError(r)}
	}
	if s.ReadOnly {
		return nil
	}
	key := probeKey()
	r, err = cmd("SET", key, "1", "EX", "60")
	if err != nil {
		return err
	}
	if strings.HasPrefix(r, "-") {
		return &Unusable{"writes refused: " + redisError(r)}
	}
	_, err = cmd("DEL", key)
	return err
}

// redisError is a Redis error reply without its leading '-'.
func redisError(r string) string { return strings.TrimPrefix(r, "-") }

// memcached asks the first server for its version (text protocol).
func (p *Prober) memcached(ctx context.Context, s *Settings) error {
	raw := strings.Split(s.Endpoint, ",")[0]
	raw = strings.TrimPrefix(strings.TrimPrefix(raw, "tcp://"), "memcache://")
	c, err := p.dial(ctx, "tcp", raw, false)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, "version\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the store closed the connection: %w", err)
	}
	if !strings.HasPrefix(line, "VERSION") {
		return &Unusable{"not a memcached server (it answered " + fmt.Sprintf("%q", strings.TrimSpace(line)) + ")"}
	}
	return nil
}

// azure reads the container's properties with the connection string's
// shared key (or its SAS token).
func (p *Prober) azure(ctx context.Context, s *Settings) error {
	cs := parseConnectionString(p.Getenv("SCCACHE_AZURE_CONNECTION_STRING"))
	container := s.Exports["SCCACHE_AZURE_BLOB_CONTAINER"]
	u, err := url.Parse(s.Endpoint + "/" + container + "?restype=container")
	if err != nil || u.Host == "" {
		return &Unusable{"the connection string names no usable blob endpoint"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("x-ms-date", p.now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", "2021-08-06")
	switch {
	case cs["sharedaccesssignature"] != "":
		req.URL.RawQuery += "&" + strings.TrimPrefix(cs["sharedaccesssignature"], "?")
	case cs["accountkey"] != "":
		key, err := base64.StdEncoding.DecodeString(cs["accountkey"])
		if err != nil {
			return &Unusable{"credentials refused: AccountKey in SCCACHE_AZURE_CONNECTION_STRING is not base64"}
		}
		req.Header.Set("Authorization", "SharedKey "+cs["accountname"]+":"+azureSign(req, cs["accountname"], key))
	default:
		return &Unusable{"SCCACHE_AZURE_CONNECTION_STRING holds neither AccountKey nor SharedAccessSignature"}
	}
	return p.expect(req, "container "+container)
}

// azureSign is the Shared Key signature of a request without a body.
func azureSign(req *http.Request, account string, key []byte) string {
	var hdrs []string
	for k := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-ms-") {
			hdrs = append(hdrs, lk+":"+strings.TrimSpace(req.Header.Get(k)))
		}
	}
	sort.Strings(hdrs)
	resource := "/" + account + req.URL.EscapedPath()
	q := req.URL.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := q[k]
		sort.Strings(v)
		resource += "\n" + strings.ToLower(k) + ":" + strings.Join(v, ",")
	}
	toSign := req.Method + "\n" + strings.Repeat("\n", 11) + strings.Join(hdrs, "\n") + "\n" + resource
	m := hmac.New(sha256.New, key)
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// expect sends req and maps the store's answer to a reason.
func (p *Prober) expect(req *http.Request, what string) error {
	resp, err := p.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode < 300 || resp.StatusCode == http.StatusMultiStatus:
		return nil
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return &Unusable{fmt.Sprintf("credentials refused (HTTP %d)", resp.StatusCode)}
	case resp.StatusCode == http.StatusNotFound:
		return &Unusable{what + " does not exist (HTTP 404)"}
	}
	return &Unusable{fmt.Sprintf("the store answered HTTP %d", resp.StatusCode)}
}

// webdav asks for the properties of the endpoint collection.
func (p *Prober) webdav(ctx context.Context, s *Settings) error {
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", s.Endpoint, nil)
	if err != nil {
		return &Unusable{"the WebDAV endpoint is not a URL"}
	}
	req.Header.Set("Depth", "0")
	if t := p.Getenv("SCCACHE_WEBDAV_TOKEN"); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	} else if u := p.Getenv("SCCACHE_WEBDAV_USERNAME"); u != "" {
		req.SetBasicAuth(u, p.Getenv("SCCACHE_WEBDAV_PASSWORD"))
	}
	return p.expect(req, "the WebDAV collection")
}

// s3 asks for the bucket (HEAD, path style) with a Signature V4 request,
// or unsigned for anonymous reads.
func (p *Prober) s3(ctx context.Context, s *Settings) error {
	base := s.Endpoint
	if !strings.Contains(base, "://") {
		scheme := "https"
		if s.Exports["SCCACHE_S3_USE_SSL"] == "false" {
			scheme = "http"
		}
		base = scheme + "://" + base
	}
	bucket := s.Exports["SCCACHE_BUCKET"]
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, strings.TrimRight(base, "/")+"/"+url.PathEscape(bucket), nil)
	if err != nil {
		return &Unusable{"the S3 endpoint is not a URL"}
	}
	id, secret := p.Getenv("AWS_ACCESS_KEY_ID"), p.Getenv("AWS_SECRET_ACCESS_KEY")
	if id != "" && s.Exports["SCCACHE_S3_NO_CREDENTIALS"] == "" {
		region := s.Exports["SCCACHE_REGION"]
		if region == "" {
			region = firstNonEmpty(p.Getenv("AWS_REGION"), p.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
		}
		signV4(req, id, secret, p.Getenv("AWS_SESSION_TOKEN"), region, p.now())
	}
	return p.expect(req, "bucket "+bucket)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// signV4 signs a request without a body for the s3 service.
func signV4(req *http.Request, id, secret, token, region string, now time.Time) {
	t := now.UTC()
	amzDate, day := t.Format("20060102T150405Z"), t.Format("20060102")
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("x-amz-date", amzDate)
	req.Header.Set("x-amz-content-sha256", emptySHA)
	if token != "" {
		req.Header.Set("x-amz-security-token", token)
	}
	names := []string{"host", "x-amz-content-sha256", "x-amz-date"}
	if token != "" {
		names = append(names, "x-amz-security-token")
	}
	var canonHdrs strings.Builder
	for _, n := range names {
		v := req.Header.Get(n)
		if n == "host" {
			v = req.URL.Host
		}
		canonHdrs.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	signed := strings.Join(names, ";")
	canon := strings.Join([]string{req.Method, req.URL.EscapedPath(), req.URL.RawQuery, canonHdrs.String(), signed, emptySHA}, "\n")
	scope := day + "/" + region + "/s3/aws4_request"
	h := sha256.Sum256([]byte(canon))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	mac := func(key []byte, s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	k := mac(mac(mac(mac([]byte("AWS4"+secret), day), region), "s3"), "aws4_request")
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		id, scope, signed, hex.EncodeToString(mac(k, toSign))))
}

// gcs checks that the service is reachable over TLS the runner trusts and
// that a key file, when named, is a readable JSON key. The credentials
// themselves are checked by sccache when it first reads or writes.
func (p *Prober) gcs(ctx context.Context, s *Settings) error {
	if path := p.Getenv("SCCACHE_GCS_KEY_PATH"); path != "" {
		b, err := p.readFile(path)
		if err != nil {
			return &Unusable{"SCCACHE_GCS_KEY_PATH: " + err.Error()}
		}
		var key struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(b, &key) != nil || key.Type == "" {
			return &Unusable{"SCCACHE_GCS_KEY_PATH does not name a JSON service-account key"}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, s.Endpoint, nil)
	if err != nil {
		return err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
