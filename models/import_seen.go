package models

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/maphash"
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

// numberIndex is the index of the document's agreements by number: about
// 35 bytes an agreement (an entry, its bucket's slack and the number
// itself in one shared array), where a map of strings took 90. Unlike a
// seenSet it is exact: a lookup compares the numbers themselves.
type numberIndex struct {
	seed    maphash.Seed
	numbers []byte // every number indexed, one after another
	buckets [][]numberEntry
}

type numberEntry struct {
	docAgreement
	at   uint32 // offset of the number in numbers
	size uint8  // its length: a number has at most 64 bytes
	tag  uint8  // 8 more bits of its hash, compared first
}

// numberBuckets is the number of buckets of a numberIndex: a dozen
// agreements each for 200k.
const numberBuckets = 1 << 14

func (x *numberIndex) find(number string) (*numberEntry, uint64) {
	if x.buckets == nil {
		x.seed = maphash.MakeSeed()
		x.buckets = make([][]numberEntry, numberBuckets)
	}
	h := maphash.String(x.seed, number)
	b := x.buckets[h%numberBuckets]
	for i := range b {
		e := &b[i]
		if e.tag == uint8(h>>56) && int(e.size) == len(number) && string(x.numbers[e.at:e.at+uint32(e.size)]) == number {
			return e, h
		}
	}
	return nil, h
}

// get returns what the index holds of the agreement number.
func (x *numberIndex) get(number string) (docAgreement, bool) {
	if e, _ := x.find(number); e != nil {
		return e.docAgreement, true
	}
	return docAgreement{}, false
}

// put indexes (or updates) the agreement number, of at most 255 bytes.
func (x *numberIndex) put(number string, a docAgreement) {
	e, h := x.find(number)
	if e != nil {
		e.docAgreement = a
		return
	}
	b := &x.buckets[h%numberBuckets]
	if len(*b) == cap(*b) {
		*b = slices.Grow(*b, len(*b)/4+2)
	}
	*b = append(*b, numberEntry{docAgreement: a, at: uint32(len(x.numbers)), size: uint8(len(number)), tag: uint8(h >> 56)})
	x.numbers = append(x.numbers, number...)
}

// setID notes the id of the agreement number, when it is indexed.
func (x *numberIndex) setID(number string, id int64) {
	if e, _ := x.find(number); e != nil {
		e.id = id
	}
}
