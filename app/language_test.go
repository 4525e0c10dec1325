package app_test

import (
	"net/http/httptest"
	"testing"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// TestLanguageOfMail checks that a user's stored language is what their
// mail is written in: set through SetLanguage, and used for the
// invitations an administrator sends to people who have no account yet.
func TestLanguageOfMail(t *testing.T) {
	f := newKeysFixture(t)
	accounts := app.NewAccounts(f.store, f.az, app.WorkEmailOptions{})
	admin := app.NewAdmin(f.store, f.az, app.AdminOptions{BaseURL: "https://lsc.example"})

	if err := accounts.SetLanguage(f.ctx, f.users["admin"], "fr"); models.ErrorCode(err) != models.CodeInvalid {
		t.Fatalf("SetLanguage(fr) = %v, want invalid", err)
	}
	if err := accounts.SetLanguage(f.ctx, f.users["admin"], "ja"); err != nil {
		t.Fatal(err)
	}
	me, err := accounts.Summary(f.ctx, f.users["admin"])
	if err != nil || me.Language != "ja" {
		t.Fatalf("language after SetLanguage = %q, %v; want ja", me.Language, err)
	}
	in := app.AddUserInput{Email: "newcomer@contoso.example", Permissions: []models.Permission{models.PermLicenseViewer}}
	if err := admin.AddUser(f.ctx, f.users["admin"], f.lic["V1"], in); err != nil {
		t.Fatal(err)
	}
	mails := modelstest.Find(t, f.store, models.OutboxMail{Recipient: "newcomer@contoso.example"})
	if len(mails) != 1 || mails[0].Language != "ja" {
		t.Fatalf("invitation mails = %+v, want one in the inviter's language ja", mails)
	}
}

// TestRequestLanguage checks the language a first sign-in stores: the
// page language cookie, else Accept-Language, else English.
func TestRequestLanguage(t *testing.T) {
	for _, tt := range []struct{ cookie, accept, want string }{
		{"", "", "en"},
		{"", "ja-JP,ja;q=0.9,en;q=0.8", "ja"},
		{"en", "ja", "en"},
		{"ja", "en", "ja"},
		{"xx", "fr, ja;q=0.5", "ja"},
	} {
		r := httptest.NewRequest("GET", "/auth/callback", nil)
		if tt.cookie != "" {
			r.Header.Set("Cookie", app.LanguageCookie+"="+tt.cookie)
		}
		r.Header.Set("Accept-Language", tt.accept)
		if got := app.RequestLanguage(r); got != tt.want {
			t.Errorf("RequestLanguage(cookie %q, Accept-Language %q) = %q, want %q", tt.cookie, tt.accept, got, tt.want)
		}
	}
}
