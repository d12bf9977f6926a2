package crossconf

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// decode parses content as TOML into a generic tree. Syntax errors, duplicate
// keys and table redefinitions become a *ParseError with line and column.
func decode(content []byte) (map[string]any, error) {
	var tree map[string]any
	content = bytes.TrimPrefix(content, bom)
	if err := toml.Unmarshal(content, &tree); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, &ParseError{
				Line:   line,
				Column: col,
				Key:    strings.Join(de.Key(), "."),
				Msg:    "invalid TOML: " + strings.TrimPrefix(de.Error(), "toml: "),
			}
		}
		return nil, &ParseError{Msg: "invalid TOML: " + strings.TrimPrefix(err.Error(), "toml: ")}
	}
	if tree == nil {
		tree = map[string]any{}
	}
	return tree, nil
}

// lookup walks a path of table keys; it reports the value and whether it was
// found.
func lookup(tree map[string]any, path []string) (any, bool) {
	var cur any = tree
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// typeError describes a value of the wrong type; positions are filled in by
// the caller from the document index.
type typeError struct {
	path []string
	msg  string
}

// checkSchema verifies that the keys cross reads under prefix have the types
// cross expects (build, build.env, target, target.T, target.T.env: tables;
// passthrough and volumes: arrays of strings). Other keys are not checked.
// It returns nil when the prefix table is absent.
func checkSchema(tree map[string]any, prefix []string) *typeError {
	// Every table on the way to the prefix must be a table.
	var cur any = tree
	for i, k := range prefix {
		m := cur.(map[string]any)
		v, ok := m[k]
		if !ok {
			return nil
		}
		if _, isTable := v.(map[string]any); !isTable {
			return wantTable(prefix[:i+1], v)
		}
		cur = v
	}
	root := cur.(map[string]any)
	if te := checkEnvParent(root, prefix, "build"); te != nil {
		return te
	}
	tv, ok := root["target"]
	if !ok {
		return nil
	}
	targets, isTable := tv.(map[string]any)
	if !isTable {
		return wantTable(join(prefix, "target"), tv)
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if te := checkEnvParent(targets, join(prefix, "target"), n); te != nil {
			return te
		}
	}
	return nil
}

// checkEnvParent checks parent[key] (build or target.T) and its env table.
func checkEnvParent(parent map[string]any, base []string, key string) *typeError {
	path := join(base, key)
	v, ok := parent[key]
	if !ok {
		return nil
	}
	t, isTable := v.(map[string]any)
	if !isTable {
		return wantTable(path, v)
	}
	ev, ok := t["env"]
	if !ok {
		return nil
	}
	env, isTable := ev.(map[string]any)
	if !isTable {
		return wantTable(join(path, "env"), ev)
	}
	for _, k := range []string{"passthrough", "volumes"} {
		av, ok := env[k]
		if !ok {
			continue
		}
		kp := join(path, "env", k)
		arr, isArray := av.([]any)
		if !isArray {
			return &typeError{kp, fmt.Sprintf("%s must be an array of strings, found %s", dotted(kp), describe(av))}
		}
		for i, item := range arr {
			if _, isString := item.(string); !isString {
				return &typeError{kp, fmt.Sprintf("%s must be an array of strings, item %d is %s", dotted(kp), i+1, describe(item))}
			}
		}
	}
	return nil
}

func wantTable(path []string, v any) *typeError {
	return &typeError{path, fmt.Sprintf("%s must be a table, found %s", dotted(path), describe(v))}
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("a string (%q)", x)
	case bool:
		return fmt.Sprintf("a boolean (%v)", x)
	case int64:
		return fmt.Sprintf("an integer (%d)", x)
	case float64:
		return fmt.Sprintf("a float (%v)", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return "a date/time"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// join returns a new slice: base followed by more.
func join(base []string, more ...string) []string {
	out := make([]string, 0, len(base)+len(more))
	out = append(out, base...)
	return append(out, more...)
}

// dotted formats a key path the way a user would write it.
func dotted(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = formatKey(p)
	}
	return strings.Join(parts, ".")
}

// formatKey returns k as a bare key when possible, else as a basic string.
func formatKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return quote(k)
		}
	}
	return k
}

// quote returns s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
