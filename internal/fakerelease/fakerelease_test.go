package fakerelease

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fakeBinary(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "sccache")
	if err := os.WriteFile(p, []byte("\x7fELF not really sccache"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, url string) (int, []byte, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func tarNames(t *testing.T, data []byte) map[string][]byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

func zipNames(t *testing.T, data []byte) map[string][]byte {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = b
	}
	return out
}

func TestServesReleaseAssets(t *testing.T) {
	s := New(t, Options{Binary: fakeBinary(t), Versions: []string{"v1.0.0"}})
	base := s.DownloadBase() + "/v1.0.0/"

	status, data, err := get(t, base+"sccache-v1.0.0-x86_64-unknown-linux-musl.tar.gz")
	if err != nil || status != 200 {
		t.Fatalf("tar.gz: %d %v", status, err)
	}
	got := tarNames(t, data)
	want := map[string][]byte{
		"sccache-v1.0.0-x86_64-unknown-linux-musl/":          {},
		"sccache-v1.0.0-x86_64-unknown-linux-musl/sccache":   s.Binary(),
		"sccache-v1.0.0-x86_64-unknown-linux-musl/README.md": []byte("# sccache - Shared Compilation Cache\n"),
		"sccache-v1.0.0-x86_64-unknown-linux-musl/LICENSE":   []byte("Apache License, Version 2.0\n"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tar.gz members (-want +got):\n%s", d)
	}

	status, sum, _ := get(t, base+"sccache-v1.0.0-x86_64-unknown-linux-musl.tar.gz.sha256")
	h := sha256.Sum256(data)
	if status != 200 || string(sum) != hex.EncodeToString(h[:]) || string(sum) != s.Digest("v1.0.0", "sccache-v1.0.0-x86_64-unknown-linux-musl.tar.gz") {
		t.Errorf(".sha256 = %d %q, want the bare digest %x", status, sum, h)
	}

	status, data, _ = get(t, base+"sccache-v1.0.0-aarch64-pc-windows-msvc.zip")
	if status != 200 {
		t.Fatalf("zip: %d", status)
	}
	if b := zipNames(t, data)["sccache-v1.0.0-aarch64-pc-windows-msvc/sccache.exe"]; !bytes.Equal(b, s.Binary()) {
		t.Errorf("zip lacks sccache.exe")
	}
	if status, _, _ := get(t, base+"sccache-v1.0.0-aarch64-pc-windows-msvc.tar.gz"); status != 200 {
		t.Errorf("windows tar.gz: %d", status)
	}

	// Asked for on purpose: declared, so they are answered 404 without
	// failing the test.
	s.Allow("/mozilla/sccache/releases/download/")
	s.Allow("/elsewhere")
	for _, missing := range []string{
		base + "sccache-v1.0.0-x86_64-unknown-linux-musl.zip",   // no zip for Linux
		base + "sccache-v1.0.0-x86_64-unknown-linux-gnu.tar.gz", // no such target
		s.DownloadBase() + "/v2.0.0/sccache-v2.0.0-x86_64-unknown-linux-musl.tar.gz",
		s.ServerURL() + "/elsewhere",
	} {
		if status, _, _ := get(t, missing); status != 404 {
			t.Errorf("%s: %d, want 404", missing, status)
		}
	}
	if got, want := s.Downloads(), 7; got != want { // all but /elsewhere
		t.Errorf("Downloads() = %d, want %d", got, want)
	}
}

func TestLatest(t *testing.T) {
	s := New(t, Options{Binary: fakeBinary(t), Versions: []string{"v1.0.0", "v1.1.0"}, Targets: []string{"x86_64-pc-windows-msvc"}})
	status, body, _ := get(t, s.APIURL()+"/repos/mozilla/sccache/releases/latest")
	var rel struct {
		Tag    string `json:"tag_name"`
		Assets []struct {
			Name string `json:"name"`
			URL  string `json:"browser_download_url"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(body, &rel); err != nil || status != 200 {
		t.Fatalf("%d %s: %v", status, body, err)
	}
	if rel.Tag != "v1.1.0" || len(rel.Assets) != 4 {
		t.Errorf("release %+v", rel)
	}
	for _, a := range rel.Assets {
		if status, _, _ := get(t, a.URL); status != 200 || !strings.HasSuffix(a.URL, "/"+a.Name) {
			t.Errorf("asset %s at %s: %d", a.Name, a.URL, status)
		}
	}
	if s.Count(LatestName) != 1 {
		t.Errorf("Count(LatestName) = %d", s.Count(LatestName))
	}

	none := New(t, Options{Binary: fakeBinary(t), NoLatest: true})
	if status, _, _ := get(t, none.APIURL()+"/repos/mozilla/sccache/releases/latest"); status != 404 {
		t.Errorf("NoLatest: %d", status)
	}
}

func TestFaults(t *testing.T) {
	s := New(t, Options{Binary: fakeBinary(t)})
	asset := "sccache-" + DefaultVersion + "-i686-unknown-linux-musl.tar.gz"
	url := s.DownloadBase() + "/" + DefaultVersion + "/" + asset
	good, _ := s.Archive(DefaultVersion, asset)

	s.Fail(asset, ServerError, 2)
	for i, want := range []int{500, 500, 200} {
		if status, _, _ := get(t, url); status != want {
			t.Errorf("request %d: %d, want %d", i, status, want)
		}
	}

	s.Fail(asset, Truncated, 1)
	status, body, err := get(t, url)
	if status != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) >= len(good) {
		t.Errorf("truncated: %d, %d of %d bytes, err %v", status, len(body), len(good), err)
	}

	s.Fail(asset, Corrupt, 1)
	if _, body, _ := get(t, url); len(body) != len(good) || bytes.Equal(body, good) {
		t.Errorf("corrupt body equals the archive")
	}
	s.Fail(asset+".sha256", WrongChecksum, 1)
	if _, sum, _ := get(t, url+".sha256"); string(sum) == s.Digest(DefaultVersion, asset) || len(sum) != 64 {
		t.Errorf("wrong checksum served the right one: %s", sum)
	}
	if _, sum, _ := get(t, url+".sha256"); string(sum) != s.Digest(DefaultVersion, asset) {
		t.Errorf("fault outlived its count")
	}

	s.Fail(asset, NotFound, -1)
	for range 3 {
		if status, _, _ := get(t, url); status != 404 {
			t.Errorf("NotFound forever: %d", status)
		}
	}
	if got, want := s.Count(asset), 8; got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}

	s.Fail(LatestName, RateLimited, 1)
	resp, err := http.Get(s.APIURL() + "/repos/mozilla/sccache/releases/latest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("rate limited: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSetArchive(t *testing.T) {
	s := New(t, Options{Binary: fakeBinary(t)})
	data := TarGz([]Entry{{Name: "odd", Body: []byte("x"), Mode: 0o644}})
	s.SetArchive("v7.0.0", "custom.tar.gz", data)
	status, body, _ := get(t, s.DownloadBase()+"/v7.0.0/custom.tar.gz")
	if status != 200 || !bytes.Equal(body, data) {
		t.Errorf("custom archive: %d", status)
	}
	_, sum, _ := get(t, s.DownloadBase()+"/v7.0.0/custom.tar.gz.sha256")
	h := sha256.Sum256(data)
	if string(sum) != hex.EncodeToString(h[:]) {
		t.Errorf("custom archive's checksum %s", sum)
	}
}

func TestArchivesAreDeterministic(t *testing.T) {
	entries := ReleaseEntries("v1.0.0", "x86_64-apple-darwin", []byte("bin"))
	if !bytes.Equal(TarGz(entries), TarGz(entries)) || !bytes.Equal(Zip(entries), Zip(entries)) {
		t.Error("the same entries gave different archives")
	}
}

func TestDefaultBinaryIsRealSccache(t *testing.T) {
	s := New(t, Options{})
	if !bytes.HasPrefix(s.Binary(), []byte("\x7fELF")) {
		t.Errorf("default binary is not an ELF executable")
	}
}
