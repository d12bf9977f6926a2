// Package prune deletes superseded cache entries through the GitHub REST API
// (GET/DELETE /repos/{owner}/{repo}/actions/caches): after a successful save,
// older entries of the same key prefix and git ref are removed, keeping the
// newest few. It needs a token with `actions: write`; without one it does
// nothing and says why.
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
)

// Request says what to prune.
type Request struct {
	APIURL string // GITHUB_API_URL
	Repo   string // GITHUB_REPOSITORY, owner/name
	Ref    string // GITHUB_REF
	Prefix string // key prefix of this configuration
	Keep   int    // newest entries to keep
	Token  string
	HTTP   *http.Client
}

// ErrNoPermission means the token may not delete caches.
var ErrNoPermission = errors.New("the token may not delete caches (grant `actions: write` to prune superseded entries)")

// Run lists the entries of Prefix on Ref, newest first, and deletes all but the
// newest Keep. It returns how many were deleted.
func Run(ctx context.Context, r Request) (int, error) {
	owner, name, ok := strings.Cut(r.Repo, "/")
	if !ok || owner == "" || name == "" {
		return 0, fmt.Errorf("prune: GITHUB_REPOSITORY %q is not owner/name", r.Repo)
	}
	c := github.NewClient(r.HTTP).WithAuthToken(r.Token)
	if r.APIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(r.APIURL, "/") + "/")
		if err != nil {
			return 0, fmt.Errorf("prune: GITHUB_API_URL: %w", err)
		}
		c.BaseURL = u
	}
	var all []*github.ActionsCache
	opts := &github.ActionsCacheListOptions{Key: github.String(r.Prefix), Ref: github.String(r.Ref),
		Sort: github.String("created_at"), Direction: github.String("desc"), ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < 20; page++ {
		list, resp, err := c.Actions.ListCaches(ctx, owner, name, opts)
		if err != nil {
			return 0, classify("list caches", err)
		}
		all = append(all, list.ActionsCaches...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// The API filters by prefix already; keep only exact prefix matches on the
	// ref, newest first, in case a server ignores a filter.
	var mine []*github.ActionsCache
	for _, e := range all {
		if strings.HasPrefix(e.GetKey(), r.Prefix) && (r.Ref == "" || e.GetRef() == r.Ref) {
			mine = append(mine, e)
		}
	}
	sort.SliceStable(mine, func(i, j int) bool {
		return mine[i].GetCreatedAt().After(mine[j].GetCreatedAt().Time)
	})
	deleted := 0
	for i, e := range mine {
		if i < r.Keep {
			continue
		}
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

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

func classify(op string, err error) error {
	if isStatus(err, http.StatusForbidden) || isStatus(err, http.StatusUnauthorized) {
		return fmt.Errorf("%s: %w", op, ErrNoPermission)
	}
	return fmt.Errorf("%s: %w", op, err)
}
