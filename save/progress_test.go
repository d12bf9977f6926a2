package save_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/actiontest"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/report"
)

// ticking is a ticker that has ticked once already: a step's transfer then
// counts as long, whatever its real duration.
func ticking(time.Duration) (<-chan time.Time, func()) {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return c, func() {}
}

// TestTransferProgress: a long upload and a long download report their
// progress in a group of the log, ending with the complete count; a short
// one (the real ticker, whose first tick is seconds away) prints nothing.
func TestTransferProgress(t *testing.T) {
	for _, long := range []bool{false, true} {
		t.Run(fmt.Sprintf("long=%v", long), func(t *testing.T) {
			svc := fakecache.NewV1(t)
			r := actiontest.New(t).With(svc.Env())
			if long {
				r.Ticker = ticking
			}
			in := map[string]string{"sccache-version": r.Version}
			run := func(step string, jobEnv map[string]string) *actiontest.Step {
				s := r.Run(step, in, jobEnv)
				if s.Code != 0 || len(s.Annotations("warning")) != 0 {
					t.Fatalf("%s: exit %d\n%s", step, s.Code, s.Stdout)
				}
				return s
			}
			jobEnv := map[string]string{}
			run("setup", jobEnv)
			f := filepath.Join(jobEnv["SCCACHE_DIR"], "a", "b", "entry")
			os.MkdirAll(filepath.Dir(f), 0o755)
			if err := os.WriteFile(f, []byte(strings.Repeat("compiled ", 1000)), 0o644); err != nil {
				t.Fatal(err)
			}
			saved := run("save", jobEnv)
			key, n := saved.Outputs["saved-key"], saved.Outputs["saved-bytes"]

			r.Fresh()
			r.Env["GITHUB_RUN_ID"] = "2"
			jobEnv = map[string]string{}
			run("setup", jobEnv)
			restored := run("restore", jobEnv)

			var size int64
			fmt.Sscan(n, &size)
			for _, c := range []struct {
				s    *actiontest.Step
				want string
			}{
				{saved, "::group::Upload progress of " + key + "\n(Sent .*\n)*Sent " + regexp.QuoteMeta(report.Bytes(size)) + ", .*/s\n::endgroup::\n"},
				{restored, "::group::Download progress of " + key + "\n(Received .*\n)*Received " + regexp.QuoteMeta(report.Bytes(size)+" of "+report.Bytes(size)) + ` \(100\.0%\), .*/s` + "\n::endgroup::\n"},
			} {
				grouped := strings.Contains(c.s.Stdout, "::group::")
				switch {
				case !long && (grouped || strings.Contains(c.s.Stdout, "Received ") || strings.Contains(c.s.Stdout, "Sent ")):
					t.Errorf("a short transfer printed progress:\n%s", c.s.Stdout)
				case long && !regexp.MustCompile(c.want).MatchString(c.s.Stdout):
					t.Errorf("no progress matching %q:\n%s", c.want, c.s.Stdout)
				}
			}
		})
	}
}
