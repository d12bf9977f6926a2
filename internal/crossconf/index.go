package crossconf

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// index records where things are in a TOML document: byte offsets of
// sections, key-values, arrays and inline tables, so that text can be spliced
// in place. Offsets are into index.src.
type index struct {
	src      []byte
	sections []*section
	arrays   map[string]*array // by pathKey; the first definition wins
	inlines  []*inline
	keyPos   map[string]int // offset of the first key part that names a path
}

// section is the root (path nil) or a [table] / [[array table]] and the
// key-values below its header.
type section struct {
	path      []string
	arrayItem bool // [[...]]
	keyStart  int  // offset of the first key part of the header (-1 for root)
	lastEnd   int  // end of the header or of the last key-value (-1: empty root)
	kvs       []kv
}

// kv is a top-level key-value of a section.
type kv struct {
	full       []string // section path + key
	start, end int      // raw range, from the key to the end of the value
}

// array is an array value and its string items.
type array struct {
	path        []string
	open, close int // offsets of '[' and ']'
	items       []item
}

type item struct {
	value      string // decoded
	start, end int    // raw range
}

// inline is an inline table value.
type inline struct {
	path        []string
	open, close int // offsets of '{' and '}'
	lastEnd     int // end of the last key-value inside, -1 when empty
}

func pathKey(path []string) string { return strings.Join(path, "\x00") }

// buildIndex parses src, which must already be valid TOML.
func buildIndex(src []byte) (*index, error) {
	ix := &index{
		src:    src,
		arrays: map[string]*array{},
		keyPos: map[string]int{},
	}
	cur := &section{keyStart: -1, lastEnd: -1}
	ix.sections = append(ix.sections, cur)

	var p unstable.Parser
	p.Reset(src)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			path, offs := ix.keyParts(e.Key())
			ix.notePath(nil, path, offs)
			end := offs[len(offs)-1].end
			end = skipBlank(src, end)
			n := 1
			if e.Kind == unstable.ArrayTable {
				n = 2
			}
			if end+n > len(src) || string(src[end:end+n]) != strings.Repeat("]", n) {
				return nil, fmt.Errorf("index: no closing bracket for table header at offset %d", end)
			}
			cur = &section{
				path:      path,
				arrayItem: e.Kind == unstable.ArrayTable,
				keyStart:  offs[0].start,
				lastEnd:   end + n,
			}
			ix.sections = append(ix.sections, cur)
		case unstable.KeyValue:
			full, start, end := ix.keyValue(e, cur.path)
			cur.kvs = append(cur.kvs, kv{full: full, start: start, end: end})
			cur.lastEnd = end
		}
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return ix, nil
}

type span struct{ start, end int }

func (ix *index) keyParts(it unstable.Iterator) ([]string, []span) {
	var parts []string
	var offs []span
	for it.Next() {
		n := it.Node()
		parts = append(parts, string(n.Data))
		offs = append(offs, span{int(n.Raw.Offset), int(n.Raw.Offset + n.Raw.Length)})
	}
	return parts, offs
}

// notePath records the offset of each key part of base+parts not seen yet.
func (ix *index) notePath(base, parts []string, offs []span) {
	for i := range parts {
		k := pathKey(join(base, parts[:i+1]...))
		if _, seen := ix.keyPos[k]; !seen {
			ix.keyPos[k] = offs[i].start
		}
	}
}

// keyValue indexes a key-value (top-level or inside an inline table) and
// returns its full path and raw range.
func (ix *index) keyValue(n *unstable.Node, base []string) ([]string, int, int) {
	parts, offs := ix.keyParts(n.Key())
	ix.notePath(base, parts, offs)
	full := join(base, parts...)
	start := offs[0].start
	end := int(n.Raw.Offset + n.Raw.Length)
	v := n.Value()
	switch v.Kind {
	case unstable.Array:
		pos := skipBlank(ix.src, offs[len(offs)-1].end)
		// key ws '=' ws '['
		if pos < len(ix.src) && ix.src[pos] == '=' {
			pos = skipBlank(ix.src, pos+1)
		}
		a := &array{path: full, open: pos, close: end - 1}
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind != unstable.String {
				continue // non-string items are rejected by checkSchema where it matters
			}
			a.items = append(a.items, item{
				value: string(c.Data),
				start: int(c.Raw.Offset),
				end:   int(c.Raw.Offset + c.Raw.Length),
			})
		}
		if _, dup := ix.arrays[pathKey(full)]; !dup {
			ix.arrays[pathKey(full)] = a
		}
	case unstable.InlineTable:
		in := &inline{path: full, open: int(v.Raw.Offset), close: end - 1, lastEnd: -1}
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind != unstable.KeyValue {
				continue
			}
			_, _, cend := ix.keyValue(c, full)
			in.lastEnd = cend
		}
		ix.inlines = append(ix.inlines, in)
	}
	return full, start, end
}

// position converts a byte offset to a 1-based line and column.
func (ix *index) position(off int) (line, col int) {
	if off > len(ix.src) {
		off = len(ix.src)
	}
	before := ix.src[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// skipBlank skips spaces and tabs from i.
func skipBlank(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return i
}

// lineStart returns the offset of the start of the line containing i.
func lineStart(src []byte, i int) int {
	return bytes.LastIndexByte(src[:i], '\n') + 1
}

// lineEnd returns the offset just after the newline that ends the line
// containing i, or len(src) when that line is the last and has no newline.
func lineEnd(src []byte, i int) int {
	j := bytes.IndexByte(src[i:], '\n')
	if j < 0 {
		return len(src)
	}
	return i + j + 1
}

// indentAt returns the blanks at the start of the line containing i when only
// blanks precede i on that line; ok is false otherwise.
func indentAt(src []byte, i int) (string, bool) {
	ls := lineStart(src, i)
	for k := ls; k < i; k++ {
		if src[k] != ' ' && src[k] != '\t' {
			return "", false
		}
	}
	return string(src[ls:i]), true
}

// eolOf returns the document's line ending: CRLF when its first line ends so.
func eolOf(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}
