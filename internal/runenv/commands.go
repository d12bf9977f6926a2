package runenv

import (
	"fmt"
	"sort"
)

// Commands collects a step's environment exports, PATH additions and outputs
// so they are written together at the end of a successful step — a step that
// fails leaves GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT untouched.
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

// Commit writes everything recorded through the workflow command files. A file
// variable that is unset (a run outside a runner) makes its records printed to
// Stdout instead.
func (c *Commands) Commit(e *Env) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write workflow command file: %v", r)
		}
	}()
	a := e.Action()
	for _, k := range sortedKeys(c.env) {
		if e.Getenv("GITHUB_ENV") == "" {
			fmt.Fprintf(e.Stdout, "env %s=%s\n", k, c.env[k])
			continue
		}
		a.SetEnv(k, c.env[k])
	}
	for _, p := range c.paths {
		if e.Getenv("GITHUB_PATH") == "" {
			fmt.Fprintf(e.Stdout, "path %s\n", p)
			continue
		}
		a.AddPath(p)
	}
	for _, k := range sortedKeys(c.outputs) {
		if e.Getenv("GITHUB_OUTPUT") == "" {
			fmt.Fprintf(e.Stdout, "output %s=%s\n", k, c.outputs[k])
			continue
		}
		a.SetOutput(k, c.outputs[k])
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
