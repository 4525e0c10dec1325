package main

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		records int64
		took    time.Duration
		want    string
	}{
		{0, 0, "0 records read in 0s, 0/s "},
		{999, time.Second, "999 records read in 1s, 999/s "},
		{1_000_000, 40 * time.Second, "1,000,000 records read in 40s, 25,000/s "},
		{1_234_567_890, time.Hour, "1,234,567,890 records read in 1h0m0s, 342,935/s "},
	} {
		if got := progressLine(tc.records, tc.took); got != tc.want {
			t.Errorf("progressLine(%d, %s) = %q, want %q", tc.records, tc.took, got, tc.want)
		}
	}
}

// TestProgressQuietOffTerminal: written to anything but a terminal, the
// progress display writes nothing, so that logs and pipes stay clean.
func TestProgressQuietOffTerminal(t *testing.T) {
	var b bytes.Buffer
	p := startProgress(&b)
	p.update(5000)
	time.Sleep(2 * progressEvery)
	p.finish()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a buffer", b.String())
	}
}
