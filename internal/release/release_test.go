package release

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/fakerelease"
	"github.com/org/rustcache-action/internal/httpx"
)

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// hostTarget is a Linux target whose binary runs here (the fake packages
// the host's own sccache under every target name).
const hostTarget = "x86_64-unknown-linux-musl"

const fakeVersion = fakerelease.DefaultVersion

// smallServer is a fake serving a small stand-in binary: most tests check
// what happens to the bytes, not that they run, and the race detector makes
// compressing the real 5 MB binary for every target slow.
func smallServer(t testing.TB, opts fakerelease.Options) *fakerelease.Server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sccache")
	data := make([]byte, 300<<10)
	x := uint32(1)
	for i := range data {
		x = x*1664525 + 1013904223
		data[i] = byte(x >> 24)
	}
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Binary = p
	return fakerelease.New(t, opts)
}

func newInstaller(t testing.TB, s *fakerelease.Server) *Installer {
	t.Helper()
	return &Installer{
		HTTP:      httpx.New(httpx.Options{RetryMax: 3, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}),
		ServerURL: s.ServerURL(),
		APIURL:    s.APIURL(),
		ToolCache: t.TempDir(),
		TempDir:   t.TempDir(),
		Now:       func() time.Time { return fixedNow },
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// files lists the regular files and links under dir, relative to it.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInstallRunsVersion(t *testing.T) {
	s := fakerelease.New(t, fakerelease.Options{})
	in := newInstaller(t, s)
	asset := AssetName(fakeVersion, hostTarget)

	res, err := in.Install(ctx(t), fakeVersion, hostTarget)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := s.Archive(fakeVersion, asset)
	want := Result{
		Path:       filepath.Join(in.ToolCache, "sccache", "0.4.0-fake.1", hostTarget, "sccache"),
		Version:    fakeVersion,
		Target:     hostTarget,
		Asset:      asset,
		SHA256:     s.Digest(fakeVersion, asset),
		Downloaded: true,
		Bytes:      int64(len(archive)),
	}
	if d := cmp.Diff(want, res); d != "" {
		t.Fatalf("Result (-want +got):\n%s", d)
	}

	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		out, err := exec.Command(res.Path, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", res.Path, err, out)
		}
		if !strings.HasPrefix(string(out), "sccache ") {
			t.Errorf("%s --version printed %q, want sccache <version>", res.Path, out)
		}
	}

	st, err := os.Stat(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("binary mode %v, want 0755", st.Mode().Perm())
	}
	if got, want := files(t, in.ToolCache), []string{
		"sccache/0.4.0-fake.1/" + hostTarget + "/install.json",
		"sccache/0.4.0-fake.1/" + hostTarget + "/sccache",
		"sccache/0.4.0-fake.1/" + hostTarget + ".complete",
	}; !cmp.Equal(got, want) {
		t.Errorf("tool cache holds %q, want %q", got, want)
	}
	if left := files(t, in.TempDir); len(left) != 0 {
		t.Errorf("downloads left behind in TempDir: %q", left)
	}

	var m manifest
	data, err := os.ReadFile(filepath.Join(filepath.Dir(res.Path), "install.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.ArchiveSHA256 != res.SHA256 || m.BinaryBytes != int64(len(s.Binary())) || !m.InstalledAt.Equal(fixedNow) || m.Pinned {
		t.Errorf("install.json = %+v", m)
	}
	if got, want := s.Count(asset), 1; got != want {
		t.Errorf("%d requests for the asset, want %d", got, want)
	}
	if got, want := s.Count(asset+".sha256"), 1; got != want {
		t.Errorf("%d requests for the checksum file, want %d", got, want)
	}
}

func TestInstallEveryTarget(t *testing.T) {
	s := smallServer(t, fakerelease.Options{})
	in := newInstaller(t, s)
	for _, target := range arch.Targets() {
		t.Run(target, func(t *testing.T) {
			res, err := in.Install(ctx(t), fakeVersion, target)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := filepath.Base(res.Path), arch.ExeName(target); got != want {
				t.Errorf("binary named %q, want %q", got, want)
			}
			got, err := os.ReadFile(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(s.Binary()) {
				t.Errorf("installed binary differs from the packaged one")
			}
			base := arch.ArchiveDir(fakeVersion, target)
			wantZip := arch.IsWindows(target)
			if n := s.Count(base + ".zip"); (n == 1) != wantZip {
				t.Errorf("%d requests for the .zip, want zip used: %v", n, wantZip)
			}
			if n := s.Count(base + ".tar.gz"); (n == 1) == wantZip {
				t.Errorf("%d requests for the .tar.gz, want tar.gz used: %v", n, !wantZip)
			}
		})
	}
}

func TestReuseMakesNoRequests(t *testing.T) {
	s := smallServer(t, fakerelease.Options{})
	in := newInstaller(t, s)
	first, err := in.Install(ctx(t), fakeVersion, hostTarget)
	if err != nil {
		t.Fatal(err)
	}
	before := len(s.Requests())

	// A later job: a new Installer on the same tool cache.
	again := newInstaller(t, s)
	again.ToolCache = in.ToolCache
	res, err := again.Install(ctx(t), fakeVersion, hostTarget)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Requests()) - before; got != 0 {
		t.Errorf("reuse made %d requests, want 0", got)
	}
	want := first
	want.Downloaded, want.Bytes = false, 0
	if d := cmp.Diff(want, res); d != "" {
		t.Errorf("reused Result (-want +got):\n%s", d)
	}
}

func TestReuseReplacesDamagedEntries(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, bin string)
		reason string // substring of Result.Replaced; "" means silent
	}{
		{"binary changed", func(t *testing.T, bin string) {
			os.WriteFile(bin, []byte("#!/bin/sh\necho evil\n"), 0o755)
		}, "its binary changed after it was installed"},
		{"binary missing", func(t *testing.T, bin string) {
			os.Remove(bin)
		}, "its binary could not be read"},
		{"manifest garbled", func(t *testing.T, bin string) {
			os.WriteFile(filepath.Join(filepath.Dir(bin), "install.json"), []byte("{"), 0o644)
		}, "install.json is not valid JSON"},
		{"marker missing", func(t *testing.T, bin string) {
			os.Remove(filepath.Dir(bin) + ".complete")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smallServer(t, fakerelease.Options{})
			in := newInstaller(t, s)
			first, err := in.Install(ctx(t), fakeVersion, hostTarget)
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, first.Path)
			res, err := in.Install(ctx(t), fakeVersion, hostTarget)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Downloaded {
				t.Errorf("damaged entry was reused")
			}
			if tt.reason == "" && res.Replaced != "" || !strings.Contains(res.Replaced, tt.reason) {
				t.Errorf("Replaced = %q, want it to contain %q", res.Replaced, tt.reason)
			}
			got, _ := os.ReadFile(res.Path)
			if string(got) != string(s.Binary()) {
				t.Errorf("binary not restored")
			}
			if _, err := os.Stat(filepath.Dir(res.Path) + ".complete"); err != nil {
				t.Errorf("marker: %v", err)
			}
		})
	}
}

func TestChecksumMismatchInstallsNothing(t *testing.T) {
	asset := AssetName(fakeVersion, hostTarget)
	tests := []struct {
		name  string
		file  string
		fault fakerelease.Fault
	}{
		{"wrong published checksum", asset + ".sha256", fakerelease.WrongChecksum},
		{"corrupt archive", asset, fakerelease.Corrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smallServer(t, fakerelease.Options{})
			s.Fail(tt.file, tt.fault, -1)
			in := newInstaller(t, s)
			_, err := in.Install(ctx(t), fakeVersion, hostTarget)
			if !errors.Is(err, ErrChecksum) {
				t.Fatalf("err = %v, want ErrChecksum", err)
			}
			var ce *ChecksumError
			if !errors.As(err, &ce) || ce.Asset != asset || !strings.HasSuffix(ce.Source, asset+".sha256") {
				t.Errorf("ChecksumError = %+v", ce)
			}
			if left := files(t, in.ToolCache); len(left) != 0 {
				t.Errorf("tool cache holds %q after a checksum mismatch", left)
			}
			if left := files(t, in.TempDir); len(left) != 0 {
				t.Errorf("TempDir holds %q after a checksum mismatch", left)
			}
		})
	}
}

// TestPinnedDigestRejectsOtherBytes: for the pinned default version the
// built-in digest decides, not the .sha256 file served next to the archive.
func TestPinnedDigestRejectsOtherBytes(t *testing.T) {
	s := smallServer(t, fakerelease.Options{Versions: []string{DefaultVersion()}})
	in := newInstaller(t, s)
	for _, target := range []string{hostTarget, "x86_64-pc-windows-msvc"} {
		_, err := in.Install(ctx(t), DefaultVersion(), target)
		var ce *ChecksumError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want *ChecksumError", target, err)
		}
		if want := pinned[target]; ce.Want != want {
			t.Errorf("%s: checked against %s, want the built-in %s", target, ce.Want, want)
		}
		if ce.Got != s.Digest(DefaultVersion(), AssetName(DefaultVersion(), target)) {
			t.Errorf("%s: Got = %s, not the served archive's digest", target, ce.Got)
		}
		asset := AssetName(DefaultVersion(), target)
		msg := "checksum mismatch for sccache release asset " + asset + " downloaded from " + s.DownloadBase() + "/" + DefaultVersion() + "/" + asset +
			": sha256 is " + ce.Got + ", expected " + pinned[target] + " (the digest built into rustcache-action for sccache " + DefaultVersion() + "); nothing was installed"
		if err.Error() != msg {
			t.Errorf("message:\n got %s\nwant %s", err, msg)
		}
		if n := s.Count(asset + ".sha256"); n != 0 {
			t.Errorf("%s: the published checksum was fetched %d times; the pinned digest needs none", target, n)
		}
	}
	if left := files(t, in.ToolCache); len(left) != 0 {
		t.Errorf("tool cache holds %q", left)
	}
}

func TestNotFound(t *testing.T) {
	s := smallServer(t, fakerelease.Options{})
	s.Allow("/mozilla/sccache/releases/download/v9.9.9/") // a release it does not serve
	in := newInstaller(t, s)

	_, err := in.Install(ctx(t), "v9.9.9", hostTarget)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want *NotFoundError", err)
	}
	want := "sccache release asset sccache-v9.9.9-x86_64-unknown-linux-musl.tar.gz.sha256 was not found at " +
		s.DownloadBase() + "/v9.9.9/sccache-v9.9.9-x86_64-unknown-linux-musl.tar.gz.sha256 (HTTP 404); check the sccache-version and sccache-target inputs (or sccache-url)"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}

	// The checksum exists but the archive does not.
	asset := AssetName(fakeVersion, hostTarget)
	s.Fail(asset, fakerelease.NotFound, -1)
	_, err = in.Install(ctx(t), fakeVersion, hostTarget)
	if !errors.As(err, &nf) || nf.Asset != asset || nf.URL != in.AssetURL(fakeVersion, hostTarget) {
		t.Fatalf("err = %v, want a NotFoundError naming %s", err, asset)
	}
	if left := files(t, in.ToolCache); len(left) != 0 {
		t.Errorf("tool cache holds %q", left)
	}
}

func TestTruncatedDownload(t *testing.T) {
	asset := AssetName(fakeVersion, hostTarget)

	t.Run("once", func(t *testing.T) {
		s := smallServer(t, fakerelease.Options{})
		s.Fail(asset, fakerelease.Truncated, 1)
		in := newInstaller(t, s)
		res, err := in.Install(ctx(t), fakeVersion, hostTarget)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Count(asset), 2; got != want {
			t.Errorf("%d requests for the asset, want %d", got, want)
		}
		if res.SHA256 != s.Digest(fakeVersion, asset) {
			t.Errorf("SHA256 = %s", res.SHA256)
		}
	})
	t.Run("always", func(t *testing.T) {
		s := smallServer(t, fakerelease.Options{})
		s.Fail(asset, fakerelease.Truncated, -1)
		in := newInstaller(t, s)
		_, err := in.Install(ctx(t), fakeVersion, hostTarget)
		if err == nil || !strings.Contains(err.Error(), "download cut short") || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Fatalf("err = %v, want a cut-short download error", err)
		}
		if got, want := s.Count(asset), downloadAttempts; got != want {
			t.Errorf("%d requests for the asset, want %d", got, want)
		}
		if left := files(t, in.ToolCache); len(left) != 0 {
			t.Errorf("tool cache holds %q", left)
		}
		if left := files(t, in.TempDir); len(left) != 0 {
			t.Errorf("TempDir holds %q", left)
		}
	})
}

func TestServerErrors(t *testing.T) {
	asset := AssetName(fakeVersion, hostTarget)

	t.Run("500 then success", func(t *testing.T) {
		s := smallServer(t, fakerelease.Options{})
		s.Fail(asset, fakerelease.ServerError, 2)
		in := newInstaller(t, s)
		if _, err := in.Install(ctx(t), fakeVersion, hostTarget); err != nil {
			t.Fatal(err)
		}
		if got, want := s.Count(asset), 3; got != want {
			t.Errorf("%d requests for the asset, want %d (two 500s, then the archive)", got, want)
		}
	})
	t.Run("500 always", func(t *testing.T) {
		s := smallServer(t, fakerelease.Options{})
		s.Fail(asset, fakerelease.ServerError, -1)
		in := newInstaller(t, s)
		_, err := in.Install(ctx(t), fakeVersion, hostTarget)
		want := "download " + asset + " from " + in.AssetURL(fakeVersion, hostTarget) + ": HTTP 500 Internal Server Error"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %s", err, want)
		}
		if got, want := s.Count(asset), in.HTTP.RetryMax+1; got != want {
			t.Errorf("%d requests for the asset, want %d", got, want)
		}
	})
}

func TestDownloadBase(t *testing.T) {
	s := smallServer(t, fakerelease.Options{})
	in := newInstaller(t, s)
	in.ServerURL = "http://127.0.0.1:1" // never used when DownloadBase is set
	in.DownloadBase = s.DownloadBase() + "/"
	if _, err := in.Install(ctx(t), fakeVersion, hostTarget); err != nil {
		t.Fatal(err)
	}

	// A query string (a signature, say) never shows in messages.
	in.ToolCache = t.TempDir()
	in.DownloadBase = s.DownloadBase() + "/nowhere?sig=secret"
	s.Allow("/mozilla/sccache/releases/download/nowhere")
	_, err := in.Install(ctx(t), fakeVersion, hostTarget)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v, want an error without the query", err)
	}
}

func TestArchiveWithOddEntryInstallsNothing(t *testing.T) {
	s := smallServer(t, fakerelease.Options{})
	asset := AssetName(fakeVersion, hostTarget)
	entries := fakerelease.ReleaseEntries(fakeVersion, hostTarget, s.Binary())
	entries = append(entries, fakerelease.Entry{Name: "../escape", Body: []byte("x"), Mode: 0o644})
	s.SetArchive(fakeVersion, asset, fakerelease.TarGz(entries))
	in := newInstaller(t, s)
	_, err := in.Install(ctx(t), fakeVersion, hostTarget)
	if !errors.Is(err, ErrArchive) {
		t.Fatalf("err = %v, want ErrArchive", err)
	}
	if left := files(t, in.ToolCache); len(left) != 0 {
		t.Errorf("tool cache holds %q", left)
	}
}

func TestConcurrentInstalls(t *testing.T) {
	s := smallServer(t, fakerelease.Options{})
	in := newInstaller(t, s)
	var wg sync.WaitGroup
	results := make([]Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := *in
			results[i], errs[i] = other.Install(ctx(t), fakeVersion, hostTarget)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("install %d: %v", i, err)
		}
		if results[i].Path != results[0].Path {
			t.Errorf("install %d: path %s, want %s", i, results[i].Path, results[0].Path)
		}
	}
	if res, reason := in.entry(fakeVersion, hostTarget).reuse(); reason != "" {
		t.Errorf("entry after concurrent installs is not reusable: %s (%+v)", reason, res)
	}
}

func TestInstallRejectsBadInput(t *testing.T) {
	in := &Installer{ToolCache: t.TempDir()}
	tests := []struct {
		version, target string
		want            error
		msg             string
	}{
		{"v0.18", hostTarget, ErrInvalidVersion, `input sccache-version: invalid value "v0.18": expected latest or a release tag such as ` + pinnedVersion},
		{"latest", hostTarget, ErrInvalidVersion, `input sccache-version: invalid value "latest": expected latest or a release tag such as ` + pinnedVersion},
		{fakeVersion, "x86_64-unknown-linux-gnu", ErrUnsupportedTarget, `input sccache-target: invalid value "x86_64-unknown-linux-gnu": expected one of ` + strings.Join(arch.Targets(), ", ")},
	}
	for _, tt := range tests {
		_, err := in.Install(context.Background(), tt.version, tt.target)
		if !errors.Is(err, tt.want) || err.Error() != tt.msg {
			t.Errorf("Install(%q, %q) = %v, want %s", tt.version, tt.target, err, tt.msg)
		}
	}
	if _, err := (&Installer{}).Install(context.Background(), fakeVersion, hostTarget); err == nil || !strings.Contains(err.Error(), "RUNNER_TOOL_CACHE") {
		t.Errorf("no tool cache: err = %v", err)
	}
}

func TestDisplayURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/mozilla/sccache/releases/download/v1.0.0/a.tar.gz", "https://github.com/mozilla/sccache/releases/download/v1.0.0/a.tar.gz"},
		{"https://user:pw@mirror.example/a.tar.gz?sig=abc&se=1#frag", "https://mirror.example/a.tar.gz"},
		{"://bad", "(unparseable URL)"},
	}
	for _, tt := range tests {
		if got := displayURL(tt.in); got != tt.want {
			t.Errorf("displayURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkReuse(b *testing.B) {
	s := fakerelease.New(b, fakerelease.Options{})
	in := newInstaller(b, s)
	if _, err := in.Install(ctx(b), fakeVersion, hostTarget); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := in.Install(ctx(b), fakeVersion, hostTarget)
		if err != nil || res.Downloaded {
			b.Fatalf("res %+v, err %v", res, err)
		}
	}
}

func BenchmarkInstall(b *testing.B) {
	s := fakerelease.New(b, fakerelease.Options{})
	in := newInstaller(b, s)
	for b.Loop() {
		in.ToolCache = b.TempDir()
		if _, err := in.Install(ctx(b), fakeVersion, hostTarget); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUnavailable: faults of the network or the server are ErrUnavailable
// (setup goes on without sccache), faults of the configuration or of the
// bytes are not (setup fails).
func TestUnavailable(t *testing.T) {
	asset := AssetName(fakeVersion, hostTarget)
	tests := []struct {
		name        string
		file        string
		fault       fakerelease.Fault
		version     string
		unavailable bool
	}{
		{"500 on every try", asset, fakerelease.ServerError, fakeVersion, true},
		{"500 on the checksum file", asset + ".sha256", fakerelease.ServerError, fakeVersion, true},
		{"cut short on every try", asset, fakerelease.Truncated, fakeVersion, true},
		{"never answers", asset, fakerelease.Hang, fakeVersion, true},
		{"stalls mid-body", asset, fakerelease.Stall, fakeVersion, true},
		{"latest rate-limited", fakerelease.LatestName, fakerelease.RateLimited, Latest, true},
		{"latest 500", fakerelease.LatestName, fakerelease.ServerError, Latest, true},
		{"latest never answers", fakerelease.LatestName, fakerelease.Hang, Latest, true},
		{"404", asset, fakerelease.NotFound, fakeVersion, false},
		{"latest 404", fakerelease.LatestName, fakerelease.NotFound, Latest, false},
		{"checksum mismatch", asset + ".sha256", fakerelease.WrongChecksum, fakeVersion, false},
		{"corrupt archive", asset, fakerelease.Corrupt, fakeVersion, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := smallServer(t, fakerelease.Options{})
			s.Fail(tc.file, tc.fault, -1)
			in := newInstaller(t, s)
			in.HTTP = httpx.New(httpx.Options{RetryMax: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond,
				Timeouts: httpx.Timeouts{Header: time.Minute, Idle: 100 * time.Millisecond}})
			version, err := in.ResolveVersion(ctx(t), tc.version)
			if err == nil {
				_, err = in.Install(ctx(t), version, hostTarget)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.unavailable)
			}
			if left := files(t, in.ToolCache); len(left) != 0 {
				t.Errorf("tool cache holds %q", left)
			}
		})
	}
}
