package fakecache

import (
	"strings"
	"sync"
	"time"
)

// Entry describes one entry held by a fake.
type Entry struct {
	ID       int64
	Key      string
	Version  string
	Size     int64 // committed size; -1 while pending
	Complete bool
	Created  time.Time
}

// record is an entry and, for v1, its bytes.
type record struct {
	Entry
	reserved int64            // cacheSize announced on reserve (v1), 0 if none
	chunks   map[int64][]byte // v1: uploaded chunks by offset
	data     []byte           // v1: committed bytes
	blob     string           // v2: blob name
}

// store keeps entries and finds them like the services do: for each key in
// order, an exact match and then a prefix match, the newest first, among
// complete entries of the same version.
type store struct {
	mu     sync.Mutex
	fold   bool // keys are case-insensitive and kept lowercased (act's v1 server)
	nextID int64
	recs   []*record
}

func (s *store) norm(key string) string {
	if s.fold {
		return strings.ToLower(key)
	}
	return key
}

// find returns the matching complete entry or nil. Callers hold no lock.
func (s *store) find(keys []string, version string) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		k = s.norm(k)
		if r := s.newest(version, func(key string) bool { return key == k }); r != nil {
			return r
		}
		if r := s.newest(version, func(key string) bool { return strings.HasPrefix(key, k) }); r != nil {
			return r
		}
	}
	return nil
}

func (s *store) newest(version string, match func(string) bool) *record {
	var best *record
	for _, r := range s.recs {
		if r.Complete && r.Version == version && match(r.Key) && (best == nil || r.ID > best.ID) {
			best = r
		}
	}
	return best
}

// lookupExact returns the entry with exactly this key and version, complete
// or not.
func (s *store) lookupExact(key, version string) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	key = s.norm(key)
	for _, r := range s.recs {
		if r.Key == key && r.Version == version {
			return r
		}
	}
	return nil
}

// add creates a pending entry.
func (s *store) add(key, version string) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	r := &record{Entry: Entry{ID: s.nextID, Key: s.norm(key), Version: version, Size: -1, Created: time.Now()}}
	s.recs = append(s.recs, r)
	return r
}

func (s *store) byID(id int64) *record {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// entries returns a snapshot of all entries, oldest first.
func (s *store) entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.recs))
	for _, r := range s.recs {
		out = append(out, r.Entry)
	}
	return out
}
