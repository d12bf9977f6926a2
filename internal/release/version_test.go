package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/org/rustcache-action/arch"
	"github.com/org/rustcache-action/internal/fakerelease"
)

func TestNormalizeVersion(t *testing.T) {
	tests := []struct {
		in, want string // want "" means invalid
	}{
		{"v0.18.0", "v0.18.0"},
		{"0.18.0", "v0.18.0"},
		{" v0.10.0\n", "v0.10.0"},
		{"v0.4.0-pre.7", "v0.4.0-pre.7"},
		{"1.2.3-rc.1", "v1.2.3-rc.1"},
		{"v10.20.30", "v10.20.30"},
		{"v0.0.0", "v0.0.0"},
		{"", ""},
		{"latest", ""},
		{"v", ""},
		{"v0.18", ""},
		{"0.18.0.1", ""},
		{"v01.2.3", ""},
		{"v0.018.0", ""},
		{"vv0.18.0", ""},
		{"V0.18.0", ""},
		{"v0.18.0-", ""},
		{"v0.18.0-pre..1", ""},
		{"v0.18.0+build.5", ""},
		{"v0.18.0 beta", ""},
		{"v0.18.0/../../x", ""},
		{"../v0.18.0", ""},
		{"v0.18.0%2f", ""},
		{"v0.18.0-" + strings.Repeat("a", 60), ""},
	}
	for _, tt := range tests {
		got, err := NormalizeVersion(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrInvalidVersion) {
				t.Errorf("NormalizeVersion(%q) = %q, %v; want ErrInvalidVersion", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeVersion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestResolveVersion(t *testing.T) {
	s := smallServer(t, fakerelease.Options{Versions: []string{"v0.3.0", "v0.7.1"}})
	in := newInstaller(t, s)
	in.Token = "secret-token"
	tests := []struct {
		in, want string
		api      int // requests the call makes to the latest-release endpoint
	}{
		{"", DefaultVersion(), 0},
		{"  ", DefaultVersion(), 0},
		{"0.10.0", "v0.10.0", 0},
		{"latest", "v0.7.1", 1},
		{" LATEST ", "v0.7.1", 1},
	}
	for _, tt := range tests {
		before := s.Count(fakerelease.LatestName)
		got, err := in.ResolveVersion(ctx(t), tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ResolveVersion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if n := s.Count(fakerelease.LatestName) - before; n != tt.api {
			t.Errorf("ResolveVersion(%q) made %d API requests, want %d", tt.in, n, tt.api)
		}
	}

	// The token goes to the API and nowhere else.
	if _, err := in.Install(ctx(t), "v0.7.1", hostTarget); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Requests() {
		isAPI := strings.HasSuffix(r.Path, "/"+fakerelease.LatestName)
		if isAPI && r.Authorization != "Bearer secret-token" {
			t.Errorf("API request %s had Authorization %q", r.Path, r.Authorization)
		}
		if !isAPI && r.Authorization != "" {
			t.Errorf("download %s carried Authorization %q", r.Path, r.Authorization)
		}
	}

	// Without a token, no Authorization header at all.
	in.Token = ""
	if _, err := in.ResolveVersion(ctx(t), "latest"); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests(); r[len(r)-1].Authorization != "" {
		t.Errorf("anonymous API request had Authorization %q", r[len(r)-1].Authorization)
	}
}

func TestResolveLatestErrors(t *testing.T) {
	tests := []struct {
		name  string
		opts  fakerelease.Options
		fault fakerelease.Fault
		times int
		want  string // message with ENDPOINT standing for the endpoint URL
		calls int
	}{
		{
			name:  "no release",
			opts:  fakerelease.Options{NoLatest: true},
			want:  "resolve sccache-version latest: no release found at ENDPOINT (HTTP 404); set sccache-version to a release tag such as " + pinnedVersion,
			calls: 1,
		},
		{
			name:  "rate limited",
			fault: fakerelease.RateLimited, times: -1,
			want:  "resolve sccache-version latest: the GitHub API rate limit was hit at ENDPOINT; set sccache-version to a release tag such as " + pinnedVersion + " instead of latest, or provide a token",
			calls: 1,
		},
		{
			name:  "server errors",
			fault: fakerelease.ServerError, times: -1,
			want:  "resolve sccache-version latest: ENDPOINT answered HTTP 500; set sccache-version to a release tag such as " + pinnedVersion + " to avoid the lookup",
			calls: 4,
		},
		{
			name:  "not a tag",
			opts:  fakerelease.Options{Latest: "nightly"},
			want:  `resolve sccache-version latest: ENDPOINT named release "nightly", which is not a release tag`,
			calls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smallServer(t, tt.opts)
			if tt.fault != 0 {
				s.Fail(fakerelease.LatestName, tt.fault, tt.times)
			}
			in := newInstaller(t, s)
			_, err := in.ResolveVersion(ctx(t), "latest")
			want := strings.ReplaceAll(tt.want, "ENDPOINT", s.APIURL()+"/repos/mozilla/sccache/releases/latest")
			if err == nil || err.Error() != want {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
			if n := s.Count(fakerelease.LatestName); n != tt.calls {
				t.Errorf("%d API requests, want %d", n, tt.calls)
			}
		})
	}

	t.Run("500 then success", func(t *testing.T) {
		s := smallServer(t, fakerelease.Options{})
		s.Fail(fakerelease.LatestName, fakerelease.ServerError, 1)
		in := newInstaller(t, s)
		got, err := in.ResolveVersion(ctx(t), "latest")
		if err != nil || got != fakeVersion {
			t.Errorf("ResolveVersion = %q, %v", got, err)
		}
	})
	t.Run("bad API URL", func(t *testing.T) {
		in := &Installer{APIURL: "ftp://example"}
		if _, err := in.ResolveVersion(ctx(t), "latest"); err == nil || !strings.Contains(err.Error(), "GITHUB_API_URL") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestPinnedTable(t *testing.T) {
	if _, err := NormalizeVersion(DefaultVersion()); err != nil {
		t.Fatal(err)
	}
	for _, target := range arch.Targets() {
		d, ok := PinnedDigest(DefaultVersion(), target)
		if !ok {
			t.Errorf("no pinned digest for %s", target)
			continue
		}
		if !isHexDigest(d) || strings.ToLower(d) != d {
			t.Errorf("%s: %q is not a lowercase hex SHA-256", target, d)
		}
	}
	if len(pinned) != len(arch.Targets()) {
		t.Errorf("pinned has %d entries for %d targets", len(pinned), len(arch.Targets()))
	}
	seen := map[string]string{}
	for target, d := range pinned {
		if other, dup := seen[d]; dup {
			t.Errorf("%s and %s share digest %s", target, other, d)
		}
		seen[d] = target
	}
	if _, ok := PinnedDigest("v0.17.0", hostTarget); ok {
		t.Errorf("a digest is pinned for a version other than the default")
	}
}
