package limits

import (
	"testing"
	"time"
)

// TestAllowDrawsOnEveryKey: an event costs each of its keys one; when one
// key is spent, the others are not charged and Retry-After says when the
// spent one has an event again.
func TestAllowDrawsOnEveryKey(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(10*time.Minute, 2)
	l.now = func() time.Time { return now }
	for i := range 2 {
		if ok, _ := l.Allow("ip:a", "user:1"); !ok {
			t.Fatalf("event %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("ip:b", "user:1")
	if ok || wait <= 0 || wait > 10*time.Minute {
		t.Errorf("the account's third event: ok=%v wait=%v, want refused with a wait up to 10m", ok, wait)
	}
	// ip:b was not charged for the refused event: it still has two.
	for i := range 2 {
		if ok, _ := l.Allow("ip:b"); !ok {
			t.Errorf("ip:b event %d refused: it paid for a refused one", i+1)
		}
	}
	now = now.Add(wait)
	if ok, _ := l.Allow("user:1"); !ok {
		t.Error("refused after waiting Retry-After")
	}
}
