package app

import (
	"context"
	"time"
)

// LeakSpan returns, for an operator, when the installations of flagged key
// keyID within the leak window were first and last seen: the evidence the
// operators' page shows beside the networks.
func (a *Activations) LeakSpan(ctx context.Context, op, keyID int64) (first, last time.Time, err error) {
	if !a.authz.IsOperator(op) {
		return first, last, ErrOperatorsOnly
	}
	return a.store.InstallationSpan(ctx, keyID, a.store.Now().Add(-a.opts.LeakWindow))
}
