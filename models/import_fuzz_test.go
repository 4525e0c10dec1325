package models_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// importSeeds are the seed inputs of the import fuzz targets besides the
// corpus files in testdata/fuzz: the valid example and small variations.
func importSeeds(f *testing.F) {
	valid, err := os.ReadFile("../testdata/import/valid.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"organizations": null}`, `{} {}`, `{"unknown": 1}`,
		`{"organizations": [{"number": "C1", "name": "Contoso"}]}`,
		`{"organizations": [{"number": "C1", "name": "Con\u0000toso"}]}`,
		`{"organizations": [{"number": "C1", "name": "Con\u202etoso"}]}`,
		`{"agreements": [{"program": "mbsa", "number": "M1", "organization": "C1", "parent": "M1"}]}`,
		`{"agreements": [{"program": "open_license", "number": "V1", "organization": "C1001", "authorization_number": "1234-5678"}]}`,
		`{"products": [{"id": "p", "name": "P", "versions": [{"version": "1", "files": [{"name": "a", "language": "en", "size": -1, "sha256": "", "path": "../x"}]}]}]}`,
		`{"entitlements": [{"agreement": "E2000001", "product": "win-ent", "version": "11 24H2", "edition": ""}]}`,
		`{"keys": [{"agreement": "E2000001", "product": "win-ent", "type": "mak", "key": "ZZZZZ-ZZZZZ", "activation_limit": 1, "activations_used": 2, "activations_as_of": "x"}]}`,
		`{"organizations": [{"number": 1}]}`, `{"keys": [{"activation_limit": 1e400}]}`, "{\"organizations\": [\n{\"number\": \"C1\",\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzImportDecode feeds arbitrary bytes to DecodeImport: it either returns
// an invalid-input Error or a document that survives a JSON round trip.
func FuzzImportDecode(f *testing.F) {
	importSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := models.DecodeImport(bytes.NewReader(data))
		if err != nil {
			if models.ErrorCode(err) != models.CodeInvalid {
				t.Fatalf("DecodeImport(%q): %v, want an invalid-input error", data, err)
			}
			return
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal %+v: %v", doc, err)
		}
		doc2, err := models.DecodeImport(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("decoding the re-encoded document %s: %v", again, err)
		}
		if !reflect.DeepEqual(doc, doc2) {
			t.Fatalf("round trip changed the document:\n%+v\n%+v", doc, doc2)
		}
	})
}

// errFuzzRollback undoes each applied fuzz import, so every input meets the
// same stored data.
var errFuzzRollback = errors.New("rolled back by the fuzz target")

// FuzzImportValidate decodes arbitrary bytes and imports the document into
// a small database holding the valid example. The import either refuses
// it with an invalid-input Error listing its problems, or applies it
// without a database error (and is then rolled back by AfterApply).
func FuzzImportValidate(f *testing.F) {
	importSeeds(f)
	s := modelstest.New(f)
	ctx := context.Background()
	valid, err := os.Open("../testdata/import/valid.json")
	if err != nil {
		f.Fatal(err)
	}
	defer valid.Close()
	doc, err := models.DecodeImport(valid)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Import(ctx, doc, models.ImportOptions{Actor: cli}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := models.DecodeImport(bytes.NewReader(data))
		if err != nil {
			return
		}
		_, err = s.Import(ctx, doc, models.ImportOptions{Actor: cli,
			AfterApply: func(*models.Tx, *models.ImportResult) error { return errFuzzRollback }})
		var e *models.Error
		switch {
		case errors.Is(err, errFuzzRollback):
		case errors.As(err, &e) && e.Code == models.CodeInvalid:
			if len(e.Fields) == 0 {
				t.Fatalf("import of %q refused without naming a problem: %v", data, err)
			}
		default:
			t.Fatalf("import of %q: %v", data, err)
		}
	})
}
