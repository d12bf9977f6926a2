package bootstrap

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

// BenchmarkBootstrap measures what a job pays before the program runs:
//
//	prebuilt/cold     release tree, empty tool cache: download (loopback) + verify
//	prebuilt/warm     release tree, binary in the tool cache: verify only
//	source/cold       branch tree, empty tool cache, empty GOCACHE: a full go build
//	source/gocache    branch tree, empty tool cache, warm GOCACHE (setup-go's cache)
//	source/warm       branch tree, binary in the tool cache: hash the source only
//
// The module cache is warm in every case (a runner downloads the modules
// first, on top of source/cold). Run with -benchtime=1x: source/cold takes
// a minute or more.
func BenchmarkBootstrap(b *testing.B) {
	testkit.NeedTool(b, "go")
	bin := filepath.Join(b.TempDir(), "rustcache-action")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Dir = repoRoot(b)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	real, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	assets := map[string][]byte{AssetName(linuxAMD64): real}
	b.Logf("binary: %d bytes", len(real))

	prebuilt := func(b *testing.B, warm bool) {
		f := newFixture(b, fixtureOptions{release: true, committedSums: sumsFile(assets), serve: assets})
		if warm {
			warmUp(b, f)
		}
		b.ResetTimer()
		for b.Loop() {
			if !warm {
				b.StopTimer()
				f.env["RUNNER_TOOL_CACHE"] = b.TempDir()
				b.StartTimer()
			}
			if _, log, err := f.run(); err != nil {
				b.Fatalf("%v\n%s", err, log)
			}
		}
	}
	// source runs the repository's own bootstrap.sh, which builds the real
	// program.
	source := func(b *testing.B, toolCache, gocache bool) {
		f := newFixture(b, fixtureOptions{})
		f.action = repoRoot(b)
		f.env["GOPROXY"] = "off"
		if toolCache {
			warmUp(b, f)
		}
		for b.Loop() {
			b.StopTimer()
			if !toolCache {
				f.env["RUNNER_TOOL_CACHE"] = b.TempDir()
			}
			if !gocache {
				f.env["GOCACHE"] = b.TempDir()
			}
			b.StartTimer()
			if _, log, err := f.run(); err != nil {
				b.Fatalf("%v\n%s", err, log)
			}
		}
	}
	b.Run("prebuilt/cold", func(b *testing.B) { prebuilt(b, false) })
	b.Run("prebuilt/warm", func(b *testing.B) { prebuilt(b, true) })
	b.Run("source/cold", func(b *testing.B) { source(b, false, false) })
	b.Run("source/gocache", func(b *testing.B) { source(b, false, true) })
	b.Run("source/warm", func(b *testing.B) { source(b, true, true) })
}

func warmUp(b *testing.B, f *fixture) {
	b.Helper()
	if _, log, err := f.run(); err != nil {
		b.Fatalf("%v\n%s", err, log)
	}
}
