package models

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The free-text rule: what the service accepts in names, titles, comments,
// messages and every other text people type, whether through the import,
// the API or the web forms.
//
// Refused:
//   - bytes that are not UTF-8;
//   - NUL and the other C0 control characters (U+0000 to U+001F), except
//     tab, line feed and carriage return in multi-line text; DEL (U+007F);
//     and the C1 control characters (U+0080 to U+009F);
//   - the bidirectional embeddings and overrides U+202A to U+202E and the
//     isolates U+2066 to U+2069, which make text display in an order other
//     than the one it is stored and compared in.
//
// Allowed: every other character, including the left-to-right and
// right-to-left marks U+200E, U+200F and U+061C, which only direct the
// neutral characters next to them and are needed in right-to-left names.
//
// Text that breaks the rule is refused, not stripped: a silently changed
// value would no longer be what the person typed (or what another system
// holds), and the error tells them what to remove.

// CheckLine applies the free-text rule to s, a single-line value of field:
// tab and line breaks are refused too. max, when positive, is the most
// characters s may have. The error is an invalid-input Error naming field.
func CheckLine(field, s string, max int) error {
	return checkText(field, s, max, false)
}

// CheckText applies the free-text rule to s, a multi-line value of field
// such as a comment: tab, line feed and carriage return are allowed. max,
// when positive, is the most characters s may have.
func CheckText(field, s string, max int) error {
	return checkText(field, s, max, true)
}

func checkText(field, s string, max int, multiLine bool) error {
	p := textProblem(s, multiLine)
	if p.Message == "" && max > 0 && utf8.RuneCountInString(s) > max {
		p = FieldError{Key: "err.text.too_long", Args: Args{"Max": max},
			Message: fmt.Sprintf("longer than %d characters; shorten it", max)}
	}
	if p.Message == "" {
		return nil
	}
	p.Field = field
	return InvalidKey(textRefusedKey, textRefused, p)
}

// textRefused is the message of an Error for text that breaks the rule.
const textRefused = "The text contains characters that are not accepted: control characters and text-direction overrides."

// textRefusedKey is the message key of textRefused.
const textRefusedKey = "err.text.refused"

// textProblem returns what is wrong with s under the free-text rule, as a
// FieldError without its field whose message says what to remove, or a
// zero FieldError when s is acceptable.
func textProblem(s string, multiLine bool) FieldError {
	pos := 0
	for i, r := range s {
		pos++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return FieldError{Key: "err.text.not_utf8", Args: Args{"Pos": pos},
					Message: fmt.Sprintf("character %d is not UTF-8; send the text encoded as UTF-8", pos)}
			}
		}
		if kind, name := refusedRune(r, multiLine); name != "" {
			return FieldError{Key: "err.text." + kind, Args: Args{"Pos": pos, "Char": fmt.Sprintf("U+%04X", r)},
				Message: fmt.Sprintf("character %d is %s (U+%04X); remove it", pos, name, r)}
		}
	}
	return FieldError{}
}

// refusedRune names r, by a message key suffix and in English, when the
// free-text rule refuses it.
func refusedRune(r rune, multiLine bool) (kind, name string) {
	switch {
	case r == 0:
		return "nul", "a NUL character"
	case r == '\t' || r == '\n' || r == '\r':
		if multiLine {
			return "", ""
		}
		return "line_break", "a tab or line break, not allowed in a one-line value,"
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return "control", "a control character"
	case r >= 0x202a && r <= 0x202e:
		return "bidi_override", "a text-direction embedding or override"
	case r >= 0x2066 && r <= 0x2069:
		return "bidi_isolate", "a text-direction isolate"
	}
	return "", ""
}

// maxTextProblems caps the fields one CheckFields error lists.
const maxTextProblems = 20

// CheckFields applies the multi-line free-text rule to every string in v
// (struct fields, slice elements, map keys and values, followed through
// pointers and interfaces), naming each refused one by its JSON path, such
// as permissions[2].comment. It is for request bodies decoded from JSON.
func CheckFields(v any) error {
	var problems []FieldError
	walkText(v, func(s string) FieldError { return textProblem(s, true) }, func(path string, p FieldError) {
		if len(problems) < maxTextProblems {
			p.Field = path
			problems = append(problems, p)
		}
	})
	if len(problems) == 0 {
		return nil
	}
	return InvalidKey(textRefusedKey, textRefused, problems...)
}

// CheckValues applies the multi-line free-text rule to every value of a
// form or query (and to its names), naming each refused one by its name.
func CheckValues(values map[string][]string) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []FieldError
	for _, name := range names {
		vs := values[name]
		if p := textProblem(name, false); p.Message != "" {
			p.Field, p.Key, p.Message = strconv.Quote(name), p.Key+"_in_name", "the field name: "+p.Message
			problems = append(problems, p)
			continue
		}
		for _, s := range vs {
			if p := textProblem(s, true); p.Message != "" {
				p.Field = name
				problems = append(problems, p)
				break
			}
		}
		if len(problems) >= maxTextProblems {
			break
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return InvalidKey(textRefusedKey, textRefused, problems...)
}

// walkText calls check with every string in v and, when it returns a
// problem, calls refused with the string's JSON path and the problem. The
// path is only built for refused strings.
func walkText(v any, check func(s string) FieldError, refused func(path string, p FieldError)) {
	newTextWalker(check, refused).walk(reflect.ValueOf(v))
}

func newTextWalker(check func(s string) FieldError, refused func(path string, p FieldError)) *textWalker {
	return &textWalker{check: check, refused: refused, fields: make(map[reflect.Type][]textField)}
}

// walkRecord walks v as the record at index of the array field named
// section, such as keys[3].
func (w *textWalker) walkRecord(section string, index int, v any) {
	w.path = append(w.path[:0], pathElem{name: section}, pathElem{index: index})
	w.walk(reflect.ValueOf(v))
	w.path = w.path[:0]
}

type textWalker struct {
	path    []pathElem
	check   func(s string) FieldError
	refused func(path string, p FieldError)
	fields  map[reflect.Type][]textField // the fields of each struct type seen
}

// pathElem is a field name or, when name is empty, an index.
type pathElem struct {
	name  string
	index int
}

// textField is a struct field the walk visits.
type textField struct {
	index    int
	name     string // JSON name; empty for an embedded struct whose fields are promoted
	embedded bool
}

func (w *textWalker) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if p := w.check(v.String()); p.Message != "" {
			w.refused(w.pathString(), p)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (such as json.RawMessage), not text
		}
		for i := 0; i < v.Len(); i++ {
			w.path = append(w.path, pathElem{index: i})
			w.walk(v.Index(i))
			w.path = w.path[:len(w.path)-1]
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			w.path = append(w.path, pathElem{name: fmt.Sprint(iter.Key().Interface())})
			w.walk(iter.Key())
			w.walk(iter.Value())
			w.path = w.path[:len(w.path)-1]
		}
	case reflect.Struct:
		w.walkStruct(v)
	}
}

func (w *textWalker) walkStruct(v reflect.Value) {
	for _, f := range w.structFields(v.Type()) {
		if f.embedded {
			w.walk(v.Field(f.index)) // promoted fields, as encoding/json does
			continue
		}
		w.path = append(w.path, pathElem{name: f.name})
		w.walk(v.Field(f.index))
		w.path = w.path[:len(w.path)-1]
	}
}

// structFields returns the exported fields of t that encoding/json reads,
// with their JSON names.
func (w *textWalker) structFields(t reflect.Type) []textField {
	if fs, ok := w.fields[t]; ok {
		return fs
	}
	var fs []textField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, skip := jsonName(f)
		switch {
		case skip:
			continue
		case f.Anonymous && name == "":
			fs = append(fs, textField{index: i, embedded: true})
			continue
		case name == "":
			name = f.Name
		}
		fs = append(fs, textField{index: i, name: name})
	}
	w.fields[t] = fs
	return fs
}

// pathString writes the path as JSON paths are written in errors:
// agreements[3].contacts[0].email.
func (w *textWalker) pathString() string {
	var b strings.Builder
	for _, e := range w.path {
		if e.name == "" {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.name)
	}
	return b.String()
}

// jsonName returns the name in a field's json tag, and whether the tag
// leaves the field out.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", true
	}
	name, _, _ := strings.Cut(tag, ",")
	return name, false
}
