package ghcmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// ErrFileCommand marks a value a file command refuses to write.
var ErrFileCommand = errors.New("refused file command")

// Kind is a file command file: what its names may look like.
type Kind int

// The file commands that take names.
const (
	Env    Kind = iota // GITHUB_ENV: environment variable names
	Output             // GITHUB_OUTPUT: step output names
)

var (
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)

// Record returns the lines that set name to value in a GITHUB_ENV or
// GITHUB_OUTPUT file, framed by a delimiter drawn from rnd (crypto/rand.Reader
// in production):
//
//	NAME<<ghadelimiter_<uuid>
//	VALUE
//	ghadelimiter_<uuid>
//
// The runner reads the value up to the first line equal to the delimiter, so
// a value holding it is refused, as is a name that is not one (a name with
// "=" or "<<" would change how the line is read).
func Record(kind Kind, name, value string, rnd io.Reader) (string, error) {
	re := envName
	if kind == Output {
		re = outputName
	}
	if !re.MatchString(name) {
		return "", fmt.Errorf("%w: %q is not a valid name (%s)", ErrFileCommand, Line(name), re)
	}
	var u [16]byte
	if _, err := io.ReadFull(rnd, u[:]); err != nil {
		return "", fmt.Errorf("draw a file command delimiter: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	delim := fmt.Sprintf("ghadelimiter_%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	if strings.Contains(value, delim) {
		return "", fmt.Errorf("%w: the value of %s contains the delimiter %s", ErrFileCommand, name, delim)
	}
	return name + "<<" + delim + "\n" + value + "\n" + delim + "\n", nil
}

// PathRecord returns the line that adds dir to PATH through GITHUB_PATH. The
// runner reads that file one line per entry (and splits at \r as well as
// \n), so an entry with a line break, or any other control character, is
// refused; so is an empty one.
func PathRecord(dir string) (string, error) {
	if dir == "" || HasControl(dir) {
		return "", fmt.Errorf("%w: PATH entry %q is empty or holds a control character", ErrFileCommand, Line(dir))
	}
	return dir + "\n", nil
}

// Append appends records to a file command file, in one write.
func Append(file string, records ...string) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("could not open %q: %w", file, err)
	}
	if _, err := io.WriteString(f, strings.Join(records, "")); err != nil {
		f.Close()
		return fmt.Errorf("could not write %q: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("could not write %q: %w", file, err)
	}
	return nil
}
