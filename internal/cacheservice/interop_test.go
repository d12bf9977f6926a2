package cacheservice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/cacheservice"
	"github.com/org/rustcache-action/internal/fakecache"
	"github.com/org/rustcache-action/internal/testkit"
)

// TestOfficialClientInterop drives @actions/cache (test/interop/cache.js)
// against each fake service, both ways: entries the official client saves
// are restored by it and found by our client under the same version, and
// an entry our client saves (a tar.zst made by tar and zstd, as the official
// client makes them) is restored by the official client. The archive
// format itself is tested elsewhere; this checks the protocol.
func TestOfficialClientInterop(t *testing.T) {
	node := testkit.NeedTool(t, "node")
	testkit.NeedTool(t, "tar")
	testkit.NeedTool(t, "zstd")
	dir := fakecache.InteropDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "cache", "package.json")); err != nil {
		testkit.Missing(t, "@actions/cache (run `npm ci` in test/interop)")
	}
	script := filepath.Join(dir, "cache.js")

	for _, m := range makers() {
		t.Run(m.name, func(t *testing.T) {
			tg := m.make(t)
			if tg.proto == "v1" {
				// The official client always sends a bearer token; act's
				// server and our fake accept any.
				tg.env["ACTIONS_RUNTIME_TOKEN"] = "any-token"
			}
			run := func(ws string, args ...string) map[string]any {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
				cmd.Dir = ws
				cmd.Env = nodeEnv(tg.env, ws, t.TempDir())
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				out := stdout.String()
				if err != nil || strings.Contains(out, "::warning::") || strings.Contains(out, "::error::") {
					t.Fatalf("node cache.js %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
				}
				lines := strings.Split(strings.TrimSpace(out), "\n")
				var res map[string]any
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
					t.Fatalf("node cache.js %s: last line is not JSON: %s", strings.Join(args, " "), out)
				}
				return res
			}

			files := map[string][]byte{
				"data/a.txt":         []byte("hello from the official client\n"),
				"data/sub/blob.bin":  payload(300<<10, 42),
				"data/sub/empty.txt": nil,
			}
			ws := t.TempDir()
			writeFiles(t, ws, files)

			// The official client saves and restores.
			if res := run(ws, "save", "data", "interop-official-1"); res["saved"] != true {
				t.Fatalf("official save: %v", res)
			}
			if err := os.RemoveAll(filepath.Join(ws, "data")); err != nil {
				t.Fatal(err)
			}
			res := run(ws, "restore", "data", "interop-official-2", "interop-official-")
			if res["hit"] != true || res["matchedKey"] != "interop-official-1" {
				t.Fatalf("official restore: %v", res)
			}
			checkFiles(t, ws, files)

			// Our client finds the official entry under our Version.
			c := newClient(t, tg.env)
			v := cacheservice.Version([]string{"data"}, cacheservice.CompressionZstd, false)
			e, err := c.Lookup(context.Background(), "interop-official-1", nil, v)
			if err != nil || e == nil || !e.Exact {
				t.Fatalf("our Lookup of the official entry: %+v, %v", e, err)
			}
			var got bytes.Buffer
			if _, err := c.Download(context.Background(), e, &got); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got.Bytes(), []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Fatalf("official entry does not start with the zstd magic: % x", got.Bytes()[:min(8, got.Len())])
			}

			// Our client saves a tar.zst; the official client restores it.
			src := t.TempDir()
			ours := map[string][]byte{"data/ours.txt": []byte("saved by the Go client\n"), "data/big.bin": payload(2*testChunk+123, 7)}
			writeFiles(t, src, ours)
			archive := tarZstd(t, src, "data")
			if n, err := c.Save(context.Background(), "interop-ours-1", v, bytes.NewReader(archive)); err != nil || n != int64(len(archive)) {
				t.Fatalf("our Save: %d, %v", n, err)
			}
			dst := t.TempDir()
			res = run(dst, "restore", "data", "interop-ours-1")
			if res["hit"] != true || res["matchedKey"] != "interop-ours-1" {
				t.Fatalf("official restore of our entry: %v", res)
			}
			checkFiles(t, dst, ours)
		})
	}
}

// nodeEnv is the environment for the node script: the process's, without
// anything that could point the official client at a real service, plus
// the fake's variables.
func nodeEnv(env map[string]string, workspace, temp string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") ||
			strings.HasPrefix(k, "INPUT_") || k == "CACHE_UPLOAD_CONCURRENCY" || k == "CACHE_UPLOAD_CHUNK_SIZE" {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return append(out, "GITHUB_WORKSPACE="+workspace, "RUNNER_TEMP="+temp)
}

func writeFiles(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkFiles(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatalf("restored file: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("restored %s differs (%d bytes, want %d)", name, len(got), len(want))
		}
	}
}

// tarZstd archives dir/name the way the official client does (PAX tar,
// paths relative to the workspace, zstd).
func tarZstd(t *testing.T, dir, name string) []byte {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := exec.Command("sh", "-c", `tar --posix -cf - -C "$1" "$2" | zstd -q -c`, "sh", dir, name)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tar | zstd: %v: %s", err, stderr.String())
	}
	return out.Bytes()
}
