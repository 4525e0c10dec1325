package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// importSource yields an import document section by section and record by
// record, so that an import need not hold the whole document.
type importSource interface {
	// section returns the name of the next section, one of
	// importSections, or "" after the last.
	section() (string, error)
	// record stores the next record of the current section in v (a
	// pointer to the section's record type) and reports false at the
	// section's end.
	record(v any) (bool, error)
}

// importSections are the sections of an import document, in the order the
// example lists them: each refers only to those before it.
var importSections = []string{"organizations", "agreements", "products", "entitlements", "keys", "orders"}

// DecodeImport reads a whole import document. Malformed JSON, wrong types,
// unknown fields and a section listed twice are reported as an
// invalid-input Error naming the line and column.
func DecodeImport(r io.Reader) (*ImportDocument, error) {
	src := newJSONSource(r)
	doc := &ImportDocument{}
	for {
		name, err := src.section()
		if err != nil || name == "" {
			return doc, err
		}
		if err := readSection(src, doc, name); err != nil {
			return nil, err
		}
	}
}

// readSection reads every record of the section name into doc.
func readSection(src importSource, doc *ImportDocument, name string) error {
	switch name {
	case "organizations":
		return readAll(src, &doc.Organizations)
	case "agreements":
		return readAll(src, &doc.Agreements)
	case "products":
		return readAll(src, &doc.Products)
	case "entitlements":
		return readAll(src, &doc.Entitlements)
	case "keys":
		return readAll(src, &doc.Keys)
	default:
		return readAll(src, &doc.Orders)
	}
}

// readAll appends the records of the current section to out.
func readAll[T any](src importSource, out *[]T) error {
	for {
		var v T
		ok, err := src.record(&v)
		if err != nil || !ok {
			return err
		}
		*out = append(*out, v)
	}
}

// docSource is an import document already in memory; it yields every
// section, empty or not.
type docSource struct {
	doc   *ImportDocument
	next  int           // index in importSections of the next section
	items reflect.Value // the current section's records
	i     int
}

func (s *docSource) section() (string, error) {
	v := reflect.ValueOf(s.doc).Elem()
	if s.next == len(importSections) {
		return "", nil
	}
	// ImportDocument lists its sections in the order of importSections.
	s.items, s.i = v.Field(s.next), 0
	s.next++
	return importSections[s.next-1], nil
}

func (s *docSource) record(v any) (bool, error) {
	if s.i >= s.items.Len() {
		return false, nil
	}
	reflect.ValueOf(v).Elem().Set(s.items.Index(s.i))
	s.i++
	return true, nil
}

// jsonSource decodes an import document from JSON as it is read: one
// record at a time, never the whole document.
type jsonSource struct {
	in      *positionReader
	dec     *json.Decoder
	started bool
	ended   bool
	seen    map[string]bool
	name    string // the current section
	inArray bool
	index   int // of the next record in the section
}

func newJSONSource(r io.Reader) *jsonSource {
	in := &positionReader{r: r, lastNL: -1}
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	return &jsonSource{in: in, dec: dec, seen: map[string]bool{}}
}

func (s *jsonSource) section() (string, error) {
	for s.inArray { // skip what the caller did not read
		if _, err := s.record(&json.RawMessage{}); err != nil {
			return "", err
		}
	}
	if !s.started {
		s.started = true
		if err := s.open(); err != nil {
			return "", err
		}
	}
	if s.ended {
		return "", nil
	}
	if !s.dec.More() {
		if _, err := s.dec.Token(); err != nil { // the closing brace
			return "", s.fail(err, s.dec.InputOffset(), "")
		}
		s.ended = true
		return "", s.trailing()
	}
	at := s.dec.InputOffset()
	tok, err := s.dec.Token()
	if err != nil {
		return "", s.fail(err, at, "")
	}
	name := sectionName(tok.(string))
	switch {
	case name == "":
		return "", s.invalid(at, fmt.Sprintf("unknown field %q (see the import format in README.md)", tok))
	case s.seen[name]:
		return "", s.invalid(at, fmt.Sprintf("%q is listed twice; list each section once", name))
	}
	s.seen[name], s.name, s.index = true, name, 0
	at = s.dec.InputOffset()
	switch tok, err = s.dec.Token(); {
	case err != nil:
		return "", s.fail(err, at, "")
	case tok == json.Delim('['):
		s.inArray = true
	case tok != nil: // null is an empty section
		return "", s.invalid(s.dec.InputOffset(), fmt.Sprintf("%s: expected an array, found a JSON %s", name, tokenKind(tok)))
	}
	return name, nil
}

// open reads the start of the document: an object, or null (empty).
func (s *jsonSource) open() error {
	tok, err := s.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return InvalidKey("err.import.empty", "The import document is empty.",
			FieldError{Key: "err.import.empty_detail", Message: "expected a JSON object such as {\"organizations\": […]}"})
	case err != nil:
		return s.fail(err, 0, "")
	case tok == nil:
		s.ended = true
		return s.trailing()
	case tok != json.Delim('{'):
		return s.invalid(s.dec.InputOffset(), fmt.Sprintf("document: expected an object, found a JSON %s", tokenKind(tok)))
	}
	return nil
}

// trailing refuses anything after the end of the document.
func (s *jsonSource) trailing() error {
	at := s.dec.InputOffset()
	if _, err := s.dec.Token(); err != io.EOF {
		return InvalidKey("err.import.json", "The import document is not valid JSON.",
			FieldError{Field: s.in.position(at), Key: "err.import.trailing_data",
				Message: "unexpected data after the end of the document"})
	}
	return nil
}

func (s *jsonSource) record(v any) (bool, error) {
	if !s.inArray {
		return false, nil
	}
	if !s.dec.More() {
		s.inArray = false
		if _, err := s.dec.Token(); err != nil { // the closing bracket
			return false, s.fail(err, s.dec.InputOffset(), "")
		}
		return false, nil
	}
	// The decoder stands before the record, or before the comma that
	// precedes it; offsets in its errors count from after that comma.
	start := s.dec.InputOffset()
	if s.index > 0 {
		start++
	}
	path := fmt.Sprintf("%s[%d]", s.name, s.index)
	if err := s.dec.Decode(v); err != nil {
		return false, s.fail(err, start, path)
	}
	s.index++
	return true, nil
}

// fail turns a decoding error into an invalid-input Error naming where it
// is; start is the offset that offsets in err count from, path the record
// being decoded ("" between records).
func (s *jsonSource) fail(err error, start int64, path string) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return s.invalid(s.in.end(), "the document ends too early")
	case errors.As(err, &syntax) && path == "":
		return s.invalid(syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &syntax):
		// The decoder's offsets within a record are not reliable: find
		// the error again in the bytes of the record.
		return s.invalid(start+s.in.syntaxOffset(start), strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := path
		if typ.Field != "" {
			field += "." + typ.Field
		}
		return s.invalid(start+typ.Offset, fmt.Sprintf("%s: expected %s, found a JSON %s", field, jsonKind(typ.Type.Kind().String()), typ.Value))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field") {
		msg = fmt.Sprintf("%s: %s (see the import format in README.md)", path, msg)
	}
	return s.invalid(start, msg)
}

func (s *jsonSource) invalid(offset int64, msg string) error {
	return InvalidKey("err.import.json", "The import document is not valid JSON.",
		FieldError{Field: s.in.position(offset), Message: msg}) // no key: the parser's words
}

// sectionName returns the section a top-level field names, matched
// without regard to case as encoding/json does, or "".
func sectionName(field string) string {
	for _, name := range importSections {
		if strings.EqualFold(field, name) {
			return name
		}
	}
	return ""
}

func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	if tok == json.Delim('[') {
		return "array"
	}
	return "object"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int64", "int", "int32":
		return "a whole number"
	case "slice":
		return "an array"
	case "struct", "ptr":
		return "an object"
	}
	return goKind
}

// positionWindow is how many of the latest bytes read a positionReader
// keeps to name the line and column of an error: many times a record
// (an offset further back is named as a byte offset).
const positionWindow = 1 << 20

// positionReader passes a document through, keeping the latest bytes read
// and the count of lines before them, so that an error's byte offset can
// be named as a line and column without holding the whole document.
type positionReader struct {
	r      io.Reader
	window []byte
	start  int64 // offset of window[0]
	lines  int   // newlines before start
	lastNL int64 // offset of the last newline before start, or -1
}

func (p *positionReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.window = append(p.window, b[:n]...)
	if len(p.window) > 2*positionWindow {
		drop := len(p.window) - positionWindow
		old := p.window[:drop]
		if c := bytes.Count(old, []byte("\n")); c > 0 {
			p.lines += c
			p.lastNL = p.start + int64(bytes.LastIndexByte(old, '\n'))
		}
		p.start += int64(drop)
		p.window = append(p.window[:0], p.window[drop:]...)
	}
	return n, err
}

// end is the offset after the last byte read.
func (p *positionReader) end() int64 { return p.start + int64(len(p.window)) }

// position returns "line L, column C" of a byte offset, or "byte N" when
// the offset is no longer in the window.
func (p *positionReader) position(offset int64) string {
	offset = min(max(offset, 0), p.end())
	if offset < p.start {
		return fmt.Sprintf("byte %d", offset+1)
	}
	before := p.window[:offset-p.start]
	line := p.lines + bytes.Count(before, []byte("\n")) + 1
	last := p.lastNL
	if i := bytes.LastIndexByte(before, '\n'); i >= 0 {
		last = p.start + int64(i)
	}
	return fmt.Sprintf("line %d, column %d", line, offset-last)
}

// syntaxOffset returns the offset, from start, of the first syntax error
// in the bytes read from start on.
func (p *positionReader) syntaxOffset(start int64) int64 {
	if start < p.start || start > p.end() {
		return 0
	}
	var v any
	var syntax *json.SyntaxError
	if err := json.Unmarshal(p.window[start-p.start:], &v); errors.As(err, &syntax) {
		return syntax.Offset
	}
	return 0
}
