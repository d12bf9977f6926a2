package cacheservice_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/httpx"
)

// BenchmarkSaveRestore measures a save and a restore of 96 MiB with the
// production chunk sizes and parallelism, against the in-process fakes
// (loopback HTTP, no real storage): the client's own overhead.
func BenchmarkSaveRestore(b *testing.B) {
	const size = 96 << 20
	data := payload(size, 1)
	for _, bc := range []struct {
		name string
		env  func(b *testing.B) map[string]string
	}{
		{"v1", func(b *testing.B) map[string]string { return fakecache.NewV1(b).Env() }},
		{"v2-memblobs", func(b *testing.B) map[string]string { return fakecache.NewV2(b, fakecache.NewMemBlobs(b)).Env() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			env := bc.env(b)
			c, err := cacheservice.New(cacheservice.Config{Getenv: func(k string) string { return env[k] }, HTTP: httpx.New(httpx.Options{})})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(2 * size)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				key := "bench-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
				if _, err := c.Save(context.Background(), key, version, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				e, err := c.Lookup(context.Background(), key, nil, version)
				if err != nil || e == nil {
					b.Fatal(e, err)
				}
				if n, err := c.Download(context.Background(), e, io.Discard); err != nil || n != size {
					b.Fatal(n, err)
				}
			}
		})
	}
}
