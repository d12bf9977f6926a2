package cacheservice

import "testing"

// The expected values were computed by hand from the official client's
// formula, e.g. printf '%s' 'a|b/c|zstd-without-long|windows-only|1.0' |
// sha256sum, and the non-Windows ones were also checked against
// getCacheVersion of @actions/cache 6.3.0.
func TestVersion(t *testing.T) {
	tests := []struct {
		paths       []string
		compression string
		windows     bool
		want        string
	}{
		{[]string{"/home/runner/.cache/rustcache"}, CompressionZstd, false, "afc153071d5e56e260a95a344b1aed7852de7e047f2a983388fe32c4cac35dab"},
		{[]string{"a", "b/c"}, CompressionZstd, true, "54934caa59e85a4027ee0058bdb55543467c300d56572dfbd1521bfa454a48a0"},
		{nil, "", false, "d0ff5974b6aa52cf562bea5921840c032a860a91a3512f7fe8f768f6bbe005f6"},
		{[]string{"x"}, CompressionGzip, false, "ac27f911fa91c4a01468a6d95924a5761602f42179708e70225a8f5c6d14c402"},
	}
	for _, tt := range tests {
		if got := Version(tt.paths, tt.compression, tt.windows); got != tt.want {
			t.Errorf("Version(%q, %q, %v) = %s, want %s", tt.paths, tt.compression, tt.windows, got, tt.want)
		}
	}
	// The caller's slice is left alone.
	paths := make([]string, 1, 8)
	paths[0] = "p"
	Version(paths, CompressionZstd, true)
	if got := paths[:2][1]; got != "" {
		t.Errorf("Version wrote %q into the caller's backing array", got)
	}
}
