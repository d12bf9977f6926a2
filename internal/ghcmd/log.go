// Package ghcmd is the program's one door to the runner: every workflow
// command it prints (::error, ::warning, ::notice, ::add-mask::, ::group::)
// goes through a Log, and every file command it writes (GITHUB_ENV,
// GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY) through the functions of
// filecmd.go.
//
// A Log redacts the secrets registered with Mask from everything it prints,
// before any shortening, escapes messages and properties the way the runner
// unescapes them, and keeps plain log lines from being read as commands. The
// file-command writer frames every value between a random delimiter, as the
// official toolkit does, and refuses a value holding it, a name that is not
// one, and a PATH entry spanning lines.
//
// Workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
package ghcmd

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Title is the annotation title used when an Annotation names none.
const Title = "rustcache-action"

// MaxMessage bounds an annotation's message, in bytes after redaction. The
// runner keeps annotations short; a service's page of HTML is not useful.
const MaxMessage = 4096

// Level is the kind of an annotation.
type Level string

// The annotation levels.
const (
	Error   Level = "error"
	Warning Level = "warning"
	Notice  Level = "notice"
)

// Annotation is where an annotation points and what it is called. The zero
// value points nowhere and has the default Title.
type Annotation struct {
	Title string
	File  string
	Line  int
	Col   int
}

// Log prints workflow commands and log lines to a step's standard output.
// It is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string // every masked value and each of its lines, longest first
}

// New returns a Log writing to w.
func New(w io.Writer) *Log { return &Log{w: w} }

// Mask registers a secret: the runner is told to hide each of its lines
// (it masks the log line by line, so a multi-line value registered whole
// would show), and Redact removes it from everything printed or recorded
// afterwards. Surrounding white space is ignored; empty values and values
// already registered are skipped.
func (l *Log) Mask(secret string) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.Contains(l.secrets, secret) {
		return
	}
	parts := []string{secret}
	for _, line := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if line = strings.TrimSpace(line); line != "" && !slices.Contains(parts, line) {
			parts = append(parts, line)
		}
	}
	for _, p := range parts {
		if !slices.Contains(l.secrets, p) {
			l.secrets = append(l.secrets, p)
		}
		if p != secret || len(parts) == 1 {
			fmt.Fprintf(l.w, "::add-mask::%s\n", escapeData(p))
		}
	}
	// Longest first, so a line of a secret never leaves the rest of a
	// longer one standing.
	slices.SortStableFunc(l.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Redact replaces every registered secret (and every line of one) in s
// with "***".
func (l *Log) Redact(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.redact(s)
}

func (l *Log) redact(s string) string {
	for _, secret := range l.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// Annotate prints one annotation: msg redacted, then cut to MaxMessage,
// then escaped; properties redacted and escaped.
func (l *Log) Annotate(level Level, a Annotation, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	title := a.Title
	if title == "" {
		title = Title
	}
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(l.redact(a.File)))
	}
	if a.Line > 0 {
		props = append(props, "line="+strconv.Itoa(a.Line))
	}
	if a.Col > 0 {
		props = append(props, "col="+strconv.Itoa(a.Col))
	}
	props = append(props, "title="+escapeProperty(l.redact(title)))
	fmt.Fprintf(l.w, "::%s %s::%s\n", level, strings.Join(props, ","), escapeData(Cut(l.redact(msg), MaxMessage)))
}

// Errorf prints an error annotation with the default title.
func (l *Log) Errorf(format string, args ...any) {
	l.Annotate(Error, Annotation{}, fmt.Sprintf(format, args...))
}

// Warningf prints a warning annotation with the default title.
func (l *Log) Warningf(format string, args ...any) {
	l.Annotate(Warning, Annotation{}, fmt.Sprintf(format, args...))
}

// Noticef prints a notice annotation with the default title.
func (l *Log) Noticef(format string, args ...any) {
	l.Annotate(Notice, Annotation{}, fmt.Sprintf(format, args...))
}

// Group starts a collapsible group of log lines; EndGroup ends it.
func (l *Log) Group(title string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "::group::%s\n", escapeData(l.redact(title)))
}

// EndGroup ends the group Group started.
func (l *Log) EndGroup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprint(l.w, "::endgroup::\n")
}

// Printf prints one plain log line (a final newline is added). The text is
// redacted, its control characters are shown escaped (\n, \x1b), so that
// text from a service or a file can neither start a line of its own nor
// become a workflow command: a line starting with "::" or holding "##[" is
// defused.
func (l *Log) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s\n", Line(l.redact(fmt.Sprintf(format, args...))))
}

// Line makes s safe to print as one plain log line: control characters are
// shown escaped, a leading "::" (which the runner reads as a workflow
// command, after leading white space) becomes ": :", and "##[" (the older
// command syntax, found anywhere in a line) becomes "## [".
func Line(s string) string {
	s = Clean(strings.TrimSuffix(s, "\n"))
	s = strings.ReplaceAll(s, "##[", "## [")
	if t := strings.TrimLeft(s, " \t"); strings.HasPrefix(t, "::") {
		s = s[:len(s)-len(t)] + ": :" + t[2:]
	}
	return s
}

// Clean shows the control characters of s (see HasControl) as escapes —
// \n, \r, \t, \x00, \u2028 — and invalid UTF-8 bytes as \xNN; everything
// else is left as it is.
func Clean(s string) string {
	if !HasControl(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case isControl(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// HasControl reports whether s holds a control character (C0 such as \n,
// \r, NUL; DEL; C1), a Unicode line or paragraph separator, or invalid
// UTF-8: what must not reach a file command, a workflow command or a log
// line unescaped.
func HasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, isControl) >= 0
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// Cut shortens s to at most n bytes without splitting a character, marking
// the cut with "…". Redact before cutting: a secret cut in two is no longer
// recognised.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !isRuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// escapeData encodes a command's message as the runner decodes it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty encodes a command's property value (file=, title=) as the
// runner decodes it: a comma or colon would end the property.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
