package setup

import (
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/backend"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/sccache"
	"github.com/org/rustcache-action/internal/state"
)

// decideBackend configures and checks the remote backend with the installed
// sccache (a server of its own on a free port) and a probe of the store.
func decideBackend(ctx context.Context, e *runenv.Env, o *Options, version, sccachePath string, exports map[string]string) backend.Decision {
	if !o.Backend.Remote() {
		return backend.Decision{}
	}
	base := childEnv(e, exports)
	try := func(ctx context.Context, extra []string) (string, error) {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		env := append(append(append([]string{}, base...), extra...), "SCCACHE_SERVER_PORT="+strconv.Itoa(port))
		r := &sccache.Runner{Path: sccachePath, Env: env, Command: e.Command, Timeout: 20 * time.Second}
		if err := r.StartServer(ctx); err != nil {
			return "", err
		}
		defer r.StopServer(context.WithoutCancel(ctx))
		st, err := r.Stats(ctx)
		if err != nil {
			return "", err
		}
		return st.CacheLocation, nil
	}
	return backend.Decide(ctx, backend.Request{
		Options: o.Backend, Version: version, Getenv: e.Getenv, ReadFile: os.ReadFile, TryServer: try,
		Prober: &backend.Prober{Getenv: e.Getenv, HTTP: e.HTTP, Now: e.Now},
	})
}

// freePort is a loopback port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// caBundles are where Linux distributions keep the system CA bundle.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu (GitHub's runners)
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",             // openSUSE
	"/etc/ssl/cert.pem",                  // Alpine
}

// caBundle is the CA bundle to name in SSL_CERT_FILE for containers, which
// cross images often lack: the user's own when SSL_CERT_FILE is set (then
// nothing is exported), else the runner's system bundle.
func caBundle(getenv func(string) string, goos string) string {
	if goos != "Linux" || getenv("SSL_CERT_FILE") != "" {
		return ""
	}
	for _, f := range caBundles {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			return f
		}
	}
	return ""
}

// wrapperPrelude is the wrapper script's environment section: on a
// fallback, every backend variable is removed before sccache starts its
// server, so a credential left in the job's env cannot select the store.
func wrapperPrelude(o backend.Options, d backend.Decision) string {
	if !o.Remote() || d.Active {
		return ""
	}
	names := backend.AllNames()
	sort.Strings(names)
	return "# The remote cache is not used in this job (see the setup step's warning).\nunset " + strings.Join(names, " ") + "\n"
}

// backendState is what save and restore need to know of the backend.
func backendState(o backend.Options, d backend.Decision) *state.Backend {
	if !o.Remote() {
		return nil
	}
	b := &state.Backend{Kind: string(o.Kind), Active: d.Active, Fallback: d.Fallback, Trust: d.Trust.Reason}
	if d.Settings != nil {
		b.ReadOnly, b.Chain, b.Describe = d.Settings.ReadOnly, d.Settings.Chain, d.Settings.Describe()
	}
	return b
}

// reportBackend logs the backend's outcome: one warning on a fallback.
func reportBackend(e *runenv.Env, o backend.Options, d backend.Decision) {
	if !o.Remote() {
		return
	}
	log := e.Log()
	if d.Settings != nil {
		for _, n := range d.Settings.Notes {
			log.Noticef("%s", n)
		}
	}
	if !d.Active {
		log.Warningf("%s", d.Message(o.Kind))
		return
	}
	mode := ""
	if d.Trust.Untrusted && d.Settings.ReadOnly {
		mode = " — read-only: " + d.Trust.Reason
	}
	log.Printf("remote cache: %s%s", d.Settings.Describe(), mode)
}
