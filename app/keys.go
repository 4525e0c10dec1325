package app

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openlsc/openlsc/authz"
	mailer "github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// Audit kinds of product keys and activation requests.
const (
	AuditKeyReveal          = "key.reveal"
	AuditKeyExport          = "key.export"
	AuditActivationRequest  = "activation.requested"
	AuditActivationApproved = "activation.approved"
	AuditActivationDenied   = "activation.denied"
	AuditActivationCounts   = "activation.counts"
)

// Limits of activation requests.
const (
	MaxActivationQuantity  = 100000
	maxActivationReasonLen = 500
	// NearlyUsedUpPercent is the share of a MAK's activations from which it
	// is shown as nearly used up.
	NearlyUsedUpPercent = 90
)

// keyMask stands for the hidden part of a product key in lists.
const keyMask = "XXXXX-XXXXX-XXXXX-XXXXX-"

// Errors of the key use cases.
var (
	// ErrNoSuchKey answers a key that does not exist or belongs to another licence.
	ErrNoSuchKey = models.New(models.CodeNotFound, "err.key.not_found", "No such product key on this licence.")
	// ErrNoSuchMAK is the one answer when no MAK of the licence ends in the
	// characters given, whether no key does or the key is not a MAK.
	ErrNoSuchMAK = models.InvalidKey("err.key.no_such_mak", "No MAK of this licence ends in these characters.",
		models.FieldError{Field: "key_suffix", Key: "err.field.mak_suffix", Message: "give the last five characters of one of this licence's MAKs"})
	// ErrKeyBlocked refuses revealing a blocked key.
	ErrKeyBlocked = models.New(models.CodeConflict, "err.key.blocked", "This key is blocked: it is no longer shown. Use its replacement, or contact the service center.")
	// ErrKeyNotActive refuses activations for a blocked or retired key.
	ErrKeyNotActive = models.InvalidKey("err.key.not_active", "This MAK is blocked or retired: no more activations can be requested for it.",
		models.FieldError{Field: "key_suffix", Key: "err.field.key_not_active", Message: "the key is not active"})
	// ErrActivationDecided refuses deciding a request twice.
	ErrActivationDecided = models.New(models.CodeConflict, "err.activation.decided", "This activation request has been decided already.")
)

// KeysOptions configure the product key use cases.
type KeysOptions struct {
	BaseURL string // makes the links in mail
	Kick    func() // wakes the mail worker after a commit; may be nil
}

// Keys are the product key and MAK activation use cases.
type Keys struct {
	store *models.Store
	authz *authz.Authorizer
	opts  KeysOptions
}

// NewKeys returns the product key use cases.
func NewKeys(store *models.Store, az *authz.Authorizer, opts KeysOptions) *Keys {
	return &Keys{store: store, authz: az, opts: opts}
}

// KeyView is a product key as key readers see it in lists: masked, with
// the MAK activation counts.
type KeyView struct {
	ID              int64      `json:"id"`
	Product         string     `json:"product"`
	ProductCode     string     `json:"product_code"`
	Type            string     `json:"type"`
	MaskedKey       string     `json:"masked_key"`
	Suffix          string     `json:"suffix"`
	ActivationsUsed *int64     `json:"activations_used,omitempty"`
	ActivationLimit *int64     `json:"activation_limit,omitempty"`
	ActivationsAsOf *time.Time `json:"activations_as_of,omitempty"`
	Percent         int        `json:"percent_used"` // of the limit, 0-100
	NearlyUsedUp    bool       `json:"nearly_used_up"`
	UsedUp          bool       `json:"used_up"`
	// Status is active, blocked or retired; a blocked key has a reason.
	Status      models.KeyStatus   `json:"status"`
	BlockReason models.BlockReason `json:"block_reason,omitempty"`
	// Replaces is the masked key this one replaces, if any.
	Replaces string `json:"replaces,omitempty"`
	// LimitReached: an active MAK whose activations used reached its
	// limit; more can be requested.
	LimitReached bool `json:"limit_reached"`
}

// Blocked reports whether the key is blocked.
func (v KeyView) Blocked() bool { return v.Status == models.KeyBlocked }

// Active reports whether the key is active.
func (v KeyView) Active() bool { return v.Status == models.KeyActive }

// MAK reports whether the key is a multiple activation key.
func (v KeyView) MAK() bool { return v.Type == models.KeyTypeMAK }

// Used is the number of activations used (0 when unknown).
func (v KeyView) Used() int64 { return deref64(v.ActivationsUsed) }

// Limit is the activation limit (0 when unknown).
func (v KeyView) Limit() int64 { return deref64(v.ActivationLimit) }

// Remaining is the number of activations left.
func (v KeyView) Remaining() int64 { return max(0, v.Limit()-v.Used()) }

// MaskKey hides every character of a key but the last five.
func MaskKey(suffix string) string { return keyMask + suffix }

func keyView(r models.KeyListing) KeyView {
	v := KeyView{
		ID: r.ID, Product: r.ProductName, ProductCode: r.ProductCode, Type: r.KeyType,
		MaskedKey: MaskKey(r.Suffix), Suffix: r.Suffix,
		ActivationsUsed: r.ActivationsUsed, ActivationLimit: r.ActivationLimit,
	}
	if r.ActivationsAsOf != nil {
		t := r.ActivationsAsOf.UTC()
		v.ActivationsAsOf = &t
	}
	if v.MAK() && v.Limit() > 0 {
		v.Percent = int(min(100, v.Used()*100/v.Limit()))
		v.NearlyUsedUp = v.Used()*100 >= v.Limit()*NearlyUsedUpPercent
		v.UsedUp = v.Used() >= v.Limit()
	} else if v.MAK() && v.ActivationLimit != nil {
		v.Percent, v.NearlyUsedUp, v.UsedUp = 100, true, true // a limit of 0
	}
	v.Status, v.BlockReason = r.Status, r.BlockReason
	if v.Status == "" {
		v.Status = models.KeyActive
	}
	if r.ReplacesSuffix != "" {
		v.Replaces = MaskKey(r.ReplacesSuffix)
	}
	v.LimitReached = v.UsedUp && v.Active()
	return v
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// check refuses a user who may not read the licence's keys with the one
// answer for licences that do not exist.
func (k *Keys) check(user, licence int64, action authz.Action) error {
	if !k.authz.Can(user, licence, action) {
		return authz.ErrNoSuchLicence
	}
	return nil
}

// List returns the keys of licence, masked, by product. The caller has
// checked that user may read the licence's keys (it is checked again).
func (k *Keys) List(ctx context.Context, user, licence int64) ([]KeyView, error) {
	if err := k.check(user, licence, authz.ActReadKeys); err != nil {
		return nil, err
	}
	rows, err := k.store.KeyListingsOf(ctx, licence)
	if err != nil {
		return nil, err
	}
	return keyViews(rows), nil
}

// keyViews are the views of rows, in their order (never nil).
func keyViews(rows []models.KeyListing) []KeyView {
	out := make([]KeyView, 0, len(rows))
	for _, r := range rows {
		out = append(out, keyView(r))
	}
	return out
}

// Reveal returns the whole key keyID of licence and records who saw it,
// from where (source), in the audit log. A key of another licence does
// not exist here.
func (k *Keys) Reveal(ctx context.Context, user, licence, keyID int64, source string) (string, error) {
	if err := k.check(user, licence, authz.ActReadKeys); err != nil {
		return "", err
	}
	var key string
	err := k.store.InTx(ctx, func(tx *models.Tx) error {
		pk, err := tx.KeyOf(licence, keyID)
		if errors.Is(err, models.ErrNoSuchProductKey) {
			return ErrNoSuchKey
		}
		if err != nil {
			return err
		}
		if pk.Status == models.KeyBlocked {
			return ErrKeyBlocked
		}
		if key, err = k.store.Keyring().OpenKey(pk); err != nil {
			return fmt.Errorf("open product key %d: %w", pk.ID, err)
		}
		actor := userActor(user)
		actor.SourceAddr = source
		return tx.AppendAudit(actor, AuditKeyReveal, &licence, map[string]any{"key_id": pk.ID, "suffix": pk.Suffix})
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// keysCSVHeader is the first row of the key export.
var keysCSVHeader = []string{"product", "type", "key", "activations_used", "activation_limit", "activations_as_of", "status"}

// WriteCSV writes the keys of licence as CSV: masked, or whole when reveal
// is set, which is recorded as one audit event listing the keys. Cells a
// spreadsheet would take for a formula are defused.
func (k *Keys) WriteCSV(ctx context.Context, user, licence int64, reveal bool, source string, w io.Writer) error {
	if err := k.check(user, licence, authz.ActReadKeys); err != nil {
		return err
	}
	rows, err := k.store.KeysOf(ctx, licence)
	if err != nil {
		return err
	}
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = MaskKey(r.Suffix)
	}
	if reveal {
		ids := make([]int64, 0, len(rows))
		for i := range rows {
			if rows[i].Status == models.KeyBlocked {
				continue // never revealed again
			}
			ids = append(ids, rows[i].ID)
			if keys[i], err = k.store.Keyring().OpenKey(&rows[i].ProductKey); err != nil {
				return fmt.Errorf("open product key %d: %w", rows[i].ID, err)
			}
		}
		err := k.store.InTx(ctx, func(tx *models.Tx) error {
			actor := userActor(user)
			actor.SourceAddr = source
			return tx.AppendAudit(actor, AuditKeyExport, &licence, map[string]any{"key_ids": ids})
		})
		if err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(keysCSVHeader); err != nil {
		return err
	}
	for i, r := range rows {
		v := keyView(r)
		row := []string{v.Product, v.Type, keys[i], "", "", "", string(v.Status)}
		if v.ActivationsUsed != nil {
			row[3] = strconv.FormatInt(*v.ActivationsUsed, 10)
		}
		if v.ActivationLimit != nil {
			row[4] = strconv.FormatInt(*v.ActivationLimit, 10)
		}
		if v.ActivationsAsOf != nil {
			row[5] = v.ActivationsAsOf.Format(time.RFC3339)
		}
		for j := range row {
			row[j] = csvSafe(row[j])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ActivationView is a request for more MAK activations.
type ActivationView struct {
	ID              int64                `json:"id"`
	Licence         string               `json:"licence"`
	Organization    string               `json:"organization,omitempty"`
	KeyID           int64                `json:"key_id"`
	KeySuffix       string               `json:"key_suffix"`
	MaskedKey       string               `json:"masked_key"`
	Product         string               `json:"product"`
	ActivationsUsed *int64               `json:"activations_used,omitempty"`
	ActivationLimit *int64               `json:"activation_limit,omitempty"`
	Quantity        int64                `json:"quantity"`
	Reason          string               `json:"reason,omitempty"`
	Status          models.RequestStatus `json:"status"`
	DecisionMessage string               `json:"decision_message,omitempty"`
	Requester       string               `json:"requester,omitempty"` // for operators
	CreatedAt       time.Time            `json:"created_at"`
	DecidedAt       *time.Time           `json:"decided_at,omitempty"`
}

// Pending reports whether the request waits for a decision.
func (v ActivationView) Pending() bool { return v.Status == models.RequestPending }

// Used is the key's number of activations used (0 when unknown).
func (v ActivationView) Used() int64 { return deref64(v.ActivationsUsed) }

// Limit is the key's activation limit (0 when unknown).
func (v ActivationView) Limit() int64 { return deref64(v.ActivationLimit) }

func activationView(r models.ActivationListing, requester string) ActivationView {
	return ActivationView{
		ID: r.ID, Licence: r.Licence, Organization: r.Organization, KeyID: r.KeyID, KeySuffix: r.Suffix,
		MaskedKey: MaskKey(r.Suffix), Product: r.ProductName, ActivationsUsed: r.ActivationsUsed, ActivationLimit: r.ActivationLimit,
		Quantity: r.Quantity, Reason: r.Reason, Status: r.Status, DecisionMessage: r.DecisionMessage,
		Requester: requester, CreatedAt: r.CreatedAt.UTC(), DecidedAt: r.DecidedAt,
	}
}

// RequestActivations asks the operators for quantity more activations of
// the licence's MAK whose key ends in suffix (its last five characters),
// for reason. A key that does not exist and a key that is not a MAK get
// the same answer. Operators see the request in their queue.
func (k *Keys) RequestActivations(ctx context.Context, user, licence int64, suffix string, quantity int64, reason string) (*ActivationView, error) {
	if err := k.check(user, licence, authz.ActReadKeys); err != nil {
		return nil, err
	}
	suffix = strings.ToUpper(strings.TrimSpace(suffix))
	reason = strings.TrimSpace(reason)
	var fields []models.FieldError
	if utf8.RuneCountInString(suffix) != 5 {
		fields = append(fields, models.FieldError{Field: "key_suffix", Key: "err.field.key_suffix", Message: "give the last five characters of the key"})
	}
	if quantity < 1 || quantity > MaxActivationQuantity {
		fields = append(fields, models.FieldError{Field: "quantity", Key: "err.field.quantity", Args: models.Args{"Max": MaxActivationQuantity}, Message: fmt.Sprintf("ask for 1 to %d activations", MaxActivationQuantity)})
	}
	if utf8.RuneCountInString(reason) > maxActivationReasonLen {
		fields = append(fields, models.FieldError{Field: "reason", Key: "err.field.too_long", Args: models.Args{"Max": maxActivationReasonLen}, Message: fmt.Sprintf("keep the reason to %d characters", maxActivationReasonLen)})
	}
	if len(fields) > 0 {
		return nil, models.InvalidKey("err.activation.invalid", "Check the activation request.", fields...)
	}
	var view *ActivationView
	err := k.store.InTx(ctx, func(tx *models.Tx) error {
		keys, err := tx.KeysEndingIn(licence, suffix)
		if err != nil {
			return err
		}
		var mak *models.ProductKey
		for i := range keys {
			if keys[i].KeyType != models.KeyTypeMAK {
				continue
			}
			if mak != nil {
				return models.InvalidKey("err.key.ambiguous", "Several MAKs of this licence end in these characters; contact support.",
					models.FieldError{Field: "key_suffix", Key: "err.field.ambiguous", Message: "ambiguous"})
			}
			mak = &keys[i]
		}
		if mak == nil {
			return ErrNoSuchMAK
		}
		if mak.Status != models.KeyActive && mak.Status != "" {
			return ErrKeyNotActive
		}
		now := tx.Now()
		req := models.ActivationRequest{KeyID: mak.ID, RequesterID: user, Quantity: quantity, Reason: reason,
			Status: models.RequestPending, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateActivationRequest(&req); err != nil {
			return err
		}
		row, err := tx.ActivationListing(req.ID)
		if err != nil {
			return err
		}
		v := activationView(*row, "")
		view = &v
		return tx.AppendAudit(userActor(user), AuditActivationRequest, &licence,
			map[string]any{"request_id": req.ID, "key_id": mak.ID, "suffix": mak.Suffix, "quantity": quantity})
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// MyActivationRequests lists user's own activation requests, newest first.
func (k *Keys) MyActivationRequests(ctx context.Context, user int64) ([]ActivationView, error) {
	rows, err := k.store.ActivationRequestsBy(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]ActivationView, 0, len(rows))
	for _, r := range rows {
		out = append(out, activationView(r, ""))
	}
	return out, nil
}

func (k *Keys) operator(user int64) error {
	if !k.authz.IsOperator(user) {
		return ErrOperatorsOnly
	}
	return nil
}

// PendingActivations is the operators' queue: pending activation requests,
// oldest first, with who asked and the key's current counts.
func (k *Keys) PendingActivations(ctx context.Context, op int64) ([]ActivationView, error) {
	if err := k.operator(op); err != nil {
		return nil, err
	}
	rows, err := k.store.PendingActivationRequests(ctx, 500)
	if err != nil {
		return nil, err
	}
	out := make([]ActivationView, 0, len(rows))
	for _, r := range rows {
		who := r.RequesterName
		if r.RequesterEmail != nil {
			who = strings.TrimSpace(who + " <" + *r.RequesterEmail + ">")
		}
		out = append(out, activationView(r, who))
	}
	return out, nil
}

// ApproveActivations raises the key's activation limit by the quantity
// requested, records the old and new limit, and mails the requester.
func (k *Keys) ApproveActivations(ctx context.Context, op, id int64, message string) error {
	return k.decide(ctx, op, id, true, message)
}

// DenyActivations refuses the request with a message to the requester.
func (k *Keys) DenyActivations(ctx context.Context, op, id int64, message string) error {
	return k.decide(ctx, op, id, false, message)
}

func (k *Keys) decide(ctx context.Context, op, id int64, approve bool, message string) error {
	if err := k.operator(op); err != nil {
		return err
	}
	message = strings.TrimSpace(message)
	if utf8.RuneCountInString(message) > maxActivationReasonLen {
		return models.InvalidKey("err.message.too_long", "Keep the message short.", models.FieldError{Field: "message", Key: "err.field.too_long", Args: models.Args{"Max": maxActivationReasonLen}, Message: fmt.Sprintf("at most %d characters", maxActivationReasonLen)})
	}
	return k.store.InTx(ctx, func(tx *models.Tx) error {
		d, err := tx.ActivationDecisionOf(id) // locks the request: decisions queue
		if err != nil {
			return err
		}
		if d.Request.Status != models.RequestPending {
			return ErrActivationDecided
		}
		status, kind := models.RequestDenied, AuditActivationDenied
		if approve {
			status, kind = models.RequestApproved, AuditActivationApproved
		}
		decided, err := tx.DecideActivationRequest(id, status, op, message)
		if err != nil {
			return err
		}
		if !decided {
			return ErrActivationDecided
		}
		req, key := d.Request, d.Key
		details := map[string]any{"request_id": req.ID, "key_id": key.ID, "suffix": key.Suffix, "quantity": req.Quantity, "requester_id": req.RequesterID}
		if approve {
			old, limit, err := tx.RaiseActivationLimit(key.ID, req.Quantity)
			if err != nil {
				return err
			}
			details["old_limit"], details["new_limit"] = old, limit
		}
		if err := k.mailRequester(tx, &d.Requester, map[string]any{
			"KeySuffix": key.Suffix, "Quantity": req.Quantity, "Approved": approve, "Message": message,
			"Link": k.opts.BaseURL + "/licences/" + d.Licence + "/keys",
		}); err != nil {
			return err
		}
		return tx.AppendAudit(userActor(op), kind, &key.AgreementID, details)
	})
}

func (k *Keys) mailRequester(tx *models.Tx, u *models.User, data map[string]any) error {
	if u.WorkEmail == nil || u.WorkEmailVerifiedAt == nil {
		return nil
	}
	msg := mailer.Message{To: *u.WorkEmail, Language: u.Language, Template: mailer.TemplateActivationDecided, Data: data}
	if err := mailer.Enqueue(tx, msg); err != nil {
		return err
	}
	if k.opts.Kick != nil {
		tx.OnCommit(k.opts.Kick)
	}
	return nil
}

// SetActivationCounts records a MAK's activations used and limit as the
// activation service reported them at asOf (now when zero). A nil count is
// left as it is. Only operators may; the change is audited.
func (k *Keys) SetActivationCounts(ctx context.Context, op, keyID int64, used, limit *int64, asOf time.Time) (*KeyView, error) {
	if err := k.operator(op); err != nil {
		return nil, err
	}
	var view *KeyView
	err := k.store.InTx(ctx, func(tx *models.Tx) error {
		// The key stays locked until the commit, so a limit raised by an
		// approval meanwhile is read, not overwritten.
		r, err := tx.KeyListingForUpdate(keyID)
		if err != nil {
			return err
		}
		if r.KeyType != models.KeyTypeMAK {
			return models.InvalidKey("err.key.not_mak", "Only a MAK has activation counts.", models.FieldError{Field: "key", Key: "err.field.not_mak", Message: "not a MAK"})
		}
		newUsed, newLimit, err := activationCounts(r.ProductKey, used, limit)
		if err != nil {
			return err
		}
		if asOf.IsZero() {
			asOf = tx.Now()
		}
		asOf = asOf.UTC()
		if err := tx.SetActivationCounts(keyID, newUsed, newLimit, asOf); err != nil {
			return err
		}
		details := map[string]any{"key_id": keyID, "suffix": r.Suffix,
			"old_used": r.ActivationsUsed, "old_limit": r.ActivationLimit, "new_used": newUsed, "new_limit": newLimit,
			"as_of": asOf.Format(time.RFC3339)}
		if err := tx.AppendAudit(userActor(op), AuditActivationCounts, &r.AgreementID, details); err != nil {
			return err
		}
		r.ActivationsUsed, r.ActivationLimit, r.ActivationsAsOf = newUsed, newLimit, &asOf
		v := keyView(*r)
		view = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// activationCounts returns key's counts with used and limit applied (a
// nil one keeps the key's), or why they are not valid.
func activationCounts(key models.ProductKey, used, limit *int64) (newUsed, newLimit *int64, err error) {
	newUsed, newLimit = key.ActivationsUsed, key.ActivationLimit
	if used != nil {
		newUsed = used
	}
	if limit != nil {
		newLimit = limit
	}
	var fields []models.FieldError
	if newUsed != nil && *newUsed < 0 {
		fields = append(fields, models.FieldError{Field: "activations_used", Key: "err.field.negative", Message: "cannot be negative"})
	}
	if newLimit != nil && *newLimit < 0 {
		fields = append(fields, models.FieldError{Field: "activation_limit", Key: "err.field.negative", Message: "cannot be negative"})
	}
	if len(fields) == 0 && newUsed != nil && newLimit != nil && *newUsed > *newLimit {
		fields = append(fields, models.FieldError{Field: "activations_used", Key: "err.field.over_limit", Args: models.Args{"Used": *newUsed, "Limit": *newLimit}, Message: fmt.Sprintf("%d activations used exceed the limit of %d", *newUsed, *newLimit)})
	}
	if used == nil && limit == nil {
		fields = append(fields, models.FieldError{Field: "activations_used", Key: "err.field.counts_missing", Message: "give activations_used, activation_limit or both"})
	}
	if len(fields) > 0 {
		return nil, nil, models.InvalidKey("err.activation.counts_invalid", "Check the activation counts.", fields...)
	}
	return newUsed, newLimit, nil
}
