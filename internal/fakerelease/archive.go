package fakerelease

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/org/rustcache-action/arch"
)

// Entry is one member of an archive built by TarGz or Zip.
type Entry struct {
	Name string
	Body []byte
	// Mode holds the permission bits and the type bits (fs.ModeDir,
	// fs.ModeSymlink; zero type bits is a regular file).
	Mode fs.FileMode
	// Link is a symlink's target, or with HardLink a hard link's.
	Link     string
	HardLink bool
}

// modTime is fixed so that an archive's bytes depend only on its entries.
var modTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// ReleaseEntries are the members of a real release archive: the release
// directory, the binary, README.md and LICENSE.
func ReleaseEntries(tag, target string, binary []byte) []Entry {
	dir := arch.ArchiveDir(tag, target)
	return []Entry{
		{Name: dir + "/", Mode: fs.ModeDir | 0o755},
		{Name: dir + "/" + arch.ExeName(target), Body: binary, Mode: 0o755},
		{Name: dir + "/README.md", Body: []byte("# sccache - Shared Compilation Cache\n"), Mode: 0o644},
		{Name: dir + "/LICENSE", Body: []byte("Apache License, Version 2.0\n"), Mode: 0o644},
	}
}

// TarGz builds a gzip-compressed tar archive holding entries, in order.
func TarGz(entries []Entry) []byte {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.Name,
			Mode:    int64(e.Mode.Perm()),
			ModTime: modTime,
			Uid:     1001,
			Gid:     1001,
			Format:  tar.FormatPAX,
		}
		switch {
		case e.HardLink:
			h.Typeflag, h.Linkname = tar.TypeLink, e.Link
		case e.Mode&fs.ModeSymlink != 0:
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
		case e.Mode.IsDir():
			h.Typeflag = tar.TypeDir
		case e.Mode&fs.ModeDevice != 0:
			h.Typeflag = tar.TypeChar
		case e.Mode&fs.ModeNamedPipe != 0:
			h.Typeflag = tar.TypeFifo
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(fmt.Sprintf("fakerelease: tar header %q: %v", e.Name, err))
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(e.Body)
		}
	}
	if err := tw.Close(); err != nil {
		panic(fmt.Sprintf("fakerelease: tar: %v", err))
	}
	gz.Close()
	return buf.Bytes()
}

// Zip builds a zip archive holding entries, in order (symlinks store their
// target as the body, as zip does).
func Zip(entries []Entry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: modTime}
		h.SetMode(e.Mode)
		body := e.Body
		if e.Mode&fs.ModeSymlink != 0 {
			body = []byte(e.Link)
		}
		if e.Mode.IsDir() {
			h.Method = zip.Store
			body = nil
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(fmt.Sprintf("fakerelease: zip header %q: %v", e.Name, err))
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		panic(fmt.Sprintf("fakerelease: zip: %v", err))
	}
	return buf.Bytes()
}

// built caches release archives across servers: building one compresses the
// whole binary.
var built sync.Map // archiveKey → []byte

type archiveKey struct {
	binary              [sha256.Size]byte
	tag, target, format string
}

// buildArchive returns the release archive of tag for target in format
// ("tar.gz" or "zip") with binary as sccache[.exe].
func buildArchive(binary []byte, sum [sha256.Size]byte, tag, target, format string) []byte {
	key := archiveKey{sum, tag, target, format}
	if v, ok := built.Load(key); ok {
		return v.([]byte)
	}
	entries := ReleaseEntries(tag, target, binary)
	var data []byte
	if format == "zip" {
		data = Zip(entries)
	} else {
		data = TarGz(entries)
	}
	v, _ := built.LoadOrStore(key, data)
	return v.([]byte)
}
