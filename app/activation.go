package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/authz"
	"github.com/openlsc/openlsc/models"
)

// AuditInstallationReleased is the audit event of a released installation.
const AuditInstallationReleased = "installation.released"

// Activations is the activation service: the vendor's software activates
// product keys against it, and key readers see the installations.
type Activations struct {
	store *models.Store
	authz *authz.Authorizer
	opts  ActivationsOptions
	keys  signingKeys
}

// NewActivations returns the activation service.
func NewActivations(store *models.Store, az *authz.Authorizer, opts ActivationsOptions) *Activations {
	return &Activations{store: store, authz: az, opts: opts.withDefaults()}
}

// ActivationInput is an online activation as the software sends it, with
// the client address it came from.
type ActivationInput struct {
	activation.Request
	ClientIP string
}

// refused is the activation refusal with code.
func refused(code, message string) *activation.Error {
	return &activation.Error{Code: code, HResult: activation.HResult(code), Message: message}
}

// Activate activates in.Key for in.Product on the installation
// in.Components: a known installation (by the tolerance rule of
// activation.SameInstallation) uses no activation, a new one uses one if
// the key has one left. It answers a signed certificate, or an
// *activation.Error with a stable code.
func (a *Activations) Activate(ctx context.Context, in ActivationInput) (*activation.Certificate, error) {
	id := activation.Normalize(in.Components)
	key := strings.TrimSpace(in.Key)
	if key == "" || strings.TrimSpace(in.Product) == "" || len(id) == 0 || len(id) > activation.MaxComponents || len(key) > 128 {
		return nil, refused(activation.CodeInvalidRequest, fmt.Sprintf("Send a key, a product and 1 to %d component hashes.", activation.MaxComponents))
	}
	for _, c := range id {
		if len(c) > 128 {
			return nil, refused(activation.CodeInvalidRequest, "A component hash is too long.")
		}
	}
	kid, priv, err := a.signer(ctx)
	if err != nil {
		return nil, err
	}
	fp := a.store.Keyring().KeyFingerprint(key)
	network := networkOf(in.ClientIP)
	claims, err := a.unlocked(ctx, fp, in.Product, id, network)
	if err != nil {
		return nil, err
	}
	if claims != nil {
		claims.KeySuffix = suffixOf(key)
		return activation.Sign(*claims, kid, priv)
	}
	err = a.store.InTx(ctx, func(tx *models.Tx) error {
		k, err := a.activationKey(tx, fp, in.Product)
		if err != nil {
			return err
		}
		known, err := tx.KeyHasNetwork(k.ID, network, tx.Now().Add(-a.opts.LeakWindow))
		if err != nil {
			return err
		}
		inst, err := a.countInstallation(tx, k.ID, id, network)
		if err != nil {
			return err
		}
		if !known {
			// Only a network new to the key can tip it over the threshold.
			if err := a.checkLeak(ctx, tx, k.ID); err != nil {
				return err
			}
		}
		claims = &activation.Claims{Product: k.ProductCode, KeySuffix: suffixOf(key), Installation: inst.Identity,
			Components: id, IssuedAt: tx.Now(), ValidUntil: k.AgreementEnds.String()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return activation.Sign(*claims, kid, priv)
}

// unlocked answers, without the key's lock, the two cases that need none:
// installation id activating again unchanged, from the network it was
// last seen from within the leak window, on an active key of product
// whose agreement is not over (one conditional UPDATE, see
// models.Tx.RepeatActivation) — it answers the certificate's claims but
// the key suffix; and a new installation on such a key with no
// activation left (one read, see models.Store.RefusesNewInstallation) —
// it refuses for the limit. Otherwise it answers nil claims and the
// locked path decides, with the same rules: a blocked key, a released
// installation, a changed machine and a network new to the installation
// (which may be new to the key, for leak detection) all take it.
func (a *Activations) unlocked(ctx context.Context, fp, product string, id activation.Identity, network string) (*activation.Claims, error) {
	keys, err := a.store.ActivationKeys(ctx, fp)
	if err != nil {
		return nil, err
	}
	k := pickKey(keys, product)
	if k == nil || k.Status != models.KeyActive {
		return nil, nil
	}
	if k.UsedUp() {
		full, err := a.store.RefusesNewInstallation(ctx, k.ID, shortsOf(id))
		if err != nil {
			return nil, err
		}
		if full {
			return nil, limitReached()
		}
	}
	components := strings.Join(id, " ")
	identity := identityOf(components)
	var claims *activation.Claims
	err = a.store.InTx(ctx, func(tx *models.Tx) error {
		ok, err := tx.RepeatActivation(k.ID, identity, components, network, tx.Now().Add(-a.opts.LeakWindow))
		if ok {
			claims = &activation.Claims{Product: k.ProductCode, Installation: identity, Components: id,
				IssuedAt: tx.Now(), ValidUntil: k.AgreementEnds.String()}
		}
		return err
	})
	return claims, err
}

// limitReached is the refusal of a new installation on a key with no
// activation left.
func limitReached() error {
	return refused(activation.CodeLimitReached, "This product key has no activations left.")
}

// shortsOf is the short forms of the components of id.
func shortsOf(id activation.Identity) []string {
	shorts := make([]string, 0, len(id))
	for _, c := range id {
		shorts = append(shorts, activation.ShortComponent(c))
	}
	return shorts
}

// activationKey finds the key with fingerprint fp for product, or refuses.
func (a *Activations) activationKey(tx *models.Tx, fp, product string) (*models.ActivationKey, error) {
	keys, err := tx.ActivationKeys(fp)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, refused(activation.CodeUnknownKey, "This product key is not known.")
	}
	found := pickKey(keys, product)
	if found == nil {
		return nil, refused(activation.CodeProductMismatch, "This product key is not for this product.")
	}
	return found, checkKey(tx, found)
}

// pickKey is the key of keys for product, an active one if there is one,
// or nil.
func pickKey(keys []models.ActivationKey, product string) *models.ActivationKey {
	var found *models.ActivationKey
	for i := range keys {
		if keys[i].ProductCode == product && (found == nil || found.Status != models.KeyActive) {
			found = &keys[i]
		}
	}
	return found
}

// checkKey locks key k for its activation and refuses a blocked key or an
// expired agreement.
func checkKey(tx *models.Tx, found *models.ActivationKey) error {
	pk, err := tx.LockKeyForActivation(found.ID)
	if err != nil {
		return err
	}
	if pk.Status != models.KeyActive {
		return refused(activation.CodeKeyBlocked, "This product key is blocked.")
	}
	if !found.AgreementEnds.IsZero() && found.AgreementEnds.String() < tx.Now().Format("2006-01-02") {
		return refused(activation.CodeAgreementExpired, "The agreement of this product key has expired.")
	}
	return nil
}

// countInstallation records installation id on key keyID: it refreshes
// the installation it matches, or uses an activation for a new one.
func (a *Activations) countInstallation(tx *models.Tx, keyID int64, id activation.Identity, network string) (*models.Installation, error) {
	components := strings.Join(id, " ")
	// The common case: the machine activates again unchanged.
	same, err := tx.InstallationByIdentity(keyID, identityOf(components))
	if err != nil {
		return nil, err
	}
	if same != nil && same.Components == components {
		return same, tx.TouchInstallation(same.ID, components, network)
	}
	shorts := shortsOf(id)
	insts, err := tx.InstallationsSharing(keyID, shorts)
	if err != nil {
		return nil, err
	}
	var best *models.Installation
	bestCommon := 0
	for i := range insts {
		known := activation.Identity(strings.Fields(insts[i].Components))
		if c := activation.Common(known, id); activation.SameInstallation(known, id) && c > bestCommon {
			best, bestCommon = &insts[i], c
		}
	}
	if best != nil {
		if err := tx.TouchInstallation(best.ID, components, network); err != nil {
			return nil, err
		}
		return best, tx.SetInstallationComponents(best, shorts)
	}
	ok, err := tx.UseActivation(keyID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, limitReached()
	}
	now := tx.Now()
	inst := models.Installation{KeyID: keyID, Identity: identityOf(components), Components: components,
		Network: network, FirstSeen: now, LastSeen: now}
	if err := tx.CreateInstallation(&inst); err != nil {
		return nil, err
	}
	return &inst, tx.SetInstallationComponents(&inst, shorts)
}

// identityOf is the installation id of an installation first seen with
// components.
func identityOf(components string) string {
	sum := sha256.Sum256([]byte(components))
	return hex.EncodeToString(sum[:10])
}

// networkOf is the network a client address belongs to: its /24 (IPv4)
// or /48 (IPv6).
func networkOf(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	addr = addr.Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits)
	return p.String()
}

// suffixOf is the last five characters of key.
func suffixOf(key string) string {
	r := []rune(key)
	return string(r[max(0, len(r)-5):])
}

// Installations lists the installations of key keyID of licence, for its
// key readers and the operators.
func (a *Activations) Installations(ctx context.Context, user, licence, keyID int64) ([]models.Installation, error) {
	if !a.authz.Can(user, licence, authz.ActReadKeys) && !a.authz.IsOperator(user) {
		return nil, authz.ErrNoSuchLicence
	}
	if err := a.keyOf(ctx, licence, keyID); err != nil {
		return nil, err
	}
	return a.store.InstallationsOf(ctx, keyID)
}

// keyOf checks that key keyID belongs to licence.
func (a *Activations) keyOf(ctx context.Context, licence, keyID int64) error {
	k, err := a.store.KeyListing(ctx, keyID)
	if errors.Is(err, models.ErrNoSuchProductKey) || (err == nil && k.AgreementID != licence) {
		return ErrNoSuchKey
	}
	return err
}

// ReleaseInstallation frees the activation installation inst of key keyID
// uses; the licence's administrators and the operators may, and it is
// audited.
func (a *Activations) ReleaseInstallation(ctx context.Context, user, licence, keyID, inst int64) error {
	if !a.authz.Can(user, licence, authz.ActManage) && !a.authz.IsOperator(user) {
		return authz.ErrNoSuchLicence
	}
	if err := a.keyOf(ctx, licence, keyID); err != nil {
		return err
	}
	return a.store.InTx(ctx, func(tx *models.Tx) error {
		in, err := tx.ReleaseInstallation(keyID, inst)
		if err != nil {
			return err
		}
		if in == nil {
			return models.Errorf(models.CodeNotFound, "This installation does not use the key.")
		}
		return tx.AppendAudit(userActor(user), AuditInstallationReleased, &licence, map[string]any{
			"key_id": keyID, "installation": in.Identity, "network": in.Network,
			"first_seen": in.FirstSeen, "last_seen": in.LastSeen,
		})
	})
}
