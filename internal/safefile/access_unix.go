//go:build unix

package safefile

import "golang.org/x/sys/unix"

// CanWrite reports whether this process may create files in dir, without
// creating one: permission bits, a read-only mount and the immutable
// attribute all count.
func CanWrite(dir string) error { return unix.Access(dir, unix.W_OK) }
