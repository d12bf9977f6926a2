package crossconf

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Merge adds the entries to the cross configuration in content and returns
// the new content and whether it differs. prefix is "" for a Cross.toml, or
// WorkspaceMetadata / PackageMetadata for Cargo.toml.
//
// `build.env.passthrough` and `build.env.volumes` receive every missing item,
// appended after the existing ones; the arrays (and the `[build.env]` table)
// are created when absent. Every `target.<triple>.env` passthrough or volumes
// array that already exists is extended too, because a target's volumes
// replace the build ones in cross; target tables are never created.
//
// An item is present when the array already holds an item for the same NAME
// (the text before the first '='), whatever its value: a user's
// `SCCACHE_DIR=/x` or bare `SCCACHE_DIR` wins over our `SCCACHE_DIR=/y`, and
// ours is not added. Only an existing item that Entries.Replaceable claims is
// rewritten in place.
//
// Nothing else changes: comments, order, quoting, blank lines and line
// endings are kept byte for byte, and Merge(Merge(x)) == Merge(x). Malformed
// TOML and values of the wrong type are a *ParseError.
func Merge(content []byte, prefix string, e Entries) ([]byte, bool, error) {
	return merge(content, prefix, e, createMode{passthrough: true, volumes: true})
}

// createMode says which build.env arrays may be created when missing.
type createMode struct{ passthrough, volumes bool }

func (m createMode) empty() bool { return !m.passthrough && !m.volumes }

// bom is the UTF-8 byte order mark some Windows editors put first; TOML
// parsers differ on it, so it is set aside and kept.
var bom = []byte("\xEF\xBB\xBF")

func merge(content []byte, prefix string, e Entries, mode createMode) ([]byte, bool, error) {
	if err := e.validate(); err != nil {
		return nil, false, err
	}
	if bytes.HasPrefix(content, bom) {
		out, changed, err := merge(content[len(bom):], prefix, e, mode)
		if err != nil {
			return nil, false, err
		}
		if !changed {
			return content, false, nil
		}
		return append(bytes.Clone(bom), out...), true, nil
	}
	pre := splitPrefix(prefix)
	ix, err := check(content, pre)
	if err != nil {
		return nil, false, err
	}
	edits := plan(ix, pre, e, mode)
	if len(edits) == 0 {
		return content, false, nil
	}
	out := applyEdits(content, edits)
	// The result must parse, keep cross's schema, and need nothing more.
	ix2, err := check(out, pre)
	if err == nil && len(plan(ix2, pre, e, mode)) > 0 {
		err = fmt.Errorf("entries still missing after the merge")
	}
	if err != nil {
		return nil, false, fmt.Errorf("merging cross configuration produced an unusable document (a bug; the file was not changed): %w", err)
	}
	return out, true, nil
}

// check parses content, verifies cross's schema under pre and indexes it.
func check(content []byte, pre []string) (*index, error) {
	tree, err := decode(content)
	if err != nil {
		return nil, err
	}
	ix, err := buildIndex(content)
	if err != nil {
		return nil, err
	}
	if te := checkSchema(tree, pre); te != nil {
		pe := &ParseError{Key: dotted(te.path), Msg: te.msg}
		for i := len(te.path); i > 0; i-- {
			if off, ok := ix.keyPos[pathKey(te.path[:i])]; ok {
				pe.Line, pe.Column = ix.position(off)
				break
			}
		}
		return nil, pe
	}
	return ix, nil
}

// defines reports which build.env arrays the configuration under prefix in
// content defines.
func defines(content []byte, prefix string) (createMode, error) {
	content = bytes.TrimPrefix(content, bom)
	pre := splitPrefix(prefix)
	ix, err := check(content, pre)
	if err != nil {
		return createMode{}, err
	}
	env := join(pre, "build", "env")
	return createMode{
		passthrough: ix.arrays[pathKey(join(env, "passthrough"))] != nil,
		volumes:     ix.arrays[pathKey(join(env, "volumes"))] != nil,
	}, nil
}

func (e Entries) validate() error {
	for _, list := range []struct {
		key   string
		items []string
	}{{"passthrough", e.Passthrough}, {"volumes", e.Volumes}} {
		for _, it := range list.items {
			name := nameOf(it)
			bad := name == "" || !utf8.ValidString(it) || strings.ContainsAny(it, "\r\n\x00") ||
				strings.IndexFunc(name, unicode.IsSpace) >= 0
			if bad {
				return fmt.Errorf("invalid %s entry %q: want NAME or NAME=value", list.key, it)
			}
			if name == "CROSS_RUNNER" {
				return fmt.Errorf("invalid %s entry %q: cross reserves CROSS_RUNNER", list.key, it)
			}
		}
	}
	return nil
}

// nameOf returns the variable name of an item: the text before the first '='.
func nameOf(item string) string {
	name, _, _ := strings.Cut(item, "=")
	return name
}

// dedupe keeps the first item for each name.
func dedupe(items []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range items {
		if n := nameOf(it); !seen[n] {
			seen[n] = true
			out = append(out, it)
		}
	}
	return out
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

func applyEdits(src []byte, edits []edit) []byte {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b bytes.Buffer
	pos := 0
	for _, e := range edits {
		b.Write(src[pos:e.start])
		b.WriteString(e.text)
		pos = e.end
	}
	b.Write(src[pos:])
	return b.Bytes()
}

// newKV is an array to create.
type newKV struct {
	key   string
	items []string
}

func (n newKV) value() string {
	q := make([]string, len(n.items))
	for i, it := range n.items {
		q[i] = quote(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// plan computes the edits that add e under pre.
func plan(ix *index, pre []string, e Entries, mode createMode) []edit {
	eol := eolOf(ix.src)
	env := join(pre, "build", "env")
	lists := []struct {
		key    string
		want   []string
		create bool
	}{
		{"passthrough", dedupe(e.Passthrough), mode.passthrough},
		{"volumes", dedupe(e.Volumes), mode.volumes},
	}
	var edits []edit
	var missing []newKV
	for _, l := range lists {
		if len(l.want) == 0 {
			continue
		}
		if a := ix.arrays[pathKey(join(env, l.key))]; a != nil {
			edits = append(edits, ix.extend(a, l.want, e.Replaceable, eol)...)
		} else if l.create {
			missing = append(missing, newKV{l.key, l.want})
		}
	}
	if len(missing) > 0 {
		edits = append(edits, ix.create(pre, env, missing, eol))
	}
	for _, a := range ix.targetArrays(pre) {
		for _, l := range lists {
			if len(l.want) > 0 && a.path[len(a.path)-1] == l.key {
				edits = append(edits, ix.extend(a, l.want, e.Replaceable, eol)...)
			}
		}
	}
	return edits
}

// targetArrays returns the pre.target.<triple>.env.{passthrough,volumes}
// arrays in document order.
func (ix *index) targetArrays(pre []string) []*array {
	var out []*array
	n := len(pre)
	for _, a := range ix.arrays {
		p := a.path
		if len(p) == n+4 && hasPrefix(p, pre) && p[n] == "target" && p[n+2] == "env" &&
			(p[n+3] == "passthrough" || p[n+3] == "volumes") {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].open < out[j].open })
	return out
}

func hasPrefix(path, prefix []string) bool {
	if len(prefix) > len(path) {
		return false
	}
	for i := range prefix {
		if path[i] != prefix[i] {
			return false
		}
	}
	return true
}

// extend returns the edits that add the missing items of want to a.
func (ix *index) extend(a *array, want []string, replaceable func(string) bool, eol string) []edit {
	var edits []edit
	var add []string
	for _, w := range want {
		name := nameOf(w)
		var same []item
		for _, it := range a.items {
			if nameOf(it.value) == name {
				same = append(same, it)
			}
		}
		if len(same) == 0 {
			add = append(add, w)
			continue
		}
		identical, ours := false, replaceable != nil
		for _, it := range same {
			identical = identical || it.value == w
			ours = ours && replaceable(it.value)
		}
		if !identical && ours {
			edits = append(edits, edit{same[0].start, same[0].end, quote(w)})
		}
	}
	if len(add) > 0 {
		edits = append(edits, ix.appendItems(a, add, eol)...)
	}
	return edits
}

// appendItems returns the edits that append items to a, in the array's own
// layout: on the same line for a one-line array, one item per line (with the
// array's indentation and trailing-comma habit) for a multi-line one.
func (ix *index) appendItems(a *array, items []string, eol string) []edit {
	src := ix.src
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = quote(it)
	}
	closeLine := lineStart(src, a.close)
	if len(a.items) == 0 {
		interior := src[a.open+1 : a.close]
		if !bytes.Contains(interior, []byte("\n")) {
			// Only blanks inside: keep them, mirrored around the items.
			return []edit{{a.close, a.close, strings.Join(quoted, ", ") + string(interior)}}
		}
		// Only blanks, newlines and comments inside: one item per line
		// before the line of ']', indented like the first comment line.
		indent := ""
		for k := a.open + 1; k < closeLine; k = lineEnd(src, k) {
			j := skipBlank(src, k)
			if j < len(src) && src[j] == '#' {
				if ind, ok := indentAt(src, j); ok {
					indent = ind
				}
				break
			}
		}
		if indent == "" {
			ind, _ := indentAt(src, a.close)
			indent = ind + "    "
		}
		var b strings.Builder
		for _, q := range quoted {
			b.WriteString(indent + q + "," + eol)
		}
		return []edit{{closeLine, closeLine, b.String()}}
	}
	last := a.items[len(a.items)-1]
	if !bytes.Contains(src[last.end:a.close], []byte("\n")) {
		// ']' on the last item's line: continue that line.
		return []edit{{last.end, last.end, ", " + strings.Join(quoted, ", ")}}
	}
	j := skipBlank(src, last.end)
	trailingComma := j < len(src) && src[j] == ','
	indent, found := "", false
	for i := len(a.items) - 1; i >= 0 && !found; i-- {
		indent, found = indentAt(src, a.items[i].start)
	}
	if !found {
		ind, _ := indentAt(src, a.close)
		indent = ind + "    "
	}
	var b strings.Builder
	for i, q := range quoted {
		b.WriteString(indent + q)
		if trailingComma || i < len(quoted)-1 {
			b.WriteString(",")
		}
		b.WriteString(eol)
	}
	var edits []edit
	if !trailingComma {
		edits = append(edits, edit{last.end, last.end, ","})
	}
	return append(edits, edit{closeLine, closeLine, b.String()})
}

// create returns the edit that defines the missing arrays of table env
// (pre.build.env), wherever that table is (or can be) defined:
//  1. inside the inline table that holds it (`env = {...}`, `build = {...}`);
//  2. at the end of its `[build.env]` section;
//  3. next to the dotted keys that define it (`env.volumes = [...]` under
//     `[build]`, or `build.env.volumes = [...]` at the top);
//  4. as a new `[build.env]` section after the last `[build...]` section (in
//     Cargo.toml: after the last section under the prefix, else after the
//     last `[package...]` or `[workspace...]` section), else at the end.
func (ix *index) create(pre, env []string, kvs []newKV, eol string) edit {
	src := ix.src
	line := func(rel []string, k newKV) string {
		return dotted(join(rel, k.key)) + " = " + k.value()
	}

	// 1. Inline table.
	var in *inline
	for _, c := range ix.inlines {
		if hasPrefix(env, c.path) && (in == nil || len(c.path) > len(in.path)) {
			in = c
		}
	}
	if in != nil {
		parts := make([]string, len(kvs))
		for i, k := range kvs {
			parts[i] = line(env[len(in.path):], k)
		}
		text := strings.Join(parts, ", ")
		if in.lastEnd >= 0 {
			return edit{in.lastEnd, in.lastEnd, ", " + text}
		}
		if len(bytes.Trim(src[in.open+1:in.close], " \t")) == 0 {
			return edit{in.open + 1, in.close, " " + text + " "}
		}
		return edit{in.close, in.close, text + " "}
	}

	lines := func(indent string, rel []string) string {
		var b strings.Builder
		for _, k := range kvs {
			b.WriteString(indent + line(rel, k) + eol)
		}
		return b.String()
	}
	after := func(end int) (int, string) {
		pos := lineEnd(src, end)
		if pos == len(src) && pos > 0 && src[pos-1] != '\n' {
			return pos, eol
		}
		return pos, ""
	}

	// 2. The [build.env] section.
	for _, s := range ix.sections {
		if !s.arrayItem && s.keyStart >= 0 && pathKey(s.path) == pathKey(env) {
			indent := ""
			if n := len(s.kvs); n > 0 {
				indent, _ = indentAt(src, s.kvs[n-1].start)
			}
			pos, nl := after(s.lastEnd)
			return edit{pos, pos, nl + lines(indent, nil)}
		}
	}

	// 3. Dotted keys defining the table (or the deepest part of its path).
	var best *kv
	var bestSec *section
	bestDepth := 0
	for _, s := range ix.sections {
		if s.arrayItem {
			continue
		}
		for i := range s.kvs {
			k := &s.kvs[i]
			depth := commonPrefix(k.full[:len(k.full)-1], env)
			if depth > len(s.path) && depth >= bestDepth {
				best, bestSec, bestDepth = k, s, depth
			}
		}
	}
	if best != nil {
		indent, _ := indentAt(src, best.start)
		pos, nl := after(best.end)
		return edit{pos, pos, nl + lines(indent, env[len(bestSec.path):])}
	}

	// 4. A new section.
	header := "[" + dotted(env) + "]" + eol + lines("", nil)
	var anchor *section
	anchors := [][]string{join(pre, "build"), pre}
	if len(pre) > 0 {
		anchors = append(anchors, pre[:1]) // [package] or [workspace]
	}
	for _, want := range anchors {
		if len(want) == 0 {
			break
		}
		for _, s := range ix.sections {
			if s.keyStart >= 0 && hasPrefix(s.path, want) {
				anchor = s
			}
		}
		if anchor != nil {
			break
		}
	}
	if anchor != nil {
		pos, nl := after(anchor.lastEnd)
		return edit{pos, pos, nl + eol + header}
	}
	text := header
	if len(bytes.TrimSpace(src)) > 0 {
		text = eol + text
	}
	if n := len(src); n > 0 && src[n-1] != '\n' {
		text = eol + text
	}
	return edit{len(src), len(src), text}
}

func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
