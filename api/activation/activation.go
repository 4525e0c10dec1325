// Package activation is the vendor's side of OpenLSC's activation service:
// the software embeds it to compute an installation identity, to activate a
// product key online, and to verify the signed activation certificate
// offline against the public keys OpenLSC publishes. It depends only on
// the standard library; the server uses the same types, so both sides
// agree on the certificate format and on the tolerance rule.
package activation

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Identity is an installation identity: the hashes of several hardware
// components of one machine, sorted and without duplicates. Component
// values never leave the machine, only their hashes do.
type Identity []string

// NewIdentity hashes components (a kind such as "board", "disk", "mac" or
// "cpu", mapped to that component's serial number or address).
func NewIdentity(components map[string]string) Identity {
	id := make(Identity, 0, len(components))
	for kind, value := range components {
		sum := sha256.Sum256([]byte("openlsc-hw-v1\x00" + kind + "\x00" + strings.TrimSpace(value)))
		id = append(id, hex.EncodeToString(sum[:16]))
	}
	return Normalize(id)
}

// Normalize returns the component hashes of id lowercased, sorted and
// without duplicates or empty entries.
func Normalize(id []string) Identity {
	out := make(Identity, 0, len(id))
	for _, c := range id {
		if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Common returns how many component hashes a and b share; both must be
// normalized. Components compare by ShortComponent, so an identity read
// from an installation ID matches the full one.
func Common(a, b Identity) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		x, y := ShortComponent(a[i]), ShortComponent(b[j])
		switch {
		case x == y:
			n, i, j = n+1, i+1, j+1
		case x < y:
			i++
		default:
			j++
		}
	}
	return n
}

// SameInstallation is the tolerance rule: a and b (normalized) are the
// same installation when more than half of the components of the larger
// of them match. A machine of four components whose motherboard was
// replaced (3 of 4 match) stays the same installation; one that also got a
// new disk (2 of 4) is a new installation and must activate again.
func SameInstallation(a, b Identity) bool {
	n := max(len(a), len(b))
	return n > 0 && 2*Common(a, b) > n
}

// MaxComponents bounds the component hashes of one identity.
const MaxComponents = 16

// Error codes of a refused activation. They are stable: software may act
// on them. HResult gives the matching Windows activation code where one
// exists.
const (
	CodeUnknownKey       = "unknown_key"
	CodeKeyBlocked       = "key_blocked"
	CodeLimitReached     = "activation_limit_reached"
	CodeProductMismatch  = "product_mismatch"
	CodeAgreementExpired = "agreement_expired"
	CodeInvalidRequest   = "invalid_request"
	CodeRateLimited      = "rate_limited"
)

// HResult returns the Windows activation error code for code, or "".
func HResult(code string) string {
	switch code {
	case CodeKeyBlocked:
		return "0xC004C003"
	case CodeLimitReached:
		return "0xC004C020"
	}
	return ""
}

// Error is a refused activation, as the service answers it.
type Error struct {
	Code    string `json:"code"`
	HResult string `json:"hresult,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.HResult != "" {
		return e.Code + " (" + e.HResult + "): " + e.Message
	}
	return e.Code + ": " + e.Message
}
