// Package inputs validates the action's inputs up front, so a misconfiguration is
// reported once, naming the input and the fix, before anything is written.
//
// Each kind of input has one rule here, used by every step that reads it
// (setup, restore, save) and by every package that checks the same kind of
// value later (release checks a version tag with ParseVersion, setup
// normalises a size from the environment with NormalizeSize). Every value
// that names something — paths, URLs, keys, targets — is refused when it
// holds a control character (a line break, NUL, …): such a value could only
// break a file command, a log line or a file name. The error messages are
// pinned by the golden files under testdata/errors.
package inputs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/org/rustcache-action/internal/ghcmd"
)

// Error is a bad input value. Its message names the input, the value and what
// is accepted.
type Error struct {
	Input string
	Value string
	Want  string
	// Kind, when set, is a sentinel error the caller tells apart with
	// errors.Is.
	Kind error
}

func (e *Error) Error() string {
	return fmt.Sprintf("input %s: invalid value %q: %s", e.Input, e.Value, e.Want)
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// NoControl is what an input holding a control character is told.
const NoControl = "expected a value without control characters (line breaks, tabs inside a line, NUL)"

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

// String returns the trimmed input or def when empty. A value with a
// control character is refused (def is returned).
func (r *Reader) String(name, def string) string {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	if ghcmd.HasControl(v) {
		r.fail(name, v, NoControl)
		return def
	}
	return v
}

// Secret returns a credential input, trimmed and otherwise as given: it is
// never checked, so that it never appears in an error. Register it with
// the step's log (ghcmd.Log.Mask) before anything else is printed.
func (r *Reader) Secret(name string) string { return strings.TrimSpace(r.get(name)) }

// AbsPath returns a path input that must be absolute (def when empty; def
// is checked too, since it comes from the environment).
func (r *Reader) AbsPath(name, def string) string {
	v := r.String(name, def)
	if v == "" {
		return ""
	}
	if ghcmd.HasControl(v) {
		r.fail(name, v, NoControl)
		return ""
	}
	if !filepath.IsAbs(v) {
		r.fail(name, v, "expected an absolute path")
		return ""
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
	r.fail(name, v, OneOfWant(allowed))
	return def
}

// OneOfWant is what a value outside a fixed set is told.
func OneOfWant(allowed []string) string { return "expected one of " + strings.Join(allowed, ", ") }

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
			switch p = strings.TrimSpace(p); {
			case p == "":
			case ghcmd.HasControl(p):
				r.fail(name, p, NoControl)
			default:
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// Size parses a cache size (see NormalizeSize); empty gives def.
func (r *Reader) Size(name, def string) (string, int64) {
	raw := strings.TrimSpace(r.get(name))
	if raw == "" {
		raw = def
	}
	text, n, err := NormalizeSize(raw)
	if err != nil {
		r.fail(name, raw, SizeWant)
		text, n, _ = NormalizeSize(def)
	}
	return text, n
}

// Version reads a sccache-version input: "latest" or a release tag (see
// ParseVersion), normalised to the v-prefixed tag; empty gives def, which is
// also the example the error shows.
func (r *Reader) Version(name, def string) string {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	if strings.EqualFold(v, Latest) {
		return Latest
	}
	ver, err := ParseVersion(v)
	if err != nil {
		r.fail(name, v, VersionWant(def))
		return def
	}
	return ver.String()
}

// keyPreview is how many characters of an over-long key an error shows.
const keyPreview = 32

// Key validates a cache-key component: no control characters, no commas
// (the cache service splits on them) and at most max characters (not bytes).
func (r *Reader) Key(name string, max int) string {
	v := strings.TrimSpace(r.get(name))
	switch n := utf8.RuneCountInString(v); {
	case ghcmd.HasControl(v):
		r.fail(name, v, "a cache key may not span lines or hold control characters")
	case strings.Contains(v, ","):
		r.fail(name, v, "a cache key may not contain commas")
	case n > max:
		r.fail(name, preview(v, keyPreview), fmt.Sprintf("a cache key component may be at most %d characters (got %d)", max, n))
	default:
		return v
	}
	return ""
}

// preview is the first n characters of s, marked as cut.
func preview(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// Check records a custom validation failure.
func (r *Reader) Check(ok bool, name, value, want string) {
	if !ok {
		r.fail(name, value, want)
	}
}
