package cacheservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// putChunk uploads one chunk of the stream. index counts from 0 and offset is
// the chunk's position in the stream; data is only valid during the call.
type putChunk func(ctx context.Context, index int, offset int64, data []byte) error

// readChunk fills buf from r. It reports how many bytes it read and whether r
// is exhausted; a full buffer does not tell, so the next call may return 0
// bytes and true.
func readChunk(r io.Reader, buf []byte) (int, bool, error) {
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil:
		return n, false, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	default:
		return n, false, fmt.Errorf("read archive stream: %w", err)
	}
}

// sendChunks uploads first (already read from r; eof tells whether r ended
// with it) and then the rest of r in chunks of chunkSize, at most concurrency
// at a time, so no more than concurrency+1 chunk buffers are alive. It returns
// the bytes and chunks sent. The first error (an upload or a read of r)
// cancels the other uploads; nothing is left running when it returns.
func sendChunks(ctx context.Context, r io.Reader, first []byte, eof bool, chunkSize, concurrency int, put putChunk) (int64, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	slots := make(chan struct{}, concurrency)
	free := make(chan []byte, concurrency+2)
	buffer := func() []byte {
		select {
		case b := <-free:
			if cap(b) >= chunkSize {
				return b[:chunkSize]
			}
			return make([]byte, chunkSize)
		default:
			return make([]byte, chunkSize)
		}
	}

	var (
		index  int
		offset int64
		data   = first
	)
loop:
	for {
		if len(data) > 0 {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				break loop
			}
			wg.Add(1)
			go func(index int, offset int64, data []byte) {
				defer wg.Done()
				if err := put(ctx, index, offset, data); err != nil {
					fail(err)
				}
				<-slots
				free <- data[:cap(data)]
			}(index, offset, data)
			index++
			offset += int64(len(data))
		}
		if eof || ctx.Err() != nil {
			break
		}
		buf := buffer()
		n, end, err := readChunk(r, buf)
		if err != nil {
			fail(err)
			break
		}
		data, eof = buf[:n], end
	}
	wg.Wait()
	if firstErr != nil {
		return offset, index, firstErr
	}
	if err := ctx.Err(); err != nil {
		return offset, index, fmt.Errorf("upload: %w", err)
	}
	return offset, index, nil
}
