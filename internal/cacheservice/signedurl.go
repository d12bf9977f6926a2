package cacheservice

import (
	"context"
	"net/http"
	"sync"
)

// maxRenewals bounds how often one transfer asks the service for a fresh
// URL after the storage answered 403.
const maxRenewals = 1

// signedURL is a storage URL shared by the parallel requests of one transfer,
// renewed when it has expired. Requests remember the generation they used, so
// several of them failing together cause a single renewal.
type signedURL struct {
	mu       sync.Mutex
	url      string
	gen      int
	renewals int
	renew    func(ctx context.Context) (string, error) // nil: cannot renew
	op       string                                    // for the error when renewal is impossible
}

func (s *signedURL) get() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url, s.gen
}

// expired is called after a request made with generation gen got a 403. It
// renews the URL unless another request already did, and fails with an
// ErrForbidden error when the URL cannot be renewed (again).
func (s *signedURL) expired(ctx context.Context, gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return nil
	}
	if s.renew == nil || s.renewals >= maxRenewals {
		return &StatusError{Op: s.op, StatusCode: http.StatusForbidden, Message: "signed URL refused", kind: ErrForbidden}
	}
	u, err := s.renew(ctx)
	if err != nil {
		return err
	}
	s.url = u
	s.gen++
	s.renewals++
	return nil
}
