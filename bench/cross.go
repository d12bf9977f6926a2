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
	b, note, err := crossBuilder(ctx, env)
	if err != nil || note != "" {
		return note, err
	}
	_, err = benchJobs(ctx, env, t, c, *b, "")
	return "", err
}

// crossBuilder builds the cross stand-in and checks that it works here; a
// note says why it cannot be used.
func crossBuilder(ctx context.Context, env *benchEnv) (*builder, string, error) {
	if _, err := os.Stat(filepath.Join(env.repo, "test", "crossbox", "cmd", "cross")); err != nil {
		return nil, "test/crossbox/cmd/cross does not exist", nil
	}
	if !hasTool("bwrap") {
		return nil, "bwrap is not installed", nil
	}
	dir := filepath.Join(env.scratch, "crossbin")
	cross := filepath.Join(dir, "cross")
	b := &builder{name: "cross", program: cross, setupInputs: map[string]string{"cross": "true"}, path: dir}
	if _, err := os.Stat(cross); err == nil {
		return b, "", nil
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", cross, "./test/crossbox/cmd/cross")
	build.Dir = env.repo
	if out, err := build.CombinedOutput(); err != nil {
		return nil, "the cross stand-in does not build: " + firstLine(string(out)), nil
	}
	// A plain build of the tiny crate in the sandbox tells whether the
	// stand-in works on this machine at all.
	probe := filepath.Join(env.scratch, "crossprobe")
	if err := tinyCrate().prepare(probe); err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(probe)
	if _, err := runCargo(ctx, cross, probe, withPath(cargoEnv(nil, nil), dir), "build", "-q"); err != nil {
		os.Remove(cross)
		return nil, "the cross stand-in cannot build here: " + lastLine(err.Error()), nil
	}
	return b, "", nil
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
