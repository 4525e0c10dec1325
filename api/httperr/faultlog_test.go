package httperr

import (
	"testing"
	"time"
)

// TestFaultLogBursts: the first fault of a burst is logged at ERROR, the
// rest are counted, and a fault after a quiet spell starts a new burst
// that reports how many were not logged.
func TestFaultLogBursts(t *testing.T) {
	var f FaultLog
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at           time.Duration
		first        bool
		repeatsAfter int
	}{
		{0, true, 0},
		{time.Second, false, 1},
		{20 * time.Second, false, 2},
		{45 * time.Second, false, 3}, // 25 s after the last one: still the same burst
		{2 * time.Minute, true, 3},   // a new burst, reporting the 3 unlogged ones
		{2*time.Minute + time.Second, false, 1},
	}
	for i, s := range steps {
		first, repeats := f.seen(t0.Add(s.at))
		if first != s.first || repeats != s.repeatsAfter {
			t.Errorf("step %d: first=%v repeats=%d, want %v %d", i, first, repeats, s.first, s.repeatsAfter)
		}
	}
}
