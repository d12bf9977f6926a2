package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// row is one line of the results table: a measured case and its runs.
type row struct {
	group string   // the benchmark, e.g. "1 warm/cold"
	name  string   // the case
	runs  []sample // one per run
	bytes int64    // payload of one run, for MB/s (0: not a transfer)
	ratio string   // comparison with another row, e.g. "c/a 0.18"
	goal  string   // the target and whether it was met
	note  string
}

// median returns the median of the runs' wall times (the mean of the two
// middle ones for an even count) and of their CPU times, computed apart.
func (r *row) median() (wall, cpu time.Duration) {
	if len(r.runs) == 0 {
		return 0, 0
	}
	w := make([]time.Duration, len(r.runs))
	c := make([]time.Duration, len(r.runs))
	for i, s := range r.runs {
		w[i], c[i] = s.wall, s.cpu
	}
	return medianOf(w), medianOf(c)
}

func medianOf(d []time.Duration) time.Duration {
	slices.Sort(d)
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// spread returns the fastest and slowest wall times.
func (r *row) spread() (lo, hi time.Duration) {
	for i, s := range r.runs {
		if i == 0 || s.wall < lo {
			lo = s.wall
		}
		if s.wall > hi {
			hi = s.wall
		}
	}
	return lo, hi
}

// mbps is the payload rate at the median wall time, in MB/s (10^6 bytes).
func (r *row) mbps() float64 {
	w, _ := r.median()
	if r.bytes <= 0 || w <= 0 {
		return 0
	}
	return float64(r.bytes) / 1e6 / w.Seconds()
}

// ratioOf is a's median wall time over b's, or 0 when either is missing.
func ratioOf(a, b *row) float64 {
	if a == nil || b == nil {
		return 0
	}
	wa, _ := a.median()
	wb, _ := b.median()
	if wa <= 0 || wb <= 0 {
		return 0
	}
	return wa.Seconds() / wb.Seconds()
}

// goalText states a target and whether value met it ("≤ 0.30 met").
func goalText(value float64, op string, target float64) string {
	met := false
	switch op {
	case "<=":
		met = value <= target
	case ">=":
		met = value >= target
	}
	verdict := "MISSED"
	if met {
		verdict = "met"
	}
	sym := map[string]string{"<=": "≤", ">=": "≥"}[op]
	return fmt.Sprintf("%s %s %s", sym, trimFloat(target), verdict)
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// table collects rows in the order they are measured.
type table struct {
	rows []*row
}

// add appends a row and returns it.
func (t *table) add(r *row) *row {
	t.rows = append(t.rows, r)
	return r
}

var tableHeader = []string{"benchmark", "case", "n", "median", "min–max", "MB/s", "cpu/wall", "ratio", "target", "note"}

// cells renders a row's columns.
func (r *row) cells() []string {
	w, c := r.median()
	lo, hi := r.spread()
	cols := []string{r.group, r.name, fmt.Sprint(len(r.runs)), "", "", "", "", r.ratio, r.goal, r.note}
	if len(r.runs) > 0 {
		cols[3] = seconds(w)
		cols[4] = seconds(lo) + "–" + seconds(hi)
		if r.bytes > 0 {
			cols[5] = fmt.Sprintf("%.0f", r.mbps())
		}
		if w > 0 {
			cols[6] = fmt.Sprintf("%.2f", c.Seconds()/w.Seconds())
		}
	}
	return cols
}

func seconds(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
}

// write prints the table with aligned columns, a rule between groups.
func (t *table) write(w io.Writer) {
	all := [][]string{tableHeader}
	for _, r := range t.rows {
		all = append(all, r.cells())
	}
	width := make([]int, len(tableHeader))
	for _, cols := range all {
		for i, c := range cols {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cols []string) {
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := width[i] - len([]rune(c))
			// Numbers right-aligned, text left-aligned.
			if i >= 2 && i <= 6 {
				b.WriteString(strings.Repeat(" ", pad) + c)
			} else {
				b.WriteString(c + strings.Repeat(" ", pad))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	rule := func() {
		total := 2 * (len(width) - 1)
		for _, n := range width {
			total += n
		}
		fmt.Fprintln(w, strings.Repeat("-", total))
	}
	line(tableHeader)
	prev := ""
	for i, r := range t.rows {
		if r.group != prev {
			rule()
			prev = r.group
		}
		line(all[i+1])
	}
}
