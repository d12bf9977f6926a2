package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/cacheservice"
)

// rustCacheVersion is the cache version under which the emulation of
// Swatinem/rust-cache stores the target directory.
var rustCacheVersion = cacheservice.Version([]string{"target"}, cacheservice.CompressionZstd, false)

// rustCachePackages returns what Swatinem/rust-cache v2.9.2 keeps in a
// target directory (src/workspace.ts): the names of the packages outside
// the workspace root (cargo metadata --all-features) and their library-like
// target names, "-" turned into "_".
func rustCachePackages(ctx context.Context, ws string, env []string) (pkgs, deps map[string]bool, err error) {
	cmd := exec.CommandContext(ctx, "cargo", "metadata", "--all-features", "--format-version", "1")
	cmd.Dir, cmd.Env = ws, append(env, "CARGO_ENCODED_RUSTFLAGS=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("cargo metadata: %w\n%s", err, errOut.String())
	}
	var meta struct {
		Packages []struct {
			Name         string `json:"name"`
			ManifestPath string `json:"manifest_path"`
			Targets      []struct {
				Name string   `json:"name"`
				Kind []string `json:"kind"`
			} `json:"targets"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(out.Bytes(), &meta); err != nil {
		return nil, nil, fmt.Errorf("cargo metadata: %w", err)
	}
	libKinds := map[string]bool{"lib": true, "cdylib": true, "dylib": true, "rlib": true, "staticlib": true, "proc-macro": true}
	pkgs, deps = map[string]bool{}, map[string]bool{}
	for _, p := range meta.Packages {
		if strings.HasPrefix(p.ManifestPath, ws) {
			continue
		}
		names := []string{p.Name}
		for _, t := range p.Targets {
			for _, k := range t.Kind {
				if libKinds[k] {
					names = append(names, t.Name)
					break
				}
			}
		}
		pkgs[p.Name] = true
		for _, n := range names {
			n = strings.ReplaceAll(n, "-", "_")
			pkgs[n] = true
			deps[n], deps["lib"+n] = true, true
		}
	}
	return pkgs, deps, nil
}

// rustCacheClean cleans a target directory as rust-cache's cleanTargetDir
// does (src/cleanup.ts): files at the top are removed (but CACHEDIR.TAG); a
// directory holding build, .fingerprint or deps is a profile, anything else
// is searched further; in a profile only build, .fingerprint and deps stay,
// and in them only the entries whose name, or name without its last
// "-<hash>", is a kept package or target.
func rustCacheClean(dir string, pkgs, deps map[string]bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			if e.Name() != "CACHEDIR.TAG" {
				if err := os.Remove(p); err != nil {
					return err
				}
			}
			continue
		}
		profile := e.Name() == "tests"
		for _, sub := range []string{"build", ".fingerprint", "deps"} {
			if _, err := os.Stat(filepath.Join(p, sub)); err == nil {
				profile = true
			}
		}
		if !profile {
			if err := rustCacheClean(p, pkgs, deps); err != nil {
				return err
			}
			continue
		}
		if err := rmExcept(p, map[string]bool{"build": true, ".fingerprint": true, "deps": true}); err != nil {
			return err
		}
		for sub, keep := range map[string]map[string]bool{"build": pkgs, ".fingerprint": pkgs, "deps": deps} {
			if err := rmExcept(filepath.Join(p, sub), keep); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// rmExcept is rust-cache's rmExcept: an entry stays when its name, or its
// name up to the last "-", is in keep.
func rmExcept(dir string, keep map[string]bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if keep[name] {
			continue
		}
		if i := strings.LastIndexByte(name, '-'); i >= 0 {
			name = name[:i]
		}
		if !keep[name] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// saveDir streams a whole directory into the service, as the action's
// transport does (no archive file).
func saveDir(ctx context.Context, c cacheservice.Client, key, version, dir, ws string) (int64, error) {
	return streamSave(ctx, c, key, version, dir, ws, nil)
}

// restoreDir brings the newest entry matching key or one of the prefixes
// back into dir; it reports whether one was found.
func restoreDir(ctx context.Context, c cacheservice.Client, key string, prefixes []string, version, dir, ws string) (bool, error) {
	e, err := c.Lookup(ctx, key, prefixes, version)
	if err != nil || e == nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := c.Download(ctx, e, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	_, xerr := archive.Extract(ctx, pr, dir, ws, archive.ExtractOptions{})
	pr.CloseWithError(errors.New("extraction finished"))
	cancel()
	derr := <-done
	if xerr != nil {
		return false, errors.Join(xerr, derr)
	}
	return true, nil
}
