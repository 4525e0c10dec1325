package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// person signs in as a new identity and confirms email as work email.
func (env *authEnv) person(subject, email string) *http.Client {
	env.t.Helper()
	c := env.browser()
	env.signIn(c, &mockoidc.MockUser{Subject: subject, Email: subject + "@idp.example"})
	if email != "" {
		env.send(c, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": email})
		if code, body := env.send(c, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": env.confirmationToken(email)}); code != http.StatusOK {
			env.t.Fatalf("confirm %s: %d %v", email, code, body)
		}
	}
	return c
}

// raw posts body and returns the status and exact response bytes.
func (env *authEnv) raw(c *http.Client, path string, body any) (int, []byte) {
	env.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := c.Post(env.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// mailTo delivers the outbox and returns the texts of mails sent to email,
// leaving out work email confirmations.
func (env *authEnv) mailTo(email string) []string {
	env.t.Helper()
	if _, err := env.worker.ProcessOnce(context.Background()); err != nil {
		env.t.Fatal(err)
	}
	var out []string
	for _, m := range env.mail.Messages() {
		if m.To == email && !strings.HasPrefix(m.Subject, "Confirm your work email") {
			out = append(out, m.Subject+"\n"+m.Text)
		}
	}
	return out
}

func (env *authEnv) userID(email string) int64 {
	users := modelstest.Find(env.t, env.store, models.User{WorkEmail: &email})
	if len(users) == 0 {
		return 0
	}
	return users[0].ID
}

func TestAccessRequests(t *testing.T) {
	env := newAuthEnv(t)
	boss := "boss@contoso.example"
	env.importContacts(
		models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: boss, Role: "primary"}}},
		models.ImportAgreement{Program: "open_license", Number: "OL1", Organization: "C1", AuthorizationNumber: "12345678", Contacts: []models.ImportContact{{Email: boss, Role: "online_admin"}}},
		models.ImportAgreement{Program: "open_value", Number: "NOADM", Organization: "C1"},
	)
	admin := env.person("boss", boss)
	staff := env.person("staff", "staff@contoso.example")
	stranger := env.person("stranger", "stranger@fabrikam.example")
	unverified := env.person("new", "")

	req := map[string]any{"program": "enterprise", "license_number": "E1", "permissions": []string{"license_viewer", "download_manager"}, "comment": "for the imaging project"}
	if code, body := env.send(unverified, http.MethodPost, "/api/v1/access-requests", req); code != http.StatusForbidden {
		t.Errorf("unverified requester: %d %v", code, body)
	}
	code, created := env.send(staff, http.MethodPost, "/api/v1/access-requests", req)
	if code != http.StatusCreated || created["status"] != "pending" {
		t.Fatalf("request: %d %v", code, created)
	}
	if code, again := env.send(staff, http.MethodPost, "/api/v1/access-requests", req); code != http.StatusOK || again["id"] != created["id"] {
		t.Errorf("duplicate request: %d %v", code, again)
	}
	mails := env.mailTo(boss)
	if len(mails) != 1 || !strings.Contains(mails[0], "staff@contoso.example") || !strings.Contains(mails[0], "E1") {
		t.Errorf("administrator mail: %q", mails)
	}
	if strings.Contains(fmt.Sprint(created), boss) {
		t.Error("the requester is told who the administrator is")
	}

	// Every failure looks the same, byte for byte.
	failures := []map[string]any{
		{"program": "enterprise", "license_number": "E404", "permissions": []string{"license_viewer"}},
		{"program": "open_value", "license_number": "E1", "permissions": []string{"license_viewer"}},
		{"program": "open_license", "license_number": "OL1", "authorization_number": "99999999", "permissions": []string{"license_viewer"}},
		{"program": "open_value", "license_number": "NOADM", "permissions": []string{"license_viewer"}},
	}
	var first []byte
	for i, f := range failures {
		code, body := env.raw(staff, "/api/v1/access-requests", f)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("failure %d: status %d", i, code)
		}
		if first == nil {
			first = body
		} else if !bytes.Equal(body, first) {
			t.Errorf("failure %d answers differently:\n%s\n%s", i, body, first)
		}
	}
	if strings.Contains(string(first), "E404") || strings.Contains(string(first), "administrator") {
		t.Errorf("the failure tells too much: %s", first)
	}
	var reasons []string
	for _, r := range modelstest.Find(t, env.store, models.AccessRequest{Status: models.RequestFailed}) {
		reasons = append(reasons, r.FailureReason)
	}
	if strings.Join(reasons, "|") != "unknown licence|wrong program|wrong authorization number|licence has no administrator" {
		t.Errorf("reasons recorded for operators: %q", reasons)
	}

	// Only an administrator of the licence decides; others learn nothing.
	id := int64(created["id"].(float64))
	for name, c := range map[string]*http.Client{"requester": staff, "stranger": stranger} {
		if code, _ := env.send(c, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/approve", id), map[string]any{}); code != http.StatusNotFound {
			t.Errorf("%s approving: %d, want 404", name, code)
		}
		if _, list := env.send(c, http.MethodGet, "/api/v1/access-requests/pending", nil); len(list["requests"].([]any)) != 0 {
			t.Errorf("%s sees pending requests: %v", name, list)
		}
	}
	_, pending := env.send(admin, http.MethodGet, "/api/v1/access-requests/pending", nil)
	if list := pending["requests"].([]any); len(list) != 1 || !strings.Contains(fmt.Sprint(list[0]), "staff@contoso.example") {
		t.Fatalf("administrator's pending list: %v", pending)
	}
	if code, body := env.send(admin, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/approve", id), map[string]any{"permissions": []string{"key_reader"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("approving a permission not requested: %d %v", code, body)
	}
	if code, body := env.send(admin, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/approve", id), map[string]any{"permissions": []string{"license_viewer"}}); code != http.StatusNoContent {
		t.Fatalf("approve: %d %v", code, body)
	}
	staffID := env.userID("staff@contoso.example")
	e1, err := env.store.AgreementID(context.Background(), "E1")
	if err != nil {
		t.Fatal(err)
	}
	if !env.az.Can(staffID, e1, authz.ActView) || env.az.Can(staffID, e1, authz.ActDownload) {
		t.Error("the requester cannot do exactly what was approved")
	}
	if code, _ := env.send(admin, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/approve", id), nil); code != http.StatusConflict {
		t.Errorf("deciding twice: %d", code)
	}
	if m := env.mailTo("staff@contoso.example"); len(m) != 1 {
		t.Errorf("requester mails after approval: %q", m)
	}
	bossID := env.userID(boss)
	grants := modelstest.Count(t, env.store, models.AuditEvent{Kind: "grant", AgreementID: &e1, ActorID: &bossID})
	decisions := modelstest.Count(t, env.store, models.AuditEvent{Kind: "access_request.approved", AgreementID: &e1})
	if grants != 1 || decisions != 1 {
		t.Errorf("audit of the approval: %d grants by the administrator, %d decisions; want 1 and 1", grants, decisions)
	}

	// Deny with a message.
	olReq := map[string]any{"program": "open_license", "license_number": "OL1", "authorization_number": "12345678", "permissions": []string{"key_reader"}}
	_, denied := env.send(staff, http.MethodPost, "/api/v1/access-requests", olReq)
	did := int64(denied["id"].(float64))
	if code, _ := env.send(admin, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/deny", did), map[string]string{"message": "Ask your manager first."}); code != http.StatusNoContent {
		t.Errorf("deny: %d", code)
	}
	if m := env.mailTo("staff@contoso.example"); len(m) != 2 || !strings.Contains(m[1], "Ask your manager first.") {
		t.Errorf("denial mail: %q", m)
	}

	// Cancel one's own; nobody else can.
	_, c1 := env.send(staff, http.MethodPost, "/api/v1/access-requests", map[string]any{"program": "open_license", "license_number": "OL1", "authorization_number": "12345678", "permissions": []string{"download_manager"}})
	cid := int64(c1["id"].(float64))
	if code, _ := env.send(stranger, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/cancel", cid), nil); code != http.StatusNotFound {
		t.Errorf("cancelling someone else's request: %d", code)
	}
	if code, _ := env.send(staff, http.MethodPost, fmt.Sprintf("/api/v1/access-requests/%d/cancel", cid), nil); code != http.StatusNoContent {
		t.Errorf("cancel: %d", code)
	}

	// Expiry.
	_, x := env.send(staff, http.MethodPost, "/api/v1/access-requests", map[string]any{"program": "enterprise", "license_number": "E1", "permissions": []string{"key_reader"}})
	env.clock.Add(31 * 24 * time.Hour)
	if n, err := env.req.ExpirePending(context.Background()); err != nil || n != 1 {
		t.Errorf("ExpirePending: %d, %v", n, err)
	}
	staff = env.person("staff", "") // a fresh session after the clock jump
	_, mine := env.send(staff, http.MethodGet, "/api/v1/access-requests", nil)
	statuses := map[float64]string{}
	for _, r := range mine["requests"].([]any) {
		m := r.(map[string]any)
		statuses[m["id"].(float64)] = m["status"].(string)
	}
	if statuses[float64(id)] != "approved" || statuses[float64(did)] != "denied" || statuses[float64(cid)] != "cancelled" || statuses[x["id"].(float64)] != "expired" {
		t.Errorf("statuses: %v", statuses)
	}
	if m := env.mailTo("staff@contoso.example"); len(m) != 3 {
		t.Errorf("%d mails to the requester, want approval, denial and expiry", len(m))
	}

	// Repeated failures lock the feature for a while, with a clear message.
	bad := failures[0]
	for range 5 {
		env.raw(staff, "/api/v1/access-requests", bad)
	}
	code, body := env.raw(staff, "/api/v1/access-requests", req)
	if code != http.StatusTooManyRequests || !strings.Contains(string(body), "Too many access requests failed") {
		t.Errorf("after repeated failures: %d %s", code, body)
	}
}
