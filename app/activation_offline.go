package app

import (
	"context"
	"errors"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// OfflineActivate is telephone activation: a key reader of licence (or an
// operator helping on the phone) enters the installation ID the software
// shows for key keyID, and gets the confirmation ID the software checks
// offline. It counts like an online activation; a refusal is an
// *activation.Error.
func (a *Activations) OfflineActivate(ctx context.Context, user, licence, keyID int64, iid string) (string, error) {
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
	id, err := activation.ParseInstallationID(iid)
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
			if keys[i].ID != keyID {
				continue
			}
			if err := checkKey(tx, &keys[i]); err != nil {
				return err
			}
			_, err := a.countInstallation(tx, keyID, id, "offline")
			return err
		}
		return ErrNoSuchKey
	})
	if err != nil {
		return "", err
	}
	return activation.ConfirmationID(priv, listing.ProductCode, iid), nil
}
