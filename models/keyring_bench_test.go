package models_test

import (
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/models/modelstest"
)

// BenchmarkSealKey measures what an import spends per new key on the
// keyring: the keyed fingerprint and the sealing (AES-GCM) of the key.
func BenchmarkSealKey(b *testing.B) {
	k := modelstest.Keyring(b)
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("MAK%08d-XXXXX-YYYYY", i)
		k.SealKey(key, k.KeyFingerprint(key))
		i++
	}
}
