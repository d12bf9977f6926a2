// Package inputs validates the action's inputs up front, so a misconfiguration is
// reported once, naming the input and the fix, before anything is written.
package inputs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Error is a bad input value. Its message names the input, the value and what
// is accepted.
type Error struct {
	Input string
	Value string
	Want  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("input %s: invalid value %q: %s", e.Input, e.Value, e.Want)
}

// Getter reads a raw input value ("" when unset).
type Getter func(name string) string

// Reader reads inputs and collects every validation error, so one run reports
// all of them.
type Reader struct {
	get  Getter
	errs []error
}

// NewReader returns a Reader over get.
func NewReader(get Getter) *Reader { return &Reader{get: get} }

// Err returns every validation error joined, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

func (r *Reader) fail(name, value, want string) {
	r.errs = append(r.errs, &Error{Input: name, Value: value, Want: want})
}

// String returns the trimmed input or def when empty.
func (r *Reader) String(name, def string) string {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	return v
}

// Bool parses a YAML 1.2 core-schema boolean (true/True/TRUE/false/False/FALSE),
// as the toolkit's getBooleanInput does.
func (r *Reader) Bool(name string, def bool) bool {
	v := strings.TrimSpace(r.get(name))
	switch v {
	case "":
		return def
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	r.fail(name, v, "expected true or false")
	return def
}

// OneOf returns the input when it is one of allowed (case-insensitive), else def
// and an error.
func (r *Reader) OneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(strings.TrimSpace(r.get(name)))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, v, "expected one of "+strings.Join(allowed, ", "))
	return def
}

// Int parses a non-negative integer within [min, max].
func (r *Reader) Int(name string, def, min, max int) int {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.fail(name, v, fmt.Sprintf("expected a whole number from %d to %d", min, max))
		return def
	}
	return n
}

// Lines splits a multi-line input into trimmed, non-empty lines (commas also
// separate items when splitComma is set).
func (r *Reader) Lines(name string, def []string, splitComma bool) []string {
	raw := r.get(name)
	var out []string
	for _, line := range strings.Split(raw, "\n") {
		parts := []string{line}
		if splitComma {
			parts = strings.Split(line, ",")
		}
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

var sizeRE = regexp.MustCompile(`^([0-9]+)([KMGT]?)$`)

// Size parses a cache size as sccache's SCCACHE_CACHE_SIZE accepts it: a whole
// number with an optional K, M, G or T suffix (powers of 1024). It returns the
// normalised text (for SCCACHE_CACHE_SIZE) and the size in bytes.
func (r *Reader) Size(name, def string) (string, int64) {
	raw := strings.TrimSpace(r.get(name))
	v := strings.ToUpper(raw)
	if v == "" {
		v = def
	}
	v = strings.TrimSuffix(strings.TrimSuffix(v, "IB"), "B")
	n, err := ParseSize(v)
	if err != nil || n == 0 {
		r.fail(name, raw, "expected a size such as 500M, 2G or 10G (a whole number with an optional K, M, G or T suffix, above zero)")
		n, _ = ParseSize(def)
		return def, n
	}
	return v, n
}

// ParseSize converts "500M"-style text into bytes.
func ParseSize(v string) (int64, error) {
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("size %q: want digits with an optional K, M, G or T suffix", v)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", v, err)
	}
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q: too large", v)
	}
	return n << shift, nil
}

var versionRE = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?$`)

// Version accepts "latest" or a release version such as v0.10.0 or 0.10.0
// (normalised to the v-prefixed tag); empty gives def.
func (r *Reader) Version(name, def string) string {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	if strings.EqualFold(v, "latest") {
		return "latest"
	}
	if !versionRE.MatchString(v) {
		r.fail(name, v, "expected latest or a release tag such as v0.10.0")
		return def
	}
	return "v" + strings.TrimPrefix(v, "v")
}

// Key validates a cache-key component: no commas (the cache service splits on
// them) and at most max characters.
func (r *Reader) Key(name string, max int) string {
	v := strings.TrimSpace(r.get(name))
	switch {
	case strings.Contains(v, ","):
		r.fail(name, v, "a cache key may not contain commas")
		return ""
	case len(v) > max:
		r.fail(name, v[:32]+"…", fmt.Sprintf("a cache key component may be at most %d characters (got %d)", max, len(v)))
		return ""
	case strings.ContainsAny(v, "\n\r"):
		r.fail(name, v, "a cache key may not span lines")
		return ""
	}
	return v
}

// Check records a custom validation failure.
func (r *Reader) Check(ok bool, name, value, want string) {
	if !ok {
		r.fail(name, value, want)
	}
}
