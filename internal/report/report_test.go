package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMarkdownGolden(t *testing.T) {
	tests := map[string]Data{
		"warm": {SccacheVersion: "v0.18.0", Target: "x86_64-unknown-linux-musl", Platform: "Linux/X64",
			PrimaryKey: "rustcache-v1-linux-x64-abc-def-2-1", MatchedKey: "rustcache-v1-linux-x64-abc-def-1-1",
			RestoredBytes: 50 << 20, RestoreSecs: 1.25, Protocol: "v2", Hits: 97, Misses: 3,
			HostStats: true, HostRequests: 120, HostHits: 97, HostMisses: 3, HostNotCacheable: 20,
			SizeBefore: 50 << 20, SizeAfter: 52 << 20, SavedKey: "k", SavedBytes: 51 << 20, SaveSecs: 2, Pruned: 1},
		"cold-skip": {SccacheVersion: "v0.18.0", Target: "x86_64-unknown-linux-musl", Platform: "Linux/X64",
			PrimaryKey: "k|1", RestoreSkip: "ACTIONS_CACHE_MODE=none", SaveSkip: "ACTIONS_CACHE_MODE=none", CacheMode: "none",
			Warnings: []string{"cache persistence is off: no credentials"}},
		"hostile-text": {SccacheVersion: "v0.18.0", Target: "x86_64-unknown-linux-musl", Platform: "Linux/X64",
			PrimaryKey: "k`1", SaveSkip: "upload failed",
			Warnings: []string{"restore: v1 lookup: HTTP 500: a|b\n| forged | row |\r\n<img src=x> ::error::x"}},
		"unaccounted": {SccacheVersion: "v0.18.0", Target: "x86_64-unknown-linux-musl", Platform: "Linux/X64",
			PrimaryKey: "k", MatchedKey: "k", Exact: true, Unaccounted: "the snapshot restore took is unreadable",
			SizeBefore: 10 << 20, SizeAfter: 10 << 20, SavedKey: "k2", SavedBytes: 9 << 20, SaveSecs: 1,
			Warnings: []string{"cache accounting: read the cache snapshot: not a snapshot of this format"}},
		"targets": {SccacheVersion: "v0.18.0", Target: "x86_64-unknown-linux-musl", Platform: "Linux/X64",
			PrimaryKey: "k2", MatchedKey: "k1", RestoredBytes: 60 << 20, RestoreSecs: 0.5, Hits: 4,
			SizeBefore: 20 << 20, SizeAfter: 20 << 20, SaveSkip: "nothing changed since restore",
			TargetsOn: true, TargetRestoredUnits: 40, TargetRestoredBytes: 40 << 20, CratesUsed: 21, CratesFresh: 20,
			TargetUnits: 41, TargetBytes: 41 << 20, TargetDropped: 3, TargetSkipped: 1,
			CargoHomeOn: true, CargoHomeFiles: 30, CargoHomeBytes: 5 << 20},
		"targets-cold": {SccacheVersion: "v0.18.0", Platform: "Linux/X64", PrimaryKey: "k1", Misses: 24,
			SizeAfter: 20 << 20, SavedKey: "k1", SavedBytes: 50 << 20, SaveSecs: 1,
			TargetsOn: true, CratesUsed: 20, TargetUnits: 40, TargetBytes: 40 << 20},
		"targets-too-large": {SccacheVersion: "v0.18.0", Platform: "Linux/X64", PrimaryKey: "k1",
			TargetsOn: true, CratesUsed: 20, TargetNote: "larger than cache-size, not saved"},
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			got := d.Markdown()
			path := filepath.Join("testdata", name+".md")
			if *update {
				os.WriteFile(path, []byte(got), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHitRateAndBytes(t *testing.T) {
	if r := (&Data{}).HitRate(); r != -1 || Rate(r) != "—" {
		t.Errorf("no compilations: %v %q", r, Rate(r))
	}
	if r := (&Data{Hits: 19, Misses: 1}).HitRate(); r != 95 {
		t.Errorf("rate = %v", r)
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
