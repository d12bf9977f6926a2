// Package report renders the job summary that the save step writes to
// GITHUB_STEP_SUMMARY: what sccache was used, what the cache restored, what
// the builds hit and missed (on the runner and inside cross containers alike),
// and what was saved.
package report

import (
	"fmt"
	"strings"

	"github.com/org/rustcache-action/internal/ghcmd"
)

// Data is everything the summary shows. Zero values render as "—".
type Data struct {
	SccacheVersion string
	Target         string // host binary target
	Platform       string

	PrimaryKey    string
	MatchedKey    string
	Exact         bool
	RestoreSkip   string // why restore did not run
	RestoredBytes int64
	RestoreSecs   float64
	Protocol      string

	// Counts from the shared disk cache: every sccache server that used it,
	// including those inside containers. Distinct cache entries.
	Hits, Misses int
	// Unaccounted says why Hits and Misses are unknown (the snapshot restore
	// took could not be read); they are 0 then.
	Unaccounted string
	// Host server statistics (sccache --show-stats), when it ran.
	HostRequests, HostHits, HostMisses, HostNotCacheable int64
	HostStats                                            bool

	// Backend describes the remote cache backend ("" for none);
	// BackendFallback is why the builds did not use it. With an active
	// backend, Hits and Misses come from the servers' statistics (the
	// runner's and ContainerServers containers').
	Backend, BackendFallback string
	ContainerServers         int

	SizeBefore, SizeAfter int64
	Trimmed               int

	// The target part (cache-targets): what restore put back, what cargo
	// found fresh of it, and what this save carries.
	TargetsOn           bool
	TargetRestoredUnits int
	TargetRestoredBytes int64
	CratesUsed          int // dependency crates (library units) the build used
	CratesFresh         int // of those, restored and not rebuilt
	TargetUnits         int
	TargetBytes         int64
	TargetDropped       int // dependency units no longer used, left out
	TargetSkipped       int // symbolic links and unreadable fingerprints left out
	TargetNote          string
	CargoHomeOn         bool
	CargoHomeFiles      int
	CargoHomeBytes      int64

	SavedKey   string
	SavedBytes int64
	SaveSecs   float64
	SaveSkip   string // why nothing was uploaded
	SavedBy    string // the step that uploaded the entry, when not this program
	Pruned     int
	PruneNote  string
	CacheMode  string
	Warnings   []string
}

// HitRate is hits / (hits + misses) in percent, or -1 without compilations.
func (d *Data) HitRate() float64 {
	if d.Hits+d.Misses == 0 {
		return -1
	}
	return 100 * float64(d.Hits) / float64(d.Hits+d.Misses)
}

// Rate formats a hit rate.
func Rate(r float64) string {
	if r < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", r)
}

// Markdown renders the summary.
func (d *Data) Markdown() string {
	var b strings.Builder
	b.WriteString("### rustcache-action\n\n")
	fmt.Fprintf(&b, "%s\n\n", d.Headline())
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v == "" {
			v = "—"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", k, Cell(v))
	}
	row("sccache", strings.TrimSpace(d.SccacheVersion+" "+paren(d.Target)))
	row("Runner", d.Platform)
	row("Cache key", code(d.PrimaryKey))
	row("Restored from", d.restored())
	if d.RestoredBytes > 0 {
		row("Restore", fmt.Sprintf("%s in %.1f s", Bytes(d.RestoredBytes), d.RestoreSecs))
	}
	if d.Backend != "" {
		if d.BackendFallback != "" {
			row("Remote cache", d.Backend+": not used ("+d.BackendFallback+"); the local disk cache was used")
		} else {
			row("Remote cache", fmt.Sprintf("%s; hits and misses from %d container servers and the runner's", d.Backend, d.ContainerServers))
		}
	}
	if d.Unaccounted != "" {
		row("Compilations (all servers, incl. containers)", "unknown: "+d.Unaccounted)
	} else {
		row("Compilations (all servers, incl. containers)", fmt.Sprintf("%d", d.Hits+d.Misses))
		row("Cache hits", fmt.Sprintf("%d", d.Hits))
		row("Cache misses", fmt.Sprintf("%d", d.Misses))
		row("Hit rate", Rate(d.HitRate()))
	}
	if d.HostStats {
		row("Runner's sccache server", fmt.Sprintf("%d compile requests, %d hits, %d misses, %d not cacheable",
			d.HostRequests, d.HostHits, d.HostMisses, d.HostNotCacheable))
	}
	size := fmt.Sprintf("%s → %s", Bytes(d.SizeBefore), Bytes(d.SizeAfter))
	if d.Trimmed > 0 {
		size += fmt.Sprintf(" (%d least recently used entries trimmed)", d.Trimmed)
	}
	row("Cache size", size)
	if d.TargetsOn {
		row("Dependencies fresh from the target part", d.fresh())
		row("Target part", d.targetPart())
	}
	if d.CargoHomeOn {
		row("Cargo home part", fmt.Sprintf("%s, %d files (index cache, .crate files, git databases)", Bytes(d.CargoHomeBytes), d.CargoHomeFiles))
	}
	row("Saved", d.saved())
	if d.Pruned > 0 || d.PruneNote != "" {
		row("Pruned", strings.TrimSpace(fmt.Sprintf("%d older entries %s", d.Pruned, d.PruneNote)))
	}
	if d.Protocol != "" || d.CacheMode != "" {
		row("Cache service", strings.TrimSpace(d.Protocol+" "+paren(modeText(d.CacheMode))))
	}
	for _, w := range d.Warnings {
		row("⚠️ Warning", w)
	}
	b.WriteString("\n")
	return b.String()
}

// Headline is the one-line notice.
func (d *Data) Headline() string {
	if d.Unaccounted != "" {
		return fmt.Sprintf("sccache: hits and misses unknown · restore: %s · %s", d.restoreKind(), d.saved())
	}
	return fmt.Sprintf("sccache: %d hits, %d misses (%s hit rate) · restore: %s · %s",
		d.Hits, d.Misses, Rate(d.HitRate()), d.restoreKind(), d.saved())
}

func (d *Data) restoreKind() string {
	switch {
	case d.RestoreSkip != "":
		return "skipped"
	case d.MatchedKey == "":
		return "miss"
	case d.Exact:
		return "exact match"
	default:
		return "prefix match"
	}
}

func (d *Data) restored() string {
	switch {
	case d.RestoreSkip != "":
		return "skipped (" + d.RestoreSkip + ")"
	case d.MatchedKey == "":
		return "miss"
	case d.Exact:
		return "exact " + code(d.MatchedKey)
	default:
		return "prefix " + code(d.MatchedKey)
	}
}

func (d *Data) fresh() string {
	if d.TargetRestoredUnits == 0 {
		return fmt.Sprintf("none restored (%d dependency crates built)", d.CratesUsed)
	}
	return fmt.Sprintf("%d of %d dependency crates (%d units, %s restored)", d.CratesFresh, d.CratesUsed, d.TargetRestoredUnits, Bytes(d.TargetRestoredBytes))
}

func (d *Data) targetPart() string {
	if d.TargetNote != "" {
		return d.TargetNote
	}
	s := fmt.Sprintf("%s, %d units", Bytes(d.TargetBytes), d.TargetUnits)
	if d.TargetDropped > 0 {
		s += fmt.Sprintf(" (%d units the build no longer uses left out)", d.TargetDropped)
	}
	if d.TargetSkipped > 0 {
		s += fmt.Sprintf(" (%d symbolic links or unreadable fingerprints skipped)", d.TargetSkipped)
	}
	return s
}

func (d *Data) saved() string {
	if d.SaveSkip != "" {
		return "not saved: " + d.SaveSkip
	}
	if d.SavedKey == "" {
		return "not saved"
	}
	if d.SavedBy != "" {
		return fmt.Sprintf("handed to %s (%s)", d.SavedBy, Bytes(d.SizeAfter))
	}
	return fmt.Sprintf("uploaded %s in %.1f s", Bytes(d.SavedBytes), d.SaveSecs)
}

func modeText(m string) string {
	if m == "" {
		return ""
	}
	return "ACTIONS_CACHE_MODE=" + m
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func code(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// Cell makes text safe inside one cell of a markdown table: keys and
// messages come from the user, the cache service or the file system, so a
// line break (which would end the table), a "|" (which would end the cell)
// or an HTML tag (which the summary would render) is shown as text.
func Cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(ghcmd.Clean(s))
}

// Bytes formats a byte count with binary units.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
