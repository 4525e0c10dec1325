package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

func (env *authEnv) send(c *http.Client, method, path string, body any) (int, map[string]any) {
	env.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, env.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

var tokenInLink = regexp.MustCompile(`/verify-email\?token=([A-Za-z0-9_-]+)`)

// confirmationToken delivers the outbox and returns the token of the last
// confirmation mail sent to email.
func (env *authEnv) confirmationToken(email string) string {
	env.t.Helper()
	if _, err := env.worker.ProcessOnce(context.Background()); err != nil {
		env.t.Fatal(err)
	}
	msgs := env.mail.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == email {
			m := tokenInLink.FindStringSubmatch(msgs[i].Text)
			if m == nil {
				env.t.Fatalf("no link in the confirmation mail:\n%s", msgs[i].Text)
			}
			return m[1]
		}
	}
	env.t.Fatalf("no mail to %s among %d", email, len(msgs))
	return ""
}

// importContacts loads agreements naming contacts.
func (env *authEnv) importContacts(agreements ...models.ImportAgreement) {
	env.t.Helper()
	doc := &models.ImportDocument{Organizations: []models.ImportOrganization{{Number: "C1", Name: "Contoso"}}, Agreements: agreements}
	res, err := env.store.Import(context.Background(), doc, models.ImportOptions{
		Actor: models.Actor{Label: "test"},
		AfterApply: func(tx *models.Tx, res *models.ImportResult) error {
			return env.acc.ApplyContactChanges(tx, res.ContactChanges)
		},
	})
	if err != nil {
		env.t.Fatal(err)
	}
	if err := env.az.AgreementsChanged(context.Background(), res.ChangedAgreements); err != nil {
		env.t.Fatal(err)
	}
}

func licences(me map[string]any) map[string]string {
	out := map[string]string{}
	list, _ := me["licences"].([]any)
	for _, l := range list {
		m := l.(map[string]any)
		perms := []string{}
		for _, p := range m["permissions"].([]any) {
			perms = append(perms, p.(string))
		}
		out[m["number"].(string)] = strings.Join(perms, ",")
	}
	return out
}

func TestWorkEmail(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "Alice@Contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "open_value", Number: "V1", Organization: "C1", Contacts: []models.ImportContact{{Email: "alice@contoso.example", Role: "notices"}}},
		models.ImportAgreement{Program: "open_value", Number: "V2", Organization: "C1"},
	)
	alice := env.browser()
	env.signIn(alice, &mockoidc.MockUser{Subject: "alice", Email: "alice.personal@idp.example"})

	if code, body := env.send(alice, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": "not an email"}); code != http.StatusUnprocessableEntity {
		t.Errorf("invalid email: %d %v", code, body)
	}
	if code, _ := env.send(alice, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": " ALICE@contoso.example "}); code != http.StatusAccepted {
		t.Fatalf("register: %d", code)
	}
	_, me := env.me(alice)
	if me["pending_work_email"] != "alice@contoso.example" || me["work_email_verified"] != false || len(licences(me)) != 0 {
		t.Errorf("before confirming: %v", me)
	}
	token := env.confirmationToken("alice@contoso.example")

	// The link works only for the identity that asked for it.
	bob := env.browser()
	env.signIn(bob, &mockoidc.MockUser{Subject: "bob", Email: "bob@idp.example"})
	if code, body := env.send(bob, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": token}); code != http.StatusForbidden {
		t.Errorf("another identity's link: %d %v", code, body)
	}
	if code, _ := env.send(alice, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": "nonsense"}); code != http.StatusNotFound {
		t.Errorf("unknown token: %d", code)
	}
	if code, body := env.send(alice, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": token}); code != http.StatusOK {
		t.Fatalf("verify: %d %v", code, body)
	}
	if code, body := env.send(alice, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": token}); code != http.StatusConflict {
		t.Errorf("reused link: %d %v", code, body)
	}
	_, me = env.me(alice)
	got := licences(me)
	if me["work_email"] != "alice@contoso.example" || me["work_email_verified"] != true ||
		got["M1"] != "administrator" || got["V1"] != "license_viewer" || len(got) != 2 {
		t.Errorf("after confirming: %v", me)
	}
	if ev := modelstest.Count(t, env.store, models.AuditEvent{Kind: "grant"}); ev != 2 {
		t.Errorf("%d grant audit events, want 2", ev)
	}

	// A later import adding a contact grants at once; removing one withdraws.
	env.importContacts(
		models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "alice@contoso.example", Role: "primary"}}},
		models.ImportAgreement{Program: "open_value", Number: "V1", Organization: "C1"},
		models.ImportAgreement{Program: "open_value", Number: "V2", Organization: "C1", Contacts: []models.ImportContact{{Email: "alice@contoso.example", Role: "online_admin"}}},
	)
	_, me = env.me(alice)
	if got := licences(me); got["V2"] != "administrator" || got["V1"] != "" || got["M1"] != "administrator" {
		t.Errorf("after a re-import: %v", got)
	}

	// Expired link.
	env.send(bob, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": "bob@contoso.example"})
	late := env.confirmationToken("bob@contoso.example")
	env.clock.Add(49 * time.Hour)
	env.signIn(bob, nil) // a fresh session after the clock jump
	if code, body := env.send(bob, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": late}); code != http.StatusUnprocessableEntity || !strings.Contains(body["detail"].(string), "expired") {
		t.Errorf("expired link: %d %v", code, body)
	}

	// Taking over a confirmed email needs saying so.
	env.signIn(bob, &mockoidc.MockUser{Subject: "bob", Email: "bob@idp.example"})
	env.send(bob, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": "alice@contoso.example"})
	take := env.confirmationToken("alice@contoso.example")
	if code, _ := env.send(bob, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": take}); code != http.StatusConflict {
		t.Errorf("taking over without saying so: %d", code)
	}
	if code, body := env.send(bob, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": take, "take_over": true}); code != http.StatusOK {
		t.Fatalf("take over: %d %v", code, body)
	}
	env.signIn(alice, &mockoidc.MockUser{Subject: "alice", Email: "alice.personal@idp.example"})
	if _, me := env.me(alice); me["work_email_verified"] != false || len(licences(me)) != 0 {
		t.Errorf("the previous holder keeps access: %v", me)
	}
	if _, me := env.me(bob); licences(me)["M1"] != "administrator" {
		t.Errorf("the new holder lacks the contact grants: %v", me)
	}
}

func TestDormancy(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "mbsa", Number: "M1", Organization: "C1", Contacts: []models.ImportContact{{Email: "carol@contoso.example", Role: "primary"}}})
	carol := env.browser()
	user := &mockoidc.MockUser{Subject: "carol", Email: "carol@idp.example"}
	env.signIn(carol, user)
	env.send(carol, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": "carol@contoso.example"})
	env.send(carol, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": env.confirmationToken("carol@contoso.example")})

	env.clock.Add(366 * 24 * time.Hour)
	carol = env.browser()
	env.signIn(carol, user)
	if _, me := env.me(carol); me["work_email_verified"] != false || len(licences(me)) != 0 {
		t.Fatalf("a dormant user sees: %v", me)
	}
	env.send(carol, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": "carol@contoso.example"})
	env.send(carol, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": env.confirmationToken("carol@contoso.example")})
	if _, me := env.me(carol); licences(me)["M1"] != "administrator" {
		t.Errorf("grants not back after confirming again: %v", me)
	}
}

func TestOperatorByWorkEmail(t *testing.T) {
	env := newAuthEnv(t)
	op := env.browser()
	env.signIn(op, &mockoidc.MockUser{Subject: "op", Email: "op@idp.example"})
	env.send(op, http.MethodPut, "/api/v1/me/work-email", map[string]string{"email": "operator@contoso.example"})
	env.send(op, http.MethodPost, "/api/v1/me/work-email/verify", map[string]any{"token": env.confirmationToken("operator@contoso.example")})
	if _, me := env.me(op); me["operator"] != true {
		t.Errorf("configured operator email did not make an operator: %v", me)
	}
}
