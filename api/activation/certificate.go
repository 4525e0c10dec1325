package activation

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Claims are what an activation certificate says.
type Claims struct {
	Version      int       `json:"v"`
	Product      string    `json:"product"`      // the product code, e.g. "win-ent"
	KeySuffix    string    `json:"key_suffix"`   // the last five characters of the key
	Installation string    `json:"installation"` // the installation's id at OpenLSC
	Components   Identity  `json:"components"`   // the identity that activated
	IssuedAt     time.Time `json:"issued_at"`
	// ValidUntil is the last day of the agreement (YYYY-MM-DD), "" when open-ended.
	ValidUntil string `json:"valid_until,omitempty"`
}

// Certificate is a signed activation: Payload is the JSON of Claims,
// base64url-encoded; Signature is the Ed25519 signature, by the key KeyID,
// of SigningInput(Payload), base64url-encoded.
type Certificate struct {
	KeyID     string `json:"kid"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
}

// SigningInput is the message an activation certificate's signature covers.
func SigningInput(payload string) []byte { return []byte("openlsc-activation-v1." + payload) }

// Sign makes a certificate of c signed by priv under key id kid.
func Sign(c Claims, kid string, priv ed25519.PrivateKey) (*Certificate, error) {
	c.Version = 1
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	sig := ed25519.Sign(priv, SigningInput(payload))
	return &Certificate{KeyID: kid, Payload: payload, Signature: base64.RawURLEncoding.EncodeToString(sig)}, nil
}

// PublicKey is one published verification key, in JWK form (OKP/Ed25519).
type PublicKey struct {
	KeyType   string    `json:"kty"` // "OKP"
	Curve     string    `json:"crv"` // "Ed25519"
	KeyID     string    `json:"kid"`
	X         string    `json:"x"`   // the public key, base64url
	Use       string    `json:"use"` // "sig"
	Algorithm string    `json:"alg"` // "EdDSA"
	Current   bool      `json:"current"`
	Created   time.Time `json:"created"`
}

// KeySet is the document published at WellKnownPath: every public key
// that signed certificates, the current one marked. Keys stay published
// after rotation so certificates they signed keep verifying.
type KeySet struct {
	Keys []PublicKey `json:"keys"`
}

// WellKnownPath is where OpenLSC publishes its KeySet.
const WellKnownPath = "/.well-known/openlsc-activation-keys"

// NewPublicKey describes pub as a published key.
func NewPublicKey(kid string, pub ed25519.PublicKey, current bool, created time.Time) PublicKey {
	return PublicKey{KeyType: "OKP", Curve: "Ed25519", KeyID: kid, X: base64.RawURLEncoding.EncodeToString(pub),
		Use: "sig", Algorithm: "EdDSA", Current: current, Created: created.UTC()}
}

// decodeKey returns the Ed25519 public key k describes.
func decodeKey(k PublicKey) (ed25519.PublicKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || k.KeyType != "OKP" || k.Curve != "Ed25519" || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("activation: not an Ed25519 key")
	}
	return b, nil
}

// ErrBadCertificate is returned for a certificate that does not verify.
var ErrBadCertificate = errors.New("activation: the certificate does not verify")

// Verify checks c's signature against the key of ks it names and returns
// its claims. It needs no network: ks can be stored with the software.
func (ks KeySet) Verify(c *Certificate) (*Claims, error) {
	var pub ed25519.PublicKey
	for _, k := range ks.Keys {
		if b, err := decodeKey(k); err == nil && k.KeyID == c.KeyID {
			pub = b
		}
	}
	if pub == nil {
		return nil, fmt.Errorf("%w: unknown key id %q", ErrBadCertificate, c.KeyID)
	}
	sig, err := base64.RawURLEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, SigningInput(c.Payload), sig) {
		return nil, ErrBadCertificate
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Payload)
	if err != nil {
		return nil, ErrBadCertificate
	}
	var claims Claims
	if err := json.Unmarshal(b, &claims); err != nil || claims.Version != 1 {
		return nil, ErrBadCertificate
	}
	return &claims, nil
}

// VerifyFor verifies c and checks that it was issued for product and for
// this machine (by the tolerance rule of SameInstallation).
func (ks KeySet) VerifyFor(c *Certificate, product string, id Identity) (*Claims, error) {
	claims, err := ks.Verify(c)
	if err != nil {
		return nil, err
	}
	if claims.Product != product {
		return nil, fmt.Errorf("%w: issued for product %q", ErrBadCertificate, claims.Product)
	}
	if !SameInstallation(Normalize(claims.Components), Normalize(id)) {
		return nil, fmt.Errorf("%w: issued for another machine", ErrBadCertificate)
	}
	return claims, nil
}
