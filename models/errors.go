// Package models holds OpenLSC's domain types, their storage in SQLite or
// PostgreSQL, the versioned schema migrations, and the bulk import of
// agreement data.
package models

import (
	"errors"
	"fmt"
	"strings"
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
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (f FieldError) String() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

// Error is an application error whose Message is safe to show to the user.
// Internal causes are kept in Err and never rendered to clients.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
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
