package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/org/rustcache-action/internal/inputs"
)

// Latest is the sccache-version value that asks for the newest release.
const Latest = inputs.Latest

// NormalizeVersion checks that v names a release by the rule of the
// sccache-version input (inputs.ParseVersion) and returns its tag, always
// with the v prefix. It does not accept "latest"; see ResolveVersion. Its
// error is the input's error, and errors.Is(err, ErrInvalidVersion).
func NormalizeVersion(v string) (string, error) {
	ver, err := inputs.ParseVersion(v)
	if err != nil {
		return "", &inputs.Error{Input: "sccache-version", Value: strings.TrimSpace(v), Want: inputs.VersionWant(pinnedVersion), Kind: ErrInvalidVersion}
	}
	return ver.String(), nil
}

// ResolveVersion turns the sccache-version input into a release tag: empty
// gives DefaultVersion, "latest" asks the GitHub REST API for the newest
// release of mozilla/sccache, anything else must be a release version.
func (in *Installer) ResolveVersion(ctx context.Context, v string) (string, error) {
	switch t := strings.TrimSpace(v); {
	case t == "":
		return pinnedVersion, nil
	case strings.EqualFold(t, Latest):
		return in.latest(ctx)
	default:
		return NormalizeVersion(t)
	}
}

// latest asks GET /repos/mozilla/sccache/releases/latest for the newest tag.
func (in *Installer) latest(ctx context.Context) (string, error) {
	base, err := url.Parse(strings.TrimSuffix(in.apiURL(), "/") + "/")
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return "", fmt.Errorf("resolve sccache-version latest: GITHUB_API_URL %q is not an http(s) URL", in.apiURL())
	}
	gh := github.NewClient(in.client().StandardClient())
	if in.Token != "" {
		gh = gh.WithAuthToken(in.Token)
	}
	gh.BaseURL = base
	endpoint := displayURL(base.String() + "repos/" + owner + "/" + repo + "/releases/latest")

	rel, resp, err := gh.Repositories.GetLatestRelease(ctx, owner, repo)
	if err != nil {
		var rate *github.RateLimitError
		var abuse *github.AbuseRateLimitError
		switch {
		case errors.As(err, &rate), errors.As(err, &abuse):
			return "", unavailable(fmt.Errorf("resolve sccache-version latest: the GitHub API rate limit was hit at %s; set sccache-version to a release tag such as %s instead of latest, or provide a token", endpoint, pinnedVersion))
		case resp != nil && resp.StatusCode == http.StatusNotFound:
			return "", fmt.Errorf("resolve sccache-version latest: no release found at %s (HTTP 404); set sccache-version to a release tag such as %s", endpoint, pinnedVersion)
		case resp != nil:
			err := fmt.Errorf("resolve sccache-version latest: %s answered HTTP %d; set sccache-version to a release tag such as %s to avoid the lookup", endpoint, resp.StatusCode, pinnedVersion)
			if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
				return "", unavailable(err)
			}
			return "", err
		default:
			return "", unavailable(fmt.Errorf("resolve sccache-version latest: %w", err))
		}
	}
	tag, err := NormalizeVersion(rel.GetTagName())
	if err != nil {
		return "", fmt.Errorf("resolve sccache-version latest: %s named release %q, which is not a release tag", endpoint, rel.GetTagName())
	}
	return tag, nil
}
