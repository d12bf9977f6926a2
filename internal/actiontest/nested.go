package actiontest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
)

// Nested runs the stand-in for actions/cache/<action> (test/interop/
// actions-cache, on the official @actions/cache client) the way the runner
// runs a JavaScript action nested in a composite: inputs as INPUT_*, its own
// GITHUB_OUTPUT, and the cache-service variables in service, which the runner
// gives JavaScript actions but not run steps. It returns the step's outputs,
// its log and whether it succeeded.
func (r *Runner) Nested(action string, inputs, service map[string]string) (outputs map[string]string, log string, ok bool) {
	r.T.Helper()
	node := testkit.NeedTool(r.T, "node")
	dir := fakecache.InteropDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "cache", "package.json")); err != nil {
		r.T.Skip("test/interop/node_modules is missing: run npm ci in test/interop")
	}
	out := filepath.Join(r.Dir, "cmdfiles", "nested-"+action+"-github_output")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		r.T.Fatal(err)
	}
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		r.T.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "INPUT_") {
			continue
		}
		env = append(env, kv)
	}
	for _, m := range []map[string]string{r.Env, service} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	env = append(env, "GITHUB_OUTPUT="+out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "actions-cache", action, "main.js"))
	cmd.Dir, cmd.Env = r.Workspace, env
	b, err := cmd.CombinedOutput()
	return ParseKV(read(out)), string(b), err == nil
}
