package frontend

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// fakeDesk is an OperatorDesk that records what it was asked.
type fakeDesk struct {
	mu        sync.Mutex
	appointed []string // "licence email"
	imports   []bool   // dryRun of each import
	sources   []string
}

func (d *fakeDesk) Unadministered(_ context.Context, _ int64, _ int) ([]app.Unadministered, error) {
	return []app.Unadministered{
		{Licence: "OL-1", Program: models.ProgramOpenLicense, Organization: "C9", FailedRequests: []app.FailedView{
			{ID: 7, Requester: "req@fabrikam.example", Reason: app.FailureNoAdministrator, At: "2026-03-14 09:00 UTC"},
			{ID: 8, Requester: "", Reason: "something new", At: "2026-03-15 10:00 UTC"},
		}},
		{Licence: "V-9", Program: models.ProgramOpenValue, Organization: "C9"},
	}, nil
}

func (d *fakeDesk) Appoint(_ context.Context, _ int64, licence, email string) error {
	switch {
	case !strings.Contains(email, "@"):
		return models.Invalid("Enter an email address such as name@company.example.", models.FieldError{Field: "email", Message: "not an email address"})
	case licence == "V-9":
		return models.Errorf(models.CodeConflict, "Licence %s has an administrator already; its administrators add others.", licence)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.appointed = append(d.appointed, licence+" "+email)
	return nil
}

func (d *fakeDesk) Search(_ context.Context, _ int64, q string) (*app.SearchResult, error) {
	if len(strings.TrimSpace(q)) < 2 {
		return nil, models.Invalid("Search for at least two characters.", models.FieldError{Field: "q", Message: "too short"})
	}
	return &app.SearchResult{
		Licences: []app.LicenceView{{Number: "OL-1", Program: models.ProgramOpenLicense, Name: "Fabrikam OL", Starts: "2026-01-01", Ends: "2027-12-31"}},
		Users:    []app.UserView{{ID: 42, Name: "Fab <Admin>", WorkEmail: "fab@fabrikam.example", Verified: true}},
	}, nil
}

func (d *fakeDesk) Import(_ context.Context, _ int64, doc *models.ImportDocument, dryRun bool, source string) (*models.ImportResult, error) {
	d.mu.Lock()
	d.imports = append(d.imports, dryRun)
	d.sources = append(d.sources, source)
	d.mu.Unlock()
	for i, a := range doc.Agreements {
		if a.Organization == "" {
			return nil, models.Invalid("The import document has 1 problem; nothing was imported.",
				models.FieldError{Field: "agreements[" + string(rune('0'+i)) + "].organization", Message: "required"})
		}
	}
	return &models.ImportResult{DryRun: dryRun, Organizations: models.ImportCounts{Created: len(doc.Organizations)},
		Agreements: models.ImportCounts{Created: len(doc.Agreements), Updated: 1234}}, nil
}

const operatorID = 1

func newOperatorEnv(t *testing.T) (*testServer, *fakeDesk) {
	t.Helper()
	s := newTestServer(t, Options{})
	desk := &fakeDesk{}
	s.ui.MountOperator(s.engine.Group("/", fakeSession), desk, func(user int64) bool { return user == operatorID })
	return s, desk
}

const (
	asOperator = "X-Test-User: 1"
	asOther    = "X-Test-User: 2"
)

func TestOperatorDesk(t *testing.T) {
	s, desk := newOperatorEnv(t)

	t.Run("NotOperator", func(t *testing.T) {
		for _, target := range []string{"/operator", "/operator/import"} {
			rec := s.get(t, target, asOther)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("%s: status %d", target, rec.Code)
			}
			mustContain(t, rec.Body.String(), "<h1>Access denied</h1>", "This page is for the service center&#39;s operators.")
			mustNotContain(t, rec.Body.String(), "OL-1")
		}
		rec := s.get(t, "/operator", asOther, "Accept-Language: ja")
		mustContain(t, rec.Body.String(), "このページはサービス センターのオペレーター専用です。")
		rec = s.post(t, "/operator/licences/OL-1/appoint", url.Values{"email": {"x@fabrikam.example"}}, asOther)
		if rec.Code != http.StatusForbidden || len(desk.appointed) != 0 {
			t.Fatalf("appoint by a non-operator: %d, %v", rec.Code, desk.appointed)
		}
		rec = s.get(t, "/operator")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/signin?") {
			t.Errorf("signed out: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})

	t.Run("Queue", func(t *testing.T) {
		rec := s.get(t, "/operator", asOperator)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "<h1>Operators&#39; desk</h1>", "Licences without administrator",
			`<h3 id="lic-OL-1">OL-1 <span class="hint">Open License · customer C9</span></h3>`,
			"<td>req@fabrikam.example</td>", "<td>The licence has no administrator</td>", "<td>2026-03-14 09:00 UTC</td>",
			"<td>(unknown)</td>", "<td>something new</td>",
			`<form method="post" action="/operator/licences/OL-1/appoint"`, `<label for="appoint-OL-1">`,
			`<form method="get" action="/operator"`, `href="/operator/import"`,
			"No failed requests for this licence.")
		mustNotContain(t, rec.Body.String(), "<style", "style=", "<script>", "onclick")

		rec = s.get(t, "/operator", asOperator, "Accept-Language: ja")
		mustContain(t, rec.Body.String(), "<h1>オペレーター デスク</h1>", "管理者がいないライセンス", "最初の管理者を任命", "ライセンスに管理者がいない")
	})

	t.Run("Appoint", func(t *testing.T) {
		rec := s.post(t, "/operator/licences/OL-1/appoint", url.Values{"email": {"boss@fabrikam.example"}}, asOperator)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		loc := rec.Header().Get("Location")
		if loc != "/operator?appointed=OL-1&to=boss%40fabrikam.example" || len(desk.appointed) != 1 || desk.appointed[0] != "OL-1 boss@fabrikam.example" {
			t.Fatalf("Location %q, appointed %v", loc, desk.appointed)
		}
		mustContain(t, s.get(t, loc, asOperator).Body.String(), `role="status"`, "boss@fabrikam.example was appointed administrator of licence OL-1.")

		rec = s.post(t, "/operator/licences/V-9/appoint", url.Values{"email": {"x@fabrikam.example"}}, asOperator)
		if rec.Code != http.StatusConflict {
			t.Fatalf("conflict: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), `role="alert"`, "Licence V-9: the administrator was not appointed.", "has an administrator already",
			`value="x@fabrikam.example" aria-invalid="true" aria-describedby="appoint-error"`)

		rec = s.post(t, "/operator/licences/OL-1/appoint", url.Values{"email": {"nope"}}, asOperator, "Accept-Language: ja")
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("invalid: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "name@company.example のようにメール アドレスを入力してください。")
	})

	t.Run("Search", func(t *testing.T) {
		rec := s.get(t, "/operator?q=fab", asOperator)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "Results for “fab”", `<th scope="row">OL-1</th>`, "Fabrikam OL", "2026-01-01 – 2027-12-31",
			"Fab &lt;Admin&gt;", "fab@fabrikam.example", `href="/audit?actor_id=42"`, `name="q" type="search"`, `value="fab"`)
		rec = s.get(t, "/operator?q=f", asOperator)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("short: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), `aria-invalid="true"`, "Search for at least two characters.", "OL-1")
	})
}

// hiddenValue returns the value of the hidden field name in body.
func hiddenValue(t *testing.T, body, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `<input type="hidden" name="`+name+`" value="`)
	v, _, ok2 := strings.Cut(rest, `"`)
	if !ok || !ok2 {
		t.Fatalf("no hidden field %s", name)
	}
	return html.UnescapeString(v)
}

// upload posts a multipart form with the file part document (when name is
// not empty) and the fields.
func upload(t *testing.T, s *testServer, target, name string, content []byte, fields map[string]string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if name != "" {
		part, err := w.CreateFormFile("document", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, target, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	s.engine.ServeHTTP(rec, req)
	return rec
}

func TestOperatorImport(t *testing.T) {
	s, desk := newOperatorEnv(t)
	valid := []byte(`{"organizations": [{"number": "C9", "name": "Fabrikam"}], "agreements": [{"program": "open_value", "number": "V-9", "organization": "C9"}]}`)

	t.Run("Form", func(t *testing.T) {
		rec := s.get(t, "/operator/import", asOperator)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "<h1>Import agreement data</h1>", `enctype="multipart/form-data"`,
			`<input id="import-file" name="document" type="file" accept=".json,application/json" required`)
		mustContain(t, s.get(t, "/operator/import", asOperator, "Accept-Language: ja").Body.String(), "契約データのインポート")
	})

	t.Run("DryRunThenApply", func(t *testing.T) {
		desk.imports = nil
		rec := upload(t, s, "/operator/import", "contoso.json", valid, nil, asOperator)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		body := rec.Body.String()
		mustContain(t, body, "What the import would change (dry run: nothing has changed yet)",
			`<th scope="row">Organisations</th>`, "<td>1,234</td>", "File contoso.json.",
			`<form method="post" action="/operator/import?apply=1" enctype="multipart/form-data"`, "Apply the import")
		if len(desk.imports) != 1 || !desk.imports[0] {
			t.Fatalf("imports %v, want one dry run", desk.imports)
		}
		fields := map[string]string{"document": hiddenValue(t, body, "document"), "sha256": hiddenValue(t, body, "sha256"),
			"file_name": hiddenValue(t, body, "file_name")}

		// A damaged document is refused before anything runs.
		bad := map[string]string{"document": fields["document"][:len(fields["document"])-4], "sha256": fields["sha256"]}
		rec = upload(t, s, "/operator/import?apply=1", "", nil, bad, asOperator)
		if rec.Code != http.StatusBadRequest || len(desk.imports) != 1 {
			t.Fatalf("damaged: status %d, imports %v", rec.Code, desk.imports)
		}
		mustContain(t, rec.Body.String(), "The document to apply was damaged on the way.")

		rec = upload(t, s, "/operator/import?apply=1", "", nil, fields, asOperator)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("apply: status %d\n%s", rec.Code, rec.Body.String())
		}
		if len(desk.imports) != 2 || desk.imports[1] {
			t.Fatalf("imports %v, want a dry run and then an apply", desk.imports)
		}
		loc := rec.Header().Get("Location")
		if !strings.HasPrefix(loc, "/operator/import?") || !strings.Contains(loc, "agreements=1.1234.0.0") {
			t.Fatalf("Location %q", loc)
		}
		rec = s.get(t, loc, asOperator)
		mustContain(t, rec.Body.String(), `role="status">The import was applied.`, "What the import changed", "<td>1,234</td>", fields["sha256"])
		mustNotContain(t, rec.Body.String(), "Apply the import")
	})

	t.Run("Invalid", func(t *testing.T) {
		rec := upload(t, s, "/operator/import", "bad.json", []byte(`{"agreements": [{"program": "open_value", "number": "X"}]}`), nil, asOperator)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), `role="alert"`, "The document was not imported", "Problems found: 1",
			"<td><code>agreements[0].organization</code></td>", "<td>required</td>")
		mustNotContain(t, rec.Body.String(), "Apply the import")

		rec = upload(t, s, "/operator/import", "broken.json", []byte("{\n  \"organizations\": [,]\n}"), nil, asOperator, "Accept-Language: ja")
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("malformed: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "ドキュメントはインポートされませんでした", "line 2")

		rec = upload(t, s, "/operator/import", "", nil, map[string]string{"x": "y"}, asOperator)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("no file: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "Choose an import document (.json) to upload.")

		big := bytes.Repeat([]byte(" "), maxImportDocument+1)
		rec = upload(t, s, "/operator/import", "big.json", big, nil, asOperator)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("too large: status %d", rec.Code)
		}
		mustContain(t, rec.Body.String(), "larger than 16 MiB")
	})
}

// TestOperatorImportLarge checks that a document close to the cap survives
// the round trip through the Apply form. It is slow under the race
// detector (about ten seconds), so -short skips it.
func TestOperatorImportLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("a 16 MiB round trip; run without -short")
	}
	s, desk := newOperatorEnv(t)
	// Close to the cap: the Apply form must carry it back.
	doc := append(append([]byte(`{"organizations": [{"number": "C9", "name": "Fabrikam"}]`), bytes.Repeat([]byte(" "), maxImportDocument-200)...), '}')
	rec := upload(t, s, "/operator/import", "large.json", doc, nil, asOperator)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	fields := map[string]string{"document": hiddenValue(t, body, "document"), "sha256": hiddenValue(t, body, "sha256")}
	rec = upload(t, s, "/operator/import?apply=1", "", nil, fields, asOperator)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("apply: status %d\n%.2000s", rec.Code, rec.Body.String())
	}
	if len(desk.imports) != 2 || !desk.imports[0] || desk.imports[1] {
		t.Errorf("imports %v, want a dry run and then an apply", desk.imports)
	}
}
