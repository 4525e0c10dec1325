package authz

import (
	"fmt"
	"strings"

	"github.com/openlsc/openlsc/models"
	"gorm.io/gorm"
)

// loadLinks reads the casbin g links from the database: every stored grant,
// every agreement's parent link, and the inheritance links of users who
// chose to inherit and administer the MBSA. With users, only the grant and
// inheritance links of those users are read (parent links are not
// per-user); with nil, everything.
func loadLinks(db *gorm.DB, users []int64) ([][]string, error) {
	var links [][]string
	grants := db.Table("grants").Select("DISTINCT user_id, agreement_id, permission")
	if users != nil {
		grants = grants.Where("user_id IN ?", users)
	}
	rows, err := grants.Rows()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			user int64
			lic  *int64
			perm string
		)
		if err := rows.Scan(&user, &lic, &perm); err != nil {
			rows.Close()
			return nil, err
		}
		links = append(links, grantLink(user, lic, models.Permission(perm)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	if users == nil {
		rows, err := db.Table("agreements").Select("id, parent_id").Where("parent_id IS NOT NULL").Rows()
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var child, parent int64
			if err := rows.Scan(&child, &parent); err != nil {
				rows.Close()
				return nil, err
			}
			links = append(links, parentLink(child, parent))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}

	choices := db.Table("inheritance_choices AS ic").Select("ic.user_id, ic.mbsa_id").
		Where("ic.inherit = ?", true).
		Where("EXISTS (SELECT 1 FROM grants g WHERE g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?)", models.PermAdministrator)
	if users != nil {
		choices = choices.Where("ic.user_id IN ?", users)
	}
	rows, err = choices.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var user, mbsa int64
		if err := rows.Scan(&user, &mbsa); err != nil {
			return nil, err
		}
		links = append(links, []string{userNode(user), inheritNode(mbsa)})
	}
	return links, rows.Err()
}

func grantLink(user int64, licence *int64, perm models.Permission) []string {
	if licence == nil {
		return []string{userNode(user), string(perm)}
	}
	return []string{userNode(user), roleNode(perm, *licence)}
}

func parentLink(child, parent int64) []string {
	return []string{inheritNode(parent), roleNode(models.PermAdministrator, child)}
}

// syncUsers makes the in-memory links of users equal to what db holds. It
// is what every change ends with, on this instance after the commit and on
// the others when they hear of it.
func (a *Authorizer) syncUsers(db *gorm.DB, users []int64) error {
	want, err := loadLinks(db, users)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state.Load()
	wantSet := make(map[[2]string]bool, len(want))
	for _, l := range want {
		wantSet[[2]string{l[0], l[1]}] = true
	}
	var add, remove [][]string
	for _, u := range users {
		roles, _ := st.rm.GetRoles(userNode(u))
		for _, r := range roles {
			if !wantSet[[2]string{userNode(u), r}] {
				remove = append(remove, []string{userNode(u), r})
			}
			delete(wantSet, [2]string{userNode(u), r})
		}
	}
	for l := range wantSet {
		add = append(add, []string{l[0], l[1]})
	}
	if len(remove) > 0 {
		if _, err := st.enf.SelfRemovePolicies("g", "g", remove); err != nil {
			return fmt.Errorf("authz: remove links: %w", err)
		}
	}
	if len(add) > 0 {
		if _, err := st.enf.SelfAddPoliciesEx("g", "g", add); err != nil {
			return fmt.Errorf("authz: add links: %w", err)
		}
	}
	return nil
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
		users, _ := st.rm.GetUsers(role)
		for _, u := range users {
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
	if len(remove) > 0 {
		if _, err := st.enf.SelfRemovePolicies("g", "g", remove); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		if _, err := st.enf.SelfAddPoliciesEx("g", "g", add); err != nil {
			return err
		}
	}
	return nil
}
