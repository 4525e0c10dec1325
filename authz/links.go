package authz

import (
	"context"
	"strings"

	"github.com/openlsc/openlsc/models"
)

// loadLinks reads the casbin g links from the store and passes each to
// add: every stored grant, every agreement's parent link, and the
// inheritance links of users who chose to inherit and administer the MBSA.
// With users, only the grant and inheritance links of those users are read
// (parent links are not per-user); with nil, everything. A link may be
// passed twice (a grant held directly and as a contact).
func loadLinks(ctx context.Context, store *models.Store, users []int64, add func(from, to string)) error {
	return store.ScanAuthzLinks(ctx, users, models.LinkVisitor{
		Grant: func(user, licence int64, perm models.Permission) {
			if licence != 0 {
				add(userNode(user), roleNode(perm, licence))
			} else {
				add(userNode(user), string(perm)) // a global role: operator
			}
		},
		Parent: func(child, mbsa int64) {
			add(inheritNode(mbsa), roleNode(models.PermAdministrator, child))
		},
		Inherit: func(user, mbsa int64) {
			add(userNode(user), inheritNode(mbsa))
		},
	})
}

func parentLink(child, parent int64) []string {
	return []string{inheritNode(parent), roleNode(models.PermAdministrator, child)}
}

// syncUsers makes the in-memory links of users equal to what the store
// holds. It is what every change ends with, on this instance after the
// commit and on the others when they read the journal.
func (a *Authorizer) syncUsers(ctx context.Context, users []int64) error {
	want := map[[2]string]bool{}
	err := loadLinks(ctx, a.store, users, func(from, to string) { want[[2]string{from, to}] = true })
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state.Load()
	var remove [][]string
	for _, u := range users {
		roles, _ := st.rm.GetRoles(userNode(u))
		for _, r := range roles {
			l := [2]string{userNode(u), r}
			if want[l] {
				delete(want, l) // present already
				continue
			}
			remove = append(remove, l[:])
		}
	}
	add := make([][]string, 0, len(want))
	for l := range want {
		add = append(add, []string{l[0], l[1]})
	}
	return st.changeLinks(add, remove)
}

// syncParents makes the parent links of agreements equal to what the
// store holds.
func (a *Authorizer) syncParents(ctx context.Context, agreements []int64) error {
	rows, err := a.store.ParentsOf(ctx, agreements)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state.Load()
	var add, remove [][]string
	for _, r := range rows {
		role := roleNode(models.PermAdministrator, r.ID)
		from, _ := st.rm.GetUsers(role)
		for _, u := range from {
			if !strings.HasPrefix(u, inheritPrefix) {
				continue // a user's grant, not a parent link
			}
			if r.ParentID == nil || u != inheritNode(*r.ParentID) {
				remove = append(remove, []string{u, role})
			}
		}
		if r.ParentID != nil {
			add = append(add, parentLink(r.ID, *r.ParentID))
		}
	}
	return st.changeLinks(add, remove)
}
