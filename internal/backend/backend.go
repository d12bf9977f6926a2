// Package backend configures sccache's remote storage — Redis, S3 and
// S3-compatible stores, Google Cloud Storage, Azure Blob, WebDAV and
// memcached — as an alternative to carrying the local disk cache through the
// GitHub Actions cache.
//
// The action owns the settings that select a backend (the bucket, the
// endpoint, the container: non-secret inputs it exports under sccache's
// variable names) and never the credentials: those come from secrets the
// user maps into the job's env: under their sccache names, are masked, and
// reach cross containers by name only (passthrough), never as values.
//
// Before a backend is used, [Decide] checks that the installed sccache was
// built with it (a server started with the backend's settings) and that the
// store answers with the given credentials over TLS the runner trusts
// (a protocol-level probe). Any failure falls back to the local disk cache
// with one warning; the wrapper script then removes every backend variable
// from the environment of the sccache it starts, so a credential left in the
// job's env cannot switch the fallback back to the store.
//
// Facts about sccache releases this package relies on (src/config.rs of each
// tag):
//
//   - 0.4: SCCACHE_REDIS (a URL, password inside), SCCACHE_MEMCACHED,
//     SCCACHE_BUCKET/SCCACHE_ENDPOINT/SCCACHE_REGION/SCCACHE_S3_USE_SSL/
//     SCCACHE_S3_KEY_PREFIX/SCCACHE_S3_NO_CREDENTIALS with AWS_*,
//     SCCACHE_GCS_* with SCCACHE_GCS_RW_MODE (READ_ONLY unless set),
//     SCCACHE_AZURE_CONNECTION_STRING/SCCACHE_AZURE_BLOB_CONTAINER/
//     SCCACHE_AZURE_KEY_PREFIX; SCCACHE_WEBDAV_* from 0.4.0 final.
//   - 0.8: SCCACHE_REDIS_ENDPOINT with SCCACHE_REDIS_USERNAME/PASSWORD
//     (SCCACHE_REDIS still read), SCCACHE_MEMCACHED_ENDPOINT,
//     SCCACHE_LOCAL_RW_MODE.
//   - 0.15: SCCACHE_MULTILEVEL_CHAIN (e.g. "disk,redis").
//   - 0.16: SCCACHE_<BACKEND>_RW_MODE=READ_ONLY for every backend.
//
// A release without a backend's feature refuses to start its server ("cache
// type is not enabled") and every compile through it fails — Debian's
// sccache 0.4.0~pre6 is built without any remote backend.
package backend

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/org/rustcache-action/internal/inputs"
)

// Kind names a backend.
type Kind string

// The backends. GHA means no remote backend: the local disk cache carried
// through the GitHub Actions cache by restore and save.
const (
	GHA       Kind = "gha"
	Redis     Kind = "redis"
	S3        Kind = "s3"
	GCS       Kind = "gcs"
	Azure     Kind = "azure"
	WebDAV    Kind = "webdav"
	Memcached Kind = "memcached"
)

// Kinds lists every accepted value of the backend input.
var Kinds = []Kind{GHA, Redis, S3, GCS, Azure, WebDAV, Memcached}

// Options are the backend inputs of setup.
type Options struct {
	Kind      Kind
	Endpoint  string // redis/memcached URL, S3 endpoint, WebDAV URL
	Bucket    string // S3 and GCS
	Region    string // S3
	KeyPrefix string
	Container string // Azure
	// ReadOnly is auto (read-only for pull requests from forks), true or false.
	ReadOnly string
	// KeepLocal keeps the local disk cache (and its GitHub Actions cache
	// entry) as the first level of a multi-level chain.
	KeepLocal bool
}

// Remote reports whether a remote backend is selected.
func (o Options) Remote() bool { return o.Kind != "" && o.Kind != GHA }

// ReadOptions reads and validates the backend inputs. Values are never
// echoed when they could hold a credential.
func ReadOptions(r *inputs.Reader) Options {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	o := Options{
		Kind:      Kind(r.OneOf("backend", string(GHA), names...)),
		Endpoint:  r.String("backend-endpoint", ""),
		Bucket:    r.String("backend-bucket", ""),
		Region:    r.String("backend-region", ""),
		KeyPrefix: r.String("backend-key-prefix", ""),
		Container: r.String("backend-container", ""),
		ReadOnly:  r.OneOf("backend-read-only", "auto", "auto", "true", "false"),
		KeepLocal: r.Bool("backend-keep-local", false),
	}
	if u, err := url.Parse(o.Endpoint); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			r.Check(false, "backend-endpoint", Redact(o.Endpoint),
				"expected a URL without a password: map the password from a secret into env: as "+passwordVar(o.Kind))
		}
	}
	only := func(name, value string, kinds ...Kind) {
		for _, k := range kinds {
			if o.Kind == k {
				return
			}
		}
		list := make([]string, len(kinds))
		for i, k := range kinds {
			list[i] = string(k)
		}
		r.Check(value == "", name, value, "only used with backend "+strings.Join(list, " or "))
	}
	only("backend-bucket", o.Bucket, S3, GCS)
	only("backend-region", o.Region, S3)
	only("backend-container", o.Container, Azure)
	only("backend-endpoint", Redact(o.Endpoint), Redis, S3, WebDAV, Memcached)
	only("backend-key-prefix", o.KeyPrefix, Redis, S3, GCS, Azure, WebDAV, Memcached)
	if o.KeepLocal {
		only("backend-keep-local", "true", Redis, S3, GCS, Azure, WebDAV, Memcached)
	}
	switch o.Kind {
	case S3, GCS:
		r.Check(o.Bucket != "", "backend-bucket", "", "a bucket name is required with backend "+string(o.Kind))
	case Azure:
		r.Check(o.Container != "", "backend-container", "", "a blob container name is required with backend azure")
	case WebDAV:
		r.Check(o.Endpoint != "", "backend-endpoint", "", "the WebDAV URL is required with backend webdav")
	}
	if o.Endpoint != "" && (o.Kind == WebDAV) {
		r.Check(strings.HasPrefix(o.Endpoint, "https://") || strings.HasPrefix(o.Endpoint, "http://"),
			"backend-endpoint", o.Endpoint, "expected an http(s) URL")
	}
	return o
}

func passwordVar(k Kind) string {
	switch k {
	case Memcached:
		return "SCCACHE_MEMCACHED_PASSWORD"
	case WebDAV:
		return "SCCACHE_WEBDAV_PASSWORD"
	default:
		return "SCCACHE_REDIS_PASSWORD"
	}
}

// family is what sccache reads for one backend.
type family struct {
	// names are every variable of the backend, settings and credentials:
	// passed into cross containers by name, removed on fallback.
	names []string
	// secrets are the credentials among them (masked, never exported).
	secrets []string
	// files name variables holding the path of a credential file, which a
	// container needs mounted.
	files []string
	// rwMode is the read-only switch (0.16 and later; GCS in every release).
	rwMode string
	// chain is the backend's name in SCCACHE_MULTILEVEL_CHAIN.
	chain string
}

var families = map[Kind]family{
	Redis: {
		names: []string{"SCCACHE_REDIS", "SCCACHE_REDIS_ENDPOINT", "SCCACHE_REDIS_CLUSTER_ENDPOINTS", "SCCACHE_REDIS_USERNAME",
			"SCCACHE_REDIS_PASSWORD", "SCCACHE_REDIS_DB", "SCCACHE_REDIS_EXPIRATION", "SCCACHE_REDIS_TTL", "SCCACHE_REDIS_KEY_PREFIX", "SCCACHE_REDIS_RW_MODE"},
		secrets: []string{"SCCACHE_REDIS", "SCCACHE_REDIS_PASSWORD", "SCCACHE_REDIS_ENDPOINT", "SCCACHE_REDIS_CLUSTER_ENDPOINTS"},
		rwMode:  "SCCACHE_REDIS_RW_MODE", chain: "redis",
	},
	S3: {
		names: []string{"SCCACHE_BUCKET", "SCCACHE_ENDPOINT", "SCCACHE_REGION", "SCCACHE_S3_USE_SSL", "SCCACHE_S3_KEY_PREFIX",
			"SCCACHE_S3_NO_CREDENTIALS", "SCCACHE_S3_SERVER_SIDE_ENCRYPTION", "SCCACHE_S3_ENABLE_VIRTUAL_HOST_STYLE", "SCCACHE_S3_RW_MODE",
			"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"},
		secrets: []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
		rwMode:  "SCCACHE_S3_RW_MODE", chain: "s3",
	},
	GCS: {
		names: []string{"SCCACHE_GCS_BUCKET", "SCCACHE_GCS_KEY_PREFIX", "SCCACHE_GCS_RW_MODE", "SCCACHE_GCS_KEY_PATH",
			"SCCACHE_GCS_CREDENTIALS_URL", "SCCACHE_GCS_SERVICE_ACCOUNT", "SCCACHE_GCS_OAUTH_URL"},
		secrets: []string{"SCCACHE_GCS_CREDENTIALS_URL", "SCCACHE_GCS_OAUTH_URL"},
		files:   []string{"SCCACHE_GCS_KEY_PATH"},
		rwMode:  "SCCACHE_GCS_RW_MODE", chain: "gcs",
	},
	Azure: {
		names:   []string{"SCCACHE_AZURE_CONNECTION_STRING", "SCCACHE_AZURE_BLOB_CONTAINER", "SCCACHE_AZURE_KEY_PREFIX", "SCCACHE_AZURE_RW_MODE"},
		secrets: []string{"SCCACHE_AZURE_CONNECTION_STRING"},
		rwMode:  "SCCACHE_AZURE_RW_MODE", chain: "azure",
	},
	WebDAV: {
		names: []string{"SCCACHE_WEBDAV_ENDPOINT", "SCCACHE_WEBDAV_KEY_PREFIX", "SCCACHE_WEBDAV_USERNAME", "SCCACHE_WEBDAV_PASSWORD",
			"SCCACHE_WEBDAV_TOKEN", "SCCACHE_WEBDAV_RW_MODE"},
		secrets: []string{"SCCACHE_WEBDAV_PASSWORD", "SCCACHE_WEBDAV_TOKEN"},
		rwMode:  "SCCACHE_WEBDAV_RW_MODE", chain: "webdav",
	},
	Memcached: {
		names: []string{"SCCACHE_MEMCACHED", "SCCACHE_MEMCACHED_ENDPOINT", "SCCACHE_MEMCACHED_USERNAME", "SCCACHE_MEMCACHED_PASSWORD",
			"SCCACHE_MEMCACHED_EXPIRATION", "SCCACHE_MEMCACHED_KEY_PREFIX", "SCCACHE_MEMCACHED_RW_MODE"},
		secrets: []string{"SCCACHE_MEMCACHED", "SCCACHE_MEMCACHED_ENDPOINT", "SCCACHE_MEMCACHED_PASSWORD"},
		rwMode:  "SCCACHE_MEMCACHED_RW_MODE", chain: "memcached",
	},
}

// AllNames lists the variables of every remote backend and the multi-level
// chain: what the wrapper removes from sccache's environment on fallback.
func AllNames() []string {
	var out []string
	for _, k := range Kinds {
		out = append(out, families[k].names...)
	}
	return append(out, "SCCACHE_MULTILEVEL_CHAIN", "SCCACHE_GHA_ENABLED", "SCCACHE_GHA_VERSION")
}

// CAVars name the CA bundle a container needs for TLS to the store.
var CAVars = []string{"SSL_CERT_FILE", "SSL_CERT_DIR"}

// CrossNames are the passthrough and volume names cross containers need for
// backend k: its variables by name (cross passes only those set on the
// host), the CA bundle by name and mounted, and credential files mounted.
func CrossNames(k Kind) (passthrough, volumes []string) {
	f, ok := families[k]
	if !ok {
		return nil, nil
	}
	passthrough = append(append(append([]string{}, f.names...), CAVars...), "SCCACHE_MULTILEVEL_CHAIN")
	volumes = append(append([]string{}, CAVars...), f.files...)
	return passthrough, volumes
}

// Secrets returns the credential values of backend k present in the
// environment, and the password inside any of its variables that holds a
// URL, for masking.
func Secrets(k Kind, getenv func(string) string) []string {
	var out []string
	f := families[k]
	for _, n := range f.names {
		v := strings.TrimSpace(getenv(n))
		if v == "" {
			continue
		}
		if slices.Contains(f.secrets, n) {
			out = append(out, v)
		}
		out = append(out, urlPasswords(v)...)
	}
	return out
}

var userinfoRE = regexp.MustCompile(`://([^/@\s]*)@`)

// urlPasswords finds the passwords of URLs in s (a comma-separated list of
// URLs counts too).
func urlPasswords(s string) []string {
	var out []string
	for _, m := range userinfoRE.FindAllStringSubmatch(s, -1) {
		if _, pw, ok := strings.Cut(m[1], ":"); ok && pw != "" {
			out = append(out, pw)
			if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
				out = append(out, dec)
			}
		}
	}
	return out
}

// Redact replaces the user information of URLs in s with "***".
func Redact(s string) string {
	return userinfoRE.ReplaceAllString(s, "://***@")
}

// release is a parsed sccache version.
type release struct{ major, minor int }

var versionRE = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)`)

func parseRelease(v string) release {
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return release{}
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return release{a, b}
}

func (r release) atLeast(major, minor int) bool {
	return r.major > major || r.major == major && r.minor >= minor
}

func (r release) String() string { return fmt.Sprintf("%d.%d", r.major, r.minor) }
