package activation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Offline (telephone) activation. The software shows an installation ID
// in groups of five digits; a person enters it at OpenLSC and reads back
// a confirmation ID in groups of six digits, which the software checks
// against the published keys without a network.
//
// The installation ID carries the first 32 bits of each component hash
// (two groups per component) and a check group. The confirmation ID is an
// Ed25519 signature written in decimal (26 groups): long for a telephone,
// but the software holds no secret, so only a real signature is safe.

// ErrBadInstallationID is returned for an installation ID that does not
// parse or whose check group is wrong (a digit misheard).
var ErrBadInstallationID = errors.New("activation: the installation ID is wrong; check the digits")

// ErrBadConfirmationID is returned for a confirmation ID that does not verify.
var ErrBadConfirmationID = errors.New("activation: the confirmation ID does not verify; check the digits")

// ShortComponent is how offline activation knows a component: its first
// 8 hexadecimal digits. Common compares components this way.
func ShortComponent(c string) string { return c[:min(8, len(c))] }

// InstallationID writes id (at most MaxComponents) as the digit groups the
// software shows.
func InstallationID(id Identity) string {
	var digits strings.Builder
	for _, c := range Normalize(id) {
		b, err := hex.DecodeString(ShortComponent(c))
		if err != nil || len(b) != 4 {
			continue
		}
		fmt.Fprintf(&digits, "%010d", binary.BigEndian.Uint32(b))
	}
	return groups(digits.String()+checkGroup(digits.String()), 5)
}

// checkGroup is five digits derived from digits.
func checkGroup(digits string) string {
	sum := sha256.Sum256([]byte("openlsc-iid-v1." + digits))
	return fmt.Sprintf("%05d", binary.BigEndian.Uint32(sum[:4])%100000)
}

// groups splits s into groups of n separated by dashes.
func groups(s string, n int) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), "-")
}

// onlyDigits drops separators (spaces, dashes) from s; ok is false when s
// holds anything else.
func onlyDigits(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	return b.String(), true
}

// ParseInstallationID reads an installation ID back into the short
// component hashes it carries.
func ParseInstallationID(iid string) (Identity, error) {
	d, ok := onlyDigits(iid)
	if !ok || len(d) < 15 || (len(d)-5)%10 != 0 || (len(d)-5)/10 > MaxComponents {
		return nil, ErrBadInstallationID
	}
	body, check := d[:len(d)-5], d[len(d)-5:]
	if checkGroup(body) != check {
		return nil, ErrBadInstallationID
	}
	var id Identity
	for i := 0; i < len(body); i += 10 {
		n, ok := new(big.Int).SetString(body[i:i+10], 10)
		if !ok || !n.IsUint64() || n.Uint64() > 0xFFFFFFFF {
			return nil, ErrBadInstallationID
		}
		id = append(id, fmt.Sprintf("%08x", n.Uint64()))
	}
	return Normalize(id), nil
}

// confirmationInput is what a confirmation ID signs.
func confirmationInput(product, iid string) []byte {
	d, _ := onlyDigits(iid)
	return []byte("openlsc-confirmation-v1." + product + "." + d)
}

// ConfirmationID signs installation ID iid for product with priv, as the
// digit groups read to the caller.
func ConfirmationID(priv ed25519.PrivateKey, product, iid string) string {
	sig := ed25519.Sign(priv, confirmationInput(product, iid))
	return groups(fmt.Sprintf("%0156s", new(big.Int).SetBytes(sig).String()), 6)
}

// CheckConfirmation reports whether cid confirms installation ID iid for
// product under one of the keys of ks. It needs no network.
func (ks KeySet) CheckConfirmation(cid, product, iid string) error {
	d, ok := onlyDigits(cid)
	n, parsed := new(big.Int).SetString(d, 10)
	if !ok || !parsed || n.BitLen() > 8*ed25519.SignatureSize {
		return ErrBadConfirmationID
	}
	sig := n.FillBytes(make([]byte, ed25519.SignatureSize))
	msg := confirmationInput(product, iid)
	for _, pub := range ks.publicKeys() {
		if ed25519.Verify(pub, msg, sig) {
			return nil
		}
	}
	return ErrBadConfirmationID
}

// publicKeys are the Ed25519 keys of ks.
func (ks KeySet) publicKeys() []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, k := range ks.Keys {
		if b, err := decodeKey(k); err == nil {
			out = append(out, b)
		}
	}
	return out
}
