package fakecache

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BlobStore is an Azure Blob endpoint that serves the development account
// path-style: <BaseURL>/devstoreaccount1/<container>/<blob>.
type BlobStore interface {
	// BaseURL is scheme://host:port, without the account.
	BaseURL() string
}

// MemBlobs is an in-process stand-in for Azure Blob Storage, for fast
// tests: the subset of the Blob REST API the cache clients use (create
// container, Put Blob, Put Block, Put Block List, Get Blob and Get Blob
// Properties with ranges and range MD5s), with service and account SAS
// checking for the development account.
type MemBlobs struct {
	srv *httptest.Server
	t   testing.TB

	mu         sync.Mutex
	containers map[string]bool
	blobs      map[string]*memBlob          // by "container/blob"
	blocks     map[string]map[string][]byte // uncommitted blocks by blob, then block id
}

type memBlob struct {
	data []byte
	md5  []byte // stored Content-MD5, nil if none
	mod  time.Time
}

// NewMemBlobs starts an in-process blob store, closed when the test ends.
func NewMemBlobs(t testing.TB) *MemBlobs {
	t.Helper()
	m := &MemBlobs{t: t, containers: map[string]bool{}, blobs: map[string]*memBlob{}, blocks: map[string]map[string][]byte{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

// BaseURL implements BlobStore.
func (m *MemBlobs) BaseURL() string { return m.srv.URL }

// Blob returns a copy of a committed blob's bytes.
func (m *MemBlobs) Blob(container, name string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[container+"/"+name]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b.data...), true
}

// unexpected fails the test for a request no cache client sends.
func (m *MemBlobs) unexpected(r *http.Request) {
	m.t.Errorf("fakecache blobs: unexpected request %s %s", r.Method, r.URL.RequestURI())
}

func azureError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (m *MemBlobs) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 2 || parts[0] != DevAccount {
		m.unexpected(r)
		azureError(w, http.StatusBadRequest, "InvalidUri", "expected /devstoreaccount1/<container>[/<blob>]")
		return
	}
	q := r.URL.Query()
	container := parts[1]
	if len(container) < 3 || len(container) > 63 {
		azureError(w, http.StatusBadRequest, "OutOfRangeInput", "The specified resource name length is not within the permissible limits.")
		return
	}
	if len(parts) == 2 {
		if r.Method == http.MethodPut && q.Get("restype") == "container" {
			if code := checkSAS(q, "", "c", time.Now()); code != "" {
				azureError(w, http.StatusForbidden, code, "account SAS refused")
				return
			}
			m.mu.Lock()
			exists := m.containers[container]
			m.containers[container] = true
			m.mu.Unlock()
			if exists {
				azureError(w, http.StatusConflict, "ContainerAlreadyExists", "The specified container already exists.")
				return
			}
			w.WriteHeader(http.StatusCreated)
			return
		}
		m.unexpected(r)
		azureError(w, http.StatusBadRequest, "UnsupportedHttpVerb", "only container creation is supported")
		return
	}
	name := parts[2]
	need := "r"
	if r.Method == http.MethodPut {
		need = "cw"
	}
	if code := checkSAS(q, "/blob/"+DevAccount+"/"+container+"/"+name, need, time.Now()); code != "" {
		azureError(w, http.StatusForbidden, code, "Server failed to authenticate the request.")
		return
	}
	m.mu.Lock()
	known := m.containers[container]
	m.mu.Unlock()
	if !known {
		azureError(w, http.StatusNotFound, "ContainerNotFound", "The specified container does not exist.")
		return
	}
	key := container + "/" + name
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		m.get(w, r, key)
	case r.Method == http.MethodPut && q.Get("comp") == "block":
		m.putBlock(w, r, key, q.Get("blockid"))
	case r.Method == http.MethodPut && q.Get("comp") == "blocklist":
		m.putBlockList(w, r, key)
	case r.Method == http.MethodPut && q.Get("comp") == "":
		m.putBlob(w, r, key)
	default:
		m.unexpected(r)
		azureError(w, http.StatusBadRequest, "UnsupportedQueryParameter", "unsupported operation")
	}
}

// readChecked reads a request body and verifies its Content-MD5, if any.
func readChecked(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, false
	}
	if v := r.Header.Get("Content-MD5"); v != "" {
		sum := md5.Sum(body)
		if want, err := base64.StdEncoding.DecodeString(v); err != nil || !bytes.Equal(want, sum[:]) {
			azureError(w, http.StatusBadRequest, "Md5Mismatch", "The MD5 value specified in the request did not match the MD5 value calculated by the server.")
			return nil, false
		}
	}
	return body, true
}

func (m *MemBlobs) putBlob(w http.ResponseWriter, r *http.Request, key string) {
	if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
		azureError(w, http.StatusBadRequest, "MissingRequiredHeader", "x-ms-blob-type must be BlockBlob")
		return
	}
	body, ok := readChecked(w, r)
	if !ok {
		return
	}
	sum := md5.Sum(body)
	m.mu.Lock()
	m.blobs[key] = &memBlob{data: body, md5: sum[:], mod: time.Now()}
	delete(m.blocks, key)
	m.mu.Unlock()
	w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	w.WriteHeader(http.StatusCreated)
}

func (m *MemBlobs) putBlock(w http.ResponseWriter, r *http.Request, key, id string) {
	if raw, err := base64.StdEncoding.DecodeString(id); err != nil || len(raw) == 0 || len(raw) > 64 {
		azureError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "bad blockid")
		return
	}
	body, ok := readChecked(w, r)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.blocks[key] == nil {
		m.blocks[key] = map[string][]byte{}
	}
	for other := range m.blocks[key] {
		if len(other) != len(id) {
			azureError(w, http.StatusBadRequest, "InvalidBlobOrBlock", "block ids of one blob must have the same length")
			return
		}
	}
	m.blocks[key][id] = body
	w.WriteHeader(http.StatusCreated)
}

func (m *MemBlobs) putBlockList(w http.ResponseWriter, r *http.Request, key string) {
	var list struct {
		Items []struct {
			XMLName xml.Name
			ID      string `xml:",chardata"`
		} `xml:",any"`
	}
	body, ok := readChecked(w, r)
	if !ok {
		return
	}
	if err := xml.Unmarshal(body, &list); err != nil {
		azureError(w, http.StatusBadRequest, "InvalidXmlDocument", "bad block list")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var data bytes.Buffer
	for _, it := range list.Items {
		b, ok := m.blocks[key][strings.TrimSpace(it.ID)]
		if !ok || it.XMLName.Local == "Committed" {
			azureError(w, http.StatusBadRequest, "InvalidBlockList", "The specified block list is invalid.")
			return
		}
		data.Write(b)
	}
	var sum []byte
	if v := r.Header.Get("x-ms-blob-content-md5"); v != "" {
		sum, _ = base64.StdEncoding.DecodeString(v)
	}
	m.blobs[key] = &memBlob{data: data.Bytes(), md5: sum, mod: time.Now()}
	delete(m.blocks, key)
	w.WriteHeader(http.StatusCreated)
}

func (m *MemBlobs) get(w http.ResponseWriter, r *http.Request, key string) {
	m.mu.Lock()
	b, ok := m.blobs[key]
	m.mu.Unlock()
	if !ok {
		azureError(w, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
		return
	}
	size := int64(len(b.data))
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Last-Modified", b.mod.UTC().Format(http.TimeFormat))
	h.Set("x-ms-blob-type", "BlockBlob")
	rng := firstNonEmpty(r.Header.Get("x-ms-range"), r.Header.Get("Range"))
	if rng == "" {
		if b.md5 != nil {
			h.Set("Content-MD5", base64.StdEncoding.EncodeToString(b.md5))
		}
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(b.data)
		}
		return
	}
	start, end, ok := parseRangeHeader(rng, size)
	if !ok {
		h.Del("Content-Type")
		azureError(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The range specified is invalid for the current size of the resource.")
		return
	}
	part := b.data[start : end+1]
	if strings.EqualFold(r.Header.Get("x-ms-range-get-content-md5"), "true") {
		if len(part) > 4<<20 {
			azureError(w, http.StatusBadRequest, "OutOfRangeInput", "range too large for an MD5")
			return
		}
		sum := md5.Sum(part)
		h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
	h.Set("Content-Length", strconv.Itoa(len(part)))
	w.WriteHeader(http.StatusPartialContent)
	if r.Method == http.MethodGet {
		_, _ = w.Write(part)
	}
}

// parseRangeHeader parses "bytes=a-b" or "bytes=a-" against size.
func parseRangeHeader(s string, size int64) (int64, int64, bool) {
	span, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes=")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(span, "-")
	start, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, false
		}
		end = min(e, size-1)
	}
	return start, end, true
}
