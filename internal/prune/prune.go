// Package prune deletes superseded cache entries through the GitHub REST API
// (GET/DELETE /repos/{owner}/{repo}/actions/caches): after a successful save,
// older entries of the same key prefix and git ref are removed, keeping the
// newest few and always the one just saved. It needs a token with
// `actions: write`; without one it does nothing and says why.
package prune

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-github/v62/github"
	"github.com/hashicorp/go-retryablehttp"
)

// Request says what to prune.
type Request struct {
	APIURL string // GITHUB_API_URL
	Repo   string // GITHUB_REPOSITORY, owner/name
	Ref    string // GITHUB_REF
	Prefix string // key prefix of this configuration
	// Saved is the key of the entry this job just saved: it is never
	// deleted, and it counts as one of the Keep entries whether or not the
	// listing shows it yet.
	Saved string
	// Keep is how many entries of the configuration remain, Saved included;
	// 0 (or less) disables pruning: no request is made.
	Keep  int
	Token string
	// HTTP is the retrying client every request goes through (httpx.New).
	HTTP *retryablehttp.Client
}

// ErrNoPermission means the token may not list or delete caches.
var ErrNoPermission = errors.New("the token may not delete caches (grant `actions: write` to prune superseded entries)")

// ErrRateLimited means the REST API's rate limit stopped the pruning.
var ErrRateLimited = errors.New("the REST API rate limit was reached; a later save prunes again")

// maxPages bounds the listing (100 entries a page).
const maxPages = 20

// Run lists the entries of Prefix on Ref, newest first, and deletes all but
// the newest Keep (the one just saved always among them). It returns how many
// were deleted. An entry already gone (404) is not an error.
func Run(ctx context.Context, r Request) (int, error) {
	if r.Keep <= 0 {
		return 0, nil
	}
	owner, name, ok := strings.Cut(r.Repo, "/")
	if !ok || owner == "" || name == "" {
		return 0, fmt.Errorf("GITHUB_REPOSITORY %q is not owner/name", r.Repo)
	}
	if r.HTTP == nil {
		return 0, errors.New("prune: no HTTP client")
	}
	c := github.NewClient(r.HTTP.StandardClient()).WithAuthToken(r.Token)
	if r.APIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(r.APIURL, "/") + "/")
		if err != nil {
			return 0, fmt.Errorf("could not parse GITHUB_API_URL %q: %w", r.APIURL, err)
		}
		c.BaseURL = u
	}
	all, err := list(ctx, c, owner, name, r)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, e := range superseded(all, r) {
		if _, err := c.Actions.DeleteCachesByID(ctx, owner, name, e.GetID()); err != nil {
			if isStatus(err, http.StatusNotFound) {
				continue // deleted by a concurrent job
			}
			return deleted, classify(fmt.Sprintf("delete cache %d", e.GetID()), err)
		}
		deleted++
	}
	return deleted, nil
}

// list returns every entry of the prefix on the ref, across pages.
func list(ctx context.Context, c *github.Client, owner, name string, r Request) ([]*github.ActionsCache, error) {
	var all []*github.ActionsCache
	opts := &github.ActionsCacheListOptions{Key: github.String(r.Prefix), Sort: github.String("created_at"),
		Direction: github.String("desc"), ListOptions: github.ListOptions{PerPage: 100}}
	if r.Ref != "" {
		opts.Ref = github.String(r.Ref)
	}
	for range maxPages {
		page, resp, err := c.Actions.ListCaches(ctx, owner, name, opts)
		if err != nil {
			return nil, classify("list caches", err)
		}
		all = append(all, page.ActionsCaches...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return all, nil
}

// superseded picks the entries to delete: those of exactly this prefix and
// ref (in case a server ignores a filter), newest first, past the newest
// Keep, never the one just saved.
func superseded(all []*github.ActionsCache, r Request) []*github.ActionsCache {
	var mine []*github.ActionsCache
	for _, e := range all {
		if e.GetKey() == r.Saved || !strings.HasPrefix(e.GetKey(), r.Prefix) || (r.Ref != "" && e.GetRef() != r.Ref) {
			continue
		}
		mine = append(mine, e)
	}
	sort.SliceStable(mine, func(i, j int) bool {
		return mine[i].GetCreatedAt().After(mine[j].GetCreatedAt().Time)
	})
	keep := r.Keep
	if r.Saved != "" {
		keep-- // the saved entry is one of the kept
	}
	if keep >= len(mine) {
		return nil
	}
	return mine[keep:]
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

func classify(op string, err error) error {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl), errors.As(err, &abuse), isStatus(err, http.StatusTooManyRequests):
		return fmt.Errorf("%s: %w", op, ErrRateLimited)
	case isStatus(err, http.StatusForbidden), isStatus(err, http.StatusUnauthorized):
		return fmt.Errorf("%s: %w", op, ErrNoPermission)
	}
	return fmt.Errorf("could not %s: %w", op, err)
}
