package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func runs(walls ...time.Duration) []sample {
	var s []sample
	for _, w := range walls {
		s = append(s, sample{wall: w, cpu: w / 2})
	}
	return s
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name  string
		walls []time.Duration
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one", []time.Duration{5}, 5},
		{"odd", []time.Duration{9, 1, 5}, 5},
		{"even", []time.Duration{4, 1, 10, 6}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &row{runs: runs(tc.walls...)}
			w, c := r.median()
			if w != tc.want || c != tc.want/2 {
				t.Errorf("median = %v, %v; want %v, %v", w, c, tc.want, tc.want/2)
			}
		})
	}
}

func TestRatesAndGoals(t *testing.T) {
	r := &row{runs: runs(2*time.Second, 4*time.Second, 3*time.Second), bytes: 300e6}
	if got := r.mbps(); got != 100 {
		t.Errorf("mbps = %v, want 100", got)
	}
	base := &row{runs: runs(10 * time.Second)}
	if got := ratioOf(r, base); got != 0.3 {
		t.Errorf("ratioOf = %v, want 0.3", got)
	}
	if got := ratioOf(r, nil); got != 0 {
		t.Errorf("ratioOf(nil) = %v, want 0", got)
	}
	for _, tc := range []struct {
		v      float64
		op     string
		target float64
		want   string
	}{
		{0.25, "<=", 0.30, "≤ 0.3 met"},
		{0.31, "<=", 0.30, "≤ 0.3 MISSED"},
		{2.5, ">=", 2, "≥ 2 met"},
		{1.9, ">=", 2, "≥ 2 MISSED"},
	} {
		if got := goalText(tc.v, tc.op, tc.target); got != tc.want {
			t.Errorf("goalText(%v, %q, %v) = %q, want %q", tc.v, tc.op, tc.target, got, tc.want)
		}
	}
}

func TestTableGolden(t *testing.T) {
	var tb table
	tb.add(&row{group: "1 warm/cold", name: "(a) cold", runs: runs(40*time.Second, 42*time.Second, 41*time.Second), note: "plain cargo"})
	tb.add(&row{group: "1 warm/cold", name: "(c) warm", runs: runs(8 * time.Second), ratio: "c/a 0.20", goal: "≤ 0.3 met"})
	tb.add(&row{group: "2 transport", name: "v1 save", runs: runs(500*time.Millisecond, 5*time.Millisecond), bytes: 100e6})
	tb.add(&row{group: "2 transport", name: "skipped", note: "no azurite"})
	var buf bytes.Buffer
	tb.write(&buf)
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("table differs from %s (-want +got):\n%s", golden, d)
	}
}

func TestLinearity(t *testing.T) {
	for _, tc := range []struct {
		name        string
		bytes, secs []float64
		want        string
	}{
		{"straight", []float64{50e6, 200e6, 1000e6}, []float64{0.6, 1.2, 4.4}, "linear: 0.40s + bytes at 250 MB/s (off by ≤ 0% of the longest)"},
		{"bent", []float64{50e6, 200e6, 1000e6}, []float64{0.3, 1.0, 20}, "NOT linear"},
		{"one size", []float64{50e6}, []float64{1}, "too few sizes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := linearity(tc.bytes, tc.secs)
			if len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
				t.Errorf("linearity = %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestCacheSizeFor(t *testing.T) {
	for files, want := range map[int]string{100: "", 32000: "", 100_000: "7G"} {
		if got := cacheSizeFor(files); got != want {
			t.Errorf("cacheSizeFor(%d) = %q, want %q", files, got, want)
		}
	}
}
