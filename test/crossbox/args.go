package crossbox

import (
	"fmt"
	"path/filepath"
	"strings"
)

// subcommand mirrors cross 0.2.5's classification of cargo subcommands.
type subcommand int

const (
	subNone subcommand = iota
	subBuild
	subCheck
	subDoc
	subOther
	subRun
	subRustc
	subTest
	subBench
	subClippy
	subMetadata
	subList
	subClean
)

func parseSubcommand(s string) subcommand {
	switch s {
	case "b", "build":
		return subBuild
	case "c", "check":
		return subCheck
	case "clean":
		return subClean
	case "doc":
		return subDoc
	case "r", "run":
		return subRun
	case "rustc":
		return subRustc
	case "t", "test":
		return subTest
	case "bench":
		return subBench
	case "clippy":
		return subClippy
	case "metadata":
		return subMetadata
	case "--list":
		return subList
	}
	return subOther
}

// needsContainer: cross runs these in the container (clean only remotely).
func (s subcommand) needsContainer() bool {
	switch s {
	case subNone, subOther, subList, subClean:
		return false
	}
	return true
}

// Args is the command line as cross 0.2.5's cli::parse leaves it.
type Args struct {
	all          []string // what is passed to cargo (target dir rewritten)
	sub          subcommand
	channel      string // +toolchain, consumed by cross
	target       string
	targetDir    string // absolute host path given with --target-dir
	manifestPath string
	features     []string
	version      bool
}

// ParseArgs parses cross's command line (argv without the program name) run
// in cwd. It follows cross 0.2.5: --target-dir is recorded and replaced by
// /target, +channel and --version are consumed, everything else is kept.
func ParseArgs(argv []string, cwd string) (Args, error) {
	var a Args
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(cwd, p)
	}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		next := func() (string, bool) {
			if i+1 < len(argv) {
				i++
				return argv[i], true
			}
			return "", false
		}
		switch {
		case arg == "":
			continue
		case arg == "--version" || arg == "-V":
			a.version = true
		case arg == "--target":
			a.all = append(a.all, arg)
			if v, ok := next(); ok {
				a.target = v
				a.all = append(a.all, v)
			}
		case strings.HasPrefix(arg, "--target="):
			a.target = strings.TrimPrefix(arg, "--target=")
			a.all = append(a.all, arg)
		case arg == "--target-dir":
			a.all = append(a.all, arg)
			if v, ok := next(); ok {
				a.targetDir = abs(v)
				a.all = append(a.all, containerTargetDir)
			}
		case strings.HasPrefix(arg, "--target-dir="):
			a.targetDir = abs(strings.TrimPrefix(arg, "--target-dir="))
			a.all = append(a.all, "--target-dir="+containerTargetDir)
		case arg == "--manifest-path":
			a.all = append(a.all, arg)
			if v, ok := next(); ok {
				a.manifestPath = abs(v)
				a.all = append(a.all, v)
			}
		case strings.HasPrefix(arg, "--manifest-path="):
			a.manifestPath = abs(strings.TrimPrefix(arg, "--manifest-path="))
			a.all = append(a.all, arg)
		case arg == "--features":
			a.all = append(a.all, arg)
			if v, ok := next(); ok {
				a.features = append(a.features, v)
				a.all = append(a.all, v)
			}
		case strings.HasPrefix(arg, "--features="):
			a.features = append(a.features, strings.TrimPrefix(arg, "--features="))
			a.all = append(a.all, arg)
		case strings.HasPrefix(arg, "+"):
			a.channel = arg[1:]
		default:
			if (!strings.HasPrefix(arg, "-") || arg == "--list") && a.sub == subNone {
				a.sub = parseSubcommand(arg)
			}
			a.all = append(a.all, arg)
		}
	}
	return a, nil
}

// cargoArgs returns the arguments for cargo inside the container: --target is
// added when missing (except for metadata, where it is removed), and a target
// other than the host's is replaced by hostTriple, since the stand-in has no
// cross toolchains.
func (a Args) cargoArgs(hostTriple string) []string {
	var out []string
	hasTarget := false
	for i := 0; i < len(a.all); i++ {
		arg := a.all[i]
		switch {
		case arg == "--target":
			if a.sub == subMetadata {
				i++
				continue
			}
			hasTarget = true
			out = append(out, arg)
			if i+1 < len(a.all) {
				i++
				out = append(out, hostTriple)
			}
		case strings.HasPrefix(arg, "--target="):
			if a.sub == subMetadata {
				continue
			}
			hasTarget = true
			out = append(out, "--target="+hostTriple)
		default:
			out = append(out, arg)
		}
	}
	if a.sub != subMetadata && !hasTarget {
		out = append(out, "--target", hostTriple)
	}
	return out
}

// splitWords splits a CROSS_CONTAINER_OPTS value like a POSIX shell would
// (single and double quotes, backslash escapes), as cross does with
// shell_words::split.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("could not parse docker opts of %s: missing closing quote", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("could not parse docker opts of %s: missing closing quote", s)
			}
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// shellQuote quotes s for sh, the way the container command line is built.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
