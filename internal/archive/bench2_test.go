package archive

// Per-file costs: Write and Extract over many small files (a cache of
// 0.5–2 KB entries), next to GNU tar on the same tree, to see how much of a
// restore goes to each file rather than to its bytes:
//
//	go test ./internal/archive/ -run '^$' -bench SmallFiles -benchtime 3x
//
// SMALLFILES_COUNT sets the number of files (default 5000).

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/org/rustcache-action/internal/testkit"
)

// smallTree writes count files of 512 B to 2 KB of random bytes, named like
// sccache's entries, below dir, and returns their total size.
func smallTree(b *testing.B, dir string, count int) int64 {
	b.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	const hexdig = "0123456789abcdef"
	var total int64
	for range count {
		name := make([]byte, 64)
		for i := range name {
			name[i] = hexdig[rng.IntN(16)]
		}
		p := filepath.Join(dir, string(name[0:1]), string(name[1:2]), string(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		body := make([]byte, 512+rng.IntN(1537))
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(body))
	}
	return total
}

func smallCount() int {
	if n, err := strconv.Atoi(os.Getenv("SMALLFILES_COUNT")); err == nil && n > 0 {
		return n
	}
	return 5000
}

func BenchmarkSmallFiles(b *testing.B) {
	root := b.TempDir()
	dir := filepath.Join(root, "cache")
	count := smallCount()
	size := smallTree(b, dir, count)
	var buf bytes.Buffer
	if _, err := Write(context.Background(), &buf, dir, root, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(root, "cache.tzst")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	perFile := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(count), "µs/file")
	}

	b.Run("Write", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := Write(context.Background(), &countWriter{}, dir, root, WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		perFile(b)
	})
	b.Run("Extract", func(b *testing.B) {
		scratch := b.TempDir()
		dest := filepath.Join(scratch, "cache")
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			if _, err := Extract(context.Background(), bytes.NewReader(buf.Bytes()), dest, scratch, ExtractOptions{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := os.RemoveAll(dest); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		perFile(b)
	})
	b.Run("tar-x", func(b *testing.B) {
		testkit.NeedTool(b, "tar")
		testkit.NeedTool(b, "unzstd")
		scratch := b.TempDir()
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			cmd := exec.Command("tar", "-xf", file, "-P", "-C", scratch, "--use-compress-program", "unzstd")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("tar: %v\n%s", err, out)
			}
			b.StopTimer()
			if err := os.RemoveAll(filepath.Join(scratch, "cache")); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		perFile(b)
	})
}
