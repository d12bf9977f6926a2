package runenv

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"

	"github.com/org/rustcache-action/internal/ghcmd"
)

// Commands collects a step's environment exports, PATH additions and outputs
// so they are written together at the end of a successful step — a step that
// fails leaves GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT untouched. Every
// record goes through ghcmd's file-command writer (a random delimiter per
// value; names, values and PATH entries it cannot write safely refused).
type Commands struct {
	env     map[string]string
	paths   []string
	outputs map[string]string
}

// SetEnv records an environment export.
func (c *Commands) SetEnv(k, v string) {
	if c.env == nil {
		c.env = map[string]string{}
	}
	c.env[k] = v
}

// AddPath records a PATH addition.
func (c *Commands) AddPath(p string) { c.paths = append(c.paths, p) }

// SetOutput records a step output.
func (c *Commands) SetOutput(k, v string) {
	if c.outputs == nil {
		c.outputs = map[string]string{}
	}
	c.outputs[k] = v
}

// Env returns the recorded exports.
func (c *Commands) Env() map[string]string { return c.env }

// Commit writes everything recorded through the workflow command files. Every
// record is checked before the first is written, so a refused one leaves all
// files as they were. A file variable that is unset (a run outside a runner)
// makes its records printed to the log instead.
func (c *Commands) Commit(e *Env) error {
	files := map[string][]string{}
	var logged []string
	add := func(file, record, plain string) {
		if f := e.Getenv(file); f != "" {
			files[f] = append(files[f], record)
		} else {
			logged = append(logged, plain)
		}
	}
	for _, kv := range []struct {
		kind ghcmd.Kind
		file string
		m    map[string]string
	}{{ghcmd.Env, "GITHUB_ENV", c.env}, {ghcmd.Output, "GITHUB_OUTPUT", c.outputs}} {
		what := map[ghcmd.Kind]string{ghcmd.Env: "env", ghcmd.Output: "output"}[kv.kind]
		for _, k := range slices.Sorted(maps.Keys(kv.m)) {
			rec, err := ghcmd.Record(kv.kind, k, kv.m[k], rand.Reader)
			if err != nil {
				return fmt.Errorf("%s %s: %w", kv.file, k, err)
			}
			add(kv.file, rec, what+" "+k+"="+kv.m[k])
		}
	}
	for _, p := range c.paths {
		rec, err := ghcmd.PathRecord(p)
		if err != nil {
			return fmt.Errorf("GITHUB_PATH: %w", err)
		}
		add("GITHUB_PATH", rec, "path "+p)
	}
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if err := ghcmd.Append(f, files[f]...); err != nil {
			return err
		}
	}
	for _, l := range logged {
		e.Log().Printf("%s", l)
	}
	return nil
}

// AppendSummary appends markdown to the job summary (GITHUB_STEP_SUMMARY);
// it reports false when the variable is unset.
func (e *Env) AppendSummary(md string) (bool, error) {
	f := e.Getenv("GITHUB_STEP_SUMMARY")
	if f == "" {
		return false, nil
	}
	return true, ghcmd.Append(f, md)
}
