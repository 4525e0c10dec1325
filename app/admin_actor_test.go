package app

import (
	"errors"
	"testing"

	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// TestAdminChecksActor: every administration use case refuses, like an
// unknown licence, an actor who does not administer the licence, whatever
// guard the route has (issue 9 §5).
func TestAdminChecksActor(t *testing.T) {
	f := newRaceFixture(t)
	viewer := f.verified("viewer@fabrikam.example")
	stranger := f.verified("stranger@fabrikam.example")
	colleague := f.verified("colleague@fabrikam.example")
	err := f.store.InTx(f.ctx, func(tx *models.Tx) error {
		for _, u := range []int64{viewer, colleague} {
			if err := f.az.Grant(tx, userActor(f.boss), u, &f.lic, models.PermLicenseViewer, models.SourceDirect); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.admin.AddUser(f.ctx, f.boss, f.lic, AddUserInput{Email: "invited@fabrikam.example", Permissions: []models.Permission{models.PermKeyReader}}); err != nil {
		t.Fatal(err)
	}
	list, err := f.admin.Users(f.ctx, f.boss, f.lic)
	if err != nil {
		t.Fatal(err)
	}
	var invitation int64
	for _, lu := range list {
		invitation = max(invitation, lu.InvitationID)
	}
	keyReader := []models.Permission{models.PermKeyReader}
	for name, actor := range map[string]int64{"viewer": viewer, "stranger": stranger} {
		for use, call := range map[string]func() error{
			"Users": func() error { _, err := f.admin.Users(f.ctx, actor, f.lic); return err },
			"AddUser invites": func() error {
				return f.admin.AddUser(f.ctx, actor, f.lic, AddUserInput{Email: "new@fabrikam.example", Permissions: keyReader})
			},
			"AddUser grants": func() error {
				return f.admin.AddUser(f.ctx, actor, f.lic, AddUserInput{Email: "colleague@fabrikam.example", Permissions: keyReader})
			},
			"SetPermissions":   func() error { return f.admin.SetPermissions(f.ctx, actor, f.lic, colleague, keyReader) },
			"ResendInvitation": func() error { return f.admin.ResendInvitation(f.ctx, actor, f.lic, invitation) },
		} {
			if err := call(); !errors.Is(err, authz.ErrNoSuchLicence) {
				t.Errorf("%s × %s: %v, want the unknown-licence answer", name, use, err)
			}
		}
	}
	if _, err := f.acc.Licence(f.ctx, stranger, f.lic); !errors.Is(err, authz.ErrNoSuchLicence) {
		t.Errorf("a stranger reads the licence: %v", err)
	}
	if _, err := f.acc.Licence(f.ctx, viewer, f.lic); err != nil {
		t.Errorf("the viewer reads the licence: %v", err)
	}
}
