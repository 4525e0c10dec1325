package app

import (
	"context"
	"net/http"

	"golang.org/x/text/language"

	"github.com/openlsc/openlsc/models"
)

// Languages a user's pages and mail can be in; the first is the default.
var userLanguages = []language.Tag{language.English, language.Japanese}

// languageMatcher picks the closest of userLanguages.
var languageMatcher = language.NewMatcher(userLanguages)

// LanguageCookie is where the web UI remembers the language a visitor
// chose (the footer's language links and Preferences).
const LanguageCookie = "openlsc_lang"

// SupportedLanguage returns lang as stored ("en" or "ja") and whether it
// is one OpenLSC writes in.
func SupportedLanguage(lang string) (string, bool) {
	switch lang {
	case "en", "ja":
		return lang, true
	}
	return "", false
}

// RequestLanguage is the language of the pages r would get: the chosen
// one from the language cookie, else the best match for Accept-Language,
// else English.
func RequestLanguage(r *http.Request) string {
	if c, err := r.Cookie(LanguageCookie); err == nil {
		if lang, ok := SupportedLanguage(c.Value); ok {
			return lang
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, _ := languageMatcher.Match(tags...)
	return userLanguages[i].String()
}

type languageKey struct{}

// WithLanguage returns ctx carrying the language of the request's pages,
// which a first sign-in stores as the user's language.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey{}, lang)
}

// languageFrom returns the language WithLanguage put in ctx, or "".
func languageFrom(ctx context.Context) string {
	lang, _ := ctx.Value(languageKey{}).(string)
	return lang
}

// SetLanguage stores the language user's mail is written in: "en" or "ja".
func (a *Accounts) SetLanguage(ctx context.Context, user int64, lang string) error {
	l, ok := SupportedLanguage(lang)
	if !ok {
		return models.InvalidKey("err.language.unsupported", "Choose a language OpenLSC is written in.", models.FieldError{Field: "language", Key: "err.field.language", Message: "en or ja"})
	}
	forgetUser(ctx)
	return a.store.SetUserLanguage(ctx, user, l)
}

// firstSignInLanguage stores the language of the sign-in's pages as a new
// user's language, so that their first mail is in it already.
func (a *Accounts) firstSignInLanguage(ctx context.Context, user *models.User) error {
	lang, ok := SupportedLanguage(languageFrom(ctx))
	if !ok || lang == user.Language {
		return nil
	}
	if err := a.store.SetUserLanguage(ctx, user.ID, lang); err != nil {
		return err
	}
	user.Language = lang
	return nil
}

// inviterLanguage is the language of an invitation mail: the inviting
// administrator's, since the invited person has not chosen one yet.
func inviterLanguage(tx *models.Tx, inviter int64) (string, error) {
	lang, err := tx.UserLanguage(inviter)
	if err != nil {
		return "", err
	}
	if l, ok := SupportedLanguage(lang); ok {
		return l, nil
	}
	return "en", nil
}
