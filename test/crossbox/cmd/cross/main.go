// Command cross is the test bed's stand-in for cross-rs v0.2.5: it reads the
// cross configuration like cross does and runs cargo in a bubblewrap sandbox
// laid out like a cross container. See test/crossbox/README.md.
package main

import (
	"os"
	"os/user"

	"github.com/org/rustcache-action/test/crossbox"
)

func main() {
	dir, err := os.Getwd()
	if err != nil {
		os.Stderr.WriteString("Error: " + err.Error() + "\n")
		os.Exit(crossbox.ExitFailure)
	}
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	os.Exit(crossbox.Main(crossbox.Options{
		Args: os.Args[1:], Env: os.Environ(), Dir: dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		UID: os.Getuid(), GID: os.Getgid(), Username: name,
	}))
}
