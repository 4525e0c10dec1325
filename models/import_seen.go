package models

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// seenSet remembers the records of a section an import has read, by a
// hash of their natural key, with the index of each: 12 bytes a record
// and the slack of its bucket (a quarter at most), where a map of 16-byte
// hashes took 40.
// A hash keeps 78 bits, 14 choosing the bucket: two different records
// share one with a chance of about 1 in 10^12 in a million.
type seenSet struct {
	buckets [][]seenEntry
}

type seenEntry struct {
	hi, lo uint32
	index  int32
}

// seenBuckets is the number of buckets: some tens of records each for a
// million, scanned in a few cache lines.
const seenBuckets = 1 << 14

// add notes the record whose key hashes to h at index i and reports the
// index of an earlier record with the same hash, if any.
func (s *seenSet) add(h [16]byte, i int) (first int, dup bool) {
	if s.buckets == nil {
		s.buckets = make([][]seenEntry, seenBuckets)
	}
	b := &s.buckets[binary.BigEndian.Uint16(h[:2])%seenBuckets]
	e := seenEntry{binary.BigEndian.Uint32(h[2:6]), binary.BigEndian.Uint32(h[6:10]), int32(i)}
	for _, o := range *b {
		if o.hi == e.hi && o.lo == e.lo {
			return int(o.index), true
		}
	}
	if len(*b) == cap(*b) { // grow by a quarter, not double: less slack
		*b = slices.Grow(*b, len(*b)/4+4)
	}
	*b = append(*b, e)
	return 0, false
}

// recordHash hashes the parts of a record's natural key.
func recordHash(parts ...string) [16]byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return [16]byte(h.Sum(sum[:0]))
}
