package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// ErrStalled marks an attempt whose request or response body moved no byte
// for the idle timeout (Timeouts.Idle): a half-open connection, a hung
// proxy, a service that stopped reading or sending.
var ErrStalled = errors.New("the connection stalled")

// stallError is ErrStalled with the idle timeout that ran out.
type stallError struct{ idle time.Duration }

func (e *stallError) Error() string {
	return fmt.Sprintf("%v: no byte moved for %s", ErrStalled, e.idle)
}

func (e *stallError) Is(target error) bool { return target == ErrStalled }

// idleTransport cancels an attempt whose bodies stop moving. The clock runs
// while the transport sends the request (from the start, between reads of
// the request body, and while it waits for the response headers) and while
// the caller waits in a read of the response body — never while the
// program produces the request body or does something else between two
// reads of the response.
type idleTransport struct {
	base http.RoundTripper
	idle time.Duration
}

func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := &watchdog{idle: t.idle, phase: sending}
	w.timer = time.AfterFunc(t.idle, func() { cancel(&stallError{t.idle}) })
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &requestBody{ReadCloser: req.Body, w: w}
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		w.finish()
		cancel(nil)
		return nil, stalled(ctx, err)
	}
	w.enter(receiving)
	resp.Body = &responseBody{ReadCloser: resp.Body, w: w, ctx: ctx, cancel: cancel}
	return resp, nil
}

// stalled returns err marked with ErrStalled when the watchdog cancelled
// ctx.
func stalled(ctx context.Context, err error) error {
	var se *stallError
	if cause := context.Cause(ctx); errors.As(cause, &se) && !errors.Is(err, ErrStalled) {
		return fmt.Errorf("%w (%v)", se, err)
	}
	return err
}

// The phases of an attempt: the clock runs in a phase only for the side
// that waits on the network in it.
const (
	sending = iota + 1
	receiving
	done
)

// watchdog is the idle clock of one attempt.
type watchdog struct {
	idle  time.Duration
	timer *time.Timer
	mu    sync.Mutex
	phase int
}

// arm starts the clock anew if the attempt is in phase p.
func (w *watchdog) arm(p int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == p {
		w.timer.Reset(w.idle)
	}
}

// pause stops the clock if the attempt is in phase p.
func (w *watchdog) pause(p int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == p {
		w.timer.Stop()
	}
}

// enter moves to phase p with the clock stopped.
func (w *watchdog) enter(p int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase = p
	w.timer.Stop()
}

func (w *watchdog) finish() { w.enter(done) }

// requestBody pauses the clock while the program produces the body.
type requestBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.w.pause(sending)
	defer b.w.arm(sending)
	return b.ReadCloser.Read(p)
}

// responseBody runs the clock while the caller waits in Read.
type responseBody struct {
	io.ReadCloser
	w      *watchdog
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (b *responseBody) Read(p []byte) (int, error) {
	b.w.arm(receiving)
	n, err := b.ReadCloser.Read(p)
	b.w.pause(receiving)
	if err != nil && err != io.EOF {
		err = stalled(b.ctx, err)
	}
	return n, err
}

func (b *responseBody) Close() error {
	b.w.finish()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
