package authz

import (
	"database/sql"
	"strings"

	"github.com/openlsc/openlsc/models"
	"gorm.io/gorm"
)

// loadLinks reads the casbin g links from the database and passes each to
// add: every stored grant, every agreement's parent link, and the
// inheritance links of users who chose to inherit and administer the MBSA.
// With users, only the grant and inheritance links of those users are read
// (parent links are not per-user); with nil, everything. A link may be
// passed twice (a grant held directly and as a contact).
func loadLinks(db *gorm.DB, users []int64, add func(from, to string)) error {
	grants := db.Table("grants").Select("user_id, agreement_id, permission")
	if users != nil {
		grants = grants.Where("user_id IN ?", users)
	}
	err := scanRows(grants, func(scan func(...any) error) error {
		var (
			user int64
			lic  sql.NullInt64
			perm string
		)
		if err := scan(&user, &lic, &perm); err != nil {
			return err
		}
		if lic.Valid {
			add(userNode(user), roleNode(models.Permission(perm), lic.Int64))
		} else {
			add(userNode(user), perm) // a global role: operator
		}
		return nil
	})
	if err != nil {
		return err
	}
	if users == nil {
		parents := db.Table("agreements").Select("id, parent_id").Where("parent_id IS NOT NULL")
		err := scanRows(parents, func(scan func(...any) error) error {
			var child, parent int64
			if err := scan(&child, &parent); err != nil {
				return err
			}
			add(inheritNode(parent), roleNode(models.PermAdministrator, child))
			return nil
		})
		if err != nil {
			return err
		}
	}
	choices := db.Table("inheritance_choices AS ic").Select("ic.user_id, ic.mbsa_id").
		Where("ic.inherit = ?", true).
		Where("EXISTS (SELECT 1 FROM grants g WHERE g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?)", models.PermAdministrator)
	if users != nil {
		choices = choices.Where("ic.user_id IN ?", users)
	}
	return scanRows(choices, func(scan func(...any) error) error {
		var user, mbsa int64
		if err := scan(&user, &mbsa); err != nil {
			return err
		}
		add(userNode(user), inheritNode(mbsa))
		return nil
	})
}

// scanRows runs q and calls row for each result row.
func scanRows(q *gorm.DB, row func(scan func(...any) error) error) error {
	rows, err := q.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func parentLink(child, parent int64) []string {
	return []string{inheritNode(parent), roleNode(models.PermAdministrator, child)}
}

// syncUsers makes the in-memory links of users equal to what db holds. It
// is what every change ends with, on this instance after the commit and on
// the others when they hear of it.
func (a *Authorizer) syncUsers(db *gorm.DB, users []int64) error {
	want := map[[2]string]bool{}
	err := loadLinks(db, users, func(from, to string) { want[[2]string{from, to}] = true })
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

// syncParents makes the parent links of agreements equal to what db holds.
func (a *Authorizer) syncParents(db *gorm.DB, agreements []int64) error {
	var rows []struct {
		ID       int64
		ParentID *int64
	}
	if err := db.Table("agreements").Select("id, parent_id").Where("id IN ?", agreements).Scan(&rows).Error; err != nil {
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
			if !strings.HasPrefix(u, "inherit@") {
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
