package targets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
)

// Locate returns the target directory cargo uses for the workspace at ws (an
// absolute path), as cargo decides it: CARGO_TARGET_DIR, then
// CARGO_BUILD_TARGET_DIR, then build.target-dir of the nearest
// .cargo/config.toml (or .cargo/config) from ws up to the file-system root,
// then of $CARGO_HOME/config.toml, else ws/target. A relative value from the
// environment is relative to ws; one from a file, to the directory holding
// its .cargo directory (to CARGO_HOME for the file there).
func Locate(getenv func(string) string, ws string) (string, error) {
	for _, v := range []string{"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"} {
		if d := getenv(v); d != "" {
			return abs(ws, d), nil
		}
	}
	for d := ws; ; d = filepath.Dir(d) {
		for _, name := range []string{"config.toml", "config"} {
			td, ok, err := configTargetDir(filepath.Join(d, ".cargo", name))
			if err != nil {
				return "", err
			}
			if ok {
				return abs(d, td), nil
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	home := getenv("CARGO_HOME")
	if home == "" && getenv("HOME") != "" {
		home = filepath.Join(getenv("HOME"), ".cargo")
	}
	if home != "" {
		td, ok, err := configTargetDir(filepath.Join(home, "config.toml"))
		if err != nil {
			return "", err
		}
		if ok {
			return abs(home, td), nil
		}
	}
	return filepath.Join(ws, "target"), nil
}

// configTargetDir reads build.target-dir from a cargo configuration file; a
// missing file is not an error.
func configTargetDir(path string) (string, bool, error) {
	if fi, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
		return "", false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("could not read %q: %w", path, err)
	}
	var cfg struct {
		Build struct {
			TargetDir string `toml:"target-dir"`
		} `toml:"build"`
	}
	if err := toml.Unmarshal(b, &cfg); err != nil {
		return "", false, fmt.Errorf("could not parse %q: %w", path, err)
	}
	return cfg.Build.TargetDir, cfg.Build.TargetDir != "", nil
}

func abs(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}
