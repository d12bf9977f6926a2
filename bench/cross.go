package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchCross is benchmark 1 through the cross stand-in (test/crossbox): the
// same three cases, with setup's cross input on, so that the build runs in
// a bubblewrap sandbox laid out like a cross container and its own sccache
// server writes the shared disk cache. It returns a note instead when the
// stand-in is missing or does not work here (no bubblewrap, no user
// namespaces, a build that fails without the action involved).
func benchCross(ctx context.Context, env *benchEnv, t *table, c crate) (string, error) {
	if _, err := os.Stat(filepath.Join(env.repo, "test", "crossbox", "cmd", "cross")); err != nil {
		return "test/crossbox/cmd/cross does not exist", nil
	}
	if !hasTool("bwrap") {
		return "bwrap is not installed", nil
	}
	dir := filepath.Join(env.scratch, "crossbin")
	cross := filepath.Join(dir, "cross")
	build := exec.CommandContext(ctx, "go", "build", "-o", cross, "./test/crossbox/cmd/cross")
	build.Dir = env.repo
	if out, err := build.CombinedOutput(); err != nil {
		return "the cross stand-in does not build: " + firstLine(string(out)), nil
	}
	// A plain build of the tiny crate in the sandbox tells whether the
	// stand-in works on this machine at all.
	probe := filepath.Join(env.scratch, "crossprobe")
	if err := tinyCrate().prepare(probe); err != nil {
		return "", err
	}
	defer os.RemoveAll(probe)
	if _, err := runCargo(ctx, cross, probe, withPath(cargoEnv(nil, nil), dir), "build", "-q"); err != nil {
		return "the cross stand-in cannot build here: " + lastLine(err.Error()), nil
	}
	_, err := benchJobs(ctx, env, t, c, builder{name: "cross", program: cross, setupInputs: map[string]string{"cross": "true"}, path: dir}, "")
	return "", err
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return fmt.Sprint(s)
}
