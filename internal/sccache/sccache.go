// Package sccache drives an installed sccache binary: its version, its server
// (stop, statistics) and the JSON statistics format it prints with
// `--show-stats --stats-format=json`.
package sccache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Runner runs an sccache binary with a fixed environment.
type Runner struct {
	// Path is the sccache executable.
	Path string
	// Env is the environment of every invocation (SCCACHE_DIR, SCCACHE_SERVER_PORT, …).
	Env []string
	// Command builds the process (exec.CommandContext in production).
	Command func(ctx context.Context, name string, args ...string) *exec.Cmd
	// Timeout bounds each invocation (default 30s).
	Timeout time.Duration
}

func (r *Runner) run(ctx context.Context, args ...string) ([]byte, error) {
	to := r.Timeout
	if to == 0 {
		to = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	cmd := r.Command(ctx, r.Path, args...)
	cmd.Env = r.Env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// A server started by this call must not keep our pipes open.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("sccache %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

var versionRE = regexp.MustCompile(`sccache\s+v?([0-9][0-9A-Za-z.+-]*)`)

// Version returns the version sccache reports (e.g. "0.10.0").
func (r *Runner) Version(ctx context.Context) (string, error) {
	out, err := r.run(ctx, "--version")
	if err != nil {
		return "", err
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("sccache --version: unexpected output %q", strings.TrimSpace(string(out)))
	}
	return string(m[1]), nil
}

// Stats queries the server's statistics (starting a server when none runs).
func (r *Runner) Stats(ctx context.Context) (*Stats, error) {
	out, err := r.run(ctx, "--show-stats", "--stats-format=json")
	if err != nil {
		return nil, err
	}
	return ParseStats(out)
}

// StartServer starts a server on the configured port; it fails when the
// server cannot start with the configuration (e.g. a cache backend the
// binary was built without).
func (r *Runner) StartServer(ctx context.Context) error {
	_, err := r.run(ctx, "--start-server")
	return err
}

// StopServer stops the server on the configured port, waiting for it to finish
// its pending cache writes. A missing server is not an error.
func (r *Runner) StopServer(ctx context.Context) error {
	_, err := r.run(ctx, "--stop-server")
	if err != nil && !strings.Contains(err.Error(), "couldn't connect") && !strings.Contains(err.Error(), "Connection refused") {
		return err
	}
	return nil
}

// Stats is the part of sccache's statistics the report uses.
type Stats struct {
	CompileRequests  int64
	RequestsExecuted int64
	Hits             int64
	Misses           int64
	NotCacheable     int64
	CacheErrors      int64
	CacheWriteErrors int64
	CacheWrites      int64
	CompileFails     int64
	NonCacheable     int64
	CacheLocation    string
}

type counts struct {
	Counts map[string]int64 `json:"counts"`
}

func (c counts) total() int64 {
	var n int64
	for _, v := range c.Counts {
		n += v
	}
	return n
}

type rawStats struct {
	Stats struct {
		CompileRequests          int64  `json:"compile_requests"`
		RequestsExecuted         int64  `json:"requests_executed"`
		RequestsNotCacheable     int64  `json:"requests_not_cacheable"`
		CacheErrors              counts `json:"cache_errors"`
		CacheHits                counts `json:"cache_hits"`
		CacheMisses              counts `json:"cache_misses"`
		CacheWriteErrors         int64  `json:"cache_write_errors"`
		CacheWrites              int64  `json:"cache_writes"`
		CompileFails             int64  `json:"compile_fails"`
		NonCacheableCompilations int64  `json:"non_cacheable_compilations"`
	} `json:"stats"`
	CacheLocation string `json:"cache_location"`
}

// ParseStats decodes `sccache --show-stats --stats-format=json` output.
func ParseStats(b []byte) (*Stats, error) {
	var raw rawStats
	if err := json.Unmarshal(bytes.TrimSpace(b), &raw); err != nil {
		return nil, fmt.Errorf("parse sccache statistics: %w", err)
	}
	s := raw.Stats
	return &Stats{
		CompileRequests:  s.CompileRequests,
		RequestsExecuted: s.RequestsExecuted,
		Hits:             s.CacheHits.total(),
		Misses:           s.CacheMisses.total(),
		NotCacheable:     s.RequestsNotCacheable,
		CacheErrors:      s.CacheErrors.total(),
		CacheWriteErrors: s.CacheWriteErrors,
		CacheWrites:      s.CacheWrites,
		CompileFails:     s.CompileFails,
		NonCacheable:     s.NonCacheableCompilations,
		CacheLocation:    raw.CacheLocation,
	}, nil
}
