package transport

import (
	"strings"
	"testing"

	"github.com/org/rustcache-action/internal/cacheservice"
)

// The runners' facts, as the runner gives them to a composite run step.
var oses = []string{"Linux", "macOS", "Windows"}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		name   string
		facts  Facts
		route  Route
		reason string // a part of the reason; "" for none
	}{
		// GitHub-hosted runners: run steps see no credentials; the default
		// entry point is followed by actions/cache.
		{"hosted restore", Facts{Op: Restore, Nested: true}, Nested, ""},
		{"hosted save", Facts{Op: Save, Nested: true}, Nested, ""},
		// act, self-hosted runners and GHES setups that export the variables.
		{"exported restore", Facts{Op: Restore, Credentials: true, Nested: true}, Direct, ""},
		{"exported save", Facts{Op: Save, Credentials: true, Nested: true}, Direct, ""},
		// The fast entry point: the container step handed them over.
		{"container handed over", Facts{Op: Save, Credentials: true, Nested: true, Container: "success"}, Direct, ""},
		// It failed (no Docker): the nested step still persists the cache.
		{"container failed", Facts{Op: Save, Nested: true, Container: "failure"}, Nested, ""},
		// The program run on its own (tests, the demo), without credentials.
		{"alone", Facts{Op: Restore}, Off, "ACTIONS_RESULTS_URL / ACTIONS_CACHE_URL are unset"},
		{"alone after a failed container", Facts{Op: Restore, Container: "failure"}, Off, "credential container step failed"},

		// ACTIONS_CACHE_MODE, where the step sees it, wins on every route.
		{"read: restore nested", Facts{Op: Restore, Nested: true, Mode: cacheservice.ModeRead}, Nested, ""},
		{"read: no save step", Facts{Op: Save, Nested: true, Mode: cacheservice.ModeRead}, Skip, "ACTIONS_CACHE_MODE=read does not allow the save"},
		{"read: direct restore", Facts{Op: Restore, Credentials: true, Mode: cacheservice.ModeRead}, Direct, ""},
		{"read: no direct save", Facts{Op: Save, Credentials: true, Mode: cacheservice.ModeRead}, Skip, "save"},
		{"none: no restore", Facts{Op: Restore, Nested: true, Mode: cacheservice.ModeNone}, Skip, "does not allow the restore"},
		{"none: no save", Facts{Op: Save, Nested: true, Mode: cacheservice.ModeNone}, Skip, ""},
		{"write-only: no restore", Facts{Op: Restore, Nested: true, Mode: cacheservice.ModeWriteOnly}, Skip, ""},
		{"write-only: save", Facts{Op: Save, Nested: true, Mode: cacheservice.ModeWriteOnly}, Nested, ""},
		{"write", Facts{Op: Save, Nested: true, Mode: cacheservice.ModeWrite}, Nested, ""},
		{"unknown mode allows both", Facts{Op: Save, Nested: true, Mode: "sometimes"}, Nested, ""},
		{"mode before off", Facts{Op: Save, Mode: cacheservice.ModeNone}, Skip, ""},

		// Forced by hand.
		{"force nested with credentials", Facts{Op: Save, Credentials: true, Nested: true, Force: "actions-cache"}, Nested, ""},
		{"force nested without a nested step", Facts{Op: Save, Credentials: true, Force: "actions-cache"}, Off, "not followed by an actions/cache step"},
		{"force direct without credentials", Facts{Op: Save, Nested: true, Force: "direct"}, Off, "RUSTCACHE_TRANSPORT=direct"},
		{"force direct", Facts{Op: Save, Credentials: true, Nested: true, Force: " Direct "}, Direct, ""},
		{"force auto", Facts{Op: Save, Nested: true, Force: "auto"}, Nested, ""},
	} {
		// The route does not depend on the operating system.
		for _, os := range oses {
			t.Run(tc.name+"/"+os, func(t *testing.T) {
				f := tc.facts
				f.OS = os
				d, err := Choose(f)
				if err != nil {
					t.Fatal(err)
				}
				if d.Route != tc.route {
					t.Errorf("route %q, want %q (reason %q)", d.Route, tc.route, d.Reason)
				}
				if tc.reason != "" && !strings.Contains(d.Reason, tc.reason) {
					t.Errorf("reason %q, want it to say %q", d.Reason, tc.reason)
				}
				if (d.Route == Off || d.Route == Skip) && d.Reason == "" {
					t.Errorf("route %q without a reason", d.Route)
				}
			})
		}
	}
}

func TestChooseRejectsUnknownForce(t *testing.T) {
	_, err := Choose(Facts{Op: Restore, Force: "docker"})
	if err == nil || !strings.Contains(err.Error(), `RUSTCACHE_TRANSPORT: invalid value "docker"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestFactsFromEnv(t *testing.T) {
	env := map[string]string{"RUNNER_OS": "Windows", "ACTIONS_CACHE_MODE": " Read ", NestedVar: "true", ContainerVar: "failure", ForceVar: "auto"}
	got := FactsFromEnv(func(k string) string { return env[k] })
	want := Facts{OS: "Windows", Mode: cacheservice.ModeRead, Nested: true, Container: "failure", Force: "auto"}
	if got != want {
		t.Errorf("FactsFromEnv = %+v, want %+v", got, want)
	}
	if f := FactsFromEnv(func(string) string { return "" }); f.Nested || f.Mode.Known() {
		t.Errorf("empty environment gave %+v", f)
	}
	if f := FactsFromEnv(func(k string) string { return map[string]string{ContainerVar: "skipped"}[k] }); f.Container != "" {
		t.Errorf("a skipped container step reads as %q, want \"\" (it did not run)", f.Container)
	}
}
