package api_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
)

// TestAccessRequestLockoutSaysUntil: the lockout answer says when it ends,
// in the detail and as Retry-After, with a stable code; at that time the
// lock is gone.
func TestAccessRequestLockoutSaysUntil(t *testing.T) {
	env := newAuthEnv(t)
	env.importContacts(models.ImportAgreement{Program: "enterprise", Number: "E1", Organization: "C1", Contacts: []models.ImportContact{{Email: "boss@contoso.example", Role: "primary"}}})
	staff := env.person("staff", "staff@fabrikam.example")
	bad := map[string]any{"program": "enterprise", "license_number": "NOPE", "permissions": []string{"license_viewer"}}
	first := env.clock.Now()
	for i := range 5 {
		if code, body := env.raw(staff, "/api/v1/access-requests", bad); code != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: %d %s", i+1, code, body)
		}
		env.clock.Add(10 * time.Minute)
	}
	// The first failure leaves the hour's window at first+1h: the lock ends
	// then, said to the minute rounded up.
	until := first.Add(time.Hour).UTC().Truncate(time.Minute).Add(time.Minute)
	good := map[string]any{"program": "enterprise", "license_number": "E1", "permissions": []string{"license_viewer"}}
	b, _ := json.Marshal(good)
	resp, err := staff.Post(env.srv.URL+"/api/v1/access-requests", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || p.Code != "err.request.locked" {
		t.Fatalf("locked: %d %+v", resp.StatusCode, p)
	}
	if want := until.Format("2 January 2006, 15:04 UTC"); !bytes.Contains([]byte(p.Detail), []byte(want)) {
		t.Errorf("detail %q does not say %q", p.Detail, want)
	}
	wantSecs := int64(math.Ceil(until.Sub(env.clock.Now()).Seconds()))
	if got, _ := strconv.ParseInt(resp.Header.Get("Retry-After"), 10, 64); got != wantSecs {
		t.Errorf("Retry-After %q, want %d", resp.Header.Get("Retry-After"), wantSecs)
	}
	env.clock.Add(until.Sub(env.clock.Now()))
	if code, body := env.raw(staff, "/api/v1/access-requests", good); code == http.StatusTooManyRequests {
		t.Errorf("still locked at %s: %s", until, body)
	}
}
