package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/go-github/v62/github"
)

// Latest is the sccache-version value that asks for the newest release.
const Latest = "latest"

// versionRE is a release tag: vMAJOR.MINOR.PATCH with an optional
// pre-release suffix (v0.4.0-pre.7), no leading zeros.
var versionRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z]+(\.[0-9A-Za-z-]+)*)?$`)

// NormalizeVersion checks that v names a release (v0.18.0, 0.18.0 or
// v0.4.0-pre.7) and returns its tag, always with the v prefix. Surrounding
// spaces are ignored. It does not accept "latest"; see ResolveVersion.
func NormalizeVersion(v string) (string, error) {
	t := strings.TrimSpace(v)
	if !strings.HasPrefix(t, "v") {
		t = "v" + t
	}
	if len(t) > 64 || !versionRE.MatchString(t) {
		return "", fmt.Errorf("%w %q: expected latest or a release tag such as %s", ErrInvalidVersion, v, pinnedVersion)
	}
	return t, nil
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
