package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/models/modelstest"
)

// vendorSoftware is the vendor's software on a machine behind the client
// address addr (forwarded by a proxy the server trusts), using the client
// package as the example command does; demoWinMAK and demoOfficeMAK are
// the demo MAKs of E2000001.
func vendorSoftware(base, addr string) *activation.Client {
	return &activation.Client{BaseURL: base, HTTP: &http.Client{Transport: forwardedFor(addr)}}
}

// verifiedPersona signs in as a demo persona and confirms its work email
// through the API, with the link mailed to the development mailbox.
func verifiedPersona(t *testing.T, m *Main, base, subject, email string) *http.Client {
	t.Helper()
	c := devSignIn(t, base, subject)
	if code, body := callJSON(t, c, http.MethodPut, base+"/api/v1/me/work-email", map[string]string{"email": email}); code != http.StatusAccepted {
		t.Fatalf("register %s: %d %s", email, code, body)
	}
	tokenRE := regexp.MustCompile(`/verify-email\?token=([A-Za-z0-9_-]+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := m.worker.ProcessOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		list, err := m.Mailbox.List(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range list {
			if tok := tokenRE.FindStringSubmatch(msg.TextBody); msg.Recipient == email && tok != nil {
				if code, body := callJSON(t, c, http.MethodPost, base+"/api/v1/me/work-email/verify", map[string]string{"token": tok[1]}); code != http.StatusOK {
					t.Fatalf("confirm %s: %d %s", email, code, body)
				}
				return c
			}
		}
	}
	t.Fatalf("no confirmation mail to %s", email)
	return nil
}

// waitForSubject returns the subject of the first mail to to whose
// subject contains part, after the mail worker sent it.
func waitForSubject(t *testing.T, m *Main, to, part string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := m.worker.ProcessOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		list, err := m.Mailbox.List(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range list {
			if msg.Recipient == to && strings.Contains(msg.Subject, part) {
				return msg.Subject
			}
		}
	}
	t.Fatalf("no mail to %s about %q", to, part)
	return ""
}

// callJSON sends body as JSON and returns the status and the answer.
func callJSON(t *testing.T, c *http.Client, method, u string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// refusalCode is the stable code and Windows code of an activation
// refusal, or the error itself when it is not one.
func refusalCode(err error) string {
	var e *activation.Error
	if errors.As(err, &e) {
		return e.Code + " " + e.HResult
	}
	return fmt.Sprint(err)
}

// operatorKeyID is the id of the key of licence ending in suffix, as the
// operators' key list shows it.
func operatorKeyID(t *testing.T, op *http.Client, base, licence, suffix string) int64 {
	t.Helper()
	code, body := callJSON(t, op, http.MethodGet, base+"/api/v1/operator/licences/"+licence+"/keys", nil)
	var list struct {
		Keys []struct {
			ID     int64  `json:"id"`
			Suffix string `json:"suffix"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil {
		t.Fatalf("operator keys of %s: %d %s", licence, code, body)
	}
	for _, k := range list.Keys {
		if k.Suffix == suffix {
			return k.ID
		}
	}
	t.Fatalf("no key %s in %s", suffix, body)
	return 0
}

// TestActivationEndToEnd is issue 13's "done when", against the real
// server with the demo data, the vendor's side through the client package:
// a demo MAK is activated (online, and once by telephone) up to its limit,
// a new machine is then refused with 0xC004C020 while a known one still
// activates; a MAK activated from many networks is flagged, blocked by an
// operator and then refused with 0xC004C003; the customer's keys page shows
// the live counts. Client networks come through X-Forwarded-For from a
// proxy on loopback, which the server is configured to trust.
func TestActivationEndToEnd(t *testing.T) {
	t.Logf("database: %s", modelstest.Name())
	m, base, _, _ := startMain(t, map[string]string{"OPENLSC_TRUSTED_PROXIES": "127.0.0.1"})
	ctx := context.Background()
	office := vendorSoftware(base, "198.51.100.20")
	customer := verifiedPersona(t, m, base, "ea-admin", "ea-admin@contoso.example") // administrator of E2000001
	op := verifiedPersona(t, m, base, "operator", "operator@openlsc.example")

	// 495 of 500 used: four machines online, one by telephone.
	for n := 1; n <= 4; n++ {
		_, _, claims, err := office.ActivateVerified(ctx, demoWinMAK, "win-ent", computer(n))
		if err != nil || claims.KeySuffix != "WFP4D" {
			t.Fatalf("machine %d: %+v %v", n, claims, err)
		}
	}
	winID := operatorKeyID(t, op, base, "E2000001", "WFP4D")
	iid := activation.InstallationID(computer(5)) // the software shows it; the customer reads it out
	code, body := callJSON(t, customer, http.MethodPost, fmt.Sprintf("%s/api/v1/licences/E2000001/keys/%d/offline-activations", base, winID), map[string]string{"installation_id": iid})
	var answer struct {
		ConfirmationID string `json:"confirmation_id"`
	}
	if err := json.Unmarshal([]byte(body), &answer); code != http.StatusOK || err != nil {
		t.Fatalf("telephone activation: %d %s", code, body)
	}
	keys, err := office.Keys(ctx) // the software's stored key set
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.CheckConfirmation(answer.ConfirmationID, "win-ent", iid); err != nil {
		t.Fatalf("the software refuses the confirmation ID: %v", err)
	}
	if err := keys.CheckConfirmation(answer.ConfirmationID, "win-ent", activation.InstallationID(computer(6))); err == nil {
		t.Error("a confirmation ID checked for another machine")
	}

	// The limit: a new machine is refused, a known one (even with a new disk) is not.
	if _, _, _, err := office.ActivateVerified(ctx, demoWinMAK, "win-ent", computer(6)); refusalCode(err) != "activation_limit_reached 0xC004C020" {
		t.Errorf("a new machine past the limit: %v", err)
	}
	changed := activation.NewIdentity(map[string]string{"board": "board-1", "disk": "disk-new", "mac": "mac-1"})
	for _, id := range []activation.Identity{computer(1), changed} {
		if _, _, _, err := office.ActivateVerified(ctx, demoWinMAK, "win-ent", id); err != nil {
			t.Errorf("a known machine again: %v", err)
		}
	}

	// Leak: the Office MAK from 26 networks (more than the default 25).
	for n := range 26 {
		soft := vendorSoftware(base, fmt.Sprintf("198.18.%d.7", n))
		if _, _, _, err := soft.ActivateVerified(ctx, demoOfficeMAK, "office-ltsc", computer(100+n)); err != nil {
			t.Fatalf("office machine %d: %v", n, err)
		}
	}
	code, body = callJSON(t, op, http.MethodGet, base+"/api/v1/operator/leaked-keys", nil)
	if code != http.StatusOK || !strings.Contains(body, `"suffix":"PRYD9"`) || !strings.Contains(body, `"networks":26`) || !strings.Contains(body, "198.18.25.0/24") {
		t.Fatalf("leaked keys: %d %s", code, body)
	}
	for _, to := range []string{"operator@openlsc.example", "ea-admin@contoso.example"} {
		if subject := waitForSubject(t, m, to, "may have leaked"); !strings.Contains(subject, "PRYD9") {
			t.Errorf("leak mail to %s: %q", to, subject)
		}
	}
	officeID := operatorKeyID(t, op, base, "E2000001", "PRYD9")
	code, body = callJSON(t, op, http.MethodPut, fmt.Sprintf("%s/api/v1/operator/keys/%d/status", base, officeID),
		map[string]string{"status": "blocked", "reason": "leaked", "note": "activated from 26 networks"})
	if code != http.StatusOK {
		t.Fatalf("block: %d %s", code, body)
	}
	for _, n := range []int{100, 999} { // a machine that activated before, and a new one
		if _, _, _, err := vendorSoftware(base, "198.18.0.7").ActivateVerified(ctx, demoOfficeMAK, "office-ltsc", computer(n)); refusalCode(err) != "key_blocked 0xC004C003" {
			t.Errorf("the blocked key, machine %d: %v", n, err)
		}
	}

	// The customer's keys page shows the live counts.
	resp, page := getWith(t, customer, base+"/licences/E2000001/keys")
	for _, want := range []string{"500 of 500 activations used", "146 of 500 activations used"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("keys page: %d, no %q in\n%.3000s", resp.StatusCode, want, page)
		}
	}
}
