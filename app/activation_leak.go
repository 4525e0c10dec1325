package app

import (
	"context"
	"slices"
	"strings"
	"time"

	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// ActivationsOptions configure the activation service.
type ActivationsOptions struct {
	BaseURL string // the public base URL, for links in mail
	Kick    func() // wakes the mail worker after a commit that queued mail
	// LeakWindow and LeakNetworks: a key activated from more than
	// LeakNetworks distinct networks (/24 or /48) within LeakWindow is
	// flagged as leaked. Defaults: 30 days, 25 networks.
	LeakWindow   time.Duration
	LeakNetworks int
	// KeyRefresh is how long a process signs with the signing key it
	// knows as current before asking the database again, so that a
	// rotation made by another process is used within it. Default: 1 s.
	KeyRefresh time.Duration
}

func (o ActivationsOptions) withDefaults() ActivationsOptions {
	if o.LeakWindow <= 0 {
		o.LeakWindow = 30 * 24 * time.Hour
	}
	if o.LeakNetworks <= 0 {
		o.LeakNetworks = 25
	}
	if o.KeyRefresh <= 0 {
		o.KeyRefresh = time.Second
	}
	return o
}

// checkLeak flags key keyID, once, when its installations came from more
// networks within the window than the threshold, and mails the licence's
// administrators and the operators.
func (a *Activations) checkLeak(ctx context.Context, tx *models.Tx, keyID int64) error {
	networks, installs, err := tx.ActivationSpread(keyID, tx.Now().Add(-a.opts.LeakWindow))
	networks = slices.DeleteFunc(networks, func(n string) bool { return n == offlineNetwork })
	if err != nil || len(networks) <= a.opts.LeakNetworks {
		return err
	}
	flag := models.LeakFlag{KeyID: keyID, Networks: int64(len(networks)), Installations: installs,
		Evidence: strings.Join(networks, " "), FlaggedAt: tx.Now()}
	added, err := tx.FlagLeak(&flag)
	if err != nil || !added {
		return err
	}
	return a.mailLeak(ctx, tx, keyID, &flag)
}

// mailLeak mails the licence's administrators and the operators about flag.
func (a *Activations) mailLeak(ctx context.Context, tx *models.Tx, keyID int64, flag *models.LeakFlag) error {
	key, err := a.store.KeyListing(ctx, keyID)
	if err != nil {
		return err
	}
	licence, err := tx.AgreementNumber(key.AgreementID)
	if err != nil {
		return err
	}
	to, err := a.leakRecipients(ctx, key.AgreementID)
	if err != nil {
		return err
	}
	for _, r := range to {
		data := map[string]any{"Licence": licence, "Product": key.ProductName, "KeySuffix": key.Suffix,
			"Networks": flag.Networks, "Installations": flag.Installations, "Days": int(a.opts.LeakWindow.Hours() / 24),
			"Link": a.opts.BaseURL + "/licences/" + licence + "/keys"}
		if err := mailer.Enqueue(tx, mailer.Message{To: r.email, Language: r.language, Template: mailer.TemplateActivationLeak, Data: data}); err != nil {
			return err
		}
	}
	if len(to) > 0 && a.opts.Kick != nil {
		tx.OnCommit(a.opts.Kick)
	}
	return nil
}

// leakRecipients are the administrators of licence and the operators who
// can be mailed.
func (a *Activations) leakRecipients(ctx context.Context, licence int64) ([]recipient, error) {
	ids, err := a.store.OperatorIDs(ctx)
	if err != nil {
		return nil, err
	}
	if a.authz != nil {
		grants, err := a.authz.Users(ctx, licence)
		if err != nil {
			return nil, err
		}
		ids = appendAdministrators(ids, grants)
	}
	return mailable(ctx, a.store, ids)
}

// LeakedKey is a flagged key as the operators' desk lists it.
type LeakedKey struct {
	models.LeakFlag
	Licence string           `json:"licence"`
	Product string           `json:"product"`
	Suffix  string           `json:"suffix"`
	Status  models.KeyStatus `json:"status"`
}

// LeakedKeys lists the flagged keys, with the evidence, for an operator;
// an operator blocks one and issues a replacement with Keys.SetKeyStatus.
func (a *Activations) LeakedKeys(ctx context.Context, op int64) ([]LeakedKey, error) {
	if !a.authz.IsOperator(op) {
		return nil, ErrOperatorsOnly
	}
	flags, err := a.store.LeakFlags(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]LeakedKey, 0, len(flags))
	for _, f := range flags {
		k, err := a.store.KeyListing(ctx, f.KeyID)
		if err != nil {
			return nil, err
		}
		ags, err := a.store.AgreementsByID(ctx, []int64{k.AgreementID})
		if err != nil {
			return nil, err
		}
		out = append(out, LeakedKey{LeakFlag: f, Licence: ags[k.AgreementID].Number, Product: k.ProductName, Suffix: k.Suffix, Status: k.Status})
	}
	return out, nil
}
