package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/rustcache-action/internal/archive"
	"github.com/org/rustcache-action/internal/inputs"
	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/runenv"
	"github.com/org/rustcache-action/internal/state"
)

// NestedStep is the step that moves the entry on the actions/cache route.
const NestedStep = "actions/cache/restore"

// The variables the action files give restore-finish: the nested step's
// cache-matched-key output and its outcome.
const (
	MatchedKeyVar = "RUSTCACHE_MATCHED_KEY"
	OutcomeVar    = "RUSTCACHE_NESTED_OUTCOME"
)

// handOff records the keys and writes them, with the entry's paths, as the
// outputs the nested actions/cache/restore step takes: handoff, key,
// restore-keys and path. restore-finish completes the restore after it.
func handOff(j *job.Job, rs *state.Restore) error {
	rs.Handoff, rs.Protocol = NestedStep, "actions/cache"
	if err := state.Save(j.Root, j.State); err != nil {
		return fmt.Errorf("record restore state: %w", err)
	}
	return j.HandOff(NestedStep, rs.PrimaryKey, map[string]string{"restore-keys": strings.Join(rs.RestoreKeys, "\n")})
}

// Finish completes a restore handed to actions/cache/restore: it checks what
// the nested step extracted, records the matched key and takes the snapshot
// save compares against.
func Finish(ctx context.Context, e *runenv.Env) error {
	r := inputs.NewReader(e.Input)
	j, err := job.Open(e, r)
	if err != nil {
		return err
	}
	ki := job.ReadKeyInputs(e, r)
	if err := r.Err(); err != nil {
		return err
	}
	rs := j.State.Restore
	if rs == nil || rs.Handoff == "" {
		return fmt.Errorf("no restore handed to %s under %q: run the restore step first, with the same cache-root", NestedStep, j.Root)
	}
	matched := strings.TrimSpace(e.Getenv(MatchedKeyVar))
	switch outcome := strings.TrimSpace(e.Getenv(OutcomeVar)); {
	case outcome != "success":
		// It may have stopped half-way through extracting.
		rs.Warning = NestedStep + " ended with " + outcome
		err := errors.New(rs.Warning)
		if cerr := empty(j.EntryDirs()); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if err := j.Fault("cache restore failed", err); err != nil {
			return err
		}
	case matched != "":
		maxEntries, maxBytes := 0, int64(0)
		if size := j.State.CacheSize; size > 0 {
			// The bounds the program's own extractor applies (see stream).
			maxEntries, maxBytes = job.MaxEntries(size), 4*size+1<<30
		}
		files, bytes, err := check(j.EntryDirs(), maxEntries, maxBytes)
		if err != nil {
			rs.Warning = j.Redact(err.Error())
			if err := j.Fault("cache entry "+matched+" rejected", err); err != nil {
				return err
			}
			break
		}
		rs.MatchedKey, rs.Exact, rs.Files, rs.Bytes = matched, matched == rs.PrimaryKey, files, bytes
		e.Log().Printf("restored %s: %d files", matched, files)
		putBack(j, rs, ki.WorkingDirs)
	default:
		e.Log().Printf("cache miss for %s", rs.PrimaryKey)
	}
	rs.Seconds = e.Now().Sub(rs.At).Seconds()
	return finish(j, rs)
}

// check holds what actions/cache extracted to the rules the program's own
// extractor applies: only regular files and directories, at most maxEntries
// of them and maxBytes in all. A directory that breaks them is emptied, so the
// build starts from an empty cache rather than a planted one.
func check(dirs []string, maxEntries int, maxBytes int64) (files int, bytes int64, err error) {
	entries := 0
	for _, dir := range dirs {
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				if p == dir && errors.Is(err, fs.ErrNotExist) {
					return filepath.SkipAll
				}
				return err
			case !d.Type().IsRegular() && !d.IsDir():
				return fmt.Errorf("%w: %q is not a regular file or directory", archive.ErrUnsafe, p)
			}
			if entries++; maxEntries > 0 && entries > maxEntries {
				return fmt.Errorf("%w: more than %d entries", archive.ErrUnsafe, maxEntries)
			}
			if d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			files, bytes = files+1, bytes+info.Size()
			if maxBytes > 0 && bytes > maxBytes {
				return fmt.Errorf("%w: more than %d bytes", archive.ErrUnsafe, maxBytes)
			}
			return nil
		})
		if err != nil {
			break
		}
	}
	if err == nil {
		return files, bytes, nil
	}
	if eerr := empty(dirs); eerr != nil {
		return 0, 0, errors.Join(err, eerr)
	}
	return 0, 0, err
}

// empty leaves each directory empty.
func empty(dirs []string) error {
	for _, dir := range dirs {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("could not empty %q: %w", dir, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("could not recreate %q: %w", dir, err)
		}
	}
	return nil
}
