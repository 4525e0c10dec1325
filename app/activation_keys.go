package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/openlsc/openlsc/api/activation"
	"github.com/openlsc/openlsc/models"
)

// signingKeys caches the current activation signing key of this process.
// Another process may rotate it: the cache asks the database which key is
// current (one indexed row) at most once per ActivationsOptions.KeyRefresh,
// not once per activation.
type signingKeys struct {
	mu      sync.Mutex
	kid     string
	priv    ed25519.PrivateKey
	checked time.Time // when kid was last confirmed current
	// loading is held by the one caller that asks the database; the others
	// sign with the key they have meanwhile.
	loading sync.Mutex
}

// cached returns the cached key, and whether it is fresh.
func (c *signingKeys) cached(refresh time.Duration) (string, ed25519.PrivateKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kid, c.priv, c.priv != nil && time.Since(c.checked) < refresh
}

// set caches kid as current, confirmed at checked.
func (c *signingKeys) set(kid string, priv ed25519.PrivateKey, checked time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kid, c.priv, c.checked = kid, priv, checked
}

// seedPurpose binds a sealed signing seed to its key id.
func seedPurpose(kid string) []byte { return []byte("activation-signing-key:" + kid) }

// RotateSigningKey makes a new signing key current and returns its id; the
// older keys stay published, so certificates they signed keep verifying.
// The other processes sign with it within ActivationsOptions.KeyRefresh.
func (a *Activations) RotateSigningKey(ctx context.Context) (string, error) {
	kid, _, err := a.makeSigningKey(ctx, false)
	return kid, err
}

// makeSigningKey makes a new current signing key, or, when first is set,
// only when there is none (else it returns the current one). Either is one
// transaction under LockActivationSigningKeys, so two processes starting
// at once make one first key.
func (a *Activations) makeSigningKey(ctx context.Context, first bool) (string, ed25519.PrivateKey, error) {
	checked := time.Now()
	var k *models.ActivationSigningKey
	err := a.store.InTx(ctx, func(tx *models.Tx) error {
		if err := tx.LockActivationSigningKeys(); err != nil {
			return err
		}
		if first {
			cur, err := tx.CurrentActivationSigningKey()
			if err != nil || cur != nil {
				k = cur
				return err
			}
		}
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		kid := fmt.Sprintf("%s-%x", tx.Now().Format("20060102"), pub[:4])
		k = &models.ActivationSigningKey{KID: kid, SealedSeed: a.store.Keyring().Seal(priv.Seed(), seedPurpose(kid)), PublicKey: pub, CreatedAt: tx.Now()}
		return tx.CreateActivationSigningKey(k)
	})
	if err != nil {
		return "", nil, err
	}
	priv, err := a.openSigningKey(k)
	if err != nil {
		return "", nil, err
	}
	a.keys.set(k.KID, priv, checked)
	return k.KID, priv, nil
}

// openSigningKey unseals the private key of k.
func (a *Activations) openSigningKey(k *models.ActivationSigningKey) (ed25519.PrivateKey, error) {
	seed, err := a.store.Keyring().Open(k.SealedSeed, seedPurpose(k.KID))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("open activation signing key %s: %v", k.KID, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// signer returns the current signing key, making the first one when there
// is none.
func (a *Activations) signer(ctx context.Context) (string, ed25519.PrivateKey, error) {
	kid, priv, fresh := a.keys.cached(a.opts.KeyRefresh)
	if fresh {
		return kid, priv, nil
	}
	if priv != nil && !a.keys.loading.TryLock() {
		return kid, priv, nil // another request is asking; this one keeps the key it has
	}
	if priv == nil {
		a.keys.loading.Lock()
	}
	defer a.keys.loading.Unlock()
	if kid, priv, fresh := a.keys.cached(a.opts.KeyRefresh); fresh {
		return kid, priv, nil
	}
	checked := time.Now()
	cur, err := a.store.CurrentActivationSigningKeyID(ctx)
	switch {
	case err != nil:
		return "", nil, err
	case cur == "":
		return a.makeSigningKey(ctx, true)
	case cur == kid:
		a.keys.set(kid, priv, checked)
		return kid, priv, nil
	}
	k, err := a.store.ActivationSigningKeyByID(ctx, cur)
	if err != nil {
		return "", nil, err
	}
	if priv, err = a.openSigningKey(k); err != nil {
		return "", nil, err
	}
	a.keys.set(cur, priv, checked)
	return cur, priv, nil
}

// PublicKeys returns every activation signing key's public half, the
// current one marked.
func (a *Activations) PublicKeys(ctx context.Context) (activation.KeySet, error) {
	if _, _, err := a.signer(ctx); err != nil {
		return activation.KeySet{}, err
	}
	keys, err := a.store.ActivationSigningKeys(ctx)
	if err != nil {
		return activation.KeySet{}, err
	}
	ks := activation.KeySet{Keys: make([]activation.PublicKey, 0, len(keys))}
	for i, k := range keys {
		ks.Keys = append(ks.Keys, activation.NewPublicKey(k.KID, k.PublicKey, i == len(keys)-1, k.CreatedAt))
	}
	return ks, nil
}
