package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/org/rustcache-action/internal/release"
	"github.com/org/rustcache-action/internal/rootdir"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/state"
)

// unreachableError is a failure to resolve or download the sccache release
// that is a fault of the network or the release server, or of its speed —
// not of the configuration, and not of the bytes (a checksum mismatch stays
// a ConfigError).
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// fetchFailed classifies an error of resolving or installing the release.
func fetchFailed(err error) error {
	if errors.Is(err, release.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return &unreachableError{err}
	}
	return &ConfigError{err}
}

// withoutSccache lets the job go on without sccache after the release could
// not be fetched — unless fail-on-cache-error asks for a failure. Nothing
// is installed and nothing points a build at sccache: no RUSTC_WRAPPER nor
// any other sccache variable, no PATH entry, the cross configuration left
// as it is. Only the root's state records why (with RUSTCACHE_ROOT, so that
// restore and save find it and skip with a notice), and one warning says
// what happened and what to do.
func withoutSccache(e *runenv.Env, o *Options, ue *unreachableError) (*Result, error) {
	what := "sccache could not be downloaded"
	if errors.Is(ue, context.DeadlineExceeded) {
		what = fmt.Sprintf("sccache could not be downloaded within %s (setup-timeout-minutes)", o.Timeout)
	}
	msg := fmt.Sprintf("%s: %v", what, ue.err)
	if o.FailOnError {
		return nil, fmt.Errorf("%s (fail-on-cache-error is set)", msg)
	}
	if err := rootdir.Prepare(o.Root); err != nil {
		return nil, &ConfigError{fmt.Errorf("input cache-root: %w", err)}
	}
	// A fresh state: nothing of an earlier setup of this root applies.
	if err := state.Save(o.Root, &state.State{WithoutSccache: msg}); err != nil {
		return nil, &ConfigError{fmt.Errorf("input cache-root: %w", err)}
	}
	var cmds runenv.Commands
	cmds.SetEnv(RootVar, o.Root)
	cmds.SetOutput("cache-root", o.Root)
	if err := cmds.Commit(e); err != nil {
		return nil, err
	}
	e.Log().Warningf("%s — the build goes on without sccache (RUSTC_WRAPPER is not set, the cross configuration is left as it is) and without the cache; a later run tries again. If this runner cannot reach the release server, set sccache-url to a mirror; if the server is only slow, raise setup-timeout-minutes; set fail-on-cache-error to fail the step instead", msg)
	return &Result{WithoutSccache: msg}, nil
}
