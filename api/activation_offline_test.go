package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/api/limits"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// makID is the id of V1's MAK, as its key reader lists it.
func (env *authEnv) makID(reader string) string {
	env.t.Helper()
	code, body := env.withToken(reader, http.MethodGet, "/api/v1/licences/V1/keys", nil)
	env.ok("keys", code, http.StatusOK, body)
	for _, k := range body["keys"].([]any) {
		if m := k.(map[string]any); m["type"] == "mak" {
			return strconv.FormatInt(int64(m["id"].(float64)), 10)
		}
	}
	env.t.Fatalf("no MAK in %v", body)
	return ""
}

// phoneMachine is the installation ID of a machine numbered n.
func phoneMachine(n int) string {
	return activation.InstallationID(activation.NewIdentity(map[string]string{
		"board": fmt.Sprint("board-", n), "disk": fmt.Sprint("disk-", n), "mac": fmt.Sprint("mac-", n)}))
}

// TestOfflineActivationByOperator: an operator on the phone gets a
// confirmation ID for a key of any licence through the operators' route,
// audited with the operator as actor; a key reader through the licence's
// route. Anyone else is refused before the body is read, with the answer
// an unknown key (operators' route) or licence (licence route) gets.
func TestOfflineActivationByOperator(t *testing.T) {
	env := newAuthEnv(t)
	reader, operator := env.makeMAK()
	outsider := env.token(env.person("outsider", "outsider@fabrikam.example"))
	mak := env.makID(reader)
	ks, err := (&activation.Client{BaseURL: env.srv.URL}).Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	byOperator := "/api/v1/operator/keys/" + mak + "/offline-activations"
	byReader := "/api/v1/licences/V1/keys/" + mak + "/offline-activations"
	for i, c := range []struct{ token, path string }{{operator, byOperator}, {reader, byReader}} {
		iid := phoneMachine(i)
		code, body := env.withToken(c.token, http.MethodPost, c.path, map[string]string{"installation_id": iid})
		cid, _ := body["confirmation_id"].(string)
		if code != http.StatusOK || ks.CheckConfirmation(cid, "win-ent", iid) != nil {
			t.Fatalf("%s: %d %v", c.path, code, body)
		}
	}
	if used := env.makUsed(reader); used != 2 {
		t.Errorf("activations used %d, want 2", used)
	}
	evs, err := env.store.AuditEvents(context.Background(), models.AuditQuery{All: true, Kind: app.AuditOfflineActivation})
	if err != nil || len(evs) != 2 {
		t.Fatalf("audit: %v %v", evs, err)
	}
	opID := env.meByToken(operator).id()
	if evs[0].ActorID == nil || *evs[1].ActorID != opID || evs[1].SourceAddr != "127.0.0.1" || evs[1].AgreementID == nil {
		t.Errorf("the operator's audit event: %+v", evs[1])
	}

	// Refusals, each byte for byte like the unknown key's or licence's.
	garbage := "not an installation id object"
	unknownCode, unknown := env.exact(outsider, http.MethodPost, "/api/v1/operator/keys/999999/offline-activations", garbage)
	if unknownCode != http.StatusForbidden {
		t.Fatalf("a non-operator on an unknown key: %d %s", unknownCode, unknown)
	}
	for _, who := range []string{outsider, reader} {
		if code, body := env.exact(who, http.MethodPost, byOperator, garbage); code != unknownCode || !bytes.Equal(body, unknown) {
			t.Errorf("a non-operator on the operators' route: %d %s, want %d %s", code, body, unknownCode, unknown)
		}
	}
	noLicenceCode, noLicence := env.exact(outsider, http.MethodPost, "/api/v1/licences/NOPE/keys/"+mak+"/offline-activations", garbage)
	for _, who := range []string{outsider, operator} {
		if code, body := env.exact(who, http.MethodPost, byReader, garbage); code != noLicenceCode || !bytes.Equal(body, noLicence) || code != http.StatusNotFound {
			t.Errorf("a non-reader on the licence route: %d %s, want %d %s", code, body, noLicenceCode, noLicence)
		}
	}
	// An operator learns that a key does not exist, and that an ID is wrong.
	if code, body := env.withToken(operator, http.MethodPost, "/api/v1/operator/keys/999999/offline-activations", map[string]string{"installation_id": phoneMachine(7)}); code != http.StatusNotFound {
		t.Errorf("operator, unknown key: %d %v", code, body)
	}
	if code, body := env.withToken(operator, http.MethodPost, byOperator, map[string]string{"installation_id": "12345-67890"}); code != http.StatusUnprocessableEntity {
		t.Errorf("operator, wrong installation ID: %d %v", code, body)
	}
	if used := env.makUsed(reader); used != 2 {
		t.Errorf("activations used %d after refusals, want 2", used)
	}
}

// makUsed is the activations used of V1's MAK as its key reader sees them.
func (env *authEnv) makUsed(reader string) int64 {
	env.t.Helper()
	code, body := env.withToken(reader, http.MethodGet, "/api/v1/licences/V1/keys", nil)
	env.ok("keys", code, http.StatusOK, body)
	for _, k := range body["keys"].([]any) {
		if m := k.(map[string]any); m["type"] == "mak" {
			used, _ := m["activations_used"].(float64)
			return int64(used)
		}
	}
	env.t.Fatalf("no MAK in %v", body)
	return 0
}

// TestOfflineActivationRateLimit: telephone activations draw on one budget
// per account and client address, whichever route they take.
func TestOfflineActivationRateLimit(t *testing.T) {
	env := newAuthEnvAt(t, modelstest.URL(t), func(o *api.Options) {
		o.Limits = limits.Defaults()
		o.Limits.Activation = limits.New(time.Hour, 2)
	})
	reader, operator := env.makeMAK()
	mak := env.makID(reader)
	post := func(token, path string, n int) int {
		code, _ := env.withToken(token, http.MethodPost, path, map[string]string{"installation_id": phoneMachine(n)})
		return code
	}
	if a, b := post(reader, "/api/v1/licences/V1/keys/"+mak+"/offline-activations", 1), post(operator, "/api/v1/operator/keys/"+mak+"/offline-activations", 2); a != http.StatusOK || b != http.StatusOK {
		t.Fatalf("within the limit: %d %d", a, b)
	}
	// The client address has used its two.
	if code := post(operator, "/api/v1/operator/keys/"+mak+"/offline-activations", 3); code != http.StatusTooManyRequests {
		t.Errorf("over the limit: %d", code)
	}
	if used := env.makUsed(reader); used != 2 {
		t.Errorf("activations used %d, want 2", used)
	}
}
