package bootstrap

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// inputKeyRE matches an input's key line inside the inputs: section.
var inputKeyRE = regexp.MustCompile(`^  ([a-z0-9-]+):\s*$`)

// TestEveryInputReachesTheProgram: each input a composite action declares
// is handed to one of its steps as INPUT_<NAME> (what the program reads), so
// an input added to action.yml cannot be silently ignored.
func TestEveryInputReachesTheProgram(t *testing.T) {
	for _, f := range []string{"action.yml", "restore/action.yml", "save/action.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		var names []string
		in := false
		for _, l := range strings.Split(text, "\n") {
			switch {
			case l == "inputs:":
				in = true
			case in && l != "" && !strings.HasPrefix(l, " "):
				in = false
			case in:
				if m := inputKeyRE.FindStringSubmatch(l); m != nil {
					names = append(names, m[1])
				}
			}
		}
		if len(names) == 0 {
			t.Fatalf("%s: no inputs found", f)
		}
		for _, name := range names {
			if !strings.Contains(text, "INPUT_"+strings.ToUpper(name)+": ${{ inputs."+name+" }}") {
				t.Errorf("%s: input %s is not passed to any step as INPUT_%s", f, name, strings.ToUpper(name))
			}
		}
	}
}
