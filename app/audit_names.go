package app

import "context"

// ActorNames returns how the audit log page names the users who acted:
// "Display Name <work email>" by user id. Only the ids of events the viewer
// was shown are asked for.
func (a *Audit) ActorNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	return a.store.UserLabels(ctx, ids)
}
