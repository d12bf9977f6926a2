// Package transport decides how a restore or save step moves the cache entry
// between the runner and the GitHub Actions cache: with the program's own
// client, handed to the nested actions/cache step that follows it in the
// action's steps, or not at all.
//
// The runner gives the cache-service credentials to JavaScript and container
// actions only, never to the `run:` steps the program runs in (actions/runner
// Handlers/ScriptHandler.cs). Where a step sees them anyway (act, self-hosted
// runners and GHES setups that export them, or the credential container step
// of the fast entry point) the program's client is used: it streams, checks
// every entry and is faster. Everywhere else — every GitHub-hosted runner,
// macOS and Windows included — the program computes the keys and paths and the
// nested actions/cache step moves the archive. The choice depends only on
// Facts, so it is tested for every operating system on any.
package transport

import (
	"fmt"
	"strings"

	"github.com/org/rustcache-action/internal/cacheservice"
)

// Op is the cache operation of a step.
type Op int

// The operations.
const (
	Restore Op = iota
	Save
)

func (o Op) String() string {
	if o == Save {
		return "save"
	}
	return "restore"
}

// Route is how an operation moves the entry.
type Route string

// The routes.
const (
	// Direct: the program's own client, with the credentials the step sees.
	Direct Route = "direct"
	// Nested: the program hands keys and paths to the nested actions/cache
	// step as step outputs; that step moves the archive.
	Nested Route = "actions-cache"
	// Skip: ACTIONS_CACHE_MODE does not allow the operation.
	Skip Route = "skip"
	// Off: no way to reach the cache from here; the build goes on with the
	// local cache and one warning.
	Off Route = "off"
)

// Env names the variables the action files set for the program's steps.
const (
	// NestedVar is "true" in the steps of an entry point that runs
	// actions/cache after them.
	NestedVar = "RUSTCACHE_NESTED"
	// ContainerVar holds the outcome of the credential container step of the
	// fast entry point ("success", "failure"; "skipped" or "" when it did
	// not run).
	ContainerVar = "RUSTCACHE_CONTAINER_STEP"
	// ForceVar selects a route by hand: auto (the default), direct or
	// actions-cache.
	ForceVar = "RUSTCACHE_TRANSPORT"
)

// Facts are what the choice depends on.
type Facts struct {
	OS          string // RUNNER_OS: Linux, macOS, Windows
	Op          Op
	Credentials bool              // the cache service's URL reaches this step
	Mode        cacheservice.Mode // ACTIONS_CACHE_MODE as this step sees it
	Nested      bool              // an actions/cache step follows in this entry point
	Container   string            // the credential container step's outcome, "" when it did not run
	Force       string            // ForceVar's value
}

// FactsFromEnv reads the facts the environment holds; the caller adds Op and
// Credentials.
func FactsFromEnv(getenv func(string) string) Facts {
	container := strings.TrimSpace(getenv(ContainerVar))
	if container == "skipped" {
		container = "" // the probe found the credentials already present
	}
	return Facts{
		OS:        getenv("RUNNER_OS"),
		Mode:      cacheservice.ModeFromEnv(getenv),
		Nested:    strings.TrimSpace(getenv(NestedVar)) == "true",
		Container: container,
		Force:     getenv(ForceVar),
	}
}

// Decision is the route and, for Off and Skip, why.
type Decision struct {
	Route  Route
	Reason string
}

// CheckForce reports an unknown ForceVar value as an error naming it.
func CheckForce(value string) error {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "auto", string(Direct), string(Nested):
		return nil
	}
	return fmt.Errorf("%s: invalid value %q: expected auto, direct or actions-cache", ForceVar, value)
}

// Choose picks the route. An unknown ForceVar value is an error naming it.
func Choose(f Facts) (Decision, error) {
	if err := CheckForce(f.Force); err != nil {
		return Decision{}, err
	}
	force := strings.ToLower(strings.TrimSpace(f.Force))
	if f.Mode.Known() && !allowed(f.Op, f.Mode) {
		return Decision{Skip, fmt.Sprintf("ACTIONS_CACHE_MODE=%s does not allow the %s", f.Mode, f.Op)}, nil
	}
	switch {
	case force == string(Nested) && f.Nested:
		return Decision{Route: Nested}, nil
	case force == string(Nested):
		return Decision{Off, ForceVar + "=actions-cache, but this step is not followed by an actions/cache step (use it through the action's own action.yml files)"}, nil
	case f.Credentials:
		return Decision{Route: Direct}, nil
	case force == string(Direct):
		return Decision{Off, ForceVar + "=direct, but " + missing(f)}, nil
	case f.Nested:
		return Decision{Route: Nested}, nil
	}
	return Decision{Off, missing(f)}, nil
}

func allowed(op Op, m cacheservice.Mode) bool {
	if op == Save {
		return m.CanWrite()
	}
	return m.CanRead()
}

// missing says why no credentials reach the step, for the runner at hand.
func missing(f Facts) string {
	msg := "no cache service credentials reach this step (ACTIONS_RESULTS_URL / ACTIONS_CACHE_URL are unset)"
	switch {
	case f.Container == "failure":
		msg += ": the credential container step failed (is Docker running on this runner?)"
	case f.Container != "":
		msg += ": the credential container step ran but handed none over"
	case f.OS != "" && f.OS != "Linux" && !f.Nested:
		msg += ": container steps run only on Linux"
	}
	return msg
}
