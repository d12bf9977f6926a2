package ghcmd

import (
	"fmt"
	"strings"
)

// Pair is one name and value read from a file command file.
type Pair struct{ Name, Value string }

// Parse reads a GITHUB_ENV or GITHUB_OUTPUT file the way the runner does
// (actions/runner, SetEnvFileCommand in src/Runner.Worker/FileCommandManager.cs):
// lines end at \n (and at \r\n when crlf is set, as on Windows runners);
// empty lines are skipped; a line whose first "=" comes before any "<<" is
// NAME=VALUE; a line whose "<<" comes first is NAME<<DELIMITER, and the value
// is every line up to the first line equal to DELIMITER. Tests use it to see
// exactly what names a later step would get. The pairs come in file order; a
// name may repeat (the last one wins in the runner).
func Parse(text string, crlf bool) ([]Pair, error) {
	var out []Pair
	i := 0
	for {
		line, _, ok := readLine(text, &i, crlf)
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			out = append(out, Pair{line[:eq], line[eq+1:]})
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return out, fmt.Errorf("invalid format %q: empty name or delimiter", line)
			}
			start, end := i, i
			for {
				l, nl, ok := readLine(text, &i, crlf)
				if !ok {
					return out, fmt.Errorf("matching delimiter %q not found", delim)
				}
				if l == delim {
					break
				}
				end = i - len(nl)
			}
			out = append(out, Pair{name, text[start:end]})
		default:
			return out, fmt.Errorf("invalid format %q", line)
		}
	}
}

// readLine returns the line starting at *i and its terminator, and moves *i
// past both.
func readLine(text string, i *int, crlf bool) (line, newline string, ok bool) {
	if *i >= len(text) {
		return "", "", false
	}
	start := *i
	lf := strings.IndexByte(text[start:], '\n')
	if lf < 0 {
		*i = len(text)
		return text[start:], "", true
	}
	lf += start
	if crlf {
		if c := strings.Index(text[start:], "\r\n"); c >= 0 && start+c < lf {
			*i = start + c + 2
			return text[start : start+c], "\r\n", true
		}
	}
	*i = lf + 1
	return text[start:lf], "\n", true
}

// ParsePath reads a GITHUB_PATH file as the runner does (File.ReadAllLines:
// lines end at \n, \r\n or a lone \r; empty lines are skipped).
func ParsePath(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' })
}
