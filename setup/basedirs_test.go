package setup_test

import (
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakerelease"
)

// TestBasedirs runs setup over sccache versions × the ways direct mode can
// be on or off, and checks the environment it exports: SCCACHE_BASEDIRS only
// for releases that read it (0.14 and later, an error before), and never
// together with SCCACHE_DIRECT=true — turned off with a notice when it was
// only the default, an error naming both when the user asked for it.
func TestBasedirs(t *testing.T) {
	tests := []struct {
		name    string
		version string
		inputs  map[string]string
		env     map[string]string
		// wantBasedirs "" means SCCACHE_BASEDIRS is not exported; "WS" is
		// the workspace. v0.18.0 itself has a pinned digest the fake release
		// cannot match, so v0.18.1 stands for the 0.18 series.
		wantBasedirs, wantDirect string
		wantNotice               bool
		wantErr                  string // setup fails, naming this
	}{
		{name: "no basedirs", version: "v0.18.1", wantDirect: "true"},
		{name: "0.4 refuses", version: "v0.4.0", inputs: map[string]string{"basedirs": "."}, wantErr: "input basedirs: sccache v0.4.0 does not support basedirs (added in 0.14.0)"},
		{name: "0.13 refuses", version: "v0.13.0", inputs: map[string]string{"basedirs": "."}, wantErr: "input basedirs: sccache v0.13.0 does not support basedirs"},
		{name: "0.13 refuses the environment's", version: "v0.13.0", env: map[string]string{"SCCACHE_BASEDIRS": "/srv/src"}, wantErr: "SCCACHE_BASEDIRS in the environment: sccache v0.13.0 does not support basedirs"},
		{name: "0.14 default direct off", version: "v0.14.0", inputs: map[string]string{"basedirs": "."}, wantBasedirs: "WS", wantDirect: "false", wantNotice: true},
		{name: "0.18 default direct off", version: "v0.18.1", inputs: map[string]string{"basedirs": "."}, wantBasedirs: "WS", wantDirect: "false", wantNotice: true},
		{name: "0.20 default direct off", version: "v0.20.1", inputs: map[string]string{"basedirs": "."}, wantBasedirs: "WS", wantDirect: "false", wantNotice: true},
		{name: "0.18 direct input true", version: "v0.18.1", inputs: map[string]string{"basedirs": ".", "sccache-direct": "true"}, wantErr: "input basedirs and input sccache-direct: sccache v0.18.1 can hand out another checkout's object"},
		{name: "0.18 direct input false", version: "v0.18.1", inputs: map[string]string{"basedirs": ".", "sccache-direct": "false"}, wantBasedirs: "WS", wantDirect: "false"},
		{name: "0.18 direct env true", version: "v0.18.1", inputs: map[string]string{"basedirs": "."}, env: map[string]string{"SCCACHE_DIRECT": "true"}, wantErr: "input basedirs and SCCACHE_DIRECT in the environment"},
		{name: "0.18 direct env false", version: "v0.18.1", inputs: map[string]string{"basedirs": "."}, env: map[string]string{"SCCACHE_DIRECT": "false"}, wantBasedirs: "WS", wantDirect: "false"},
		{name: "0.18 direct input false wins over env true", version: "v0.18.1", inputs: map[string]string{"basedirs": ".", "sccache-direct": "false"}, env: map[string]string{"SCCACHE_DIRECT": "true"}, wantBasedirs: "WS", wantDirect: "false"},
		{name: "0.18 the environment's basedirs", version: "v0.18.1", env: map[string]string{"SCCACHE_BASEDIRS": "/srv/a:/srv/b"}, wantBasedirs: "/srv/a:/srv/b", wantDirect: "false", wantNotice: true},
		{name: "0.18 two basedirs", version: "v0.18.1", inputs: map[string]string{"basedirs": "/srv/a\n/srv/b/"}, wantBasedirs: "/srv/a:/srv/b", wantDirect: "false", wantNotice: true},
		{name: "line break in the environment's", version: "v0.18.1", env: map[string]string{"SCCACHE_BASEDIRS": "/srv/a\nEVIL=1"}, wantErr: "SCCACHE_BASEDIRS in the environment: invalid value"},
		{name: "separator in a basedir", version: "v0.18.1", inputs: map[string]string{"basedirs": "/srv/a:b"}, wantErr: "input basedirs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := actiontest.New(t).With(tc.env)
			r.Release = fakerelease.New(t, fakerelease.Options{Versions: []string{tc.version}})
			r.Env["GITHUB_SERVER_URL"], r.Env["GITHUB_API_URL"] = r.Release.ServerURL(), r.Release.APIURL()
			in := map[string]string{"sccache-version": tc.version}
			for k, v := range tc.inputs {
				in[k] = v
			}
			s := r.Run("setup", in, nil)
			notices := strings.Join(s.Annotations("notice"), "\n")
			if tc.wantErr != "" {
				errs := strings.Join(s.Annotations("error"), "\n")
				if s.Code == 0 || !strings.Contains(errs, tc.wantErr) {
					t.Fatalf("setup = %d, errors %q; want a failure naming %q\n%s", s.Code, errs, tc.wantErr, s.Stdout)
				}
				if len(s.Env) != 0 {
					t.Errorf("failed setup exported %v", s.Env)
				}
				return
			}
			if s.Code != 0 {
				t.Fatalf("setup = %d\n%s", s.Code, s.Stdout)
			}
			want := strings.ReplaceAll(tc.wantBasedirs, "WS", r.Workspace)
			got, set := s.Env["SCCACHE_BASEDIRS"]
			if got != want || set != (want != "") {
				t.Errorf("SCCACHE_BASEDIRS = %q (exported %v), want %q", got, set, want)
			}
			if s.Env["SCCACHE_DIRECT"] != tc.wantDirect {
				t.Errorf("SCCACHE_DIRECT = %q, want %q", s.Env["SCCACHE_DIRECT"], tc.wantDirect)
			}
			if has := strings.Contains(notices, "sccache-direct is off because basedirs is set"); has != tc.wantNotice {
				t.Errorf("notice about direct mode = %v, want %v; notices:\n%s", has, tc.wantNotice, notices)
			}
		})
	}
}
