package app_test

import (
	"errors"
	"testing"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
)

// TestOfflineActivation: the software shows an installation ID, a key
// reader gets a confirmation ID the software checks offline; it counts
// like an online activation, up to the limit.
func TestOfflineActivation(t *testing.T) {
	f := newKeysFixture(t)
	act := app.NewActivations(f.store, f.az, app.ActivationsOptions{})
	v1, mak := f.lic["V1"], f.keyID("WFP4D") // 495 of 500 used
	ks, err := act.PublicKeys(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	mach := func(n int, board string) activation.Identity {
		return activation.NewIdentity(map[string]string{"board": board, "disk": string(rune('a' + n)), "mac": string(rune('A' + n)), "cpu": "x"})
	}
	// Online first; offline after a motherboard change is the same installation.
	if _, err := act.Activate(f.ctx, app.ActivationInput{Request: activation.Request{Key: keyMAK, Product: "win-ent", Components: mach(0, "b0")}, ClientIP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	for n := range 6 {
		iid := activation.InstallationID(mach(n, "new"))
		cid, err := act.OfflineActivate(f.ctx, f.users["reader"], v1, mak, app.OfflineInput{InstallationID: iid})
		if n == 5 {
			var e *activation.Error
			if !errors.As(err, &e) || e.Code != activation.CodeLimitReached {
				t.Errorf("over the limit: %v", err)
			}
			break
		}
		if err != nil {
			t.Fatalf("machine %d: %v", n, err)
		}
		if err := ks.CheckConfirmation(cid, "win-ent", iid); err != nil {
			t.Errorf("machine %d: %v", n, err)
		}
	}
	insts, err := act.Installations(f.ctx, f.users["reader"], v1, mak)
	if err != nil || len(insts) != 5 {
		t.Fatalf("installations: %d %v", len(insts), err)
	}
	if _, err := act.OfflineActivate(f.ctx, f.users["viewer"], v1, mak, app.OfflineInput{InstallationID: activation.InstallationID(mach(9, "z"))}); !errors.Is(err, authz.ErrNoSuchLicence) {
		t.Errorf("a viewer activated: %v", err)
	}
	if _, err := act.OfflineActivate(f.ctx, f.users["reader"], v1, mak, app.OfflineInput{InstallationID: "12345-67890"}); err == nil {
		t.Error("a wrong installation ID was accepted")
	}
}
