package app

import "github.com/openlsc/openlsc/models"

// Navigation says which parts of the web UI a user may use, so that the
// side navigation shows only those.
type Navigation struct {
	Licences   bool // holds any permission on a licence
	Administer bool // administers at least one licence (pending requests, audit log)
	Operator   bool // holds the global operator role
}

// Navigation describes what user may use. It reads the authorization
// graph held in memory, so every page may ask. Licences count only once the
// work email is confirmed, as on every other page.
func (a *Accounts) Navigation(user int64, verified bool) Navigation {
	n := Navigation{Operator: a.authz.IsOperator(user)}
	if !verified {
		return n
	}
	for _, l := range a.authz.Licences(user) {
		n.Licences = true
		for _, p := range l.Permissions {
			if p == models.PermAdministrator {
				n.Administer = true
				return n
			}
		}
	}
	return n
}
