package cacheservice

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendChunks(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefg"), 1000) // 7000 bytes
	const chunk, conc = 1000, 3
	var (
		mu       sync.Mutex
		got      = make([]byte, len(data))
		inFlight atomic.Int32
		peak     atomic.Int32
		indexes  []int
	)
	first := make([]byte, chunk)
	r := bytes.NewReader(data)
	n, eof, err := readChunk(r, first)
	if err != nil || eof || n != chunk {
		t.Fatalf("readChunk: %d %v %v", n, eof, err)
	}
	total, count, err := sendChunks(context.Background(), r, first[:n], false, chunk, conc,
		func(ctx context.Context, i int, off int64, p []byte) error {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				old := peak.Load()
				if cur <= old || peak.CompareAndSwap(old, cur) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			copy(got[off:], p)
			indexes = append(indexes, i)
			return nil
		})
	if err != nil || total != int64(len(data)) || count != 7 {
		t.Fatalf("sendChunks = %d, %d, %v", total, count, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("chunks reassemble to different bytes")
	}
	if p := peak.Load(); p > conc || p < 2 {
		t.Errorf("peak concurrency %d, want 2..%d", p, conc)
	}
	if len(indexes) != 7 {
		t.Errorf("indexes %v", indexes)
	}
}

func TestSendChunksStopsOnError(t *testing.T) {
	boom := errors.New("upload refused")
	var calls atomic.Int32
	r := io.LimitReader(zeroReader{}, 1<<20)
	_, _, err := sendChunks(context.Background(), r, nil, false, 1000, 2,
		func(ctx context.Context, i int, off int64, p []byte) error {
			calls.Add(1)
			if i == 3 {
				return boom
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
				return nil
			}
		})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the upload's", err)
	}
	if c := calls.Load(); c > 10 {
		t.Errorf("%d chunks sent after the failure", c)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
