package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

const apiKeyMAK = "38JY4-KJHCK-YKP9W-RJ64B-WFP4D"

// keysEnv serves api.MountKeys on a real store and authorizer; the user
// of a request is named by the X-Test-User header.
type keysEnv struct {
	t     *testing.T
	store *models.Store
	h     http.Handler
	users map[string]int64
	lic   map[string]int64
	az    *authz.Authorizer
}

func newKeysEnv(t *testing.T) *keysEnv {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	store := modelstest.Open(t, modelstest.URL(t), models.Options{Keyring: modelstest.Keyring(t), Now: func() time.Time { return at }})
	limit, used := int64(500), int64(495)
	ent := "Enterprise"
	doc := &models.ImportDocument{
		Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}},
		Agreements: []models.ImportAgreement{
			{Program: "open_value", Number: "V1", Organization: "C1"},
			{Program: "open_value", Number: "V2", Organization: "C1"},
		},
		Products:     []models.ImportProduct{{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}}},
		Entitlements: []models.ImportEntitlement{{Agreement: "V1", Product: "win-ent", Version: "11", Edition: &ent}},
		Keys: []models.ImportKey{
			{Agreement: "V1", Product: "win-ent", Type: "mak", Key: apiKeyMAK, ActivationLimit: &limit, ActivationsUsed: &used},
			{Agreement: "V1", Product: "win-ent", Type: "kms", Key: "FRTRY-48GWV-JV3DP-M8RTD-92W3X"},
			{Agreement: "V2", Product: "win-ent", Type: "mak", Key: "GK7H9-KVRQG-7X6Q9-Q4RHV-8663Y", ActivationLimit: &limit},
		},
	}
	if _, err := store.Import(ctx, doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
		t.Fatal(err)
	}
	env := &keysEnv{t: t, store: store, users: map[string]int64{}, lic: map[string]int64{}}
	for _, a := range modelstest.Find(t, store, models.Agreement{}) {
		env.lic[a.Number] = a.ID
	}
	for _, name := range []string{"operator", "admin", "reader", "viewer", "downloader", "stranger", "unverified"} {
		email := name + "@contoso.example"
		u := models.User{DisplayName: name, Language: "en", WorkEmail: &email, CreatedAt: at, UpdatedAt: at}
		if name != "unverified" {
			u.WorkEmailVerifiedAt = &at
		}
		modelstest.Create(t, store, &u)
		env.users[name] = u.ID
	}
	az, err := authz.New(ctx, store, authz.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	v1 := env.lic["V1"]
	err = store.InTx(ctx, func(tx *models.Tx) error {
		for _, g := range []struct {
			user string
			lic  *int64
			perm models.Permission
		}{
			{"operator", nil, models.PermOperator},
			{"admin", &v1, models.PermAdministrator},
			{"reader", &v1, models.PermKeyReader},
			{"viewer", &v1, models.PermLicenseViewer},
			{"downloader", &v1, models.PermDownloadManager},
			{"unverified", &v1, models.PermAdministrator},
		} {
			if err := az.Grant(tx, models.Actor{Label: "system"}, env.users[g.user], g.lic, g.perm, models.SourceDirect); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(func(c *gin.Context) {
		if v := c.GetHeader("X-Test-User"); v != "" {
			id, _ := strconv.ParseInt(v, 10, 64)
			identity := id + 1000
			sess := &app.Session{Record: &models.Session{UserID: &id, IdentityID: &identity}}
			c.Request = c.Request.WithContext(app.WithSession(c.Request.Context(), sess))
		}
	})
	v1g := e.Group("/api/v1")
	// Routes the server registers beside these, so that conflicts show.
	v1g.GET("/licences/:licence", func(c *gin.Context) { c.Status(http.StatusTeapot) })
	v1g.GET("/licences/:licence/users", func(c *gin.Context) { c.Status(http.StatusTeapot) })
	v1g.GET("/operator/search", func(c *gin.Context) { c.Status(http.StatusTeapot) })
	guard := authz.Guard{Authorizer: az, Licences: store, User: func(c *gin.Context) (int64, bool) {
		user, ok := app.UserID(c.Request.Context())
		if !ok {
			return 0, false
		}
		u, err := store.User(c.Request.Context(), user)
		return user, err == nil && u.WorkEmailVerifiedAt != nil
	}}
	api.MountKeys(v1g, app.NewKeys(store, az, app.KeysOptions{BaseURL: "https://lsc.example"}), guard)
	api.MountSummary(v1g, app.NewSummary(store, az), guard)
	env.h, env.az = e, az
	return env
}

type keysAnswer struct {
	code   int
	header http.Header
	body   string
}

func (a keysAnswer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(a.body), v); err != nil {
		t.Fatalf("%v: %s", err, a.body)
	}
}

func (env *keysEnv) do(user, method, target string, body any) keysAnswer {
	env.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, target, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("X-Test-User", strconv.FormatInt(env.users[user], 10))
	}
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	return keysAnswer{rec.Code, rec.Header(), rec.Body.String()}
}

func (env *keysEnv) keyID(suffix string) string {
	return strconv.FormatInt(modelstest.Take(env.t, env.store, models.ProductKey{Suffix: suffix}).ID, 10)
}

func TestKeysAPIRefusals(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	env := newKeysEnv(t)
	unknown := env.do("admin", http.MethodGet, "/api/v1/licences/NOPE/keys", nil)
	if unknown.code != http.StatusNotFound {
		t.Fatalf("unknown licence: %d %s", unknown.code, unknown.body)
	}
	var want api.Problem
	unknown.decode(t, &want)
	mak := env.keyID("WFP4D")
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/v1/licences/%s/keys"},
		{http.MethodGet, "/api/v1/licences/%s/keys.csv"},
		{http.MethodGet, "/api/v1/licences/%s/keys.csv?reveal=true"},
		{http.MethodPost, "/api/v1/licences/%s/keys/" + mak + "/reveal"},
		{http.MethodPost, "/api/v1/licences/%s/activation-requests"},
	}
	for _, who := range []string{"viewer", "downloader", "stranger", "operator"} {
		for _, r := range routes {
			for _, lic := range []string{"V1", "V2", "NOPE"} {
				var body any
				if r.method == http.MethodPost {
					body = map[string]any{"key_suffix": "WFP4D", "quantity": 1}
				}
				a := env.do(who, r.method, strings.Replace(r.path, "%s", lic, 1), body)
				var p api.Problem
				a.decode(t, &p)
				if a.code != http.StatusNotFound || p.Detail != want.Detail || p.Title != want.Title || strings.Contains(a.body, "WFP4D") {
					t.Errorf("%s %s %s on %s: %d %s", who, r.method, r.path, lic, a.code, a.body)
				}
			}
		}
	}
	// An administrator whose work email is not confirmed is refused as the
	// guard refuses everywhere (403), and sees no key.
	for _, r := range routes {
		if a := env.do("unverified", r.method, strings.Replace(r.path, "%s", "V1", 1), nil); a.code != http.StatusForbidden || strings.Contains(a.body, "WFP4D") {
			t.Errorf("unverified %s %s: %d %s", r.method, r.path, a.code, a.body)
		}
	}
	for _, who := range []string{"reader", "downloader", "stranger"} {
		if a := env.do(who, http.MethodGet, "/api/v1/licences/V1/verification-form", nil); a.code != http.StatusNotFound {
			t.Errorf("%s reads the verification form: %d %s", who, a.code, a.body)
		}
	}
	if a := env.do("", http.MethodGet, "/api/v1/licences/V1/keys", nil); a.code != http.StatusForbidden {
		t.Errorf("signed out: %d %s", a.code, a.body)
	}
	if a := env.do("", http.MethodGet, "/api/v1/me/activation-requests", nil); a.code != http.StatusUnauthorized {
		t.Errorf("signed out, mine: %d %s", a.code, a.body)
	}
	if a := env.do("unverified", http.MethodGet, "/api/v1/me/activation-requests", nil); a.code != http.StatusForbidden {
		t.Errorf("unverified, mine: %d %s", a.code, a.body)
	}
	// The neighbours still answer.
	if a := env.do("admin", http.MethodGet, "/api/v1/licences/V1", nil); a.code != http.StatusTeapot {
		t.Errorf("neighbour route: %d", a.code)
	}
}

func TestKeysAPI(t *testing.T) {
	env := newKeysEnv(t)
	for _, who := range []string{"admin", "reader"} {
		a := env.do(who, http.MethodGet, "/api/v1/licences/V1/keys", nil)
		var list struct {
			Keys []struct {
				ID              int64  `json:"id"`
				Type            string `json:"type"`
				MaskedKey       string `json:"masked_key"`
				ActivationsUsed int64  `json:"activations_used"`
				ActivationLimit int64  `json:"activation_limit"`
				NearlyUsedUp    bool   `json:"nearly_used_up"`
			} `json:"keys"`
		}
		a.decode(t, &list)
		if a.code != http.StatusOK || len(list.Keys) != 2 || list.Keys[1].MaskedKey != "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D" ||
			list.Keys[1].ActivationsUsed != 495 || !list.Keys[1].NearlyUsedUp || strings.Contains(a.body, apiKeyMAK) ||
			strings.Contains(a.body, "RJ64B") || a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s list: %d %s", who, a.code, a.body)
		}
	}

	// Reveal: the key, audited once with the licence.
	a := env.do("reader", http.MethodPost, "/api/v1/licences/V1/keys/"+env.keyID("WFP4D")+"/reveal", nil)
	var revealed struct {
		Key string `json:"key"`
	}
	a.decode(t, &revealed)
	if a.code != http.StatusOK || revealed.Key != apiKeyMAK {
		t.Errorf("reveal: %d %s", a.code, a.body)
	}
	evs := modelstest.Find(t, env.store, models.AuditEvent{Kind: app.AuditKeyReveal})
	if len(evs) != 1 || evs[0].AgreementID == nil || *evs[0].AgreementID != env.lic["V1"] {
		t.Errorf("reveal audit: %+v", evs)
	}
	if a := env.do("reader", http.MethodPost, "/api/v1/licences/V1/keys/"+env.keyID("8663Y")+"/reveal", nil); a.code != http.StatusNotFound {
		t.Errorf("another licence's key: %d %s", a.code, a.body)
	}
	if a := env.do("reader", http.MethodPost, "/api/v1/licences/V1/keys/x/reveal", nil); a.code != http.StatusNotFound {
		t.Errorf("bad key id: %d %s", a.code, a.body)
	}

	// CSV: masked, then revealed (audited).
	a = env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys.csv", nil)
	rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
	if a.code != http.StatusOK || err != nil || len(rows) != 3 || rows[2][2] != "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D" ||
		a.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(a.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("masked CSV: %d %v %q", a.code, a.header, a.body)
	}
	a = env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys.csv?reveal=true", nil)
	if a.code != http.StatusOK || !strings.Contains(a.body, apiKeyMAK) {
		t.Errorf("revealed CSV: %d %q", a.code, a.body)
	}
	if n := modelstest.Count(t, env.store, models.AuditEvent{Kind: app.AuditKeyExport}); n != 1 {
		t.Errorf("%d export events", n)
	}
	if a := env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys.csv?reveal=yes", nil); a.code != http.StatusUnprocessableEntity {
		t.Errorf("bad reveal: %d", a.code)
	}

	// Activation request → operator approves → limit raised, mail queued.
	a = env.do("reader", http.MethodPost, "/api/v1/licences/V1/activation-requests", map[string]any{"key_suffix": "92W3X", "quantity": 10})
	if a.code != http.StatusUnprocessableEntity {
		t.Errorf("KMS request: %d %s", a.code, a.body)
	}
	a = env.do("reader", http.MethodPost, "/api/v1/licences/V1/activation-requests", map[string]any{"key_suffix": "WFP4D", "quantity": 100, "reason": "Rollout"})
	var req struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	a.decode(t, &req)
	if a.code != http.StatusCreated || req.Status != "pending" {
		t.Fatalf("request: %d %s", a.code, a.body)
	}
	id := strconv.FormatInt(req.ID, 10)
	if a := env.do("reader", http.MethodGet, "/api/v1/me/activation-requests", nil); a.code != http.StatusOK || !strings.Contains(a.body, `"id":`+id) {
		t.Errorf("mine: %d %s", a.code, a.body)
	}
	for _, who := range []string{"reader", "admin"} {
		if a := env.do(who, http.MethodGet, "/api/v1/operator/activation-requests", nil); a.code != http.StatusForbidden {
			t.Errorf("%s reads the queue: %d", who, a.code)
		}
		if a := env.do(who, http.MethodPost, "/api/v1/operator/activation-requests/"+id+"/approve", map[string]string{}); a.code != http.StatusForbidden {
			t.Errorf("%s approves: %d", who, a.code)
		}
		if a := env.do(who, http.MethodPut, "/api/v1/operator/keys/"+env.keyID("WFP4D")+"/activations", map[string]any{"activations_used": 1}); a.code != http.StatusForbidden {
			t.Errorf("%s sets counts: %d", who, a.code)
		}
	}
	if a := env.do("operator", http.MethodGet, "/api/v1/operator/activation-requests", nil); a.code != http.StatusOK || !strings.Contains(a.body, "reader@contoso.example") {
		t.Errorf("queue: %d %s", a.code, a.body)
	}
	if a := env.do("operator", http.MethodPost, "/api/v1/operator/activation-requests/"+id+"/approve", map[string]string{"message": "OK"}); a.code != http.StatusNoContent {
		t.Fatalf("approve: %d %s", a.code, a.body)
	}
	if a := env.do("operator", http.MethodPost, "/api/v1/operator/activation-requests/"+id+"/deny", nil); a.code != http.StatusConflict {
		t.Errorf("deny after approval: %d %s", a.code, a.body)
	}
	k := modelstest.Take(t, env.store, models.ProductKey{Suffix: "WFP4D"})
	mails := modelstest.Find(t, env.store, models.OutboxMail{})
	if *k.ActivationLimit != 600 || len(mails) != 1 || mails[0].Recipient != "reader@contoso.example" {
		t.Errorf("after approval: limit %d, mails %+v", *k.ActivationLimit, mails)
	}

	// Deny a second request.
	a = env.do("reader", http.MethodPost, "/api/v1/licences/V1/activation-requests", map[string]any{"key_suffix": "WFP4D", "quantity": 5})
	a.decode(t, &req)
	if a := env.do("operator", http.MethodPost, "/api/v1/operator/activation-requests/"+strconv.FormatInt(req.ID, 10)+"/deny", map[string]string{"message": "No"}); a.code != http.StatusNoContent {
		t.Errorf("deny: %d %s", a.code, a.body)
	}
	k = modelstest.Take(t, env.store, models.ProductKey{Suffix: "WFP4D"})
	if *k.ActivationLimit != 600 {
		t.Errorf("deny changed the limit: %d", *k.ActivationLimit)
	}

	// Counts.
	a = env.do("operator", http.MethodPut, "/api/v1/operator/keys/"+env.keyID("WFP4D")+"/activations",
		map[string]any{"activations_used": 599, "as_of": "2026-03-13T08:00:00Z"})
	var kv struct {
		Used  int64     `json:"activations_used"`
		Limit int64     `json:"activation_limit"`
		AsOf  time.Time `json:"activations_as_of"`
	}
	a.decode(t, &kv)
	if a.code != http.StatusOK || kv.Used != 599 || kv.Limit != 600 || !kv.AsOf.Equal(time.Date(2026, 3, 13, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("counts: %d %s", a.code, a.body)
	}
	if a := env.do("operator", http.MethodPut, "/api/v1/operator/keys/"+env.keyID("WFP4D")+"/activations", map[string]any{"activations_used": 601}); a.code != http.StatusUnprocessableEntity {
		t.Errorf("used above limit: %d %s", a.code, a.body)
	}
	if a := env.do("operator", http.MethodPut, "/api/v1/operator/keys/999999/activations", map[string]any{"activations_used": 1}); a.code != http.StatusNotFound {
		t.Errorf("unknown key: %d %s", a.code, a.body)
	}

	// Verification form, for viewers and administrators.
	for _, who := range []string{"viewer", "admin"} {
		a := env.do(who, http.MethodGet, "/api/v1/licences/V1/verification-form", nil)
		var d app.VerificationFormData
		a.decode(t, &d)
		if a.code != http.StatusOK || d.Organization != "Contoso" || d.Licence != "V1" || len(d.Products) != 1 || d.Date != "2026-03-14" {
			t.Errorf("%s form: %d %s", who, a.code, a.body)
		}
	}
}

// TestKeysAPIPages: the keys of a licence a page at a time by cursor, in
// (product, type, id) order: every key once even when keys are added
// while the pages are read (none repeats, none is skipped); a
// cursor that cannot be read is refused with its code; a revoked reader
// reads no page at once. Both databases.
func TestKeysAPIPages(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	env := newKeysEnv(t)
	ent := "Enterprise"
	keys := func(from, to int) *models.ImportDocument {
		doc := &models.ImportDocument{Products: []models.ImportProduct{
			{ID: "win-ent", Name: "Windows Enterprise", Versions: []models.ImportVersion{{Version: "11", Edition: ent}}},
			{ID: "office", Name: "Office", Versions: []models.ImportVersion{{Version: "2024"}}},
		}}
		limit := int64(10)
		for i := from; i < to; i++ {
			k := models.ImportKey{Agreement: "V1", Product: []string{"win-ent", "office"}[i%2],
				Type: []string{"mak", "kms"}[i/2%2], Key: fmt.Sprintf("P%04d-AAAAA-BBBBB-CCCCC-DDDDD", i)}
			if k.Type == "mak" {
				k.ActivationLimit = &limit
			}
			doc.Keys = append(doc.Keys, k)
		}
		return doc
	}
	imp := func(doc *models.ImportDocument) {
		if _, err := env.store.Import(context.Background(), doc, models.ImportOptions{Actor: models.Actor{Label: "cli"}}); err != nil {
			t.Fatal(err)
		}
	}
	imp(keys(0, 40))
	type page struct {
		Keys []app.KeyView
		Next string
	}
	var all page
	env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys?limit=1000", nil).decode(t, &all)
	if len(all.Keys) != 42 || all.Next != "" {
		t.Fatalf("one page of 1000: %d keys, next %q", len(all.Keys), all.Next)
	}
	// Keys are added while the pages are read: both products and types,
	// so some sort before the cursor and some after.
	added := make(chan error, 1)
	go func() {
		var err error
		for i := 40; i < 50 && err == nil; i += 2 {
			_, err = env.store.Import(context.Background(), keys(i, i+2), models.ImportOptions{Actor: models.Actor{Label: "cli"}})
		}
		added <- err
	}()
	seen := map[int64]int{}
	after := ""
	for {
		a := env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys?limit=7&after="+url.QueryEscape(after), nil)
		var p page
		a.decode(t, &p)
		if a.code != http.StatusOK || len(p.Keys) > 7 || (p.Next != "" && len(p.Keys) != 7) {
			t.Fatalf("page after %q: %d, %d keys, next %q", after, a.code, len(p.Keys), p.Next)
		}
		for _, k := range p.Keys {
			seen[k.ID]++
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if err := <-added; err != nil {
		t.Fatal(err)
	}
	for _, k := range all.Keys {
		if seen[k.ID] != 1 {
			t.Errorf("key %d (%s %s) seen %d times", k.ID, k.Product, k.Type, seen[k.ID])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("key %d seen %d times", id, n)
		}
	}
	if len(seen) > len(all.Keys)+10 {
		t.Errorf("%d keys seen, %d before the import of 10 more", len(seen), len(all.Keys))
	}

	for _, q := range []string{"?after=x", "?after=1.mak", "?after=0.mak.1", "?limit=0", "?limit=1001"} {
		a := env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys"+q, nil)
		if a.code != http.StatusUnprocessableEntity || !strings.Contains(a.body, `"code":"err.keys.`) {
			t.Errorf("%s: %d %s", q, a.code, a.body)
		}
	}

	err := env.store.InTx(context.Background(), func(tx *models.Tx) error {
		v1 := env.lic["V1"]
		return env.az.Revoke(tx, models.Actor{Label: "system"}, env.users["reader"], &v1, models.PermKeyReader, models.SourceDirect)
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := env.do("reader", http.MethodGet, "/api/v1/licences/V1/keys?after="+url.QueryEscape(after), nil); a.code == http.StatusOK {
		t.Errorf("revoked reader: %d %s", a.code, a.body)
	}
}
