// Package cli dispatches the program's subcommands and turns their errors into
// workflow annotations and exit codes. It is the only place that decides an
// exit code.
package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/restore"
	"github.com/org/rustcache-action/save"
	"github.com/org/rustcache-action/setup"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1 // a misconfiguration, or a cache fault with fail-on-cache-error
	ExitUsage  = 2
)

// Version is stamped at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

const usage = `usage: rustcache-action <command>

commands:
  setup     install sccache, export its environment, merge the cross configuration
  restore   restore the sccache disk cache from the GitHub Actions cache
  save      stop sccache, trim and save the disk cache, write the job report
  restore-finish, save-finish
            complete a restore or save handed to the nested actions/cache step
  version   print the program version
`

// Main runs the subcommand named in args[1] and returns the exit code.
func Main(ctx context.Context, args []string, e *runenv.Env) int {
	if len(args) < 2 {
		fmt.Fprint(e.Stderr, usage)
		return ExitUsage
	}
	var err error
	switch args[1] {
	case "setup":
		_, err = setup.Run(ctx, e)
	case "restore":
		err = restore.Run(ctx, e)
	case "save":
		err = save.Run(ctx, e)
	case "restore-finish":
		err = restore.Finish(ctx, e)
	case "save-finish":
		err = save.Finish(ctx, e)
	case "version", "--version":
		fmt.Fprintln(e.Stdout, "rustcache-action", Version)
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(e.Stderr, "unknown command %q\n%s", args[1], usage)
		return ExitUsage
	}
	if err != nil {
		title := ghcmd.Title + " " + args[1]
		if path, line, col, ok := setup.FileError(err); ok {
			e.Log().Annotate(ghcmd.Error, ghcmd.Annotation{Title: title, File: path, Line: line, Col: col}, err.Error())
			return ExitFailed
		}
		// One annotation per line of a joined error, so each bad input is
		// listed on its own.
		for _, line := range strings.Split(err.Error(), "\n") {
			e.Log().Annotate(ghcmd.Error, ghcmd.Annotation{Title: title}, line)
		}
		return ExitFailed
	}
	return ExitOK
}
