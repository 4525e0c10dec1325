package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ImportDocument is the JSON document that `openlsc import` loads. Every
// record is matched to what is stored by its natural key (numbers, product
// ids); records the document does not mention are left alone. Every
// string follows the one-line free-text rule (see CheckLine) after
// surrounding white space is trimmed.
type ImportDocument struct {
	Organizations []ImportOrganization `json:"organizations"`
	Agreements    []ImportAgreement    `json:"agreements"`
	Products      []ImportProduct      `json:"products"`
	Entitlements  []ImportEntitlement  `json:"entitlements"`
	Keys          []ImportKey          `json:"keys"`
	Orders        []ImportOrder        `json:"orders"`
}

// ImportOrganization is an organisation in an import document.
type ImportOrganization struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

// ImportAgreement is an agreement in an import document. Its contacts
// replace the stored ones. AuthorizationNumber is required for a new Open
// License and, when given for a stored one, replaces its hash.
type ImportAgreement struct {
	Program             string          `json:"program"`
	Number              string          `json:"number"`
	Name                string          `json:"name"`
	Organization        string          `json:"organization"`
	Parent              string          `json:"parent"`
	Starts              string          `json:"starts"`
	Ends                string          `json:"ends"`
	AuthorizationNumber string          `json:"authorization_number"`
	Contacts            []ImportContact `json:"contacts"`
}

// ImportContact is a named contact of an agreement.
type ImportContact struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// ImportProduct is a catalog product with its versions.
type ImportProduct struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Versions []ImportVersion `json:"versions"`
}

// ImportVersion is one version and edition of a product with its files.
type ImportVersion struct {
	Version  string       `json:"version"`
	Released string       `json:"released"`
	Edition  string       `json:"edition"`
	Files    []ImportFile `json:"files"`
}

// ImportFile is a downloadable file of a product version.
type ImportFile struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Path     string `json:"path"`
}

// ImportEntitlement entitles an agreement to a product version. Without an
// edition it covers every edition of that version.
type ImportEntitlement struct {
	Agreement string  `json:"agreement"`
	Product   string  `json:"product"`
	Version   string  `json:"version"`
	Edition   *string `json:"edition"`
}

// ImportKey is a product key of an agreement, with MAK activation counts.
type ImportKey struct {
	Agreement       string `json:"agreement"`
	Product         string `json:"product"`
	Type            string `json:"type"`
	Key             string `json:"key"`
	ActivationLimit *int64 `json:"activation_limit"`
	ActivationsUsed *int64 `json:"activations_used"`
	ActivationsAsOf string `json:"activations_as_of"`
	// Status, when given, sets the key's status (active, blocked or
	// retired); a blocked key needs BlockReason. Without it a new key is
	// active and a stored one keeps its status.
	Status      string `json:"status"`
	BlockReason string `json:"block_reason"`
}

// ImportOrder is one line of an order on an agreement. The agreement,
// order number, product, version and edition identify it: a re-import
// updates the line.
type ImportOrder struct {
	Agreement   string `json:"agreement"`
	Number      string `json:"number"`
	Date        string `json:"date"`
	Product     string `json:"product"`
	Version     string `json:"version"`
	Edition     string `json:"edition"`
	Quantity    *int64 `json:"quantity"`
	LicenceType string `json:"licence_type"`
	SAEnds      string `json:"sa_ends"`
	Pool        string `json:"pool"`
}

// DecodeImport reads an import document. Malformed JSON, wrong types and
// unknown fields are reported as an invalid-input Error naming the line and
// column.
func DecodeImport(r io.Reader) (*ImportDocument, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the import document: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc ImportDocument
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(data, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, InvalidKey("err.import.json", "The import document is not valid JSON.",
			FieldError{Field: position(data, dec.InputOffset()), Key: "err.import.trailing_data",
				Message: "unexpected data after the end of the document"})
	}
	return &doc, nil
}

func decodeError(data []byte, offset int64, err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		msg    string
	)
	switch {
	case errors.Is(err, io.EOF):
		return InvalidKey("err.import.empty", "The import document is empty.",
			FieldError{Key: "err.import.empty_detail", Message: "expected a JSON object such as {\"organizations\": […]}"})
	case errors.As(err, &syntax):
		offset, msg = syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: ")
	case errors.As(err, &typ):
		offset = typ.Offset
		field := typ.Field
		if field == "" {
			field = "document"
		}
		msg = fmt.Sprintf("%s: expected %s, found a JSON %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		offset, msg = int64(len(data)), "the document ends too early"
	default:
		msg = strings.TrimPrefix(err.Error(), "json: ")
		if strings.HasPrefix(msg, "unknown field") {
			msg += " (see the import format in README.md)"
		}
	}
	return InvalidKey("err.import.json", "The import document is not valid JSON.",
		FieldError{Field: position(data, offset), Message: msg}) // no key: the parser's words
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

// position returns "line L, column C" of a byte offset.
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
