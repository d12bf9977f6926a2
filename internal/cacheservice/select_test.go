package cacheservice

import (
	"errors"
	"testing"

	"github.com/org/rustcache-action/internal/httpx"
)

func TestNewSelectsProtocol(t *testing.T) {
	const (
		results = "https://results-receiver.actions.githubusercontent.com/"
		cache   = "https://artifactcache.actions.githubusercontent.com/abc/"
	)
	tests := []struct {
		name    string
		env     map[string]string
		proto   string
		base    string // base URL the client uses
		unavail bool
	}{
		{"nothing", map[string]string{}, "", "", true},
		{"token only", map[string]string{"ACTIONS_RUNTIME_TOKEN": "t"}, "", "", true},
		{"v2 flag", map[string]string{"ACTIONS_RESULTS_URL": results, "ACTIONS_CACHE_SERVICE_V2": "true", "ACTIONS_CACHE_URL": cache}, ProtocolV2,
			"https://results-receiver.actions.githubusercontent.com" + twirpService, false},
		{"v2 without flag (container action on github.com)", map[string]string{"ACTIONS_RESULTS_URL": results, "ACTIONS_CACHE_URL": cache}, ProtocolV2,
			"https://results-receiver.actions.githubusercontent.com" + twirpService, false},
		{"v2 on ghe.com", map[string]string{"ACTIONS_RESULTS_URL": results, "GITHUB_SERVER_URL": "https://octo.ghe.com"}, ProtocolV2,
			"https://results-receiver.actions.githubusercontent.com" + twirpService, false},
		{"v2 path dropped, origin kept", map[string]string{"ACTIONS_RESULTS_URL": "http://127.0.0.1:9/some/path/?x=1", "ACTIONS_CACHE_SERVICE_V2": "1"}, ProtocolV2,
			"http://127.0.0.1:9" + twirpService, false},
		{"v2 flag but no results URL", map[string]string{"ACTIONS_CACHE_SERVICE_V2": "true", "ACTIONS_CACHE_URL": cache}, "", "", true},
		{"v1 explicit false", map[string]string{"ACTIONS_RESULTS_URL": results, "ACTIONS_CACHE_SERVICE_V2": "false", "ACTIONS_CACHE_URL": cache}, ProtocolV1, cache, false},
		{"v1 act composite step, no token", map[string]string{"ACTIONS_CACHE_URL": "http://127.0.0.1:34567/tok"}, ProtocolV1, "http://127.0.0.1:34567/tok/", false},
		{"GHES forces v1", map[string]string{"GITHUB_SERVER_URL": "https://ghes.example.com", "ACTIONS_RESULTS_URL": results, "ACTIONS_CACHE_SERVICE_V2": "true", "ACTIONS_CACHE_URL": cache}, ProtocolV1, cache, false},
		{"GHES falls back to results URL", map[string]string{"GITHUB_SERVER_URL": "https://ghes.example.com", "ACTIONS_RESULTS_URL": results}, ProtocolV1, results, false},
		{"localhost is not GHES", map[string]string{"GITHUB_SERVER_URL": "http://github.localhost", "ACTIONS_RESULTS_URL": results}, ProtocolV2,
			"https://results-receiver.actions.githubusercontent.com" + twirpService, false},
		{"not a URL", map[string]string{"ACTIONS_CACHE_URL": "not a url"}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{Getenv: func(k string) string { return tt.env[k] }, HTTP: httpx.New(httpx.Options{})})
			if tt.unavail {
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("New: %v, want ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Protocol() != tt.proto {
				t.Fatalf("protocol %s, want %s", c.Protocol(), tt.proto)
			}
			var base string
			switch c := c.(type) {
			case *v1Client:
				base = c.base
			case *v2Client:
				base = c.base
			}
			if base != tt.base {
				t.Errorf("base %q, want %q", base, tt.base)
			}
		})
	}
}

func TestCheckKeys(t *testing.T) {
	long := make([]byte, MaxKeyLength+1)
	for i := range long {
		long[i] = 'k'
	}
	tests := []struct {
		keys []string
		ok   bool
	}{
		{[]string{"a", "b"}, true},
		{[]string{string(long[:MaxKeyLength])}, true},
		{[]string{string(long)}, false},
		{[]string{"a,b"}, false},
		{[]string{""}, false},
		{make([]string, MaxKeys+1), false},
	}
	for _, tt := range tests {
		err := checkKeys(tt.keys)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidKey)) {
			t.Errorf("checkKeys(%d keys, first %d chars) = %v", len(tt.keys), len(tt.keys[0]), err)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                string
		start, end, total int64
		ok                bool
	}{
		{"bytes 0-99/1000", 0, 99, 1000, true},
		{"bytes 5-5/*", 5, 5, -1, true},
		{"bytes 0-99/50", 0, 0, 0, false},
		{"bytes 9-3/100", 0, 0, 0, false},
		{"bytes 16-15/16", 16, 15, 16, true},
		{"bytes 0--1/0", 0, -1, 0, true}, // Azurite, empty blob
		{"bytes 10-9/16", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		s, e, n, err := parseContentRange(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (s != tt.start || e != tt.end || n != tt.total)) {
			t.Errorf("parseContentRange(%q) = %d %d %d %v", tt.in, s, e, n, err)
		}
	}
}

func TestStatusErrorMessages(t *testing.T) {
	tests := []struct {
		body string
		code string
		msg  string
	}{
		{`{"code":"already_exists","msg":"entry exists"}`, "already_exists", "entry exists"},
		{`{"$id":"1","message":"Cache already exists."}`, "", "Cache already exists."},
		{`{"error":"cache 3: not reserved"}`, "", "cache 3: not reserved"},
		{"<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed.\nRequestId:1</Message></Error>", "AuthenticationFailed", "Server failed."},
		{"plain text\nsecond line", "", "plain text"},
		{"", "", ""},
	}
	for _, tt := range tests {
		code, msg := parseErrorBody([]byte(tt.body))
		if code != tt.code || msg != tt.msg {
			t.Errorf("parseErrorBody(%q) = %q, %q; want %q, %q", tt.body, code, msg, tt.code, tt.msg)
		}
	}
}
