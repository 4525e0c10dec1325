package app_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/app"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// TestLeakFlaggedThenBlocked: a MAK activated from more networks than the
// threshold is flagged once, the administrators and operators are mailed,
// the operators' desk lists it, and blocking it refuses activations.
func TestLeakFlaggedThenBlocked(t *testing.T) {
	f := newKeysFixture(t)
	act := app.NewActivations(f.store, f.az, app.ActivationsOptions{BaseURL: "https://lsc.example", LeakNetworks: 3})
	mak := f.keyID("WFP4D")
	activate := func(n int) error {
		id := activation.NewIdentity(map[string]string{"board": fmt.Sprint("b", n), "disk": fmt.Sprint("d", n)})
		_, err := act.Activate(f.ctx, app.ActivationInput{Request: activation.Request{Key: keyMAK, Product: "win-ent", Components: id},
			ClientIP: fmt.Sprintf("198.51.%d.10", n)})
		return err
	}
	leakMails := func() map[string]int {
		out := map[string]int{}
		for _, m := range f.outbox() {
			if m.Template == mailer.TemplateActivationLeak {
				out[m.Recipient]++
			}
		}
		return out
	}
	for n := range 3 {
		if err := activate(n); err != nil {
			t.Fatal(err)
		}
	}
	if list, err := act.LeakedKeys(f.ctx, f.users["operator"]); err != nil || len(list) != 0 {
		t.Fatalf("flagged at the threshold: %v %v", list, err)
	}
	for n := 3; n < 5; n++ {
		if err := activate(n); err != nil {
			t.Fatal(err)
		}
	}
	list, err := act.LeakedKeys(f.ctx, f.users["operator"])
	if err != nil || len(list) != 1 || list[0].KeyID != mak || list[0].Networks != 4 || list[0].Licence != "V1" {
		t.Fatalf("leaked keys: %+v %v", list, err)
	}
	if list[0].Evidence != "198.51.0.0/24 198.51.1.0/24 198.51.2.0/24 198.51.3.0/24" {
		t.Errorf("evidence: %q", list[0].Evidence)
	}
	mails := leakMails()
	if mails["admin@contoso.example"] != 1 || mails["operator@contoso.example"] != 1 || mails["reader@contoso.example"] != 0 {
		t.Errorf("leak mails: %v", mails)
	}
	if _, err := act.LeakedKeys(f.ctx, f.users["admin"]); !errors.Is(err, app.ErrOperatorsOnly) {
		t.Errorf("an administrator saw the desk: %v", err)
	}
	_, err = f.keys.SetKeyStatus(f.ctx, f.users["operator"], mak, app.KeyStatusInput{Status: models.KeyBlocked, Reason: models.BlockLeaked,
		Note: list[0].Evidence, ReplacementKey: "N7QXR-2V8KD-PJ4WT-9HCMY-LEAK1"})
	if err != nil {
		t.Fatal(err)
	}
	var e *activation.Error
	if err := activate(0); !errors.As(err, &e) || e.Code != activation.CodeKeyBlocked || e.HResult != "0xC004C003" {
		t.Errorf("blocked key activated: %v", err)
	}
}

// TestLeakIgnoresTelephone: installations activated by telephone have no
// network, and do not count as one towards the leak threshold.
func TestLeakIgnoresTelephone(t *testing.T) {
	f := newKeysFixture(t)
	act := app.NewActivations(f.store, f.az, app.ActivationsOptions{LeakNetworks: 2})
	v2 := f.keyID("8663Y")
	machine := func(n int) activation.Identity {
		return activation.NewIdentity(map[string]string{"board": fmt.Sprint("b", n), "disk": fmt.Sprint("d", n)})
	}
	if _, err := act.OperatorOfflineActivate(f.ctx, f.users["operator"], v2, app.OfflineInput{InstallationID: activation.InstallationID(machine(9))}); err != nil {
		t.Fatal(err)
	}
	for n := range 3 {
		_, err := act.Activate(f.ctx, app.ActivationInput{Request: activation.Request{Key: keyV2, Product: "win-ent", Components: machine(n)},
			ClientIP: fmt.Sprintf("198.51.%d.10", n)})
		if err != nil {
			t.Fatal(err)
		}
		list, err := act.LeakedKeys(f.ctx, f.users["operator"])
		if want := n == 2; err != nil || (len(list) == 1) != want {
			t.Fatalf("after %d networks and a telephone activation: flagged %v, want %v (%v)", n+1, list, want, err)
		}
		if n == 2 && (list[0].Networks != 3 || list[0].Installations != 4) {
			t.Errorf("evidence: %+v", list[0])
		}
	}
}

// TestLeakRepeatFromNewNetwork: known installations that activate again
// from networks new to the key feed leak detection, as new installations
// do (the lock-free repeat path leaves them to the locked one).
func TestLeakRepeatFromNewNetwork(t *testing.T) {
	f := newKeysFixture(t)
	act := app.NewActivations(f.store, f.az, app.ActivationsOptions{LeakNetworks: 3})
	activate := func(n, network int) error {
		id := activation.NewIdentity(map[string]string{"board": fmt.Sprint("b", n), "disk": fmt.Sprint("d", n)})
		_, err := act.Activate(f.ctx, app.ActivationInput{Request: activation.Request{Key: keyMAK, Product: "win-ent", Components: id},
			ClientIP: fmt.Sprintf("198.51.%d.10", network)})
		return err
	}
	for n := range 4 {
		for range 2 { // first activation, then a repeat from the same network
			if err := activate(n, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for n := 1; n < 4; n++ {
		if err := activate(n, n); err != nil {
			t.Fatal(err)
		}
	}
	list, err := act.LeakedKeys(f.ctx, f.users["operator"])
	if err != nil || len(list) != 1 || list[0].Networks != 4 || list[0].Installations != 4 {
		t.Fatalf("leaked keys after repeats from new networks: %+v %v", list, err)
	}
}
