//go:build unix

package rootdir

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownedByUs refuses a file or directory another user owns.
func ownedByUs(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%q belongs to uid %d, not to this job's user (uid %d)", path, st.Uid, uid)
	}
	return nil
}
