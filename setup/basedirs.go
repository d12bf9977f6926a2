package setup

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/inputs"
)

// basedirsSince is the first sccache release that reads SCCACHE_BASEDIRS.
var basedirsSince = [2]int{0, 14}

// basedirsDirectFixedIn is the first sccache release known to keep basedirs
// and the preprocessor cache (SCCACHE_DIRECT=true) from handing out another
// checkout's object (sccache#2863, introduced in 0.18.0 for absolute include
// paths and present before for relative ones; the fix, sccache#2868, is not
// in a release yet). Until it is set, every release with basedirs counts as
// affected.
var basedirsDirectFixedIn *[2]int

// basedirsPlan is what the basedirs input does to the exported environment.
type basedirsPlan struct {
	value     string // SCCACHE_BASEDIRS, "" for none
	directOff bool   // SCCACHE_DIRECT is set to false
	notice    string // said when directOff
}

// planBasedirs decides SCCACHE_BASEDIRS for the resolved sccache version.
// The input wins over a SCCACHE_BASEDIRS of the workflow's environment, which
// is checked the same way. Basedirs are never combined with the preprocessor
// cache in an affected release: when direct mode is only on by default it is
// turned off with a notice; when the user asked for it (sccache-direct: true
// or SCCACHE_DIRECT in the environment) both inputs are named in an error. A
// release without basedirs support is an error too.
func planBasedirs(o *Options, getenv func(string) string, version string, windows bool) (basedirsPlan, error) {
	sep := ":"
	if windows {
		sep = ";"
	}
	value := strings.Join(o.Basedirs, sep)
	source := "input basedirs"
	if value == "" {
		value = strings.TrimSpace(getenv("SCCACHE_BASEDIRS"))
		source = "SCCACHE_BASEDIRS in the environment"
	}
	if value == "" {
		return basedirsPlan{}, nil
	}
	if ghcmd.HasControl(value) {
		return basedirsPlan{}, fmt.Errorf("%s: invalid value %q: it holds a control character (a line break?); fix or unset it", source, value)
	}
	rel, ok := releaseOf(version)
	if !ok || less(rel, basedirsSince) {
		return basedirsPlan{}, fmt.Errorf("%s: sccache %s does not support basedirs (added in 0.14.0): set sccache-version to v0.14.0 or later, or leave basedirs empty", source, version)
	}
	p := basedirsPlan{value: value}
	direct, directSource := o.Direct, ""
	switch v := strings.TrimSpace(getenv("SCCACHE_DIRECT")); {
	case o.overridden["sccache-direct"]:
		directSource = "input sccache-direct"
	case v != "":
		direct, _ = strconv.ParseBool(v)
		directSource = "SCCACHE_DIRECT in the environment"
	}
	if !direct || (basedirsDirectFixedIn != nil && !less(rel, *basedirsDirectFixedIn)) {
		return p, nil
	}
	if directSource != "" {
		return basedirsPlan{}, fmt.Errorf("%s and %s: sccache %s can hand out another checkout's object when basedirs and the preprocessor cache (SCCACHE_DIRECT=true) are combined (sccache#2863): set sccache-direct to false, or leave basedirs empty", source, directSource, version)
	}
	p.directOff = true
	p.notice = fmt.Sprintf("sccache-direct is off because basedirs is set: sccache %s can hand out another checkout's object when basedirs and the preprocessor cache are combined (sccache#2863)", version)
	return p, nil
}

// apply writes the plan into the exported environment.
func (p basedirsPlan) apply(exports map[string]string) {
	if p.value == "" {
		return
	}
	exports["SCCACHE_BASEDIRS"] = p.value
	if p.directOff {
		exports["SCCACHE_DIRECT"] = "false"
	}
}

// readBasedirs validates the basedirs input: absolute directories, relative
// ones starting at GITHUB_WORKSPACE, none holding the list separator.
func readBasedirs(lines []string, workspace string, windows bool, check func(ok bool, value, want string)) []string {
	sep := ":"
	if windows {
		sep = ";"
	}
	out := make([]string, 0, len(lines))
	for _, d := range lines {
		if !filepath.IsAbs(d) && workspace != "" {
			d = filepath.Join(workspace, d)
		}
		ok := filepath.IsAbs(d) && !strings.Contains(d, sep)
		check(ok, d, fmt.Sprintf("expected absolute directories, one per line (relative ones start at GITHUB_WORKSPACE), none containing %q", sep))
		out = append(out, filepath.Clean(d))
	}
	return out
}

// releaseOf reads major and minor from a release tag such as v0.18.0.
func releaseOf(version string) ([2]int, bool) {
	v, err := inputs.ParseVersion(version)
	return [2]int{v.Major, v.Minor}, err == nil
}

// less orders two major.minor pairs.
func less(a, b [2]int) bool {
	return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
}
