package app

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/openlsc/openlsc/models"
)

// Thresholds of the home page dashboard.
const (
	// DashboardKeyPercent is the share of a MAK's activations from which
	// the dashboard lists it.
	DashboardKeyPercent = 90
	// DashboardExpiringDays is how close an agreement's end must be for the
	// dashboard to list it.
	DashboardExpiringDays = 90
	// dashboardRecentRequests is how many of the user's own requests the
	// dashboard lists.
	dashboardRecentRequests = 5
)

// DashboardView is what the signed-in home page shows: the tasks waiting
// for the user and what needs their attention soon.
type DashboardView struct {
	Verified        bool                   // the work email is confirmed; nothing else is filled in before
	Licences        int64                  // how many licences the user can see
	Administer      bool                   // administers at least one licence
	PendingRequests int64                  // access requests the user may decide
	MyRequests      []models.AccessRequest // the user's newest requests
	Keys            []DashboardKey         // MAKs at DashboardKeyPercent % or more
	Expiring        []DashboardAgreement   // agreements ending within DashboardExpiringDays
	SoleAdmin       []string               // licences the user is the only administrator of
	Operator        bool
	FailedRequests  int64 // operators: access requests nobody could decide
	PendingActivate int64 // operators: requests for more activations
}

// DashboardKey is a MAK that is nearly used up.
type DashboardKey struct {
	models.KeyUsage
	Percent int64
}

// DashboardAgreement is an agreement that ends soon.
type DashboardAgreement struct {
	Number string
	Ends   string
	Days   int // days left
}

// Dashboard gathers the home page's tasks for user.
func (a *Accounts) Dashboard(ctx context.Context, user int64) (*DashboardView, error) {
	me, err := a.Summary(ctx, user)
	if err != nil {
		return nil, err
	}
	v := &DashboardView{Verified: me.WorkEmailVerified, Operator: me.Operator}
	if v.Operator {
		if v.FailedRequests, v.PendingActivate, err = a.store.OperatorQueues(ctx); err != nil {
			return nil, err
		}
	}
	if v.MyRequests, err = a.store.RecentRequestsBy(ctx, user, dashboardRecentRequests); err != nil {
		return nil, err
	}
	if !v.Verified {
		return v, nil
	}
	var all, administered, keys []int64
	for _, l := range a.authz.Licences(user) {
		all = append(all, l.AgreementID)
		if slices.Contains(l.Permissions, models.PermAdministrator) {
			administered = append(administered, l.AgreementID)
		}
		if slices.Contains(l.Permissions, models.PermAdministrator) || slices.Contains(l.Permissions, models.PermKeyReader) {
			keys = append(keys, l.AgreementID)
		}
	}
	v.Licences, v.Administer = int64(len(all)), len(administered) > 0
	if err := a.dashboardLicences(ctx, v, user, all, administered, keys); err != nil {
		return nil, err
	}
	return v, nil
}

// dashboardLicences fills in the parts of v that read the user's licences.
func (a *Accounts) dashboardLicences(ctx context.Context, v *DashboardView, user int64, all, administered, keys []int64) error {
	var err error
	if v.PendingRequests, err = a.store.PendingRequestCount(ctx, administered); err != nil {
		return err
	}
	used, err := a.store.KeysNearlyUsedUp(ctx, keys, DashboardKeyPercent)
	if err != nil {
		return err
	}
	for _, k := range used {
		v.Keys = append(v.Keys, DashboardKey{KeyUsage: k, Percent: min(100, k.ActivationsUsed*100/k.ActivationLimit)})
	}
	slices.SortFunc(v.Keys, func(x, y DashboardKey) int { return cmp.Compare(y.Percent, x.Percent) })
	ags, err := a.store.AgreementsByID(ctx, all)
	if err != nil {
		return err
	}
	today := a.store.Now().UTC().Truncate(24 * time.Hour)
	for _, ag := range ags {
		if ag.Ends.IsZero() {
			continue
		}
		days := int(ag.Ends.Time().Sub(today).Hours() / 24)
		if days >= 0 && days <= DashboardExpiringDays {
			v.Expiring = append(v.Expiring, DashboardAgreement{Number: ag.Number, Ends: ag.Ends.String(), Days: days})
		}
	}
	slices.SortFunc(v.Expiring, func(x, y DashboardAgreement) int { return cmp.Compare(x.Days, y.Days) })
	sole, err := a.store.SoleAdministrations(ctx, user, administered)
	if err != nil {
		return err
	}
	for _, id := range sole {
		if ag, ok := ags[id]; ok {
			v.SoleAdmin = append(v.SoleAdmin, ag.Number)
		}
	}
	slices.Sort(v.SoleAdmin)
	return nil
}
