package targets

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fakeUnit describes one unit of a synthetic profile directory.
type fakeUnit struct {
	name  string   // <package>-<hash>
	kind  string   // hash file prefix: lib, bin, build-script, run-build-script
	fp    uint64   // what its hash file holds
	deps  []uint64 // dependency fingerprints
	files []string // deps/ and build/ files of the unit, relative to the profile
	age   time.Duration
}

// writeUnit creates a unit's fingerprint directory and files in profile dir p.
func writeUnit(t *testing.T, p string, u fakeUnit) {
	t.Helper()
	dir := filepath.Join(p, ".fingerprint", u.name)
	target := u.name[:strings.LastIndexByte(u.name, '-')]
	var raw [8]byte
	binary.LittleEndian.PutUint64(raw[:], u.fp)
	var deps []string
	for i, d := range u.deps {
		deps = append(deps, fmt.Sprintf(`[%d,"dep%d",false,%d]`, 1000+i, i, d))
	}
	files := map[string]string{
		filepath.Join(dir, u.kind+"-"+target):         hex.EncodeToString(raw[:]),
		filepath.Join(dir, u.kind+"-"+target+".json"): fmt.Sprintf(`{"rustc":1,"deps":[%s],"local":[]}`, strings.Join(deps, ",")),
		filepath.Join(dir, "invoked.timestamp"):       "",
		filepath.Join(dir, "dep-"+u.kind+"-"+target):  "x",
	}
	for _, f := range u.files {
		files[filepath.Join(p, f)] = "artifact " + f
	}
	mtime := time.Now().Add(-u.age)
	for f, c := range files {
		write(t, f, c)
		if err := os.Chtimes(f, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
