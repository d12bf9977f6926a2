package release

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/fakerelease"
)

func TestExtractBinary(t *testing.T) {
	const v = "v1.2.3"
	bin := []byte("\x7fELF fake sccache")
	type E = fakerelease.Entry
	linux, windows := "aarch64-unknown-linux-musl", "aarch64-pc-windows-msvc"
	dir := func(target string) string { return "sccache-" + v + "-" + target }
	release := func(target string, extra ...E) []E {
		return append(fakerelease.ReleaseEntries(v, target, bin), extra...)
	}

	tests := []struct {
		name    string
		target  string
		entries []E
		reason  string // "" means the binary is extracted
		entry   string // the entry the error names
	}{
		{name: "release layout", target: linux, entries: release(linux)},
		{name: "windows release layout", target: windows, entries: release(windows)},
		{name: "binary only", target: linux, entries: []E{{Name: dir(linux) + "/sccache", Body: bin, Mode: 0o755}}},
		{name: "dot-slash names", target: linux, entries: []E{{Name: "./" + dir(linux) + "/sccache", Body: bin, Mode: 0o700}}},
		{name: "extra files in the release directory", target: linux,
			entries: release(linux, E{Name: dir(linux) + "/doc/notes.txt", Body: []byte("x"), Mode: 0o644})},
		{name: "no binary", target: linux,
			entries: []E{{Name: dir(linux) + "/README.md", Body: []byte("x"), Mode: 0o644}},
			reason:  "it holds no " + dir(linux) + "/sccache"},
		{name: "linux binary name in a windows archive", target: windows,
			entries: []E{{Name: dir(windows) + "/sccache", Body: bin, Mode: 0o755}},
			reason:  "it holds no " + dir(windows) + "/sccache.exe"},
		{name: "other version's directory", target: linux,
			entries: []E{{Name: "sccache-v9.9.9-" + linux + "/sccache", Body: bin, Mode: 0o755}},
			reason:  "the path is outside " + dir(linux) + "/", entry: "sccache-v9.9.9-" + linux + "/sccache"},
		{name: "top-level file", target: linux,
			entries: release(linux, E{Name: "install.sh", Body: []byte("x"), Mode: 0o755}),
			reason:  "the path is outside " + dir(linux) + "/", entry: "install.sh"},
		{name: "dot-dot", target: linux,
			entries: release(linux, E{Name: dir(linux) + "/../../etc/passwd", Body: []byte("x"), Mode: 0o644}),
			reason:  "the path leaves the archive", entry: dir(linux) + "/../../etc/passwd"},
		{name: "absolute", target: linux,
			entries: release(linux, E{Name: "/" + dir(linux) + "/sccache", Body: bin, Mode: 0o755}),
			reason:  "the path leaves the archive", entry: "/" + dir(linux) + "/sccache"},
		{name: "backslash", target: windows,
			entries: []E{{Name: dir(windows) + `\sccache.exe`, Body: bin, Mode: 0o755}},
			reason:  "the name is not a plain relative path", entry: dir(windows) + `\sccache.exe`},
		{name: "binary is a symlink", target: linux,
			entries: []E{{Name: dir(linux) + "/sccache", Mode: fs.ModeSymlink | 0o777, Link: "/bin/sh"}},
			reason:  "only directories and regular files are expected (links, devices and pipes are refused)", entry: dir(linux) + "/sccache"},
		{name: "symlink beside the binary", target: linux,
			entries: release(linux, E{Name: dir(linux) + "/lib", Mode: fs.ModeSymlink | 0o777, Link: "/"}),
			reason:  "only directories and regular files are expected (links, devices and pipes are refused)", entry: dir(linux) + "/lib"},
		{name: "binary is a hard link", target: linux,
			entries: []E{
				{Name: dir(linux) + "/README.md", Body: bin, Mode: 0o644},
				{Name: dir(linux) + "/sccache", Mode: 0o755, Link: dir(linux) + "/README.md", HardLink: true},
			},
			reason: "only directories and regular files are expected (links, devices and pipes are refused)", entry: dir(linux) + "/sccache"},
		{name: "device", target: linux,
			entries: release(linux, E{Name: dir(linux) + "/null", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}),
			reason:  "only directories and regular files are expected (links, devices and pipes are refused)", entry: dir(linux) + "/null"},
		{name: "fifo", target: linux,
			entries: release(linux, E{Name: dir(linux) + "/pipe", Mode: fs.ModeNamedPipe | 0o644}),
			reason:  "only directories and regular files are expected (links, devices and pipes are refused)", entry: dir(linux) + "/pipe"},
		{name: "binary twice", target: linux,
			entries: release(linux, E{Name: dir(linux) + "/sccache", Body: []byte("second"), Mode: 0o755}),
			reason:  "the binary appears twice", entry: dir(linux) + "/sccache"},
		{name: "binary is a directory", target: linux,
			entries: []E{{Name: dir(linux) + "/sccache/", Mode: fs.ModeDir | 0o755}},
			reason:  "the binary is a directory", entry: dir(linux) + "/sccache/"},
	}
	// zip archives cannot hold hard links, devices or pipes.
	zipless := map[string]bool{"binary is a hard link": true, "device": true, "fifo": true}
	for _, tt := range tests {
		for _, format := range []string{"tar.gz", "zip"} {
			if format == "zip" && zipless[tt.name] {
				continue
			}
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				data := fakerelease.TarGz(tt.entries)
				if format == "zip" {
					data = fakerelease.Zip(tt.entries)
				}
				e := (&Installer{ToolCache: t.TempDir()}).entry(v, tt.target)
				e.asset = dir(tt.target) + "." + format
				archive := filepath.Join(t.TempDir(), e.asset)
				if err := os.WriteFile(archive, data, 0o644); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(archive)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				out := t.TempDir()
				dst := filepath.Join(out, e.exe)

				sum, n, err := extractBinary(context.Background(), f, e, dst)
				if tt.reason == "" {
					if err != nil {
						t.Fatal(err)
					}
					got, _ := os.ReadFile(dst)
					if string(got) != string(bin) || n != int64(len(bin)) || !isHexDigest(sum) {
						t.Errorf("extracted %q (%d bytes, sha256 %s)", got, n, sum)
					}
					if left := files(t, out); len(left) != 1 {
						t.Errorf("extracted %q, want only the binary", left)
					}
					return
				}
				var ae *ArchiveError
				if !errors.As(err, &ae) || !errors.Is(err, ErrArchive) {
					t.Fatalf("err = %v, want an ArchiveError", err)
				}
				if ae.Reason != tt.reason || ae.Entry != tt.entry {
					t.Errorf("ArchiveError{Entry: %q, Reason: %q}, want {%q, %q}", ae.Entry, ae.Reason, tt.entry, tt.reason)
				}
				if !strings.HasSuffix(err.Error(), "; nothing was installed") || !strings.Contains(err.Error(), e.asset) {
					t.Errorf("message %q", err)
				}
			})
		}
	}
}

func TestExtractRejectsGarbage(t *testing.T) {
	for _, target := range []string{"aarch64-unknown-linux-musl", "aarch64-pc-windows-msvc"} {
		e := (&Installer{ToolCache: t.TempDir()}).entry("v1.2.3", target)
		asset := e.asset
		p := filepath.Join(t.TempDir(), asset)
		os.WriteFile(p, []byte("this is not an archive"), 0o644)
		f, _ := os.Open(p)
		_, _, err := extractBinary(context.Background(), f, e, filepath.Join(t.TempDir(), e.exe))
		f.Close()
		if err == nil || !strings.HasPrefix(err.Error(), "extract sccache-v1.2.3-") {
			t.Errorf("%s: err = %v", asset, err)
		}
	}
}
