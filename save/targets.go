package save

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/org/rustcache-action/internal/job"
	"github.com/org/rustcache-action/internal/report"
	"github.com/org/rustcache-action/internal/targets"
)

// targetPart is what the entry carries of the target directories.
type targetPart struct {
	sels    []*targets.Selection
	home    *targets.Selection // cargo home, when carried
	bytes   int64
	files   int
	changed bool // differs from what restore put back
}

// selectTargets chooses the target part of every workspace's target
// directory and fills the report's target rows. Problems with one directory
// are notices and leave it out: its dependencies are built again next time.
func selectTargets(j *job.Job, workDirs []string, d *report.Data) *targetPart {
	p := &targetPart{}
	var since time.Time
	restored := map[string]map[string]bool{}
	if rs := j.State.Restore; rs != nil {
		since = rs.At
		for _, t := range rs.Targets {
			m := map[string]bool{}
			for _, u := range t.Units {
				m[u] = true
			}
			restored[t.Dir] = m
			d.TargetRestoredBytes += t.Bytes
			d.TargetRestoredUnits += len(t.Units)
		}
	}
	d.TargetsOn = true
	for _, td := range j.TargetDirs(workDirs) {
		pathPkgs, err := pathPackages(td.Workspaces)
		if err != nil {
			j.Notice("target part of %s not carried: %v", td.Dir, err)
			continue
		}
		sel, err := targets.Select(td.Dir, targets.Options{PathPackages: pathPkgs, Since: since})
		if err != nil {
			what := "could not be read"
			if errors.Is(err, targets.ErrSymlink) {
				what = "refused"
			}
			j.Notice("target part of %s %s, not carried: %v", td.Dir, what, err)
			continue
		}
		for _, s := range sel.Skipped {
			j.Env.Log().Printf("target part: %s: %s", td.Dir, s)
		}
		d.TargetSkipped += len(sel.Skipped)
		d.TargetDropped += sel.Dropped
		before := restored[td.Dir]
		if len(before) != len(sel.Units) {
			p.changed = true
		}
		for _, u := range sel.Units {
			rebuilt := since.IsZero() || !u.ModTime.Before(since)
			if rebuilt || !before[u.ID] {
				p.changed = true
			}
			if u.Lib {
				d.CratesUsed++
				if !rebuilt && before[u.ID] {
					d.CratesFresh++
				}
			}
		}
		p.sels = append(p.sels, sel)
		p.bytes += sel.Bytes
		p.files += len(sel.Files)
	}
	return p
}

// pathPackages joins the path packages of the workspaces' Cargo.lock files.
func pathPackages(workspaces []string) (map[string]bool, error) {
	all := map[string]bool{}
	for _, ws := range workspaces {
		lock, err := targets.ReadLock(filepath.Join(ws, "Cargo.lock"))
		if err != nil {
			return nil, err
		}
		for name := range lock.PathPackages() {
			all[name] = true
		}
	}
	return all, nil
}

// fit applies the trim policy: the target part counts first against
// cache-size, and is left out whole when it alone does not fit; the sccache
// directory gets what remains. It returns the sccache directory's limit.
func (p *targetPart) fit(j *job.Job, cacheSize int64, d *report.Data) int64 {
	if cacheSize <= 0 || p.bytes <= cacheSize {
		d.TargetBytes, d.TargetUnits = p.bytes, p.units()
		if p.home != nil {
			d.TargetBytes -= p.home.Bytes
		}
		return cacheSize - p.bytes
	}
	j.Notice("the target part and cargo home (%s) are larger than cache-size (%s): not saved; raise cache-size to carry them", report.Bytes(p.bytes), report.Bytes(cacheSize))
	d.CargoHomeBytes, d.CargoHomeFiles = 0, 0
	d.TargetNote = "larger than cache-size, not saved"
	p.sels, p.home, p.bytes, p.files = nil, nil, 0, 0
	return cacheSize
}

func (p *targetPart) units() int {
	n := 0
	for _, s := range p.sels {
		n += len(s.Units)
	}
	return n
}

// stage writes the target part and cargo home, as far as the entry carries
// them, under the root for the archive.
func (p *targetPart) stage(j *job.Job) error {
	if j.State.CacheTargets {
		if err := targets.Stage(filepath.Join(j.Root, job.TargetsDir), j.Workspace(), p.sels); err != nil {
			return err
		}
	}
	if j.State.CacheCargoHome {
		var homes []*targets.Selection
		if p.home != nil {
			homes = append(homes, p.home)
		}
		return targets.Stage(filepath.Join(j.Root, job.CargoHomeDir), j.Workspace(), homes)
	}
	return nil
}

// selectCargoHome chooses what of cargo home the entry carries for the
// workspaces' Cargo.lock files.
func (p *targetPart) selectCargoHome(j *job.Job, workDirs []string, d *report.Data) {
	home := j.CargoHome()
	var locks []*targets.Lock
	for _, wd := range workDirs {
		if l, err := targets.ReadLock(filepath.Join(wd, "Cargo.lock")); err == nil {
			locks = append(locks, l)
		}
	}
	if home == "" || len(locks) == 0 {
		j.Notice("cargo home not carried: %s", map[bool]string{true: "neither CARGO_HOME nor HOME is set", false: "no Cargo.lock in working-directory"}[home == ""])
		return
	}
	sel, err := targets.SelectCargoHome(home, locks)
	if err != nil {
		j.Notice("cargo home not carried: %v", err)
		return
	}
	restored, since := 0, time.Time{}
	if rs := j.State.Restore; rs != nil {
		restored, since = rs.CargoHomeFiles, rs.At
	}
	if len(sel.Files) != restored || since.IsZero() || !sel.Newest.Before(since) {
		p.changed = p.changed || len(sel.Files) > 0
	}
	p.home = sel
	p.bytes += sel.Bytes
	p.files += len(sel.Files)
	d.CargoHomeOn, d.CargoHomeBytes, d.CargoHomeFiles = true, sel.Bytes, len(sel.Files)
}

// stagedEntries counts the archive entries of the staged target part.
func (p *targetPart) stagedEntries() int {
	var names []string
	for i, s := range p.sels {
		for _, f := range s.Files {
			names = append(names, fmt.Sprintf("%d/%s", i, f))
		}
	}
	if p.home != nil {
		for _, f := range p.home.Files {
			names = append(names, "home/"+f)
		}
	}
	return job.ArchiveEntries(append(names, targets.ManifestFile))
}
