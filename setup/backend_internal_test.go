package setup

import (
	"os"
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/backend"
)

func TestCABundle(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := caBundle(env(map[string]string{"SSL_CERT_FILE": "/mine.pem"}), "Linux"); got != "" {
		t.Errorf("the user's SSL_CERT_FILE replaced by %q", got)
	}
	if got := caBundle(env(nil), "macOS"); got != "" {
		t.Errorf("macOS got %q", got)
	}
	want := ""
	for _, f := range caBundles {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			want = f
			break
		}
	}
	if got := caBundle(env(nil), "Linux"); got != want {
		t.Errorf("caBundle = %q, want %q", got, want)
	}
}

func TestWrapperPrelude(t *testing.T) {
	redis := backend.Options{Kind: backend.Redis}
	if p := wrapperPrelude(backend.Options{Kind: backend.GHA}, backend.Decision{}); p != "" {
		t.Errorf("no backend: prelude %q", p)
	}
	if p := wrapperPrelude(redis, backend.Decision{Active: true}); p != "" {
		t.Errorf("active backend: prelude %q", p)
	}
	p := wrapperPrelude(redis, backend.Decision{Fallback: "down"})
	for _, n := range []string{"SCCACHE_REDIS", "SCCACHE_BUCKET", "AWS_SECRET_ACCESS_KEY", "SCCACHE_AZURE_CONNECTION_STRING", "SCCACHE_MULTILEVEL_CHAIN", "SCCACHE_GHA_ENABLED"} {
		if !strings.Contains(p, " "+n+" ") && !strings.HasSuffix(strings.TrimSpace(p), " "+n) {
			t.Errorf("fallback prelude does not unset %s: %q", n, p)
		}
	}
	if !strings.HasSuffix(p, "\n") || strings.Count(p, "\n") != 2 {
		t.Errorf("prelude %q is not a comment and one unset line", p)
	}
}
