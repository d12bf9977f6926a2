package job

import (
	"testing"

	"github.com/org/rustcache-action/internal/state"
)

// TestVersionIgnoresTheRoot checks that the cache version is the same for
// every root and workspace: the expected values are
// printf '%s' 'rustcache-action/sccache-dir|zstd-without-long|1.0' | sha256sum
// and the same with "|windows-only" before the salt.
func TestVersionIgnoresTheRoot(t *testing.T) {
	const (
		linux   = "6822e96ae95729afd24d91bf0d009645cba5c61caef6a0e9aa775fa7a6069dcf"
		windows = "d0be09d9ce19ffecd6de414d84387cb453fb52818508be493726259c03c452d4"
	)
	tests := []struct {
		cacheDir, platform, want string
	}{
		{"/home/runner/work/_temp/rustcache/cache", "Linux/X64", linux},
		{"/srv/runner-7/_work/_temp/rustcache/cache", "Linux/X64", linux},
		{"/tmp/act/rustcache/cache", "Linux/ARM64", linux},
		{"/Users/runner/work/_temp/rustcache/cache", "macOS/ARM64", linux},
		{`D:\a\_temp\rustcache\cache`, "Windows/X64", windows},
		{`C:\actions-runner\_work\_temp\rustcache\cache`, "Windows/X64", windows},
	}
	for _, tt := range tests {
		j := &Job{Root: tt.cacheDir, State: &state.State{CacheDir: tt.cacheDir, Platform: tt.platform}}
		if got := j.Version(); got != tt.want {
			t.Errorf("Version for %s on %s = %s, want %s", tt.cacheDir, tt.platform, got, tt.want)
		}
	}
}
