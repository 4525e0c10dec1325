package app

import (
	"testing"

	"github.com/openlsc/openlsc/models"
)

// TestRequestUserAfterChange: the user read with a request's credential
// serves the rest of the request, and a use case that changes that user
// (confirming the work email, choosing a language) drops it, so that the
// same request sees the change.
func TestRequestUserAfterChange(t *testing.T) {
	f := newRaceFixture(t)
	user, identity := f.signedIn()
	u, err := f.store.SignedInUser(f.ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithSession(f.ctx, &Session{Record: &models.Session{UserID: &user, IdentityID: &identity}, User: u})
	if ok, err := f.acc.Active(ctx, user); err != nil || ok {
		t.Fatalf("before confirming: %v %v", ok, err)
	}
	if _, err := f.acc.VerifyWorkEmail(ctx, user, identity, f.link(user, identity, "new@contoso.example"), false); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.acc.Active(ctx, user); err != nil || !ok {
		t.Errorf("after confirming, in the same request: %v %v", ok, err)
	}
	if err := f.acc.SetLanguage(ctx, user, "ja"); err != nil {
		t.Fatal(err)
	}
	if me, err := f.acc.Summary(ctx, user); err != nil || me.Language != "ja" || !me.WorkEmailVerified {
		t.Errorf("after choosing Japanese, in the same request: %+v %v", me, err)
	}
}
