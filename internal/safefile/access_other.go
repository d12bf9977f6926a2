//go:build !unix

package safefile

// CanWrite cannot be known here without writing; the write itself reports
// the error.
func CanWrite(string) error { return nil }
