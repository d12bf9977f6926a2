package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

const userAgent = "rustcache-action"

// fetchAndInstall downloads, verifies and extracts the entry's asset, then
// moves the binary into the tool cache.
func (in *Installer) fetchAndInstall(ctx context.Context, e entry) (Result, error) {
	assetURL := in.AssetURL(e.version, e.target)
	want, isPinned := PinnedDigest(e.version, e.target)
	source := "the digest built into rustcache-action for sccache " + e.version
	if !isPinned {
		sumURL := assetURL + ".sha256"
		var err error
		if want, err = in.publishedDigest(ctx, e.asset+".sha256", sumURL); err != nil {
			return Result{}, err
		}
		source = "published in " + displayURL(sumURL)
	}

	dir, err := in.tempDir(e)
	if err != nil {
		return Result{}, err
	}
	f, err := os.CreateTemp(dir, "sccache-*.download")
	if err != nil {
		return Result{}, fmt.Errorf("create download file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()

	n, got, err := in.download(ctx, assetURL, e.asset, f)
	if err != nil {
		return Result{}, err
	}
	if got != want {
		return Result{}, &ChecksumError{Asset: e.asset, URL: displayURL(assetURL), Want: want, Got: got, Source: source}
	}

	if err := os.MkdirAll(e.versionDir, 0o755); err != nil {
		return Result{}, fmt.Errorf("create tool-cache directory: %w", err)
	}
	staging, err := os.MkdirTemp(e.versionDir, "."+e.target+".tmp-")
	if err != nil {
		return Result{}, fmt.Errorf("create tool-cache staging directory: %w", err)
	}
	defer os.RemoveAll(staging)
	if err := os.Chmod(staging, 0o755); err != nil {
		return Result{}, fmt.Errorf("create tool-cache staging directory: %w", err)
	}

	binSum, binBytes, err := extractBinary(ctx, f, e, filepath.Join(staging, e.exe))
	if err != nil {
		return Result{}, err
	}
	m := manifest{
		Version:       e.version,
		Target:        e.target,
		Asset:         e.asset,
		URL:           displayURL(assetURL),
		ArchiveSHA256: got,
		Pinned:        isPinned,
		BinarySHA256:  binSum,
		BinaryBytes:   binBytes,
		InstalledAt:   in.now().UTC(),
	}
	if err := writeManifest(staging, m); err != nil {
		return Result{}, err
	}
	if err := e.commit(staging); err != nil {
		// Another job sharing this tool cache may have installed the
		// same entry meanwhile; use it if it is whole.
		if res, reason := e.reuse(); reason == "" {
			return res, nil
		}
		return Result{}, err
	}
	return Result{
		Path:       e.binary(),
		Version:    e.version,
		Target:     e.target,
		Asset:      e.asset,
		SHA256:     got,
		Pinned:     isPinned,
		Downloaded: true,
		Bytes:      n,
	}, nil
}

// publishedDigest fetches an <asset>.sha256 file: a lowercase hex digest,
// optionally followed by a file name (sha256sum style).
func (in *Installer) publishedDigest(ctx context.Context, name, rawURL string) (string, error) {
	resp, err := in.get(ctx, rawURL)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", name, err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp, name, rawURL); err != nil {
		return "", err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", unavailable(fmt.Errorf("download %s from %s: %w", name, displayURL(rawURL), redact(err)))
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 || !isHexDigest(fields[0]) {
		return "", fmt.Errorf("checksum file %s from %s does not hold a SHA-256 digest", name, displayURL(rawURL))
	}
	return strings.ToLower(fields[0]), nil
}

func isHexDigest(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// errShortBody marks a body that ended early; the download is retried.
var errShortBody = errors.New("download cut short")

// download writes the asset at rawURL into f, hashing it on the way, and
// returns its size and SHA-256. A body cut short is downloaded again, up to
// downloadAttempts times in all.
func (in *Installer) download(ctx context.Context, rawURL, asset string, f *os.File) (int64, string, error) {
	var err error
	for attempt := 1; attempt <= downloadAttempts; attempt++ {
		if attempt > 1 {
			if werr := sleep(ctx, time.Duration(attempt-1)*in.client().RetryWaitMin); werr != nil {
				return 0, "", fmt.Errorf("download %s from %s: %w", asset, displayURL(rawURL), werr)
			}
		}
		if _, serr := f.Seek(0, io.SeekStart); serr != nil {
			return 0, "", fmt.Errorf("rewind download file: %w", serr)
		}
		if terr := f.Truncate(0); terr != nil {
			return 0, "", fmt.Errorf("truncate download file: %w", terr)
		}
		var n int64
		var sum string
		n, sum, err = in.downloadOnce(ctx, rawURL, asset, f)
		if err == nil {
			return n, sum, nil
		}
		if !errors.Is(err, errShortBody) || ctx.Err() != nil {
			return 0, "", err
		}
	}
	return 0, "", unavailable(fmt.Errorf("%w (gave up after %d attempts)", err, downloadAttempts))
}

func (in *Installer) downloadOnce(ctx context.Context, rawURL, asset string, f *os.File) (int64, string, error) {
	resp, err := in.get(ctx, rawURL)
	if err != nil {
		return 0, "", fmt.Errorf("download %s: %w", asset, err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp, asset, rawURL); err != nil {
		return 0, "", err
	}
	if resp.ContentLength > maxArchiveBytes {
		return 0, "", fmt.Errorf("download %s from %s: %d bytes is more than the %d an sccache release may have", asset, displayURL(rawURL), resp.ContentLength, maxArchiveBytes)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, maxArchiveBytes+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return 0, "", fmt.Errorf("download %s from %s: %w", asset, displayURL(rawURL), ctx.Err())
	case err != nil:
		var w *os.PathError
		if errors.As(err, &w) {
			return 0, "", fmt.Errorf("write download file: %w", err)
		}
		return 0, "", fmt.Errorf("download %s from %s: %w after %d bytes: %v", asset, displayURL(rawURL), errShortBody, n, redact(err))
	case n > maxArchiveBytes:
		return 0, "", fmt.Errorf("download %s from %s: more than the %d bytes an sccache release may have", asset, displayURL(rawURL), maxArchiveBytes)
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return 0, "", fmt.Errorf("download %s from %s: %w: got %d of %d bytes", asset, displayURL(rawURL), errShortBody, n, resp.ContentLength)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// get sends an unauthenticated GET through the retrying client. Its error
// never holds the URL's query or user info.
func (in *Installer) get(ctx context.Context, rawURL string) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s is not an http(s) URL (check sccache-url, GITHUB_SERVER_URL)", displayURL(rawURL))
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %v", displayURL(rawURL), redact(err))
	}
	req.Header.Set("Accept", "application/octet-stream")
	req.Header.Set("User-Agent", userAgent)
	resp, err := in.client().Do(req)
	if err != nil {
		return nil, unavailable(fmt.Errorf("GET %s: %w", displayURL(rawURL), redact(err)))
	}
	return resp, nil
}

// checkStatus turns a non-200 response into an error naming what was asked.
func checkStatus(resp *http.Response, name, rawURL string) error {
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound, http.StatusGone:
		return &NotFoundError{Asset: name, URL: displayURL(rawURL), Status: resp.StatusCode}
	case http.StatusTooManyRequests:
		return unavailable(fmt.Errorf("download %s from %s: HTTP %d %s", name, displayURL(rawURL), resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	err := fmt.Errorf("download %s from %s: HTTP %d %s", name, displayURL(rawURL), resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode >= 500 {
		return unavailable(err)
	}
	return err
}

// redact strips the URL (which may carry a signature) from *url.Error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
