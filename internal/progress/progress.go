// Package progress reports the progress of a long transfer — the restore's
// download, the save's upload — as the official cache client does
// ("Received … of … (…%), … MB/s"): one line every Interval, in a
// collapsible group of the log that the first line opens, and nothing at
// all for a transfer that ends within the first Interval.
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/org/rustcache-action/internal/ghcmd"
	"github.com/org/rustcache-action/internal/report"
)

// Interval is the time between two progress lines, and before the first.
const Interval = 10 * time.Second

// Clock is the time a Meter reads: the current time, and tickers. The zero
// value is the real clock.
type Clock struct {
	Now func() time.Time
	// Ticker returns a channel that ticks every d, and a function that
	// stops it.
	Ticker func(d time.Duration) (<-chan time.Time, func())
}

func (c Clock) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Clock) ticker(d time.Duration) (<-chan time.Time, func()) {
	if c.Ticker != nil {
		return c.Ticker(d)
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Meter counts the bytes of one transfer and prints its progress. Add,
// SetTotal, Reader and Writer may be used from any goroutine.
type Meter struct {
	log         *ghcmd.Log
	clock       Clock
	verb, title string
	start       time.Time
	done, total atomic.Int64

	mu      sync.Mutex
	grouped bool // a progress line was printed, in the group

	quit chan struct{}
	wg   sync.WaitGroup
}

// Start begins metering a transfer of total bytes (-1 when unknown) whose
// lines say verb ("Received", "Sent") in a group called title. Stop ends it.
func Start(log *ghcmd.Log, clock Clock, verb, title string, total int64) *Meter {
	m := &Meter{log: log, clock: clock, verb: verb, title: title, start: clock.now(), quit: make(chan struct{})}
	m.total.Store(total)
	tick, stop := clock.ticker(Interval)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer stop()
		for {
			select {
			case <-tick:
				m.Tick()
			case <-m.quit:
				return
			}
		}
	}()
	return m
}

// Add counts n more bytes.
func (m *Meter) Add(n int64) { m.done.Add(n) }

// SetTotal sets the transfer's size once it is known.
func (m *Meter) SetTotal(n int64) { m.total.Store(n) }

// Tick prints a progress line, opening the group first if none is open.
// The Meter's ticker calls it every Interval.
func (m *Meter) Tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.grouped {
		m.log.Group(m.title)
		m.grouped = true
	}
	m.log.Printf("%s", m.Line(m.clock.now()))
}

// Stop ends the metering. When progress lines were printed, it prints a
// last one and closes the group; otherwise it prints nothing.
func (m *Meter) Stop() {
	close(m.quit)
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.grouped {
		m.log.Printf("%s", m.Line(m.clock.now()))
		m.log.EndGroup()
		m.grouped = false
	}
}

// Line describes the progress at now: "Received 1.2 GiB of 2.0 GiB (60.0%),
// 150.0 MiB/s", without the size and share while the total is unknown.
func (m *Meter) Line(now time.Time) string {
	done, total := m.done.Load(), m.total.Load()
	rate := "0 B/s"
	if secs := now.Sub(m.start).Seconds(); secs > 0 {
		rate = report.Bytes(int64(float64(done)/secs)) + "/s"
	}
	if total > 0 {
		return fmt.Sprintf("%s %s of %s (%.1f%%), %s", m.verb, report.Bytes(done), report.Bytes(total), 100*float64(done)/float64(total), rate)
	}
	return fmt.Sprintf("%s %s, %s", m.verb, report.Bytes(done), rate)
}

// Writer counts what is written through it to w. It also lets a writer of
// a known size report it (SetTotal), as a download learns the entry's size
// from its first answer.
func (m *Meter) Writer(w io.Writer) io.Writer { return &meteredWriter{w: w, m: m} }

// Reader counts what is read through it from r.
func (m *Meter) Reader(r io.Reader) io.Reader { return &meteredReader{r: r, m: m} }

type meteredWriter struct {
	w io.Writer
	m *Meter
}

func (w *meteredWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.m.Add(int64(n))
	return n, err
}

// SetTotal reports the size of what will be written.
func (w *meteredWriter) SetTotal(n int64) { w.m.SetTotal(n) }

type meteredReader struct {
	r io.Reader
	m *Meter
}

func (r *meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.m.Add(int64(n))
	return n, err
}
