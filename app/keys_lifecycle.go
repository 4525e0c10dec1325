package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/openlsc/openlsc/authz"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// Audit kinds of the key lifecycle.
const (
	AuditKeyStatus   = "key.status"   // a key was blocked, retired or made active again
	AuditKeyReplaced = "key.replaced" // a replacement key was issued
)

// maxKeyNoteLen bounds the operator's note on a status change.
const maxKeyNoteLen = 500

// KeyStatusInput is an operator's change of a key's status.
type KeyStatusInput struct {
	Status models.KeyStatus   `json:"status"`
	Reason models.BlockReason `json:"reason"` // required when blocking
	Note   string             `json:"note"`   // optional, mailed to the licence's key readers
	// ReplacementKey, when given, is stored in the same step as a new key
	// of the same licence, product and type, noted as replacing this one.
	ReplacementKey string `json:"replacement_key"`
}

// KeyStatusResult is the key after the change and its replacement, if any.
type KeyStatusResult struct {
	Key         KeyView  `json:"key"`
	Replacement *KeyView `json:"replacement,omitempty"`
}

// ErrKeyStatusUnchanged refuses a change to the status a key has already.
var ErrKeyStatusUnchanged = models.New(models.CodeConflict, "err.key.status_unchanged", "The key has this status already.")

// check validates in, trimmed, and returns the field problems.
func (in *KeyStatusInput) check() error {
	in.Note, in.ReplacementKey = strings.TrimSpace(in.Note), strings.TrimSpace(in.ReplacementKey)
	var fields []models.FieldError
	switch {
	case !in.Status.Valid():
		fields = append(fields, models.FieldError{Field: "status", Key: "err.field.key_status", Message: "use active, blocked or retired"})
	case in.Status == models.KeyBlocked && !in.Reason.Valid():
		fields = append(fields, models.FieldError{Field: "reason", Key: "err.field.block_reason", Message: "give the reason: leaked, fraud or replaced"})
	case in.Status != models.KeyBlocked && in.Reason != "":
		fields = append(fields, models.FieldError{Field: "reason", Key: "err.field.reason_unblocked", Message: "only a blocked key has a reason"})
	case in.Status == models.KeyActive && in.ReplacementKey != "":
		fields = append(fields, models.FieldError{Field: "replacement_key", Key: "err.field.replacement_active", Message: "only a blocked or retired key is replaced"})
	}
	if utf8.RuneCountInString(in.Note) > maxKeyNoteLen {
		fields = append(fields, models.FieldError{Field: "note", Key: "err.field.too_long", Args: models.Args{"Max": maxKeyNoteLen}, Message: fmt.Sprintf("at most %d characters", maxKeyNoteLen)})
	}
	if n := utf8.RuneCountInString(in.ReplacementKey); in.ReplacementKey != "" && (n < 5 || n > 128 || strings.ContainsAny(in.ReplacementKey, " \t\r\n")) {
		fields = append(fields, models.FieldError{Field: "replacement_key", Key: "err.field.replacement_key", Message: "give the new product key (5 to 128 characters, no spaces)"})
	}
	if len(fields) > 0 {
		return models.InvalidKey("err.key.status_invalid", "Check the status change.", fields...)
	}
	return nil
}

// SetKeyStatus blocks, retires or reactivates key keyID and, when asked,
// stores its replacement. Only operators may. The change is audited, and
// the licence's administrators and key readers are mailed (in their
// language) when a key is blocked or retired. Two operators changing the
// same key at once: one wins, the other gets a conflict.
func (k *Keys) SetKeyStatus(ctx context.Context, op, keyID int64, in KeyStatusInput) (*KeyStatusResult, error) {
	if err := k.operator(op); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	key, err := k.store.KeyListing(ctx, keyID)
	if err != nil {
		return nil, err
	}
	// Recipients are read before the transaction: who holds what changes
	// through authz, not through this change.
	recipients, err := k.keyReaders(ctx, key.AgreementID)
	if err != nil {
		return nil, err
	}
	var res KeyStatusResult
	err = k.store.InTx(ctx, func(tx *models.Tx) error {
		cur, err := tx.KeyListingForUpdate(keyID)
		if err != nil {
			return err
		}
		if cur.Status == in.Status && cur.BlockReason == in.Reason && in.ReplacementKey == "" {
			return ErrKeyStatusUnchanged
		}
		changed, err := tx.SetKeyStatus(keyID, cur.Status, in.Status, in.Reason, in.Note)
		if err != nil {
			return err
		}
		if !changed {
			return models.New(models.CodeConflict, "err.key.status_raced", "The key's status was changed meanwhile; reload and try again.")
		}
		if err := tx.AppendAudit(userActor(op), AuditKeyStatus, &cur.AgreementID, map[string]any{
			"key_id": keyID, "suffix": cur.Suffix, "from": cur.Status, "to": in.Status, "reason": in.Reason, "note": in.Note,
		}); err != nil {
			return err
		}
		cur.Status, cur.BlockReason = in.Status, in.Reason
		res.Key = keyView(*cur)
		var replacement string
		if in.ReplacementKey != "" {
			v, err := k.storeReplacement(tx, op, cur, in.ReplacementKey)
			if err != nil {
				return err
			}
			res.Replacement, replacement = v, v.Suffix
		}
		if in.Status == models.KeyActive {
			return nil
		}
		return k.mailKeyStatus(tx, recipients, cur, in, replacement)
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// storeReplacement seals and stores material as the replacement of old.
func (k *Keys) storeReplacement(tx *models.Tx, op int64, old *models.KeyListing, material string) (*KeyView, error) {
	ring := k.store.Keyring()
	fp := ring.KeyFingerprint(material)
	dup, err := tx.HasKey(old.AgreementID, old.ProductID, fp)
	if err != nil {
		return nil, err
	}
	if dup {
		return nil, models.InvalidKey("err.key.duplicate", "This licence has this key already.", models.FieldError{Field: "replacement_key", Key: "err.field.new_key", Message: "give a new key"})
	}
	now := tx.Now()
	pk := models.ProductKey{
		AgreementID: old.AgreementID, ProductID: old.ProductID, KeyType: old.KeyType,
		SealedKey: ring.SealKey(material, fp), Fingerprint: fp, Suffix: keySuffix(material),
		ActivationLimit: old.ActivationLimit, Status: models.KeyActive, ReplacesID: &old.ID,
		CreatedAt: now, UpdatedAt: now,
	}
	if old.ActivationLimit != nil {
		zero := int64(0)
		pk.ActivationsUsed, pk.ActivationsAsOf = &zero, &now
	}
	if err := tx.CreateKey(&pk); err != nil {
		return nil, err
	}
	if err := tx.AppendAudit(userActor(op), AuditKeyReplaced, &old.AgreementID, map[string]any{
		"key_id": pk.ID, "suffix": pk.Suffix, "replaces_key_id": old.ID, "replaces_suffix": old.Suffix,
	}); err != nil {
		return nil, err
	}
	v := keyView(models.KeyListing{ProductKey: pk, ProductName: old.ProductName, ProductCode: old.ProductCode, ReplacesSuffix: old.Suffix})
	return &v, nil
}

// keySuffix returns the last five characters of a key, as lists show them.
func keySuffix(key string) string {
	r := []rune(key)
	if len(r) <= 5 {
		return string(r)
	}
	return string(r[len(r)-5:])
}

// keyReaders returns the administrators and key readers of licence who
// can be mailed.
func (k *Keys) keyReaders(ctx context.Context, licence int64) ([]recipient, error) {
	grants, err := k.authz.Users(ctx, licence)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, g := range grants {
		if (g.Permission == models.PermAdministrator || g.Permission == models.PermKeyReader) && !slices.Contains(ids, g.UserID) {
			ids = append(ids, g.UserID)
		}
	}
	users, err := k.store.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]recipient, 0, len(users))
	for _, u := range users {
		if u.WorkEmail != nil && u.WorkEmailVerifiedAt != nil {
			out = append(out, recipient{u.ID, *u.WorkEmail, u.Language})
		}
	}
	return out, nil
}

// mailKeyStatus writes the status change mail to each recipient's outbox.
func (k *Keys) mailKeyStatus(tx *models.Tx, to []recipient, key *models.KeyListing, in KeyStatusInput, replacement string) error {
	licence, err := tx.AgreementNumber(key.AgreementID)
	if err != nil {
		return err
	}
	for _, r := range to {
		data := map[string]any{
			"Licence": licence, "Product": key.ProductName, "KeySuffix": key.Suffix, "Status": string(in.Status),
			"Reason": string(in.Reason), "Link": k.opts.BaseURL + "/licences/" + licence + "/keys",
		}
		if in.Note != "" {
			data["Note"] = in.Note
		}
		if replacement != "" {
			data["Replacement"] = replacement
		}
		if err := mailer.Enqueue(tx, mailer.Message{To: r.email, Language: r.language, Template: mailer.TemplateKeyStatusChanged, Data: data}); err != nil {
			return err
		}
	}
	if len(to) > 0 && k.opts.Kick != nil {
		tx.OnCommit(k.opts.Kick)
	}
	return nil
}

// errNoSuchNumber answers an operator naming a licence no agreement has.
var errNoSuchNumber = models.New(models.CodeNotFound, "err.licence.no_such_number", "No licence has this number.")

// OperatorKeys lists the keys of the licence numbered licence for an
// operator, masked, with their status.
func (k *Keys) OperatorKeys(ctx context.Context, op int64, licence string) ([]KeyView, error) {
	if err := k.operator(op); err != nil {
		return nil, err
	}
	ag, err := k.store.AgreementByNumber(ctx, strings.TrimSpace(licence))
	if err != nil {
		return nil, err
	}
	if ag == nil {
		return nil, errNoSuchNumber
	}
	rows, err := k.store.KeysOf(ctx, ag.ID)
	if err != nil {
		return nil, err
	}
	return keyViews(rows), nil
}

// MAK returns the multiple activation key keyID of licence, masked, to a
// user who may read the licence's keys or to an operator: what the
// installations and telephone activation pages show, read alone rather
// than among every key of the licence. ErrNoSuchKey when licence has no
// such MAK.
func (k *Keys) MAK(ctx context.Context, user, licence, keyID int64) (KeyView, error) {
	if !k.authz.Can(user, licence, authz.ActReadKeys) && !k.authz.IsOperator(user) {
		return KeyView{}, authz.ErrNoSuchLicence
	}
	listing, err := k.store.KeyListing(ctx, keyID)
	if errors.Is(err, models.ErrNoSuchProductKey) {
		return KeyView{}, ErrNoSuchKey
	}
	if err != nil {
		return KeyView{}, err
	}
	v := keyView(*listing)
	if listing.AgreementID != licence || !v.MAK() {
		return KeyView{}, ErrNoSuchKey
	}
	return v, nil
}

// OperatorMAK is MAK for an operator naming the licence by its number, as
// OperatorKeys does; it returns the licence's id too.
func (k *Keys) OperatorMAK(ctx context.Context, op int64, licence string, keyID int64) (int64, KeyView, error) {
	if err := k.operator(op); err != nil {
		return 0, KeyView{}, err
	}
	ag, err := k.store.AgreementByNumber(ctx, strings.TrimSpace(licence))
	if err != nil {
		return 0, KeyView{}, err
	}
	if ag == nil {
		return 0, KeyView{}, errNoSuchNumber
	}
	v, err := k.MAK(ctx, op, ag.ID, keyID)
	return ag.ID, v, err
}

// RevealForOperator returns the whole key keyID, whatever its status, to
// an operator, and records it in the audit log.
func (k *Keys) RevealForOperator(ctx context.Context, op, keyID int64, source string) (string, error) {
	if err := k.operator(op); err != nil {
		return "", err
	}
	pk, err := k.store.KeyListing(ctx, keyID)
	if err != nil {
		return "", err
	}
	key, err := k.store.Keyring().OpenKey(&pk.ProductKey)
	if err != nil {
		return "", fmt.Errorf("open product key %d: %w", pk.ID, err)
	}
	err = k.store.InTx(ctx, func(tx *models.Tx) error {
		actor := userActor(op)
		actor.SourceAddr = source
		return tx.AppendAudit(actor, AuditKeyReveal, &pk.AgreementID, map[string]any{"key_id": pk.ID, "suffix": pk.Suffix, "status": pk.Status})
	})
	if err != nil {
		return "", err
	}
	return key, nil
}
