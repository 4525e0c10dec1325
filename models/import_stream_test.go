package models_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// importJSON imports doc through ImportJSON, as `openlsc import` does.
func importJSON(t *testing.T, s *models.Store, doc string, opts models.ImportOptions) (*models.ImportResult, error) {
	t.Helper()
	opts.Actor = cli
	return s.ImportJSON(context.Background(), strings.NewReader(doc), opts)
}

// TestImportJSONKeysInBatches imports more keys than one batch holds: a
// problem in the last batch, or a key repeated from the first batch,
// leaves nothing of the earlier batches stored; the clean document stores
// them all, and its records are counted for the progress display.
func TestImportJSONKeysInBatches(t *testing.T) {
	s := modelstest.New(t)
	var b bytes.Buffer
	if err := modelstest.WriteLargeImport(&b, 300, 4); err != nil { // 1,200 keys
		t.Fatal(err)
	}
	good := b.String()
	empty := snap(t, s)
	for _, tc := range []struct{ name, doc, want string }{
		{"bad last key", strings.Replace(good, `"KMS00000299-00003-YYYYY"`, `"KMS 299"`, 1), "keys[1199].key: give the product key"},
		{"key repeated", strings.Replace(good, `"KMS00000299-00003-YYYYY"`, `"KMS00000299-00002-YYYYY"`, 1), "keys[1199].key: this key is listed twice for agreement \"A00000299\" and product \"win-ent\" (first at keys[1198])"},
		{"repeated across batches", strings.Replace(good, `"agreement": "A00000299", "product": "win-ent", "type": "kms", "key": "KMS00000299-00003-YYYYY"`,
			`"agreement": "A00000000", "product": "win-ent", "type": "kms", "key": "KMS00000000-00001-YYYYY"`, 1), "(first at keys[1])"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importJSON(t, s, tc.doc, models.ImportOptions{})
			if models.ErrorCode(err) != models.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want invalid with %q", err, tc.want)
			}
			if after := snap(t, s); !reflect.DeepEqual(empty, after) {
				t.Error("a refused import stored some of its batches")
			}
		})
	}
	var seen []int
	res, err := importJSON(t, s, good, models.ImportOptions{Progress: func(n int) { seen = append(seen, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys.Created != 1200 || res.Agreements.Created != 300 || res.Entitlements.Created != 300 {
		t.Errorf("result %+v", res)
	}
	if n := modelstest.Count(t, s, models.ProductKey{}); n != 1200 {
		t.Errorf("%d keys stored, want 1200", n)
	}
	records := 30 + 300 + 1 + 300 + 1200
	if len(seen) == 0 || seen[len(seen)-1] != records {
		t.Errorf("progress %v, want it to end at %d records", seen, records)
	}
	// The same document again changes nothing.
	res, err = importJSON(t, s, good, models.ImportOptions{})
	if err != nil || res.Keys.Unchanged != 1200 || res.Agreements.Unchanged != 300 {
		t.Errorf("re-import: %+v %v", res, err)
	}
}

// TestImportJSONAnyOrder imports documents whose sections come in another
// order than the example's: sections before the agreements and products
// they name wait for them in a spool (a temporary file, left nowhere; or
// memory, without a temporary directory); a keys-only document names
// stored agreements.
func TestImportJSONAnyOrder(t *testing.T) {
	s := modelstest.New(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	doc := loadValid(t)
	var sections []string
	for _, name := range []string{"keys", "orders", "entitlements", "products", "agreements", "organizations"} {
		v := reflect.ValueOf(*doc).FieldByNameFunc(func(f string) bool { return strings.EqualFold(f, name) }).Interface()
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		sections = append(sections, fmt.Sprintf("%q: %s", name, raw))
	}
	reversed := "{" + strings.Join(sections, ",\n") + "}"
	res, err := importJSON(t, s, reversed, models.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := mustImport(t, modelstest.New(t), loadValid(t))
	want.ChangedAgreements, res.ChangedAgreements, want.ContactChanges, res.ContactChanges = nil, nil, nil, nil
	if !reflect.DeepEqual(res, want) {
		t.Errorf("reversed document: %+v\nwant %+v", res, want)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d temporary files left behind", len(left))
	}
	t.Setenv("TMPDIR", "/nonexistent/openlsc-test")
	res, err = importJSON(t, s, reversed, models.ImportOptions{})
	if err != nil || res.Agreements.Unchanged != want.Agreements.Created || res.Keys.Unchanged != want.Keys.Created {
		t.Errorf("reversed document again, held in memory: %+v %v", res, err)
	}
	keysOnly := `{"keys": [{"agreement": "V3000001", "product": "win-ent", "type": "kms", "key": "QQQQQ-RRRRR"},
	                       {"agreement": "E404", "product": "win-ent", "type": "kms", "key": "QQQQQ-SSSSS"}]}`
	if _, err := importJSON(t, s, keysOnly, models.ImportOptions{}); !strings.Contains(fmtErr(err), `keys[1].agreement: agreement "E404" not found`) {
		t.Errorf("keys-only document naming an unknown agreement: %v", err)
	}
	keysOnly = strings.Replace(keysOnly, "E404", "V3000001", 1)
	if res, err := importJSON(t, s, keysOnly, models.ImportOptions{}); err != nil || res.Keys.Created != 2 {
		t.Errorf("keys-only document: %+v %v", res, err)
	}
}

// TestImportJSONDecodeErrors names the line and column, and the record,
// of a malformed document read as a stream.
func TestImportJSONDecodeErrors(t *testing.T) {
	s := modelstest.New(t)
	for _, tc := range []struct{ name, in, want string }{
		{"syntax in a later record", "{\"organizations\": [\n{\"number\": \"C1\", \"name\": \"A\"},\n{\"number\": \"C2\",, \"name\": \"B\"}]}", "line 3, column 18: invalid character ','"},
		{"type", "{\"organizations\": [{\"number\": \"C1\", \"name\": \"A\"},\n  {\"number\": 1001}]}", "line 2, column 18: organizations[1].number: expected a string, found a JSON number"},
		{"unknown field", "{\"keys\": [{\"agreement\": \"A\", \"colour\": 1}]}", `keys[0]: unknown field "colour"`},
		{"section twice", "{\"keys\": [], \"Keys\": []}", `"keys" is listed twice`},
		{"not an array", "{\"keys\": {}}", "keys: expected an array, found a JSON object"},
		{"truncated", "{\"organizations\": [{\"number\": \"C1\"", "the document ends too early"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snap(t, s)
			_, err := importJSON(t, s, tc.in, models.ImportOptions{})
			if models.ErrorCode(err) != models.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want invalid containing %q", err, tc.want)
			}
			if _, derr := models.DecodeImport(strings.NewReader(tc.in)); fmtErr(derr) != fmtErr(err) {
				t.Errorf("DecodeImport says %v, ImportJSON %v", derr, err)
			}
			if after := snap(t, s); !reflect.DeepEqual(before, after) {
				t.Error("a malformed document changed the database")
			}
		})
	}
}

// TestImportJSONAgreementsInBatches imports more MBSAs than one batch
// holds and an enrollment under the last of them: every agreement is
// stored with its own parent, whichever batch stored the parent.
func TestImportJSONAgreementsInBatches(t *testing.T) {
	s := modelstest.New(t)
	var b strings.Builder
	b.WriteString(`{"organizations": [{"number": "C1", "name": "Contoso"}], "agreements": [`)
	const mbsas = 501
	for i := range mbsas {
		fmt.Fprintf(&b, `{"program": "mbsa", "number": "M%d", "organization": "C1"}, `, i)
		fmt.Fprintf(&b, `{"program": "enterprise", "number": "E%d", "organization": "C1", "parent": "M%d"}, `, i, mbsas-1-i)
	}
	b.WriteString(`{"program": "enterprise", "number": "E-last", "organization": "C1", "parent": "M500"}]}`)
	res, err := importJSON(t, s, b.String(), models.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Agreements.Created != 2*mbsas+1 || len(res.ChangedAgreements) != 2*mbsas+1 {
		t.Fatalf("created %d, changed %d, want %d", res.Agreements.Created, len(res.ChangedAgreements), 2*mbsas+1)
	}
	stored, err := s.AgreementsByID(context.Background(), res.ChangedAgreements)
	if err != nil {
		t.Fatal(err)
	}
	byNumber := make(map[string]models.Agreement, len(stored))
	for _, a := range stored {
		byNumber[a.Number] = a
	}
	want := map[string]string{"E-last": "M500"}
	for i := range mbsas {
		want[fmt.Sprintf("E%d", i)] = fmt.Sprintf("M%d", mbsas-1-i)
		if m := byNumber[fmt.Sprintf("M%d", i)]; m.ID == 0 || m.ParentID != nil {
			t.Fatalf("MBSA M%d stored as %+v", i, m)
		}
	}
	for number, parent := range want {
		a, p := byNumber[number], byNumber[parent]
		if a.ID == 0 || p.ID == 0 || a.ParentID == nil || *a.ParentID != p.ID || a.OrganizationID != p.OrganizationID {
			t.Fatalf("%s stored as %+v under %v, want under %s (%d)", number, a, a.ParentID, parent, p.ID)
		}
	}
}

// TestImportJSONParentListedLater imports an enrollment whose MBSA the
// document lists a batch later: the parent is checked at the end of the
// section and stored then, the dry run counts the same, and a parent
// listed later that is no MBSA is refused at the child's path.
func TestImportJSONParentListedLater(t *testing.T) {
	s := modelstest.New(t)
	var filler strings.Builder // a batch of other agreements in between
	for i := range 500 {
		fmt.Fprintf(&filler, `{"program": "mbsa", "number": "F%d", "organization": "C1"},`, i)
	}
	doc := `{"organizations": [{"number": "C1", "name": "Contoso"}], "agreements": [
		{"program": "enterprise", "number": "E1", "organization": "C1", "parent": "M2"},` + filler.String() + `
		{"program": "mbsa", "number": "M1", "organization": "C1"},
		{"program": "mbsa", "number": "M2", "organization": "C1"}]}`
	// parents returns the parent of each agreement res changed, by number.
	parents := func(res *models.ImportResult) map[string]string {
		t.Helper()
		all := snap(t, s).Agreements
		numbers := map[int64]string{}
		for _, a := range all {
			numbers[a.ID] = a.Number
		}
		out := map[string]string{}
		for _, a := range all {
			if slices.Contains(res.ChangedAgreements, a.ID) {
				out[a.Number] = ""
				if a.ParentID != nil {
					out[a.Number] = numbers[*a.ParentID]
				}
			}
		}
		return out
	}
	dry, err := importJSON(t, s, doc, models.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := importJSON(t, s, doc, models.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Agreements != dry.Agreements || res.Agreements.Created != 503 {
		t.Errorf("counted %+v, dry run %+v, want 503 created", res.Agreements, dry.Agreements)
	}
	if got := parents(res); got["E1"] != "M2" || got["M1"] != "" || got["M2"] != "" || len(got) != 503 {
		t.Errorf("E1 under %q, M1 under %q, M2 under %q, %d changed; want E1 under M2 of 503", got["E1"], got["M1"], got["M2"], len(got))
	}

	// listedLast lists the agreement a as the document's last.
	listedLast := func(doc, a string) string { return strings.Replace(doc, "}]}", "}, "+a+"]}", 1) }
	moved := listedLast(strings.Replace(doc, `"parent": "M2"}`, `"parent": "M3"}`, 1), `{"program": "mbsa", "number": "M3", "organization": "C1"}`)
	res, err = importJSON(t, s, moved, models.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (models.ImportCounts{Created: 1, Updated: 1, Unchanged: 502}); res.Agreements != want {
		t.Errorf("moved: counted %+v, want %+v", res.Agreements, want)
	}
	if got, want := parents(res), map[string]string{"E1": "M3", "M3": ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("moved: parents %v, want %v", got, want)
	}

	before := snap(t, s)
	notMBSA := listedLast(strings.Replace(doc, `"parent": "M2"}`, `"parent": "E2"}`, 1), `{"program": "enterprise", "number": "E2", "organization": "C1"}`)
	_, err = importJSON(t, s, notMBSA, models.ImportOptions{})
	if want := `agreements[0].parent: agreement "E2" is enterprise; a parent must be an mbsa`; !strings.Contains(fmtErr(err), want) {
		t.Errorf("error %v, want %q", err, want)
	}
	if after := snap(t, s); !reflect.DeepEqual(before, after) {
		t.Error("a refused import changed the database")
	}
}
