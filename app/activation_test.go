package app_test

import (
	"errors"
	"testing"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// TestInstallationsListAndRelease: key readers see the installations that
// activated a MAK and the live count on the keys page; an administrator
// or an operator releases one (audited), freeing its activation.
func TestInstallationsListAndRelease(t *testing.T) {
	f := newKeysFixture(t)
	act := app.NewActivations(f.store, f.az, app.ActivationsOptions{})
	v1, mak := f.lic["V1"], f.keyID("WFP4D")
	for i, ip := range []string{"203.0.113.7", "2001:db8:1:2::5"} {
		id := activation.NewIdentity(map[string]string{"board": string(rune('A' + i)), "disk": "D"})
		if _, err := act.Activate(f.ctx, app.ActivationInput{Request: activation.Request{Key: keyMAK, Product: "win-ent", Components: id}, ClientIP: ip}); err != nil {
			t.Fatal(err)
		}
	}
	used := func() int64 {
		t.Helper()
		list, err := f.keys.List(f.ctx, f.users["reader"], v1)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range list {
			if k.ID == mak {
				return *k.ActivationsUsed
			}
		}
		t.Fatal("the MAK is not listed")
		return 0
	}
	if got := used(); got != 497 {
		t.Fatalf("keys page shows %d used, want 497", got)
	}
	for _, who := range []string{"viewer", "stranger"} {
		if _, err := act.Installations(f.ctx, f.users[who], v1, mak); !errors.Is(err, authz.ErrNoSuchLicence) {
			t.Errorf("%s lists installations: %v", who, err)
		}
	}
	insts, err := act.Installations(f.ctx, f.users["reader"], v1, mak)
	if err != nil || len(insts) != 2 {
		t.Fatalf("installations: %v %v", insts, err)
	}
	if insts[0].Network != "203.0.113.0/24" || insts[1].Network != "2001:db8:1::/48" {
		t.Errorf("networks: %q %q", insts[0].Network, insts[1].Network)
	}
	if err := act.ReleaseInstallation(f.ctx, f.users["reader"], v1, mak, insts[0].ID); !errors.Is(err, authz.ErrNoSuchLicence) {
		t.Errorf("a key reader released: %v", err)
	}
	if err := act.ReleaseInstallation(f.ctx, f.users["admin"], v1, mak, insts[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := act.ReleaseInstallation(f.ctx, f.users["admin"], v1, mak, insts[0].ID); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("released twice: %v", err)
	}
	if err := act.ReleaseInstallation(f.ctx, f.users["operator"], v1, mak, insts[1].ID); err != nil {
		t.Fatal(err)
	}
	if got := used(); got != 495 {
		t.Errorf("after release %d used, want 495", got)
	}
	if ev := f.events(app.AuditInstallationReleased); len(ev) != 2 {
		t.Errorf("release events: %v", ev)
	}
}
