package targets

import (
	"fmt"
	"os"

	"github.com/pelletier/go-toml/v2"
)

// Package is one [[package]] of a Cargo.lock.
type Package struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	Source  string `toml:"source"`
}

// Lock is what a Cargo.lock says about a workspace's packages.
type Lock struct {
	Packages []Package `toml:"package"`
}

// ReadLock parses the Cargo.lock at path.
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", path, err)
	}
	var l Lock
	if err := toml.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("could not parse %q: %w", path, err)
	}
	return &l, nil
}

// PathPackages returns the names of the packages without a source: the
// workspace members and path dependencies, which cargo fingerprints by the
// mtimes of their sources and which a carried target part therefore never
// holds.
func (l *Lock) PathPackages() map[string]bool {
	m := map[string]bool{}
	for _, p := range l.Packages {
		if p.Source == "" {
			m[p.Name] = true
		}
	}
	return m
}
