//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRootModes: with a umask of 0 (possible on a runner), nothing under the
// root lets group or others write — the check TestRootNotEditableByAnotherUser
// makes as another user, for machines where the tests do not run as root.
func TestRootModes(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0))
	root := fullJob(t, newRunner(t), "1")["RUSTCACHE_ROOT"]
	n := 0
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if fi.Mode().Perm()&0o022 != 0 || fi.Mode()&os.ModeSymlink != 0 {
			t.Errorf("%s: mode %v", p, fi.Mode())
		}
		return nil
	})
	if n < 10 {
		t.Errorf("only %d entries under the root", n)
	}
}
