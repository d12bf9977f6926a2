// Command rustcache-action is the program behind the rustcache-action GitHub
// Action: `setup` installs sccache and configures cargo and cross, `restore`
// brings back the sccache disk cache, `save` stores it and writes the job
// report. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/org/rustcache-action/internal/cli"
	"github.com/org/rustcache-action/internal/runenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, runenv.FromOS())
	stop()
	os.Exit(code)
}
