package testkit

import (
	"bytes"
	"os"
	"strings"
)

// Archive is a txtar file as golden tests keep them: a comment, then
// sections that each start with a "-- name --" line. (A local reader:
// go-internal's txtar would pull in x/tools.)
type Archive struct {
	Comment []byte
	Files   []File
}

// File is one section of an Archive.
type File struct {
	Name string
	Data []byte
}

// ParseTxtar splits txtar text into its comment and sections.
func ParseTxtar(data []byte) *Archive {
	ar := &Archive{}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			ar.Files = append(ar.Files, File{Name: trimmed[3 : len(trimmed)-3]})
			continue
		}
		if len(ar.Files) == 0 {
			ar.Comment = append(ar.Comment, line...)
			continue
		}
		f := &ar.Files[len(ar.Files)-1]
		f.Data = append(f.Data, line...)
	}
	return ar
}

// ReadTxtar reads a txtar file.
func ReadTxtar(path string) (*Archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTxtar(data), nil
}

// Get returns the data of the section name.
func (a *Archive) Get(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Set replaces the data of the section name, adding the section when missing.
func (a *Archive) Set(name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, File{Name: name, Data: data})
}

// Format returns the txtar text of a.
func (a *Archive) Format() []byte {
	var b bytes.Buffer
	b.Write(a.Comment)
	for _, f := range a.Files {
		b.WriteString("-- " + f.Name + " --\n")
		b.Write(f.Data)
	}
	return b.Bytes()
}

// WriteTxtar writes a to path (golden files rewritten with -update).
func WriteTxtar(path string, a *Archive) error {
	return os.WriteFile(path, a.Format(), 0o644)
}
