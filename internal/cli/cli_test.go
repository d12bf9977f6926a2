package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/runenv"
)

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	e := runenv.FromMap(nil, &out, nil)
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"x"}, ExitUsage}, {[]string{"x", "nope"}, ExitUsage}, {[]string{"x", "version"}, ExitOK}, {[]string{"x", "help"}, ExitOK}} {
		out.Reset()
		if got := Main(context.Background(), tc.args, e); got != tc.code {
			t.Errorf("Main(%q) = %d, want %d", tc.args, got, tc.code)
		}
		if out.Len() == 0 {
			t.Errorf("Main(%q) printed nothing", tc.args)
		}
	}
	out.Reset()
	Main(context.Background(), []string{"x", "version"}, e)
	if !strings.HasPrefix(out.String(), "rustcache-action ") {
		t.Errorf("version output %q", out.String())
	}
}
