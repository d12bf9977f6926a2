package crossbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is the part of cross 0.2.5's configuration the stand-in uses, read
// from the same places and with the same precedence as cross 0.2.5.
//
// Sources: the file named by CROSS_CONFIG, else Cross.toml in the workspace
// root; [package.metadata.cross] in the workspace root's Cargo.toml, which the
// file overrides key by key (tables merge, arrays and scalars are replaced).
// When the file does not exist only Cargo.toml's metadata is used. 0.2.5 does
// not read [workspace.metadata.cross].
//
// Environment: CROSS_BUILD_ENV_PASSTHROUGH, CROSS_TARGET_<T>_ENV_PASSTHROUGH,
// CROSS_BUILD_ENV_VOLUMES, CROSS_TARGET_<T>_ENV_VOLUMES (whitespace-separated
// lists), CROSS_BUILD_TARGET and CARGO_BUILD_TARGET.
type Config struct {
	// Path is the configuration file that was read, "" when none.
	Path string
	toml crossTOML
	env  func(string) (string, bool)
}

// crossTOML is the decoded configuration (Cross.toml layout).
type crossTOML struct {
	Build   buildSection             `toml:"build"`
	Targets map[string]targetSection `toml:"target"`
}

type envSection struct {
	Volumes     []string `toml:"volumes"`
	Passthrough []string `toml:"passthrough"`
}

type buildSection struct {
	Env           envSection `toml:"env"`
	DefaultTarget string     `toml:"default-target"`
}

type targetSection struct {
	Env    envSection `toml:"env"`
	Runner string     `toml:"runner"`
}

// LoadConfig reads the configuration for the workspace whose root directory is
// root. lookup reads the host environment.
func LoadConfig(root string, lookup func(string) (string, bool)) (*Config, error) {
	c := &Config{env: lookup}
	path := filepath.Join(root, "Cross.toml")
	if v, ok := lookup("CROSS_CONFIG"); ok {
		path = v
	}
	cargoPath := filepath.Join(root, "Cargo.toml")
	cargoText, err := os.ReadFile(cargoPath)
	if err != nil {
		return nil, fmt.Errorf("failed to read Cargo.toml: %w", err)
	}
	var cargo map[string]any
	if err := toml.Unmarshal(cargoText, &cargo); err != nil {
		return nil, fmt.Errorf("parse %q: %w", cargoPath, err)
	}
	var meta map[string]any
	if pkg, ok := cargo["package"].(map[string]any); ok {
		if m, ok := pkg["metadata"].(map[string]any); ok {
			meta, _ = m["cross"].(map[string]any)
		}
	}

	merged := meta
	text, err := os.ReadFile(path)
	switch {
	case err == nil:
		var file map[string]any
		if err := toml.Unmarshal(text, &file); err != nil {
			return nil, fmt.Errorf("failed to parse file %q as TOML: %w", path, err)
		}
		if merged == nil {
			merged = map[string]any{}
		}
		mergeTables(merged, file)
		c.Path = path
	case errors.Is(err, os.ErrNotExist):
		if meta != nil {
			c.Path = cargoPath
		}
	default:
		return nil, fmt.Errorf("could not read file %q: %w", path, err)
	}
	if merged == nil {
		return c, nil
	}
	// Round-trip through TOML to decode the merged tree into typed fields,
	// rejecting wrongly typed values as cross does.
	buf, err := toml.Marshal(merged)
	if err != nil {
		return nil, fmt.Errorf("encode cross configuration: %w", err)
	}
	if err := toml.Unmarshal(buf, &c.toml); err != nil {
		return nil, fmt.Errorf("invalid cross configuration in %q: %w", c.Path, err)
	}
	return c, nil
}

// mergeTables merges src into dst; src wins, tables merge recursively.
func mergeTables(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeTables(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}

// envName is cross's variable naming: CROSS_ + upper-cased key, '-' → '_'.
func envName(key string) string {
	return "CROSS_" + strings.ReplaceAll(strings.ToUpper(key), "-", "_")
}

func (c *Config) envList(key string) ([]string, bool) {
	v, ok := c.env(envName(key))
	if !ok {
		return nil, false
	}
	return strings.Fields(v), true
}

func (c *Config) targetSection(target string) (targetSection, bool) {
	t, ok := c.toml.Targets[target]
	return t, ok
}

// Passthrough returns the [build.env] and [target.<target>.env] passthrough
// entries (NAME or NAME=value), summed as cross 0.2.5 does: when
// CROSS_BUILD_ENV_PASSTHROUGH is set it is used (plus the target variable
// when that is set too) and the file is ignored; otherwise the file's build
// list followed by its target list.
func (c *Config) Passthrough(target string) []string {
	if build, ok := c.envList("build_env_passthrough"); ok {
		if t, ok := c.envList("target_" + target + "_env_passthrough"); ok {
			build = append(build, t...)
		}
		return build
	}
	out := append([]string(nil), c.toml.Build.Env.Passthrough...)
	if t, ok := c.targetSection(target); ok {
		out = append(out, t.Env.Passthrough...)
	}
	return out
}

// Volumes returns the volume entries (variable names, or NAME=path) for
// target. Unlike passthrough they are not summed: the first defined of
// CROSS_TARGET_<T>_ENV_VOLUMES, [target.<T>.env] volumes,
// CROSS_BUILD_ENV_VOLUMES and [build.env] volumes wins.
func (c *Config) Volumes(target string) []string {
	if v, ok := c.envList("target_" + target + "_env_volumes"); ok {
		return v
	}
	if t, ok := c.targetSection(target); ok && t.Env.Volumes != nil {
		return t.Env.Volumes
	}
	if v, ok := c.envList("build_env_volumes"); ok {
		return v
	}
	return c.toml.Build.Env.Volumes
}

// Target is the build target from CROSS_BUILD_TARGET, CARGO_BUILD_TARGET or
// [build] default-target, "" when none is configured.
func (c *Config) Target() string {
	if v, ok := c.env("CROSS_BUILD_TARGET"); ok {
		return v
	}
	if v, ok := c.env("CARGO_BUILD_TARGET"); ok {
		return v
	}
	return c.toml.Build.DefaultTarget
}

// Runner is target.<target>.runner (or CROSS_TARGET_<T>_RUNNER), passed to
// the container as CROSS_RUNNER.
func (c *Config) Runner(target string) string {
	if v, ok := c.env(envName("target_" + target + "_runner")); ok {
		return v
	}
	t, _ := c.targetSection(target)
	return t.Runner
}
