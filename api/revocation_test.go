package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestRevocationIsImmediate: a request that reads the token or session, its
// user and the licence number with as few queries as it can still refuses,
// on the very next request to this server, a revoked grant, a withdrawn
// work email confirmation and a revoked token; and another server on the
// same database refuses them within a second.
func TestRevocationIsImmediate(t *testing.T) {
	url := modelstest.URL(t)
	env := newAuthEnvAt(t, url)
	other := newAuthEnvAt(t, url)
	env.importContacts(models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1"})
	reader := "reader@contoso.example"
	c := env.person("reader", reader)
	code, created := env.send(c, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci"})
	if code != http.StatusCreated {
		t.Fatalf("create a token: %d %v", code, created)
	}
	token := created["token"].(string)
	const keys = "/api/v1/licences/E1/keys"
	servers := map[string]*authEnv{"this server": env, "another server": other}
	// within asks each server until it answers want, and fails when this
	// server does not answer it at once or the other within a second.
	within := func(what string, want int) {
		t.Helper()
		for name, e := range servers {
			start := time.Now()
			for {
				code, body := e.bearerGet(token, keys)
				if code == want {
					break
				}
				if e == env || time.Since(start) > time.Second {
					t.Fatalf("%s, %s: GET keys answered %d %s, want %d", what, name, code, body, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}

	env.grantDirect(reader, "E1", models.PermKeyReader)
	within("granted", http.StatusOK)
	if code, body := env.send(c, http.MethodGet, keys, nil); code != http.StatusOK {
		t.Fatalf("granted, with the session: %d %v", code, body)
	}

	lic, err := env.store.AgreementID(context.Background(), "E1")
	if err != nil {
		t.Fatal(err)
	}
	user := env.userID(reader)
	err = env.store.InTx(context.Background(), func(tx *models.Tx) error {
		return env.az.Revoke(tx, models.Actor{Label: "test"}, user, &lic, models.PermKeyReader, models.SourceDirect)
	})
	if err != nil {
		t.Fatal(err)
	}
	within("grant revoked", http.StatusNotFound)
	if code, _ := env.send(c, http.MethodGet, keys, nil); code != http.StatusNotFound {
		t.Errorf("grant revoked, with the session: %d", code)
	}

	env.grantDirect(reader, "E1", models.PermKeyReader)
	within("granted again", http.StatusOK)
	err = env.store.InTx(context.Background(), func(tx *models.Tx) error { return tx.UnconfirmWorkEmail(user) })
	if err != nil {
		t.Fatal(err)
	}
	within("work email no longer confirmed", http.StatusForbidden)
	if code, _ := env.send(c, http.MethodGet, keys, nil); code != http.StatusForbidden {
		t.Errorf("work email no longer confirmed, with the session: %d", code)
	}
	if code, me := env.bearerGet(token, "/api/v1/me"); code != http.StatusOK || !strings.Contains(me, `"work_email_verified":false`) {
		t.Errorf("GET /api/v1/me after the withdrawal: %d %s", code, me)
	}

	err = env.store.InTx(context.Background(), func(tx *models.Tx) error { return tx.ConfirmWorkEmail(user, reader) })
	if err != nil {
		t.Fatal(err)
	}
	within("confirmed again", http.StatusOK)
	if code, _ := env.send(c, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%v", created["id"]), nil); code != http.StatusNoContent {
		t.Fatalf("revoke the token: %d", code)
	}
	within("token revoked", http.StatusUnauthorized)
}
