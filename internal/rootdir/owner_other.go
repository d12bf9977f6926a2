//go:build !unix

package rootdir

import "io/fs"

// ownedByUs is not checked where files carry no Unix owner.
func ownedByUs(string, fs.FileInfo) error { return nil }
