package app

import (
	"context"
	"errors"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// AuditOfflineActivation is the audit event of a telephone activation.
const AuditOfflineActivation = "activation.offline"

// offlineNetwork is the network recorded for an installation activated by
// telephone; leak detection does not count it.
const offlineNetwork = "offline"

// OfflineInput is a telephone activation: the installation ID the
// software shows, as the person helping entered it, and the address the
// request came from (for the audit event).
type OfflineInput struct {
	InstallationID string
	Source         string
}

// OfflineActivate is telephone activation: a key reader of licence (or an
// operator helping on the phone) enters the installation ID iid the
// software shows for key keyID (in), and gets the confirmation ID the software
// checks offline. It counts like an online activation and is audited; a
// refusal is an *activation.Error.
func (a *Activations) OfflineActivate(ctx context.Context, user, licence, keyID int64, in OfflineInput) (string, error) {
	if !a.authz.Can(user, licence, authz.ActReadKeys) && !a.authz.IsOperator(user) {
		return "", authz.ErrNoSuchLicence
	}
	listing, err := a.store.KeyListing(ctx, keyID)
	if errors.Is(err, models.ErrNoSuchProductKey) || (err == nil && listing.AgreementID != licence) {
		return "", ErrNoSuchKey
	}
	if err != nil {
		return "", err
	}
	return a.offlineActivate(ctx, user, listing, in)
}

// OperatorOfflineActivate is OfflineActivate for an operator who found key
// keyID on the operators' desk, whatever its licence.
func (a *Activations) OperatorOfflineActivate(ctx context.Context, op, keyID int64, in OfflineInput) (string, error) {
	if !a.authz.IsOperator(op) {
		return "", ErrOperatorsOnly
	}
	listing, err := a.store.KeyListing(ctx, keyID)
	if errors.Is(err, models.ErrNoSuchProductKey) {
		return "", ErrNoSuchKey
	}
	if err != nil {
		return "", err
	}
	return a.offlineActivate(ctx, op, listing, in)
}

// offlineActivate counts the installation of in on key listing for user,
// who may, and answers its confirmation ID.
func (a *Activations) offlineActivate(ctx context.Context, user int64, listing *models.KeyListing, in OfflineInput) (string, error) {
	id, err := activation.ParseInstallationID(in.InstallationID)
	if err != nil {
		return "", models.Invalid("Check the installation ID.", models.FieldError{Field: "installation_id", Message: "a digit is wrong or missing"})
	}
	_, priv, err := a.signer(ctx)
	if err != nil {
		return "", err
	}
	err = a.store.InTx(ctx, func(tx *models.Tx) error {
		keys, err := tx.ActivationKeys(listing.Fingerprint)
		if err != nil {
			return err
		}
		for i := range keys {
			if keys[i].ID != listing.ID {
				continue
			}
			if err := checkKey(tx, &keys[i]); err != nil {
				return err
			}
			inst, err := a.countInstallation(tx, listing.ID, id, offlineNetwork)
			if err != nil {
				return err
			}
			actor := userActor(user)
			actor.SourceAddr = in.Source
			return tx.AppendAudit(actor, AuditOfflineActivation, &listing.AgreementID, map[string]any{
				"key_id": listing.ID, "suffix": listing.Suffix, "installation": inst.Identity,
			})
		}
		return ErrNoSuchKey
	})
	if err != nil {
		return "", err
	}
	return activation.ConfirmationID(priv, listing.ProductCode, in.InstallationID), nil
}
