package models

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// MinSecretLength is the shortest OPENLSC_SECRET_KEY accepted.
const MinSecretLength = 32

// sealVersion prefixes every sealed value so the scheme can change later.
const sealVersion byte = 1

// Keyring derives purpose-bound keys from the service's secret: one for
// sealing secrets at rest (AES-256-GCM) and one per purpose for keyed hashes
// (HMAC-SHA-256) and signatures.
type Keyring struct {
	secret  []byte
	aead    cipher.AEAD
	subkeys sync.Map // purpose → derived key, so hashing does not re-derive
}

// NewKeyring derives the keys from secret, which must be at least
// MinSecretLength characters.
func NewKeyring(secret string) (*Keyring, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("the secret key has %d characters; it needs at least %d", len(secret), MinSecretLength)
	}
	k := &Keyring{secret: []byte(secret)}
	block, err := aes.NewCipher(k.subKey("seal"))
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// SubKey returns a 32-byte key derived for purpose. Different purposes give
// independent keys.
func (k *Keyring) SubKey(purpose string) []byte { return bytes.Clone(k.subKey(purpose)) }

// subKey returns the cached key for purpose; callers must not modify it.
func (k *Keyring) subKey(purpose string) []byte {
	if key, ok := k.subkeys.Load(purpose); ok {
		return key.([]byte)
	}
	key, err := hkdf.Key(sha256.New, k.secret, []byte("openlsc"), "openlsc/"+purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF-SHA-256 cannot produce
	}
	k.subkeys.Store(purpose, key)
	return key
}

// Hash returns the hex HMAC-SHA-256 of value under the key for purpose.
// It is deterministic, so it can be looked up, and reveals nothing about
// value to anyone without the secret.
func (k *Keyring) Hash(purpose, value string) string {
	m := hmac.New(sha256.New, k.subKey("hash/"+purpose))
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// HashEqual reports in constant time whether value hashes to hash.
func (k *Keyring) HashEqual(purpose, value, hash string) bool {
	return hmac.Equal([]byte(k.Hash(purpose, value)), []byte(hash))
}

// Seal encrypts plaintext, binding it to associated data that must be given
// again to Open.
func (k *Keyring) Seal(plaintext, associated []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, associated)
}

// ErrUnseal means a sealed value could not be decrypted: it was tampered
// with, bound to other associated data, or sealed under another secret.
var ErrUnseal = errors.New("sealed value cannot be opened with this secret key")

// Open decrypts a value made by Seal.
func (k *Keyring) Open(sealed, associated []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, ErrUnseal
	}
	plain, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], associated)
	if err != nil {
		return nil, ErrUnseal
	}
	return plain, nil
}
