package cacheservice

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// httpClient sends the requests of both protocols through the injected
// retrying client.
type httpClient struct {
	http      *retryablehttp.Client
	token     string
	userAgent string
	redact    func(string) string // Config.Redact
}

// request describes one HTTP exchange.
type request struct {
	op     string      // operation name for errors
	method string      // HTTP method
	url    string      // full URL (may be a signed URL: never put it in an error)
	body   []byte      // nil for none
	header http.Header // extra headers
	auth   bool        // send the runtime token (service requests, not storage)
}

// do performs r, retrying as the client's policy says, and returns the final
// response (whatever its status). The caller closes the body.
func (h *httpClient) do(ctx context.Context, r request) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", r.op, err)
	}
	// An empty body goes as no body: PUT/POST/PATCH then carry
	// "Content-Length: 0", which Azure insists on.
	var body any
	if len(r.body) > 0 {
		body = r.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, transportError(r.op, err)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", h.userAgent)
	if r.auth && h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		if resp != nil {
			drain(resp)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %w", r.op, ctxErr)
		}
		return nil, transportError(r.op, err)
	}
	return resp, nil
}

// drain discards what is left of a body (a little, to keep the connection)
// and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
}

// readAll reads a whole (small) body with a bound and closes it.
func readAll(op string, resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, transportError(op+": read response", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: response larger than %d bytes", op, limit)
	}
	return b, nil
}

// statusError turns a non-success response into a *StatusError, reading
// what the service said. reserving marks the operations for which 409 means
// ErrAlreadyExists. It closes the body.
func (h *httpClient) statusError(op string, resp *http.Response, reserving bool) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	code, msg := parseErrorBody(b)
	code = h.clean(code)
	return &StatusError{
		Op:         op,
		StatusCode: resp.StatusCode,
		Code:       code,
		Message:    h.clean(msg),
		kind:       statusKind(resp.StatusCode, code, reserving),
	}
}

// parseErrorBody understands twirp errors ({"code","msg"}), the v1 services'
// JSON ({"message"} or act's {"error"}) and Azure Storage XML errors. What it
// returns is the service's text as sent: clean it before use.
func parseErrorBody(b []byte) (code, msg string) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", ""
	}
	if strings.HasPrefix(s, "{") {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			str := func(k string) string {
				v, _ := m[k].(string)
				return v
			}
			code = str("code")
			msg = str("msg")
			if msg == "" {
				msg = str("message")
			}
			if msg == "" {
				msg = str("error")
			}
			return code, msg
		}
	}
	if strings.HasPrefix(s, "<") {
		var e struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		if xml.Unmarshal(b, &e) == nil {
			// Azure appends request ids and times on later lines.
			first, _, _ := strings.Cut(e.Message, "\n")
			return e.Code, first
		}
	}
	first, _, _ := strings.Cut(s, "\n")
	return "", first
}
