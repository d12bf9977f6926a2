package backend

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Settings is a backend configuration for one sccache release: the
// variables the action exports and what it needs from the environment.
type Settings struct {
	Kind Kind
	// Exports are the non-secret variables the action sets (GITHUB_ENV).
	Exports map[string]string
	// Endpoint is the store's address, for the probe and the report
	// (credentials redacted in the report).
	Endpoint string
	// ReadOnly means sccache reads from the store and never writes to it.
	ReadOnly bool
	// Chain is true when the local disk cache stays the first level.
	Chain bool
	// Notes are things the user should know (a setting this release does
	// not have); not faults.
	Notes []string
}

// Unusable is why a backend cannot be used as configured: the build falls
// back to the local disk cache.
type Unusable struct{ Reason string }

func (u *Unusable) Error() string { return u.Reason }

// Configure computes the settings of o for the sccache release version.
// readOnly is the decided read-only mode. It returns *Unusable when the
// release cannot honour the configuration (no read-only switch for an
// untrusted run, missing credentials).
func Configure(o Options, version string, readOnly bool, getenv func(string) string) (*Settings, error) {
	rel := parseRelease(version)
	f := families[o.Kind]
	s := &Settings{Kind: o.Kind, Exports: map[string]string{}, ReadOnly: readOnly}
	set := func(k, v string) {
		if v != "" {
			s.Exports[k] = v
		}
	}
	endpoint := o.Endpoint
	hasRW := rel.atLeast(0, 16) || o.Kind == GCS
	anonymous := false
	switch o.Kind {
	case Redis, Memcached:
		// 0.8 renamed the address variable (SCCACHE_REDIS → _ENDPOINT,
		// SCCACHE_MEMCACHED → _ENDPOINT) and added a key prefix.
		name := map[Kind]string{Redis: "REDIS", Memcached: "MEMCACHED"}[o.Kind]
		oldVar, newVar := "SCCACHE_"+name, "SCCACHE_"+name+"_ENDPOINT"
		switch {
		case endpoint != "" && rel.atLeast(0, 8):
			set(newVar, endpoint)
		case endpoint != "" && o.Kind == Redis && getenv("SCCACHE_REDIS_PASSWORD") != "":
			return nil, &Unusable{fmt.Sprintf("sccache %s reads a Redis password only inside SCCACHE_REDIS (SCCACHE_REDIS_PASSWORD needs 0.8 or later): map the whole URL from a secret as SCCACHE_REDIS instead of backend-endpoint", rel)}
		case endpoint != "":
			set(oldVar, endpoint)
		case getenv(newVar) != "" && rel.atLeast(0, 8):
			endpoint = getenv(newVar)
		case o.Kind == Redis && getenv("SCCACHE_REDIS_CLUSTER_ENDPOINTS") != "" && rel.atLeast(0, 8):
			// The probe checks the first node.
			endpoint = getenv("SCCACHE_REDIS_CLUSTER_ENDPOINTS")
		case getenv(oldVar) != "":
			endpoint = getenv(oldVar)
		default:
			return nil, &Unusable{fmt.Sprintf("no %s address: set backend-endpoint (or %s in env:)", o.Kind, oldVar)}
		}
		if o.KeyPrefix != "" {
			if rel.atLeast(0, 8) {
				set("SCCACHE_"+name+"_KEY_PREFIX", o.KeyPrefix)
			} else {
				s.Notes = append(s.Notes, fmt.Sprintf("backend-key-prefix is ignored: sccache %s has no key prefix for %s (0.8 and later)", rel, o.Kind))
			}
		}
	case S3:
		set("SCCACHE_BUCKET", o.Bucket)
		if endpoint != "" {
			u, err := url.Parse(endpoint)
			if err == nil && u.Host != "" {
				// Releases before the OpenDAL rewrite take a host and a
				// separate TLS switch; a URL's scheme decides the switch.
				set("SCCACHE_S3_USE_SSL", fmt.Sprint(u.Scheme == "https"))
				if !rel.atLeast(0, 5) {
					endpoint = u.Host
				}
			}
			set("SCCACHE_ENDPOINT", endpoint)
		}
		set("SCCACHE_REGION", o.Region)
		set("SCCACHE_S3_KEY_PREFIX", o.KeyPrefix)
		hasKey := getenv("AWS_ACCESS_KEY_ID") != "" || getenv("AWS_PROFILE") != ""
		if readOnly && !hasKey {
			// Anonymous reads: a public bucket serves them, writes are impossible.
			set("SCCACHE_S3_NO_CREDENTIALS", "true")
			anonymous = true
		}
		if endpoint == "" {
			endpoint = "https://s3.amazonaws.com"
		}
	case GCS:
		set("SCCACHE_GCS_BUCKET", o.Bucket)
		set("SCCACHE_GCS_KEY_PREFIX", o.KeyPrefix)
		endpoint = "https://storage.googleapis.com"
	case Azure:
		set("SCCACHE_AZURE_BLOB_CONTAINER", o.Container)
		set("SCCACHE_AZURE_KEY_PREFIX", o.KeyPrefix)
		cs := getenv("SCCACHE_AZURE_CONNECTION_STRING")
		if cs == "" {
			return nil, &Unusable{"SCCACHE_AZURE_CONNECTION_STRING is not set (map it from a secret into env:; pull requests from forks get no secrets)"}
		}
		endpoint = azureEndpoint(cs)
	case WebDAV:
		if !rel.atLeast(0, 4) {
			return nil, &Unusable{fmt.Sprintf("sccache %s has no WebDAV backend (0.4 and later)", rel)}
		}
		set("SCCACHE_WEBDAV_ENDPOINT", endpoint)
		set("SCCACHE_WEBDAV_KEY_PREFIX", o.KeyPrefix)
	default:
		return nil, fmt.Errorf("backend %q has no settings", o.Kind)
	}
	s.Endpoint = endpoint
	switch {
	case readOnly && hasRW:
		set(f.rwMode, "READ_ONLY")
	case readOnly && !anonymous:
		return nil, &Unusable{fmt.Sprintf("this run is read-only and sccache %s has no read-only mode for %s (0.16 and later)", rel, o.Kind)}
	case !readOnly && o.Kind == GCS:
		// GCS defaults to read-only in every release.
		set(f.rwMode, "READ_WRITE")
	}
	if o.KeepLocal {
		if rel.atLeast(0, 15) {
			set("SCCACHE_MULTILEVEL_CHAIN", "disk,"+f.chain)
			s.Chain = true
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("backend-keep-local is unavailable: sccache %s has no multi-level cache (0.15 and later); the store alone holds the cache", rel))
		}
	}
	return s, nil
}

// Env returns the exports as NAME=value entries, sorted.
func (s *Settings) Env() []string {
	out := make([]string, 0, len(s.Exports))
	for k, v := range s.Exports {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Describe is a one-line description for logs and the summary: the backend,
// its address without credentials, and its mode.
func (s *Settings) Describe() string {
	mode := "read-write"
	if s.ReadOnly {
		mode = "read-only"
	}
	d := string(s.Kind)
	if s.Endpoint != "" {
		d += " at " + Redact(s.Endpoint)
	}
	if b := s.Exports["SCCACHE_BUCKET"] + s.Exports["SCCACHE_GCS_BUCKET"]; b != "" {
		d += ", bucket " + b
	}
	if c := s.Exports["SCCACHE_AZURE_BLOB_CONTAINER"]; c != "" {
		d += ", container " + c
	}
	d += " (" + mode
	if s.Chain {
		d += ", local disk cache as first level"
	}
	return d + ")"
}

// azureEndpoint is the blob endpoint a connection string names.
func azureEndpoint(cs string) string {
	p := parseConnectionString(cs)
	if e := p["blobendpoint"]; e != "" {
		return strings.TrimRight(e, "/")
	}
	proto := p["defaultendpointsprotocol"]
	if proto == "" {
		proto = "https"
	}
	suffix := p["endpointsuffix"]
	if suffix == "" {
		suffix = "core.windows.net"
	}
	return proto + "://" + p["accountname"] + ".blob." + suffix
}

// parseConnectionString splits an Azure Storage connection string into
// lower-cased keys and their values.
func parseConnectionString(cs string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(cs, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}
