package cacheservice

import "testing"

func TestMode(t *testing.T) {
	tests := []struct {
		env            string
		read, write    bool
		known          bool
		wantNormalized Mode
	}{
		{"", true, true, false, ""},
		{"none", false, false, true, ModeNone},
		{"read", true, false, true, ModeRead},
		{"write", true, true, true, ModeWrite},
		{"write-only", false, true, true, ModeWriteOnly},
		{"  WRITE-ONLY \n", false, true, true, ModeWriteOnly},
		{"Read", true, false, true, ModeRead},
		{"readwrite", true, true, false, "readwrite"},
		{"off", true, true, false, "off"},
	}
	for _, tt := range tests {
		m := ModeFromEnv(func(k string) string {
			if k == "ACTIONS_CACHE_MODE" {
				return tt.env
			}
			return ""
		})
		if m != tt.wantNormalized || m.CanRead() != tt.read || m.CanWrite() != tt.write || m.Known() != tt.known {
			t.Errorf("ACTIONS_CACHE_MODE=%q: mode %q read=%v write=%v known=%v; want %q %v %v %v",
				tt.env, m, m.CanRead(), m.CanWrite(), m.Known(), tt.wantNormalized, tt.read, tt.write, tt.known)
		}
	}
}
