package crossbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const triple = "x86_64-unknown-linux-gnu"

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func envLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

const plainCargo = "[package]\nname = \"x\"\nversion = \"0.1.0\"\n"

func TestConfigSources(t *testing.T) {
	tests := []struct {
		name            string
		files           map[string]string
		env             map[string]string
		wantPassthrough []string
		wantVolumes     []string
		wantTarget      string
		wantPath        string // relative to the workspace, "" for none
	}{
		{
			name:  "no configuration",
			files: map[string]string{"Cargo.toml": plainCargo},
		},
		{
			name: "Cross.toml build and target lists are summed",
			files: map[string]string{
				"Cargo.toml": plainCargo,
				"Cross.toml": `
[build.env]
passthrough = ["A", "B=literal"]
volumes = ["VOL_BUILD"]
[target.x86_64-unknown-linux-gnu.env]
passthrough = ["C"]
[target.aarch64-unknown-linux-gnu.env]
passthrough = ["OTHER"]
`,
			},
			wantPassthrough: []string{"A", "B=literal", "C"},
			wantVolumes:     []string{"VOL_BUILD"},
			wantPath:        "Cross.toml",
		},
		{
			name: "target volumes replace build volumes",
			files: map[string]string{
				"Cargo.toml": plainCargo,
				"Cross.toml": `
[build.env]
volumes = ["VOL_BUILD"]
[target.x86_64-unknown-linux-gnu.env]
volumes = ["VOL_TARGET"]
`,
			},
			wantVolumes: []string{"VOL_TARGET"},
			wantPath:    "Cross.toml",
		},
		{
			name: "package metadata alone",
			files: map[string]string{
				"Cargo.toml": plainCargo + `
[package.metadata.cross.build.env]
passthrough = ["META"]
volumes = ["META_VOL"]
[package.metadata.cross.build]
default-target = "aarch64-unknown-linux-gnu"
`,
			},
			wantPassthrough: []string{"META"},
			wantVolumes:     []string{"META_VOL"},
			wantTarget:      "aarch64-unknown-linux-gnu",
			wantPath:        "Cargo.toml",
		},
		{
			name: "Cross.toml overrides metadata key by key",
			files: map[string]string{
				"Cargo.toml": plainCargo + `
[package.metadata.cross.build.env]
passthrough = ["META"]
volumes = ["META_VOL"]
`,
				"Cross.toml": "[build.env]\npassthrough = [\"FILE\"]\n",
			},
			wantPassthrough: []string{"FILE"},
			wantVolumes:     []string{"META_VOL"},
			wantPath:        "Cross.toml",
		},
		{
			name: "workspace metadata is not read by 0.2.5",
			files: map[string]string{
				"Cargo.toml": plainCargo + "[workspace.metadata.cross.build.env]\npassthrough = [\"WS\"]\n",
			},
		},
		{
			name: "CROSS_CONFIG names the file",
			files: map[string]string{
				"Cargo.toml":      plainCargo,
				"Cross.toml":      "[build.env]\npassthrough = [\"IGNORED\"]\n",
				"conf/cross.toml": "[build.env]\npassthrough = [\"CHOSEN\"]\n",
			},
			env:             map[string]string{"CROSS_CONFIG": "conf/cross.toml"},
			wantPassthrough: []string{"CHOSEN"},
			wantPath:        "conf/cross.toml",
		},
		{
			name: "environment build passthrough replaces the file, target env is appended",
			files: map[string]string{
				"Cargo.toml": plainCargo,
				"Cross.toml": "[build.env]\npassthrough = [\"FILE\"]\n",
			},
			env: map[string]string{
				"CROSS_BUILD_ENV_PASSTHROUGH":                           "E1  E2",
				"CROSS_TARGET_X86_64_UNKNOWN_LINUX_GNU_ENV_PASSTHROUGH": "E3",
			},
			wantPassthrough: []string{"E1", "E2", "E3"},
			wantPath:        "Cross.toml",
		},
		{
			name: "target passthrough variable alone is ignored by 0.2.5",
			files: map[string]string{
				"Cargo.toml": plainCargo,
				"Cross.toml": "[build.env]\npassthrough = [\"FILE\"]\n",
			},
			env:             map[string]string{"CROSS_TARGET_X86_64_UNKNOWN_LINUX_GNU_ENV_PASSTHROUGH": "E3"},
			wantPassthrough: []string{"FILE"},
			wantPath:        "Cross.toml",
		},
		{
			name: "volume precedence: env target, file target, env build, file build",
			files: map[string]string{
				"Cargo.toml": plainCargo,
				"Cross.toml": "[build.env]\nvolumes = [\"FILE_BUILD\"]\n",
			},
			env:         map[string]string{"CROSS_BUILD_ENV_VOLUMES": "ENV_BUILD"},
			wantVolumes: []string{"ENV_BUILD"},
			wantPath:    "Cross.toml",
		},
		{
			name: "env target volumes win",
			files: map[string]string{
				"Cargo.toml": plainCargo,
				"Cross.toml": "[target.x86_64-unknown-linux-gnu.env]\nvolumes = [\"FILE_TARGET\"]\n",
			},
			env: map[string]string{
				"CROSS_BUILD_ENV_VOLUMES":                           "ENV_BUILD",
				"CROSS_TARGET_X86_64_UNKNOWN_LINUX_GNU_ENV_VOLUMES": "ENV_TARGET",
			},
			wantVolumes: []string{"ENV_TARGET"},
			wantPath:    "Cross.toml",
		},
		{
			name:       "target from the environment",
			files:      map[string]string{"Cargo.toml": plainCargo},
			env:        map[string]string{"CARGO_BUILD_TARGET": "armv7-unknown-linux-gnueabihf"},
			wantTarget: "armv7-unknown-linux-gnueabihf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFiles(t, tt.files)
			env := map[string]string{}
			for k, v := range tt.env {
				if k == "CROSS_CONFIG" {
					v = filepath.Join(root, v)
				}
				env[k] = v
			}
			c, err := LoadConfig(root, envLookup(env))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPassthrough, c.Passthrough(triple)); diff != "" {
				t.Errorf("Passthrough (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantVolumes, c.Volumes(triple)); diff != "" {
				t.Errorf("Volumes (-want +got):\n%s", diff)
			}
			if got := c.Target(); got != tt.wantTarget {
				t.Errorf("Target = %q, want %q", got, tt.wantTarget)
			}
			wantPath := ""
			if tt.wantPath != "" {
				wantPath = filepath.Join(root, tt.wantPath)
			}
			if c.Path != wantPath {
				t.Errorf("Path = %q, want %q", c.Path, wantPath)
			}
		})
	}
}

func TestConfigErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"malformed Cross.toml", map[string]string{"Cargo.toml": plainCargo, "Cross.toml": "[build.env\n"}, "Cross.toml"},
		{"wrong type", map[string]string{"Cargo.toml": plainCargo, "Cross.toml": "[build.env]\npassthrough = \"A\"\n"}, "Cross.toml"},
		{"malformed Cargo.toml", map[string]string{"Cargo.toml": "[package\n"}, "Cargo.toml"},
		{"no Cargo.toml", map[string]string{"Cross.toml": ""}, "Cargo.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFiles(t, tt.files)
			_, err := LoadConfig(root, envLookup(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadConfig error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
