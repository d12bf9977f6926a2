package job

import (
	"path/filepath"

	"github.com/org/rustcache-action/internal/targets"
)

// Directories under the root that hold the parts of an entry besides the
// sccache cache directory, between the archive and their real places.
const (
	// TargetsDir holds the target part: one numbered directory per target
	// directory and targets.ManifestFile naming them.
	TargetsDir = "targets"
	// CargoHomeDir holds the carried part of cargo home.
	CargoHomeDir = "cargo-home"
)

// DefaultCacheTargets is the default of the cache-targets input: carrying
// the target part makes a warm build of the workload several times faster
// than sccache alone (README, "Performance").
const DefaultCacheTargets = true

// VersionPaths stand for [Job.EntryDirs] in the cache version, in the same
// order: [VersionPath], then a fixed name for each staged part, so an entry
// carrying the target part never matches a job that does not expect one, and
// the root's path plays no part.
func (j *Job) VersionPaths() []string {
	paths := []string{VersionPath}
	if j.State.CacheTargets {
		paths = append(paths, "rustcache-action/"+TargetsDir)
	}
	if j.State.CacheCargoHome {
		paths = append(paths, "rustcache-action/"+CargoHomeDir)
	}
	if j.State.RemoteOnly() {
		// Its sccache directory is empty: an entry never mixes with those
		// of jobs that keep their sccache entries in it.
		paths = append(paths, "rustcache-action/sccache-in-remote-store")
	}
	return paths
}

// EntryDirs returns the directories a cache entry of this job carries, in
// archive order: the sccache cache directory; then, when the target part is
// on, <root>/targets; then, when cargo home is on, <root>/cargo-home. All of
// them are directories under the root, so the same entry can be carried by
// GitHub's actions/cache given these paths (one per line, in this order).
// Save fills <root>/targets and <root>/cargo-home before the upload and
// leaves them in place afterwards; restore empties them into the target
// directories and cargo home after the download. (The cache version is computed over [Job.VersionPaths],
// fixed names standing for these paths.)
func (j *Job) EntryDirs() []string {
	dirs := []string{j.CacheDir()}
	if j.State.CacheTargets {
		dirs = append(dirs, filepath.Join(j.Root, TargetsDir))
	}
	if j.State.CacheCargoHome {
		dirs = append(dirs, filepath.Join(j.Root, CargoHomeDir))
	}
	return dirs
}

// CargoHome is the cargo home of the job's builds: CARGO_HOME, else
// $HOME/.cargo ("" when neither is known).
func (j *Job) CargoHome() string {
	if h := j.Env.Getenv("CARGO_HOME"); h != "" {
		return h
	}
	if h := j.Env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".cargo")
	}
	return ""
}

// TargetDir is a target directory and the workspaces that build into it.
type TargetDir struct {
	Dir        string
	Workspaces []string
}

// TargetDirs returns the target directory of each working directory (see
// targets.Locate), each once with every workspace using it. A cargo
// configuration that cannot be read is a notice and leaves that workspace
// out.
func (j *Job) TargetDirs(workDirs []string) []TargetDir {
	var out []TargetDir
	index := map[string]int{}
	for _, wd := range workDirs {
		d, err := targets.Locate(j.Env.Getenv, wd)
		if err != nil {
			j.Notice("target part of %s not carried: %v", wd, err)
			continue
		}
		i, ok := index[d]
		if !ok {
			i = len(out)
			index[d] = i
			out = append(out, TargetDir{Dir: d})
		}
		out[i].Workspaces = append(out[i].Workspaces, wd)
	}
	return out
}
