package fakecache

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/org/rustcache-action/internal/testkit"
)

// Azurite is a running azurite-blob process serving the development
// account on 127.0.0.1.
type Azurite struct {
	// URL is http://127.0.0.1:<port>.
	URL string

	stopOnce sync.Once
	stop     func()
}

// BaseURL implements BlobStore.
func (a *Azurite) BaseURL() string { return a.URL }

// AzuriteBinary finds azurite-blob: test/interop/node_modules/.bin of this
// module (after `npm ci` there), then PATH. It returns "" when absent.
func AzuriteBinary() string {
	if root := moduleRoot(); root != "" {
		p := filepath.Join(root, "test", "interop", "node_modules", ".bin", "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p
	}
	return ""
}

// InteropDir returns the module's test/interop directory, or "" when the
// module root cannot be found from the working directory.
func InteropDir() string {
	root := moduleRoot()
	if root == "" {
		return ""
	}
	return filepath.Join(root, "test", "interop")
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// StartAzurite runs `azurite-blob --blobHost 127.0.0.1 --blobPort <free
// port> --inMemoryPersistence --silent` (see LaunchAzurite) and stops it when
// the test ends. Without azurite-blob or node the test is skipped (failed
// under CI) through testkit.Missing.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	a, err := LaunchAzurite()
	switch {
	case errors.Is(err, ErrNoAzurite):
		testkit.Missing(t, err.Error())
		return nil
	case err != nil:
		t.Fatalf("start azurite: %v", err)
	}
	t.Cleanup(a.Stop)
	return a
}

// ErrNoAzurite means azurite-blob or node is not installed.
var ErrNoAzurite = errors.New("azurite-blob or node not found (run `npm ci` in test/interop)")

// LaunchAzurite starts azurite-blob on a free loopback port and waits until
// it answers HTTP. The caller must call Stop. It returns an error wrapping
// ErrNoAzurite when azurite-blob or node is missing.
func LaunchAzurite() (*Azurite, error) {
	bin := AzuriteBinary()
	if bin == "" {
		return nil, ErrNoAzurite
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node: %w", ErrNoAzurite)
	}
	var lastErr error
	for range 3 { // the free port may be taken between probe and start
		a, err := launchAzurite(bin)
		if err == nil {
			return a, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// Stop kills the azurite process and waits for it.
func (a *Azurite) Stop() {
	a.stopOnce.Do(a.stop)
}

func launchAzurite(bin string) (*Azurite, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence", "--silent")
	cmd.Dir = dir
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	a := &Azurite{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.stop = func() {
		_ = cmd.Process.Kill()
		<-exited
		os.RemoveAll(dir)
	}

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			a.Stop()
			return nil, fmt.Errorf("azurite exited early (%v): %s", err, out.String())
		default:
		}
		resp, err := client.Get(a.URL + "/" + DevAccount + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return a, nil
		}
		if time.Now().After(deadline) {
			a.Stop()
			return nil, fmt.Errorf("azurite did not answer within 60s: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects a child's output from its copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 64<<10 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
