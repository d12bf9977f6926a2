package job

import (
	"slices"
	"testing"

	"github.com/org/rustcache-action/internal/state"
)

// TestRemoteOnlyEntries: with a remote store holding the sccache cache
// alone, an entry is carried only for the target part or cargo home, and
// its version never matches a job that keeps sccache entries in the entry.
func TestRemoteOnlyEntries(t *testing.T) {
	const marker = "rustcache-action/sccache-in-remote-store"
	for _, tc := range []struct {
		name          string
		backend       *state.Backend
		targets, home bool
		archive, mark bool
	}{
		{name: "no backend", archive: true},
		{name: "fallback", backend: &state.Backend{Kind: "redis"}, archive: true},
		{name: "remote alone", backend: &state.Backend{Kind: "redis", Active: true}, mark: true},
		{name: "remote with the target part", backend: &state.Backend{Kind: "redis", Active: true}, targets: true, archive: true, mark: true},
		{name: "remote with cargo home", backend: &state.Backend{Kind: "redis", Active: true}, home: true, archive: true, mark: true},
		{name: "remote after the local level", backend: &state.Backend{Kind: "redis", Active: true, Chain: true}, archive: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &Job{State: &state.State{Backend: tc.backend, CacheTargets: tc.targets, CacheCargoHome: tc.home}}
			if got := j.State.Archive(); got != tc.archive {
				t.Errorf("Archive = %v, want %v", got, tc.archive)
			}
			if got := slices.Contains(j.VersionPaths(), marker); got != tc.mark {
				t.Errorf("version paths %v, marker present = %v", j.VersionPaths(), got)
			}
		})
	}
}
