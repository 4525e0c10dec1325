// Package models holds OpenLSC's domain types, their storage in SQLite or
// PostgreSQL, the versioned schema migrations, and the bulk import of
// agreement data.
package models

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code classifies an Error. The HTTP layers map each code to one status.
type Code string

// The error vocabulary shared by every layer.
const (
	CodeInvalid   Code = "invalid"
	CodeNotFound  Code = "not_found"
	CodeConflict  Code = "conflict"
	CodeForbidden Code = "forbidden"
	CodeTooMany   Code = "too_many" // a limit on attempts was reached
	// CodeUnavailable: something the service needs (the database, the file
	// storage) cannot serve the request now (down, read-only, full, or busy
	// past the request's wait); the client should retry later. It never
	// means the request itself is wrong.
	CodeUnavailable Code = "unavailable"
	CodeInternal    Code = "internal"
)

// FieldError says what is wrong with one input field, named by its path
// (for example "agreements[3].parent").
//
// Key is the stable identifier of the message ("err.field.email"), by which
// the pages show it in their language and API clients tell problems apart;
// Args are the values that message names. Message is the English text.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Key     string `json:"code,omitempty"`
	Args    Args   `json:"-"`
}

// Args are the values a keyed message names, by name ("Limit": 10). A
// time.Time is shown as a date and time in UTC.
type Args map[string]any

func (f FieldError) String() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

// Error is an application error whose Message is safe to show to the user.
// Internal causes are kept in Err and never rendered to clients.
//
// Key, when set, is the stable identifier of the message (such as
// "err.request.failed"): pages show the message of that key in their own
// language, naming Args, and API problem bodies carry it as their code.
// Message is the English text. RetryAfter, when positive, is how long
// until a refusal ends (a lockout), for the Retry-After header.
type Error struct {
	Code       Code
	Key        string
	Args       Args
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	Err        error
}

// New returns an Error with the given code, stable message key and English
// message.
func New(code Code, key, message string) *Error {
	return &Error{Code: code, Key: key, Message: message}
}

// With returns a copy of e whose message names args.
func (e *Error) With(args Args) *Error {
	c := *e
	c.Args = args
	return &c
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid-input error listing what is wrong with each field.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: fields}
}

// InvalidKey is Invalid with a stable message key.
func InvalidKey(key, message string, fields ...FieldError) *Error {
	return &Error{Code: CodeInvalid, Key: key, Message: message, Fields: fields}
}

// ErrorKey returns the stable message key of err (see Error.Key): the key
// of the first *Error in its chain, "" when it has none or is internal.
func ErrorKey(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Key
	}
	return ""
}

// ErrorCode returns the code of err: the code of the first *Error in its
// chain, or CodeInternal for anything else.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// an *Error, and internal ones, get a generic message so that no internal
// detail reaches a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "An internal error occurred. It has been logged; please try again later."
}
