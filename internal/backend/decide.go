package backend

import (
	"context"
	"fmt"
	"strings"
)

// Decision is what setup does about the remote backend.
type Decision struct {
	// Settings are the backend's variables when it is used (Active), or as
	// far as they were computed when it is not.
	Settings *Settings
	// Active is true when builds use the store.
	Active bool
	// Fallback is why the store is not used ("" when Active or no backend).
	Fallback string
	// Trust is the run's trust, for the read-only mode.
	Trust Trust
}

// Request is everything Decide needs.
type Request struct {
	Options Options
	// Version is the installed sccache release.
	Version string
	Getenv  func(string) string
	// ReadFile reads the event payload.
	ReadFile func(string) ([]byte, error)
	// TryServer starts an sccache server with the extra variables env (on a
	// port of its own), returns its cache location and stops it. An error
	// means sccache cannot use the configuration.
	TryServer func(ctx context.Context, env []string) (string, error)
	// Prober checks the store itself.
	Prober *Prober
}

// Decide configures the backend for this run and checks it: the release
// must have the backend (a server started with it), and the store must
// answer with the credentials over trusted TLS. Every failure is a fallback
// to the local disk cache with its reason, never an error: the build goes on.
func Decide(ctx context.Context, r Request) Decision {
	o := r.Options
	if !o.Remote() {
		return Decision{}
	}
	d := Decision{Trust: DetectTrust(r.Getenv, r.ReadFile)}
	readOnly := ReadOnly(o.ReadOnly, d.Trust)
	s, err := Configure(o, r.Version, readOnly, r.Getenv)
	if err != nil {
		d.Fallback = err.Error()
		if readOnly && d.Trust.Untrusted && o.ReadOnly == "auto" {
			d.Fallback += " (read-only because this is a " + d.Trust.Reason + ")"
		}
		return d
	}
	d.Settings = s
	// The store first: its reason (unreachable, credentials, TLS) is the
	// one a user can act on; then sccache itself, which may lack the backend.
	if r.Prober != nil {
		if err := r.Prober.Check(ctx, s); err != nil {
			d.Fallback = err.Error()
			return d
		}
	}
	if r.TryServer != nil {
		if _, err := r.TryServer(ctx, s.Env()); err != nil {
			d.Fallback = serverReason(r.Version, o.Kind, err)
			return d
		}
	}
	d.Active = true
	return d
}

// serverReason explains why sccache refused to start with the backend.
func serverReason(version string, k Kind, err error) string {
	msg := err.Error()
	if strings.Contains(msg, "cache type is not enabled") {
		return fmt.Sprintf("the installed sccache %s was built without the %s backend (its server says \"cache type is not enabled\"); install a release that has it (sccache-version)", version, k)
	}
	if i := strings.LastIndex(msg, "error: "); i >= 0 {
		msg = msg[i+len("error: "):]
	}
	return fmt.Sprintf("sccache %s could not start with the %s backend: %s", version, k, Redact(strings.TrimSpace(msg)))
}

// Message is the warning for a fallback.
func (d Decision) Message(k Kind) string {
	return fmt.Sprintf("remote cache %s not used: %s — builds use the local disk cache", k, d.Fallback)
}
