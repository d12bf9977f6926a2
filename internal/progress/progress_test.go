package progress_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/progress"
)

// fakeClock is a clock the test moves and a ticker it fires.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tick    chan time.Time
	stopped bool
	every   time.Duration
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), tick: make(chan time.Time)}
}

func (c *fakeClock) clock() progress.Clock {
	return progress.Clock{
		Now: func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now },
		Ticker: func(d time.Duration) (<-chan time.Time, func()) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.every = d
			return c.tick, func() { c.mu.Lock(); c.stopped = true; c.mu.Unlock() }
		},
	}
}

// move moves the clock by d.
func (c *fakeClock) move(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// advance moves the clock by d and fires the ticker.
func (c *fakeClock) advance(d time.Duration) { c.tick <- c.move(d) }

// lines is a log output that tells the test each time a line is written.
type lines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newLines() *lines { return &lines{wrote: make(chan struct{}, 100)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.wrote <- struct{}{}
	return len(p), nil
}

// wait blocks until n more lines were written.
func (l *lines) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-l.wrote:
		case <-time.After(10 * time.Second):
			t.Fatalf("no progress line; log so far:\n%s", l.String())
		}
	}
}

func (l *lines) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

const mib = 1 << 20

// TestShortTransferPrintsNothing: a transfer that ends before the first
// Interval prints no line and opens no group.
func TestShortTransferPrintsNothing(t *testing.T) {
	c, out := newClock(), newLines()
	m := progress.Start(ghcmd.New(out), c.clock(), "Received", "Download progress", 10*mib)
	m.Add(10 * mib)
	m.Stop()
	if s := out.String(); s != "" {
		t.Errorf("a short transfer printed:\n%s", s)
	}
	if !c.stopped || c.every != progress.Interval {
		t.Errorf("ticker every %v, stopped %v; want every Interval, stopped", c.every, c.stopped)
	}
}

// TestLongTransfer: every tick prints the bytes done, the share and the
// average rate inside one group, which Stop closes after a last line.
func TestLongTransfer(t *testing.T) {
	c, out := newClock(), newLines()
	m := progress.Start(ghcmd.New(out), c.clock(), "Received", "Download progress of k", -1)
	w := m.Writer(&bytes.Buffer{})
	w.(interface{ SetTotal(int64) }).SetTotal(100 * mib)
	w.Write(make([]byte, 25*mib))
	c.advance(progress.Interval)
	out.wait(t, 2) // the group, the line
	w.Write(make([]byte, 35*mib))
	c.advance(progress.Interval)
	out.wait(t, 1)
	w.Write(make([]byte, 40*mib))
	c.move(5 * time.Second)
	m.Stop()
	want := "::group::Download progress of k\n" +
		"Received 25.0 MiB of 100.0 MiB (25.0%), 2.5 MiB/s\n" +
		"Received 60.0 MiB of 100.0 MiB (60.0%), 3.0 MiB/s\n" +
		"Received 100.0 MiB of 100.0 MiB (100.0%), 4.0 MiB/s\n" +
		"::endgroup::\n"
	if d := cmp.Diff(want, out.String()); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

// TestUnknownTotal: an upload streamed while it is archived has no size
// in advance: the lines give the bytes and the rate.
func TestUnknownTotal(t *testing.T) {
	c, out := newClock(), newLines()
	m := progress.Start(ghcmd.New(out), c.clock(), "Sent", "Upload progress", -1)
	r := m.Reader(strings.NewReader(strings.Repeat("x", 3*mib)))
	buf := make([]byte, mib)
	for range 3 {
		r.Read(buf)
	}
	c.advance(progress.Interval)
	out.wait(t, 2)
	m.Stop()
	want := "::group::Upload progress\nSent 3.0 MiB, 307.2 KiB/s\nSent 3.0 MiB, 307.2 KiB/s\n::endgroup::\n"
	if d := cmp.Diff(want, out.String()); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}
