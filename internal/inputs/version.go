package inputs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Latest is the sccache-version value that asks for the newest release.
const Latest = "latest"

// Version is a release version of sccache.
type Version struct {
	Major, Minor, Patch int
	Pre                 string // pre-release suffix without its "-" ("pre.7"), or ""
}

// versionRE is a release tag: MAJOR.MINOR.PATCH with an optional pre-release
// suffix (0.4.0-pre.7), no leading zeros, after an optional "v".
var versionRE = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z]+(?:\.[0-9A-Za-z-]+)*))?$`)

// maxVersion bounds a tag's length (it becomes part of a URL and a path).
const maxVersion = 64

// ParseVersion is the one rule for sccache release versions — the
// sccache-version input, the tag a "latest" lookup returns, and the version
// setup decides a wrapper by: v0.18.0 or 0.18.0, optionally with a
// pre-release suffix (v0.4.0-pre.7), no leading zeros (v0.010.0 is refused),
// at most 64 characters. Surrounding spaces are ignored.
func ParseVersion(s string) (Version, error) {
	t := strings.TrimSpace(s)
	m := versionRE.FindStringSubmatch(t)
	if m == nil || len(t) > maxVersion {
		return Version{}, fmt.Errorf("%q is not a release tag", s)
	}
	var v Version
	for i, p := range []*int{&v.Major, &v.Minor, &v.Patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Version{}, fmt.Errorf("%q is not a release tag: %w", s, err)
		}
		*p = n
	}
	v.Pre = m[4]
	return v, nil
}

// String is the release tag, always with its "v": v0.18.0.
func (v Version) String() string {
	s := fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// VersionWant is what a bad sccache-version is told, with example the
// release the action installs by default.
func VersionWant(example string) string {
	return "expected latest or a release tag such as " + example
}
