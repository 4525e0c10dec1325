// Package app holds OpenLSC's use cases: signing in, proving a work email,
// matching agreement contacts, access requests, licence administration,
// product keys and activations, downloads, the audit log and the
// operators' desk. It combines the store (models), authorization (authz)
// and mail, which must not depend on each other; the HTTP layers (api,
// frontend) parse and render and call it for every decision. Each use
// case checks the actor's permission itself, whatever guard the route has.
package app

import (
	"context"

	"github.com/openlsc/openlsc/models"
)

// ctxKey keys values this package keeps in request contexts.
type ctxKey int

const (
	keySession ctxKey = iota
)

// WithSession returns ctx carrying the request's session.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, keySession, s)
}

// SessionFrom returns the request's session, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(keySession).(*Session)
	return s
}

// UserID returns the signed-in user of ctx, if any.
func UserID(ctx context.Context) (int64, bool) {
	s := SessionFrom(ctx)
	if s == nil || s.Record.UserID == nil {
		return 0, false
	}
	return *s.Record.UserID, true
}

// system is the actor for changes the service makes by itself.
var system = models.Actor{Label: "system"}
