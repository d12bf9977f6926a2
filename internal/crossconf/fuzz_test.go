package crossconf

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

// FuzzMerge checks the invariants on arbitrary documents: Merge either fails
// or returns a document that still parses, keeps every input byte in order,
// and does not change on a second merge.
func FuzzMerge(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "merge", "*.txtar"))
	for _, file := range files {
		ar, err := testkit.ReadTxtar(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if af.Name == "input.toml" {
				f.Add(af.Data, false)
				f.Add(bytes.ReplaceAll(af.Data, []byte("\n"), []byte("\r\n")), true)
			}
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, cargo bool) {
		prefix := ""
		if cargo {
			prefix = PackageMetadata
		}
		out, changed, err := Merge(doc, prefix, defaultEntries)
		if err != nil {
			return
		}
		if !changed && !bytes.Equal(out, doc) {
			t.Fatal("unchanged but different")
		}
		if !isSubsequence(doc, out) {
			t.Fatalf("input bytes lost:\n%q\n%q", doc, out)
		}
		again, changed2, err := Merge(out, prefix, defaultEntries)
		if err != nil || changed2 || !bytes.Equal(again, out) {
			t.Fatalf("second merge: changed=%v err=%v\n%q\n%q", changed2, err, out, again)
		}
	})
}
