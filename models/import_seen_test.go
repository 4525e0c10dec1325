package models

import (
	"fmt"
	"os"
	"reflect"
	"testing"
)

// TestNumberIndex indexes more agreements than it has buckets, so that
// buckets hold many: every number is found with what was put, an update
// changes only its own entry, and a number never put is not found.
func TestNumberIndex(t *testing.T) {
	var x numberIndex
	const n = 3 * numberBuckets
	for i := range n {
		x.put(fmt.Sprintf("A%08d", i), docAgreement{index: int32(i), program: uint8(i % 5)})
	}
	x.setID("A00000007", 42)
	x.put("A00000008", docAgreement{id: 43, index: 8, program: 1})
	for i := range n {
		want := docAgreement{index: int32(i), program: uint8(i % 5)}
		switch i {
		case 7:
			want.id = 42
		case 8:
			want = docAgreement{id: 43, index: 8, program: 1}
		}
		if got, ok := x.get(fmt.Sprintf("A%08d", i)); !ok || got != want {
			t.Fatalf("A%08d: %+v %v, want %+v", i, got, ok, want)
		}
	}
	for _, missing := range []string{"A", "A0000000", "A000000001", fmt.Sprintf("A%08d", n), ""} {
		if got, ok := x.get(missing); ok {
			t.Errorf("%q found: %+v", missing, got)
		}
	}
	x.setID("B1", 9) // not indexed: nothing to note
	if _, ok := x.get("B1"); ok {
		t.Error("setID indexed a number")
	}
}

// TestSeenSet finds a record seen before, with its index, among many.
func TestSeenSet(t *testing.T) {
	var s seenSet
	const n = 200_000
	for i := range n {
		if j, dup := s.add(recordHash("A", fmt.Sprint(i)), i); dup {
			t.Fatalf("record %d seen before, at %d", i, j)
		}
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		if j, dup := s.add(recordHash("A", fmt.Sprint(i)), n+i); !dup || j != i {
			t.Errorf("record %d again: %d %v, want seen at %d", i, j, dup, i)
		}
	}
	if _, dup := s.add(recordHash("A", "1", "2"), 0); dup {
		t.Error(`("A", "1", "2") taken for another record`)
	}
	if _, dup := s.add(recordHash("A1", "2"), 0); dup {
		t.Error(`("A1", "2") taken for ("A", "12") or ("A", "1", "2")`)
	}
}

// TestSpool reads back the records it held as they were written: nil and
// empty, zero and absent, text that JSON escapes; in a temporary file
// that is gone once the spool is closed, or in memory when there is no
// temporary directory.
func TestSpool(t *testing.T) {
	zero, empty := int64(0), ""
	records := []heldKey{
		{0, ImportKey{Agreement: "A<1>&", Product: "win-ent", Key: "KEY-1", ActivationLimit: &zero}},
		{7, ImportKey{Agreement: "契約 \u2028", Status: "blocked", BlockReason: "leaked"}},
	}
	ents := []ImportEntitlement{{Agreement: "A1", Edition: nil}, {Agreement: "A1", Edition: &empty}}
	for _, tmp := range []string{t.TempDir(), "/nonexistent/openlsc-test"} {
		t.Setenv("TMPDIR", tmp)
		onDisk := tmp != "/nonexistent/openlsc-test"
		spoolRoundTrip(t, records, onDisk)
		spoolRoundTrip(t, ents, onDisk)
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("TMPDIR=%s: %d files left behind", tmp, len(left))
		}
	}
}

// spoolRoundTrip writes want to a new spool, in a file when onDisk and in
// memory otherwise, and reads it back.
func spoolRoundTrip[T any](t *testing.T, want []T, onDisk bool) {
	t.Helper()
	s, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if (s.file != nil) != onDisk {
		t.Errorf("TMPDIR=%s: spool in a file %v, want %v", os.Getenv("TMPDIR"), s.file != nil, onDisk)
	}
	for _, r := range want {
		if err := s.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := readSpool[T](t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("TMPDIR=%s: read back %#v, want %#v", os.Getenv("TMPDIR"), got, want)
	}
}

func readSpool[T any](t *testing.T, s *spool) []T {
	t.Helper()
	src, err := s.records()
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for {
		var v T
		ok, err := src.record(&v)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, v)
	}
}
