// Package release downloads, verifies and installs an sccache release binary
// (https://github.com/mozilla/sccache/releases) into the runner's tool cache.
//
// A release publishes, per target, sccache-<tag>-<target>.tar.gz (and a .zip
// for Windows targets) holding sccache-<tag>-<target>/sccache[.exe] plus
// README.md and LICENSE, each with an <asset>.sha256 file holding the bare
// hex digest. Windows targets use the .zip. The archive of DefaultVersion is
// checked against digests built into this program; other versions against
// the published .sha256 file.
//
// Installs follow the layout of the toolkit's tool cache
// (@actions/tool-cache): <RUNNER_TOOL_CACHE>/sccache/<version without v>/<target>/
// holds the binary and install.json (what was installed and its digests), and
// the empty marker <target>.complete next to that directory says the entry is
// whole. Entries are built in a temporary sibling directory and renamed into
// place, and only entries with a marker are reused, so a half-written entry
// is never used.
package release

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/httpx"
	"github.com/org/rustcache-action/internal/inputs"
)

const (
	owner = "mozilla"
	repo  = "sccache"

	// DefaultServerURL and DefaultAPIURL stand in for an unset
	// GITHUB_SERVER_URL and GITHUB_API_URL.
	DefaultServerURL = "https://github.com"
	DefaultAPIURL    = "https://api.github.com"

	// maxArchiveBytes bounds a download and maxBinaryBytes the extracted
	// binary (sccache archives are about 10 MB, the binary about 30 MB).
	maxArchiveBytes = 256 << 20
	maxBinaryBytes  = 512 << 20
	// downloadAttempts bounds re-downloads after a body cut short. Status
	// codes (5xx, 429) are retried by the HTTP client itself.
	downloadAttempts = 3
)

// Installer installs sccache releases. The zero value works against
// github.com once ToolCache is set; tests point ServerURL and APIURL at a
// fake.
type Installer struct {
	// HTTP carries every request; nil means httpx.New with defaults.
	HTTP *retryablehttp.Client
	// ServerURL and APIURL come from GITHUB_SERVER_URL and GITHUB_API_URL
	// (defaults DefaultServerURL and DefaultAPIURL).
	ServerURL, APIURL string
	// DownloadBase, when set (input sccache-url), replaces
	// <ServerURL>/mozilla/sccache/releases/download: assets are fetched from
	// <DownloadBase>/<tag>/<asset>.
	DownloadBase string
	// Token authenticates the REST API call that resolves "latest" (and
	// only that call). It is never logged nor sent to download URLs.
	Token string
	// ToolCache is RUNNER_TOOL_CACHE; required.
	ToolCache string
	// TempDir is RUNNER_TEMP, where archives are downloaded; when empty they
	// are staged inside ToolCache.
	TempDir string
	// Now is the clock (nil: time.Now); it stamps install.json.
	Now func() time.Time
}

// Result describes an installed binary.
type Result struct {
	Path       string // absolute path of sccache[.exe] in the tool cache
	Version    string // release tag, e.g. v0.18.0
	Target     string // release target, e.g. x86_64-unknown-linux-musl
	Asset      string // release asset the binary came from
	SHA256     string // verified digest of the release archive
	Pinned     bool   // SHA256 was checked against the built-in table
	Downloaded bool   // false when an existing tool-cache entry was reused
	Bytes      int64  // bytes downloaded (0 when reused)
	// Replaced says why an existing tool-cache entry was discarded and
	// installed again (empty when none was); worth a warning.
	Replaced string
}

// AssetName is the release asset that holds version for target (see
// arch.AssetName).
func AssetName(version, target string) string { return arch.AssetName(version, target) }

// AssetURL is where the asset of version for target is downloaded from.
func (in *Installer) AssetURL(version, target string) string {
	return in.downloadBase() + "/" + url.PathEscape(version) + "/" + AssetName(version, target)
}

// Install returns the path of a verified sccache binary for version (a
// release tag, see ResolveVersion) and target in the tool cache, downloading
// and installing it only when the tool cache has no complete entry for it.
//
// The archive is downloaded to a temporary file while being hashed, checked
// (ErrChecksum), and only then opened; only the binary is extracted, and an
// archive with anything unexpected in it is refused (ErrArchive). A missing
// asset is ErrNotFound. On any error the tool cache is left as it was.
func (in *Installer) Install(ctx context.Context, version, target string) (Result, error) {
	tag, err := NormalizeVersion(version)
	if err != nil {
		return Result{}, err
	}
	if !arch.ValidTarget(target) {
		return Result{}, &inputs.Error{Input: "sccache-target", Value: target, Want: inputs.OneOfWant(arch.Targets()), Kind: ErrUnsupportedTarget}
	}
	if in.ToolCache == "" {
		return Result{}, errors.New("install sccache: the tool cache directory (RUNNER_TOOL_CACHE) is not set")
	}
	e := in.entry(tag, target)

	res, reason := e.reuse()
	if reason == "" {
		return res, nil
	}
	if reason == reasonMissing {
		reason = ""
	}

	res, err = in.fetchAndInstall(ctx, e)
	if err != nil {
		return Result{}, err
	}
	res.Replaced = reason
	return res, nil
}

// defaultClient serves Installers without an HTTP client of their own.
var defaultClient = sync.OnceValue(func() *retryablehttp.Client { return httpx.New(httpx.Options{}) })

func (in *Installer) client() *retryablehttp.Client {
	if in.HTTP != nil {
		return in.HTTP
	}
	return defaultClient()
}

func (in *Installer) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

func (in *Installer) apiURL() string {
	if in.APIURL == "" {
		return DefaultAPIURL
	}
	return in.APIURL
}

func (in *Installer) downloadBase() string {
	if in.DownloadBase != "" {
		return strings.TrimSuffix(in.DownloadBase, "/")
	}
	server := in.ServerURL
	if server == "" {
		server = DefaultServerURL
	}
	return strings.TrimSuffix(server, "/") + "/" + owner + "/" + repo + "/releases/download"
}

// tempDir is where downloads go.
func (in *Installer) tempDir(e entry) (string, error) {
	dir := in.TempDir
	if dir == "" {
		dir = e.versionDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create download directory: %w", err)
	}
	return dir, nil
}
