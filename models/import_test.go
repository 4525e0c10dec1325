package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

var cli = models.Actor{Label: "cli"}

func loadValid(t *testing.T) *models.ImportDocument {
	t.Helper()
	f, err := os.Open("../testdata/import/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := models.DecodeImport(f)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustImport(t *testing.T, s *models.Store, doc *models.ImportDocument) *models.ImportResult {
	t.Helper()
	res, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func snap(t *testing.T, s *models.Store) modelstest.Snapshot { return modelstest.Snap(t, s) }

func TestImportRoundTrip(t *testing.T) {
	s := modelstest.New(t)
	res := mustImport(t, s, loadValid(t))

	want := models.ImportResult{
		Organizations: models.ImportCounts{Created: 2},
		Agreements:    models.ImportCounts{Created: 4},
		Contacts:      models.ImportCounts{Created: 2},
		Products:      models.ImportCounts{Created: 1},
		Versions:      models.ImportCounts{Created: 2},
		Files:         models.ImportCounts{Created: 1},
		Entitlements:  models.ImportCounts{Created: 1},
		Keys:          models.ImportCounts{Created: 2},
	}
	if len(res.ContactChanges) != 2 {
		t.Errorf("contact changes %+v, want the two new contacts", res.ContactChanges)
	}
	if len(res.ChangedAgreements) != 4 {
		t.Errorf("changed agreements %v, want all four", res.ChangedAgreements)
	}
	res.ContactChanges, res.ChangedAgreements = nil, nil
	if !reflect.DeepEqual(*res, want) {
		t.Errorf("result\n got %+v\nwant %+v", *res, want)
	}

	var mbsa, ea, ol models.Agreement
	s.DB().Where("number = ?", "M1000001").First(&mbsa)
	s.DB().Where("number = ?", "E2000001").First(&ea)
	s.DB().Where("number = ?", "V3000001").First(&ol)
	if ea.ParentID == nil || *ea.ParentID != mbsa.ID {
		t.Errorf("E2000001 parent = %v, want %d", ea.ParentID, mbsa.ID)
	}
	if ea.Starts.String() != "2026-01-01" || ea.Ends.String() != "2028-12-31" {
		t.Errorf("E2000001 validity %s – %s", ea.Starts, ea.Ends)
	}
	if ol.AuthHash == nil || strings.Contains(*ol.AuthHash, "12345678") {
		t.Errorf("authorization number stored as %v", ol.AuthHash)
	}
	if !s.Keyring().HashEqual("open-license-authorization-number", "12345678", *ol.AuthHash) {
		t.Error("stored hash does not match the authorization number")
	}

	var contacts []models.AgreementContact
	s.DB().Where("agreement_id = ?", mbsa.ID).Order("email").Find(&contacts)
	if len(contacts) != 2 || contacts[0].Email != "it-admin@contoso.example" || contacts[0].Role != models.ContactPrimary {
		t.Errorf("contacts not normalised: %+v", contacts)
	}

	var keys []models.ProductKey
	s.DB().Order("id").Find(&keys)
	if len(keys) != 2 {
		t.Fatalf("%d keys", len(keys))
	}
	mak := keys[0]
	if strings.Contains(string(mak.SealedKey), "AAAAA") {
		t.Error("key material stored in clear")
	}
	if plain, err := s.Keyring().OpenKey(&mak); err != nil || plain != "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE" {
		t.Errorf("OpenKey = %q, %v", plain, err)
	}
	if mak.Suffix != "EEEEE" || *mak.ActivationLimit != 500 || *mak.ActivationsUsed != 120 || mak.ActivationsAsOf == nil {
		t.Errorf("MAK row %+v", mak)
	}
	if keys[1].KeyType != "kms" || keys[1].ActivationLimit != nil {
		t.Errorf("KMS row %+v", keys[1])
	}

	var files []models.ProductFile
	s.DB().Find(&files)
	if len(files) != 1 || files[0].Size != 5400000000 || files[0].Language != "ja" {
		t.Errorf("files %+v", files)
	}

	var ev models.AuditEvent
	if err := s.DB().Where("kind = ?", models.AuditImport).First(&ev).Error; err != nil {
		t.Fatalf("no import audit event: %v", err)
	}
	var details models.ImportResult
	if err := json.Unmarshal([]byte(ev.Details), &details); err != nil || ev.Actor != "cli" || details.Agreements.Created != 4 {
		t.Errorf("audit event %+v (%v)", ev, err)
	}
	st, err := s.Status(context.Background())
	if err != nil || st.Agreements != 4 || st.Keys != 2 || st.LastImport == nil {
		t.Errorf("status %+v, %v", st, err)
	}
}

func TestImportIsIdempotent(t *testing.T) {
	s := modelstest.New(t)
	mustImport(t, s, loadValid(t))
	before := snap(t, s)
	if len(before.Agreements) != 4 || len(before.Keys) != 2 || len(before.Contacts) != 2 || len(before.Files) != 1 {
		t.Fatalf("snapshot does not see every table: %d agreements, %d keys, %d contacts, %d files",
			len(before.Agreements), len(before.Keys), len(before.Contacts), len(before.Files))
	}
	res := mustImport(t, s, loadValid(t))
	after := snap(t, s)
	for name, c := range map[string]models.ImportCounts{
		"organizations": res.Organizations, "agreements": res.Agreements, "contacts": res.Contacts,
		"products": res.Products, "versions": res.Versions, "files": res.Files,
		"entitlements": res.Entitlements, "keys": res.Keys,
	} {
		if c.Created != 0 || c.Updated != 0 || c.Removed != 0 || c.Unchanged == 0 {
			t.Errorf("%s on re-import: %+v", name, c)
		}
	}
	if len(res.ContactChanges) != 0 || len(res.ChangedAgreements) != 0 {
		t.Errorf("changes on re-import: %+v, %v", res.ContactChanges, res.ChangedAgreements)
	}
	if len(after.Audit) != len(before.Audit)+1 {
		t.Errorf("audit events %d → %d, want one more", len(before.Audit), len(after.Audit))
	}
	after.Audit = before.Audit
	if !reflect.DeepEqual(before, after) {
		t.Error("re-importing the same document changed stored rows")
	}
}

func TestImportUpdatesChangedRecords(t *testing.T) {
	s := modelstest.New(t)
	mustImport(t, s, loadValid(t))

	doc := loadValid(t)
	doc.Organizations[0].Name = "Contoso Japan KK"
	doc.Agreements[0].Contacts = []models.ImportContact{{Email: "it-admin@contoso.example", Role: "primary"}, {Email: "new-admin@contoso.example", Role: "online_admin"}}
	doc.Agreements[1].Ends = "2029-12-31"
	doc.Agreements[2].Parent = ""
	used := int64(130)
	doc.Keys[0].ActivationsUsed = &used
	doc.Entitlements = append(doc.Entitlements, models.ImportEntitlement{Agreement: "S2000002", Product: "win-ent", Version: "10 22H2"})
	res := mustImport(t, s, doc)

	if res.Organizations.Updated != 1 || res.Agreements.Updated != 2 || res.Keys.Updated != 1 || res.Entitlements.Created != 1 {
		t.Errorf("result %+v", res)
	}
	if res.Contacts.Created != 1 || res.Contacts.Removed != 1 || res.Contacts.Unchanged != 1 {
		t.Errorf("contacts %+v", res.Contacts)
	}
	changes := map[string]bool{}
	for _, c := range res.ContactChanges {
		changes[c.Email] = c.Added
	}
	if added, ok := changes["new-admin@contoso.example"]; !ok || !added {
		t.Errorf("contact changes %+v: new-admin not added", res.ContactChanges)
	}
	if added, ok := changes["notices@contoso.example"]; !ok || added {
		t.Errorf("contact changes %+v: notices not removed", res.ContactChanges)
	}

	var sp models.Agreement
	s.DB().Where("number = ?", "S2000002").First(&sp)
	if sp.ParentID != nil {
		t.Errorf("parent not removed: %v", *sp.ParentID)
	}
	var k models.ProductKey
	s.DB().Where("suffix = ?", "EEEEE").First(&k)
	if *k.ActivationsUsed != 130 {
		t.Errorf("activations used %d", *k.ActivationsUsed)
	}
	if plain, err := s.Keyring().OpenKey(&k); err != nil || plain != "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE" {
		t.Errorf("key material after update: %q, %v", plain, err)
	}
}

func TestImportDryRunChangesNothing(t *testing.T) {
	s := modelstest.New(t)
	before := snap(t, s)
	res, err := s.Import(context.Background(), loadValid(t), models.ImportOptions{Actor: cli, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Agreements.Created != 4 {
		t.Errorf("dry run result %+v", res)
	}
	if after := snap(t, s); !reflect.DeepEqual(before, after) {
		t.Error("dry run changed the database")
	}
}

func TestImportValidation(t *testing.T) {
	s := modelstest.New(t)
	i64 := func(n int64) *int64 { return &n }
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name   string
		edit   func(d *models.ImportDocument)
		field  string
		phrase string
	}{
		{"org number missing", func(d *models.ImportDocument) { d.Organizations[0].Number = "" }, "organizations[0].number", "missing"},
		{"org number bad", func(d *models.ImportDocument) { d.Organizations[0].Number = "C 1" }, "organizations[0].number", "letters, digits"},
		{"org duplicate", func(d *models.ImportDocument) { d.Organizations[1].Number = "C1001" }, "organizations[1].number", "listed twice"},
		{"org name missing", func(d *models.ImportDocument) { d.Organizations[0].Name = " " }, "organizations[0].name", "name"},
		{"program unknown", func(d *models.ImportDocument) { d.Agreements[1].Program = "retail" }, "agreements[1].program", "not a program"},
		{"agreement number missing", func(d *models.ImportDocument) { d.Agreements[1].Number = "" }, "agreements[1].number", "missing"},
		{"agreement duplicate", func(d *models.ImportDocument) { d.Agreements[2].Number = "E2000001" }, "agreements[2].number", "listed twice"},
		{"organization missing", func(d *models.ImportDocument) { d.Agreements[1].Organization = "" }, "agreements[1].organization", "give the number"},
		{"organization unknown", func(d *models.ImportDocument) { d.Agreements[1].Organization = "C9" }, "agreements[1].organization", `organization "C9" not found`},
		{"parent unknown", func(d *models.ImportDocument) { d.Agreements[1].Parent = "M999" }, "agreements[1].parent", `agreement "M999" not found`},
		{"parent not mbsa", func(d *models.ImportDocument) { d.Agreements[2].Parent = "E2000001" }, "agreements[2].parent", "must be an mbsa"},
		{"parent on open license", func(d *models.ImportDocument) { d.Agreements[3].Parent = "M1000001" }, "agreements[3].parent", "cannot have a parent"},
		{"bad start date", func(d *models.ImportDocument) { d.Agreements[1].Starts = "2026-13-01" }, "agreements[1].starts", "YYYY-MM-DD"},
		{"ends before starts", func(d *models.ImportDocument) { d.Agreements[1].Ends = "2025-01-01" }, "agreements[1].ends", "before starts"},
		{"auth number missing", func(d *models.ImportDocument) { d.Agreements[3].AuthorizationNumber = "" }, "agreements[3].authorization_number", "needs its authorization number"},
		{"auth number on enterprise", func(d *models.ImportDocument) { d.Agreements[1].AuthorizationNumber = "1234" }, "agreements[1].authorization_number", "only open_license"},
		{"auth number malformed", func(d *models.ImportDocument) { d.Agreements[3].AuthorizationNumber = "12" }, "agreements[3].authorization_number", "4 to 64"},
		{"contact email", func(d *models.ImportDocument) { d.Agreements[0].Contacts[0].Email = "not-an-email" }, "agreements[0].contacts[0].email", "not an email"},
		{"contact email with name", func(d *models.ImportDocument) { d.Agreements[0].Contacts[0].Email = "Bob <b@x.example>" }, "agreements[0].contacts[0].email", "not an email"},
		{"contact role", func(d *models.ImportDocument) { d.Agreements[0].Contacts[1].Role = "owner" }, "agreements[0].contacts[1].role", "not a contact role"},
		{"contact duplicate", func(d *models.ImportDocument) {
			d.Agreements[0].Contacts[1] = models.ImportContact{Email: "it-admin@contoso.example", Role: "primary"}
		}, "agreements[0].contacts[1]", "already listed"},
		{"product id", func(d *models.ImportDocument) { d.Products[0].ID = "Win Ent" }, "products[0].id", "lower-case"},
		{"product name", func(d *models.ImportDocument) { d.Products[0].Name = "" }, "products[0].name", "name"},
		{"version missing", func(d *models.ImportDocument) { d.Products[0].Versions[1].Version = "" }, "products[0].versions[1].version", "give the version"},
		{"version duplicate", func(d *models.ImportDocument) { d.Products[0].Versions[1].Version = "11 24H2" }, "products[0].versions[1]", "listed twice"},
		{"released date", func(d *models.ImportDocument) { d.Products[0].Versions[0].Released = "Oct 2024" }, "products[0].versions[0].released", "YYYY-MM-DD"},
		{"file name", func(d *models.ImportDocument) { d.Products[0].Versions[0].Files[0].Name = "a/b.iso" }, "products[0].versions[0].files[0].name", "without '/'"},
		{"file language", func(d *models.ImportDocument) { d.Products[0].Versions[0].Files[0].Language = "japanese!" }, "products[0].versions[0].files[0].language", "not a language tag"},
		{"file size", func(d *models.ImportDocument) { d.Products[0].Versions[0].Files[0].Size = -1 }, "products[0].versions[0].files[0].size", "negative"},
		{"file sha256", func(d *models.ImportDocument) { d.Products[0].Versions[0].Files[0].SHA256 = "abc" }, "products[0].versions[0].files[0].sha256", "64 hexadecimal"},
		{"file path escapes", func(d *models.ImportDocument) { d.Products[0].Versions[0].Files[0].Path = "../etc/passwd" }, "products[0].versions[0].files[0].path", "relative"},
		{"file path absolute", func(d *models.ImportDocument) { d.Products[0].Versions[0].Files[0].Path = "/etc/passwd" }, "products[0].versions[0].files[0].path", "relative"},
		{"entitlement agreement", func(d *models.ImportDocument) { d.Entitlements[0].Agreement = "E404" }, "entitlements[0].agreement", `agreement "E404" not found`},
		{"entitlement product", func(d *models.ImportDocument) { d.Entitlements[0].Product = "office" }, "entitlements[0].product", `product "office" not found`},
		{"entitlement version", func(d *models.ImportDocument) { d.Entitlements[0].Version = "12" }, "entitlements[0].version", `no version "12"`},
		{"entitlement edition", func(d *models.ImportDocument) { d.Entitlements[0].Edition = str("Pro") }, "entitlements[0].version", `in edition "Pro"`},
		{"key agreement", func(d *models.ImportDocument) { d.Keys[0].Agreement = "E404" }, "keys[0].agreement", "not found"},
		{"key product", func(d *models.ImportDocument) { d.Keys[0].Product = "office" }, "keys[0].product", "not found"},
		{"key type", func(d *models.ImportDocument) { d.Keys[0].Type = "MAK key" }, "keys[0].type", "not a key type"},
		{"key material", func(d *models.ImportDocument) { d.Keys[0].Key = "AB CD" }, "keys[0].key", "no spaces"},
		{"mak without limit", func(d *models.ImportDocument) { d.Keys[0].ActivationLimit = nil }, "keys[0].activation_limit", "needs its activation limit"},
		{"negative used", func(d *models.ImportDocument) { d.Keys[0].ActivationsUsed = i64(-1) }, "keys[0].activations_used", "negative"},
		{"used over limit", func(d *models.ImportDocument) { d.Keys[0].ActivationsUsed = i64(501) }, "keys[0].activations_used", "exceed the limit"},
		{"as-of time", func(d *models.ImportDocument) { d.Keys[0].ActivationsAsOf = "yesterday" }, "keys[0].activations_as_of", "not a time"},
		{"key duplicate", func(d *models.ImportDocument) { d.Keys[1] = d.Keys[0] }, "keys[1].key", "listed twice"},
	} {
		// Every case must leave the database as it was, so they share one.
		t.Run(tc.name, func(t *testing.T) {
			doc := loadValid(t)
			tc.edit(doc)
			before := snap(t, s)
			_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
			var e *models.Error
			if !errors.As(err, &e) || e.Code != models.CodeInvalid {
				t.Fatalf("error %v, want an invalid-input error", err)
			}
			found := false
			for _, f := range e.Fields {
				if f.Field == tc.field && strings.Contains(f.Message, tc.phrase) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem %s containing %q in:\n%v", tc.field, tc.phrase, err)
			}
			if !strings.Contains(e.Message, "nothing was changed") {
				t.Errorf("message %q does not say nothing was changed", e.Message)
			}
			if after := snap(t, s); !reflect.DeepEqual(before, after) || len(after.Orgs) != 0 {
				t.Error("a failed import changed the database")
			}
		})
	}
}

// TestImportAllOrNothing imports a good document, then one that changes
// many records and has a single bad one: nothing of the second may stick.
func TestImportAllOrNothing(t *testing.T) {
	s := modelstest.New(t)
	mustImport(t, s, loadValid(t))
	before := snap(t, s)
	doc := loadValid(t)
	doc.Organizations = append(doc.Organizations, models.ImportOrganization{Number: "C3003", Name: "Northwind"})
	doc.Agreements[1].Name = "renamed"
	used := int64(499)
	doc.Keys[0].ActivationsUsed = &used
	doc.Keys = append(doc.Keys, models.ImportKey{Agreement: "E2000001", Product: "win-ent", Type: "mak", Key: "ZZZZZ-ZZZZZ"}) // no limit
	_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
	if models.ErrorCode(err) != models.CodeInvalid || !strings.Contains(err.Error(), "keys[2].activation_limit") {
		t.Fatalf("error %v", err)
	}
	if after := snap(t, s); !reflect.DeepEqual(before, after) {
		t.Error("part of a rejected import was applied")
	}
}

func TestImportReportsEveryProblem(t *testing.T) {
	s := modelstest.New(t)
	doc := loadValid(t)
	doc.Agreements[1].Parent = "M999"
	doc.Keys[0].Type = ""
	_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
	msg := err.Error()
	if !strings.Contains(msg, `agreements[1].parent: agreement "M999" not found`) || !strings.Contains(msg, "keys[0].type") {
		t.Errorf("error does not list both problems:\n%s", msg)
	}
	if !strings.Contains(msg, "2 problems") {
		t.Errorf("error does not count the problems:\n%s", msg)
	}
}

func TestImportAcrossDocuments(t *testing.T) {
	// A later document may refer to agreements and products stored earlier.
	s := modelstest.New(t)
	mustImport(t, s, loadValid(t))
	doc := &models.ImportDocument{
		Agreements: []models.ImportAgreement{{Program: "enterprise", Number: "E2000009", Organization: "C1001", Parent: "M1000001"}},
		Entitlements: []models.ImportEntitlement{
			{Agreement: "E2000009", Product: "win-ent", Version: "10 22H2"},
		},
		Keys: []models.ImportKey{{Agreement: "V3000001", Product: "win-ent", Type: "kms", Key: "QQQQQ-RRRRR"}},
	}
	res := mustImport(t, s, doc)
	if res.Agreements.Created != 1 || res.Entitlements.Created != 1 || res.Keys.Created != 1 {
		t.Errorf("result %+v", res)
	}
	// The Open License keeps its authorization number when a document omits it.
	doc = &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "open_license", Number: "V3000001", Organization: "C2002"}}}
	if res := mustImport(t, s, doc); res.Agreements.Unchanged != 1 {
		t.Errorf("re-listing an Open License without its number: %+v", res.Agreements)
	}
	// The program of a stored agreement cannot change.
	doc = &models.ImportDocument{Agreements: []models.ImportAgreement{{Program: "open_value", Number: "E2000009", Organization: "C1001"}}}
	if _, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli}); !strings.Contains(fmtErr(err), "agreements[0].program") {
		t.Errorf("program change: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestDecodeImportErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"syntax", "{\n  \"organizations\": [\n    {\"number\": \"C1\",}\n  ]\n}", "line 3"},
		{"type", "{\"organizations\": [{\"number\": 1001}]}", "expected a string, found a JSON number"},
		{"unknown field", "{\"organisations\": []}", `unknown field "organisations"`},
		{"trailing data", "{} {}", "unexpected data after"},
		{"truncated", "{\"organizations\": [", "line 1"},
		{"not an object", "[1,2]", "expected an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := models.DecodeImport(strings.NewReader(tc.in))
			if models.ErrorCode(err) != models.CodeInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want invalid containing %q", err, tc.want)
			}
		})
	}
}

// TestImportAfterApplyFailureRollsBack makes the AfterApply hook write in
// the import's transaction and then fail: neither the import, nor the
// hook's write, nor the import's audit event may remain.
func TestImportAfterApplyFailureRollsBack(t *testing.T) {
	boom := errors.New("contact grants failed")
	for _, tc := range []struct {
		name  string
		first bool // import the valid document before the failing one
	}{{"empty database", false}, {"over a stored import", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := modelstest.New(t)
			if tc.first {
				mustImport(t, s, loadValid(t))
			}
			before := snap(t, s)
			doc := loadValid(t)
			doc.Organizations = append(doc.Organizations, models.ImportOrganization{Number: "C3003", Name: "Northwind"})
			doc.Agreements[1].Name = "renamed"
			called := false
			_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli,
				AfterApply: func(tx *models.Tx, res *models.ImportResult) error {
					called = true
					if err := tx.AppendAudit(cli, models.AuditImport, nil, res); err != nil {
						return err
					}
					return boom
				}})
			if !errors.Is(err, boom) {
				t.Fatalf("error %v, want the hook's", err)
			}
			if !called {
				t.Fatal("AfterApply was not called")
			}
			if after := snap(t, s); !reflect.DeepEqual(before, after) {
				t.Errorf("an import whose AfterApply failed left changes:\nbefore %d orgs, %d audit events\n after %d orgs, %d audit events",
					len(before.Orgs), len(before.Audit), len(after.Orgs), len(after.Audit))
			}
		})
	}
}

// TestImportRefusesControlAndBidiText puts a NUL, a right-to-left override
// or a line break in free-text fields: the import is refused with each field
// named by its JSON path (once), and nothing is stored.
func TestImportRefusesControlAndBidiText(t *testing.T) {
	s := modelstest.New(t)
	before := snap(t, s)
	doc := loadValid(t)
	doc.Organizations[0].Name = "Contoso\x00Ltd"
	doc.Agreements[1].Name = "Enterprise \u202eevil"
	doc.Agreements[0].Number = "M1000001\u2066"
	doc.Products[0].Name = "Windows\n11"
	doc.Products[0].Versions[0].Files[0].Name = "ja\u202d.iso"
	_, err := s.Import(context.Background(), doc, models.ImportOptions{Actor: cli})
	var e *models.Error
	if !errors.As(err, &e) || e.Code != models.CodeInvalid {
		t.Fatalf("error %v, want invalid input", err)
	}
	count := map[string]int{}
	for _, f := range e.Fields {
		count[f.Field]++
	}
	for _, field := range []string{"organizations[0].name", "agreements[1].name", "agreements[0].number", "products[0].name", "products[0].versions[0].files[0].name"} {
		if count[field] != 1 {
			t.Errorf("%s reported %d times, want once:\n%s", field, count[field], fmtErr(err))
		}
	}
	if after := snap(t, s); !reflect.DeepEqual(before, after) {
		t.Error("a refused import changed the database")
	}
	// Surrounding white space is trimmed before the rule applies.
	doc = loadValid(t)
	doc.Organizations[0].Name = "\tContoso\n"
	mustImport(t, s, doc)
}
