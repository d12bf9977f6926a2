package bootstrap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/testkit"
)

const (
	testVersion = "v1.2.3"
	testRepo    = "org/rustcache-action"
)

// releaseServer is a fake GitHub release download endpoint that serves files
// under /<repo>/releases/download/<version>/ and records every request.
type releaseServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte // asset name → content
	requests []string          // asset names asked for, in order
}

func newReleaseServer(t testing.TB, files map[string][]byte) *releaseServer {
	s := &releaseServer{files: files}
	prefix := "/" + testRepo + "/releases/download/" + testVersion + "/"
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Path)
		b, found := s.files[name]
		s.mu.Unlock()
		if !ok || !found || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// take returns the asset names requested since the last call.
func (s *releaseServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.requests {
		out = append(out, p[strings.LastIndex(p, "/")+1:])
	}
	s.requests = nil
	return out
}

// fakeBinary is a "release binary" that says which path produced it.
func fakeBinary(t Target) []byte {
	return []byte("#!/bin/sh\necho prebuilt " + t.String() + "\n")
}

func sumsFile(files map[string][]byte) []byte {
	var b bytes.Buffer
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s := sha256.Sum256(files[n])
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(s[:]), n)
	}
	return b.Bytes()
}

// repoRoot is the repository root, where bootstrap.sh lives.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// fixture is an action directory (bootstrap.sh and a tiny Go program in
// place of the real one, so that the source fallback builds in a second) and
// an emulated runner around it.
type fixture struct {
	t         testing.TB
	action    string
	toolCache string
	server    *releaseServer
	env       map[string]string
}

type fixtureOptions struct {
	release       bool              // commit a RELEASE file
	committedSums []byte            // commit this SHA256SUMS (nil: none)
	serve         map[string][]byte // files on the release
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake release binaries are shell scripts; CI's self-test job runs bootstrap.sh on Windows")
	}
	testkit.NeedTool(t, "bash")
	testkit.NeedTool(t, "curl")
	goBin := testkit.NeedTool(t, "go")
	f := &fixture{t: t, action: t.TempDir(), toolCache: t.TempDir(), server: newReleaseServer(t, o.serve)}
	script, err := os.ReadFile(filepath.Join(repoRoot(t), "bootstrap.sh"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(f.action, name), b, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bootstrap.sh", script, 0o755)
	write("go.mod", []byte("module example.com/fakeaction\n\ngo 1.22\n"), 0o644)
	write("main.go", []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"built from source\") }\n"), 0o644)
	if o.release {
		write(ReleaseFile, []byte("version="+testVersion+"\nrepository="+testRepo+"\n"), 0o644)
	}
	if o.committedSums != nil {
		write(SumsFile, o.committedSums, 0o644)
	}
	f.env = map[string]string{
		"PATH":              os.Getenv("PATH"),
		"HOME":              os.Getenv("HOME"),
		"RUNNER_OS":         "Linux",
		"RUNNER_ARCH":       "X64",
		"RUNNER_TOOL_CACHE": f.toolCache,
		"RUNNER_TEMP":       t.TempDir(),
		"GITHUB_SERVER_URL": f.server.URL,
		"GOTOOLCHAIN":       "local",
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command(goBin, "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		f.env[k] = strings.TrimSpace(string(out))
	}
	return f
}

// run runs bootstrap.sh and returns the path it wrote to GITHUB_OUTPUT and
// its combined output.
func (f *fixture) run() (path, log string, err error) {
	f.t.Helper()
	out := filepath.Join(f.t.TempDir(), "output")
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(f.action, "bootstrap.sh"))
	cmd.Env = []string{"GITHUB_OUTPUT=" + out}
	for k, v := range f.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err = cmd.Run()
	o, rerr := os.ReadFile(out)
	if rerr != nil {
		f.t.Fatal(rerr)
	}
	for _, line := range strings.Split(string(o), "\n") {
		if v, ok := strings.CutPrefix(line, "path="); ok {
			path = v
		}
	}
	return path, b.String(), err
}

// mustRun runs bootstrap.sh, expects success and returns what the installed
// program prints.
func (f *fixture) mustRun() (path, says, log string) {
	f.t.Helper()
	path, log, err := f.run()
	if err != nil || path == "" {
		f.t.Fatalf("bootstrap.sh: %v, path %q\n%s", err, path, log)
	}
	out, err := exec.Command(path).Output()
	if err != nil {
		f.t.Fatalf("run %s: %v\n%s", path, err, log)
	}
	return path, strings.TrimSpace(string(out)), log
}

func (f *fixture) prebuiltPath(t Target) string {
	return filepath.Join(f.toolCache, Program, strings.TrimPrefix(testVersion, "v"), t.GOARCH, t.Exe())
}

// leftovers lists temporary files bootstrap.sh left in the tool cache.
func (f *fixture) leftovers() []string {
	var out []string
	filepath.WalkDir(f.toolCache, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

var linuxAMD64 = Target{"linux", "amd64"}

func release(t Target) map[string][]byte {
	return map[string][]byte{AssetName(t): fakeBinary(t)}
}

func TestPrebuiltVerified(t *testing.T) {
	t.Parallel()
	assets := release(linuxAMD64)
	withSums := map[string][]byte{SumsFile: sumsFile(assets)}
	for n, b := range assets {
		withSums[n] = b
	}
	for _, tc := range []struct {
		name      string
		committed []byte
		serve     map[string][]byte
		requests  []string
	}{
		{"committed sums", sumsFile(assets), assets, []string{AssetName(linuxAMD64)}},
		{"release sums", nil, withSums, []string{SumsFile, AssetName(linuxAMD64)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, fixtureOptions{release: true, committedSums: tc.committed, serve: tc.serve})
			path, says, log := f.mustRun()
			if path != f.prebuiltPath(linuxAMD64) || says != "prebuilt linux/amd64" {
				t.Errorf("path %q says %q, want %q saying the prebuilt binary\n%s", path, says, f.prebuiltPath(linuxAMD64), log)
			}
			if got := f.server.take(); !slices.Equal(got, tc.requests) {
				t.Errorf("requests %v, want %v", got, tc.requests)
			}
			if !strings.Contains(log, "downloaded and verified") {
				t.Errorf("log does not say the download was verified:\n%s", log)
			}

			// A second job on the same runner: the tool cache, checked again,
			// and not a single request.
			path2, says2, log2 := f.mustRun()
			if path2 != path || says2 != says {
				t.Errorf("second run: %q says %q, want %q", path2, says2, path)
			}
			if got := f.server.take(); len(got) != 0 {
				t.Errorf("second run made requests %v", got)
			}
			if !strings.Contains(log2, "from the tool cache (verified)") {
				t.Errorf("second run log:\n%s", log2)
			}
			if l := f.leftovers(); len(l) != 0 {
				t.Errorf("temporary files left: %v", l)
			}
		})
	}
}

func TestChecksumMismatchRefused(t *testing.T) {
	t.Parallel()
	good := release(linuxAMD64)
	bad := map[string][]byte{AssetName(linuxAMD64): []byte("#!/bin/sh\necho tampered\n")}
	withSums := map[string][]byte{SumsFile: sumsFile(good), AssetName(linuxAMD64): bad[AssetName(linuxAMD64)]}
	for _, tc := range []struct {
		name      string
		committed []byte
		serve     map[string][]byte
	}{
		{"committed sums", sumsFile(good), bad},
		{"release sums", nil, withSums},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, fixtureOptions{release: true, committedSums: tc.committed, serve: tc.serve})
			path, log, err := f.run()
			if err == nil || path != "" {
				t.Fatalf("bootstrap.sh accepted a tampered binary: err %v, path %q\n%s", err, path, log)
			}
			if !strings.Contains(log, "::error title=rustcache-action::checksum mismatch") {
				t.Errorf("no checksum error annotation:\n%s", log)
			}
			if _, err := os.Stat(f.prebuiltPath(linuxAMD64)); err == nil {
				t.Errorf("the tampered binary was installed")
			}
			if l := f.leftovers(); len(l) != 0 {
				t.Errorf("temporary files left: %v", l)
			}
		})
	}
}

func TestSourceFallback(t *testing.T) {
	t.Parallel()
	noCurl := func(t *testing.T, f *fixture) { f.env["PATH"] = pathWithout(t, "curl") }
	for _, tc := range []struct {
		name     string
		opts     fixtureOptions
		tweak    func(*testing.T, *fixture)
		requests int
		notice   string
	}{
		{name: "not a release tree", opts: fixtureOptions{serve: release(linuxAMD64)}},
		{name: "no release published", opts: fixtureOptions{release: true, committedSums: sumsFile(release(linuxAMD64))},
			requests: 1, notice: "could not download"},
		{name: "no sums anywhere", opts: fixtureOptions{release: true, serve: release(linuxAMD64)},
			requests: 1, notice: "no SHA256SUMS"},
		{name: "platform not in the sums", opts: fixtureOptions{release: true, committedSums: sumsFile(release(Target{"darwin", "arm64"}))},
			notice: "lists no rustcache-action-linux-amd64"},
		{name: "platform without binaries", opts: fixtureOptions{release: true, committedSums: sumsFile(release(linuxAMD64))},
			tweak: func(_ *testing.T, f *fixture) { f.env["RUNNER_ARCH"] = "PPC64" }, notice: "no prebuilt binary for Linux/PPC64"},
		{name: "no curl", opts: fixtureOptions{release: true, committedSums: sumsFile(release(linuxAMD64)), serve: release(linuxAMD64)},
			tweak: noCurl, notice: "curl is not installed"},
		{name: "malformed RELEASE", opts: fixtureOptions{serve: release(linuxAMD64)},
			tweak: func(t *testing.T, f *fixture) {
				os.WriteFile(filepath.Join(f.action, ReleaseFile), []byte("version=../../etc\nrepository=org/x\n"), 0o644)
			}, notice: "ignoring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts)
			if tc.tweak != nil {
				tc.tweak(t, f)
			}
			path, says, log := f.mustRun()
			if says != "built from source" || !strings.HasPrefix(path, filepath.Join(f.toolCache, Program, "src-")) {
				t.Errorf("path %q says %q, want a build from source\n%s", path, says, log)
			}
			if got := f.server.take(); len(got) != tc.requests {
				t.Errorf("requests %v, want %d", got, tc.requests)
			}
			if tc.notice != "" && (!strings.Contains(log, "::notice title=rustcache-action::") || !strings.Contains(log, tc.notice)) {
				t.Errorf("log lacks a notice with %q:\n%s", tc.notice, log)
			}
			if tc.notice == "" && strings.Contains(log, "::notice") {
				t.Errorf("unexpected notice:\n%s", log)
			}

			// Built once per runner and source.
			path2, _, log2 := f.mustRun()
			if path2 != path || !strings.Contains(log2, "built from source earlier") {
				t.Errorf("second run %q, want %q reused\n%s", path2, path, log2)
			}
		})
	}
}

func TestTamperedToolCacheReplaced(t *testing.T) {
	t.Parallel()
	assets := release(linuxAMD64)
	f := newFixture(t, fixtureOptions{release: true, committedSums: sumsFile(assets), serve: assets})
	path, _, _ := f.mustRun()
	f.server.take()
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho planted\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path2, says, log := f.mustRun()
	if path2 != path || says != "prebuilt linux/amd64" {
		t.Errorf("after tampering: %q says %q\n%s", path2, says, log)
	}
	if !strings.Contains(log, "does not match SHA256SUMS: downloading it again") {
		t.Errorf("no notice about the replaced binary:\n%s", log)
	}
	if got := f.server.take(); !slices.Equal(got, []string{AssetName(linuxAMD64)}) {
		t.Errorf("requests %v", got)
	}
}

// TestEveryTargetDownloadsItsAsset runs bootstrap.sh as each runner would
// and checks it asks for the asset the release workflow publishes.
func TestEveryTargetDownloadsItsAsset(t *testing.T) {
	t.Parallel()
	assets := map[string][]byte{}
	for _, tg := range Targets {
		assets[AssetName(tg)] = fakeBinary(tg)
	}
	for _, tg := range Targets {
		t.Run(tg.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, fixtureOptions{release: true, committedSums: sumsFile(assets), serve: assets})
			f.env["RUNNER_OS"], f.env["RUNNER_ARCH"] = runnerValues(t, tg)
			path, log, err := f.run()
			if err != nil {
				t.Fatalf("bootstrap.sh: %v\n%s", err, log)
			}
			if path != f.prebuiltPath(tg) {
				t.Errorf("path %q, want %q", path, f.prebuiltPath(tg))
			}
			if got := f.server.take(); !slices.Equal(got, []string{AssetName(tg)}) {
				t.Errorf("requests %v, want [%s]", got, AssetName(tg))
			}
			b, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(b, assets[AssetName(tg)]) {
				t.Errorf("installed %.40q… (%v), want the %s binary", b, err, tg)
			}
		})
	}
}

// runnerValues is the inverse of RunnerTarget.
func runnerValues(t *testing.T, tg Target) (string, string) {
	t.Helper()
	for _, os := range []string{"Linux", "macOS", "Windows"} {
		for _, arch := range []string{"X64", "ARM64", "ARM", "X86"} {
			if got, ok := RunnerTarget(os, arch); ok && got == tg {
				return os, arch
			}
		}
	}
	t.Fatalf("no runner maps to %s", tg)
	return "", ""
}

// pathWithout returns a PATH of symbolic links to every program on PATH but
// the one named.
func pathWithout(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	seen := map[string]bool{name: true}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			if err := os.Symlink(filepath.Join(d, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestRunnerTarget(t *testing.T) {
	for _, tc := range []struct {
		os, arch string
		want     Target
		ok       bool
	}{
		{"Linux", "X64", Target{"linux", "amd64"}, true},
		{"Linux", "ARM64", Target{"linux", "arm64"}, true},
		{"Linux", "ARM", Target{"linux", "arm"}, true},
		{"Linux", "X86", Target{"linux", "386"}, true},
		{"macOS", "X64", Target{"darwin", "amd64"}, true},
		{"macOS", "ARM64", Target{"darwin", "arm64"}, true},
		{"Windows", "X64", Target{"windows", "amd64"}, true},
		{"Windows", "ARM64", Target{"windows", "arm64"}, true},
		{"Windows", "X86", Target{}, false},
		{"macOS", "ARM", Target{}, false},
		{"FreeBSD", "X64", Target{}, false},
		{"Linux", "", Target{}, false},
	} {
		got, ok := RunnerTarget(tc.os, tc.arch)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RunnerTarget(%q, %q) = %v, %v; want %v, %v", tc.os, tc.arch, got, ok, tc.want, tc.ok)
		}
	}
	if got := AssetName(Target{"windows", "arm64"}); got != "rustcache-action-windows-arm64.exe" {
		t.Errorf("AssetName = %q", got)
	}
}
