package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
)

// importProgress shows, on a terminal, how many records an import has read
// and how fast, on one line redrawn a few times a second. Written to
// anything else (a file, a pipe, a test's buffer) it shows nothing.
type importProgress struct {
	w       io.Writer
	start   time.Time
	records atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

// progressEvery is how often the line is redrawn.
const progressEvery = 250 * time.Millisecond

func startProgress(w io.Writer) *importProgress {
	p := &importProgress{w: w, start: time.Now()}
	if !isTerminal(w) {
		return p
	}
	p.stop = make(chan struct{})
	p.wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				fmt.Fprintf(p.w, "\r%s", progressLine(p.records.Load(), time.Since(p.start)))
			}
		}
	})
	return p
}

// update is told the number of records read so far.
func (p *importProgress) update(records int) { p.records.Store(int64(records)) }

// finish draws the line a last time and ends it.
func (p *importProgress) finish() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	fmt.Fprintf(p.w, "\r%s\n", progressLine(p.records.Load(), time.Since(p.start)))
}

// progressLine reads, for example, "1,000,000 records read in 42s, 23,810/s".
func progressLine(records int64, took time.Duration) string {
	rate := int64(0)
	if took > 0 {
		rate = int64(float64(records) / took.Seconds())
	}
	return fmt.Sprintf("%s records read in %s, %s/s ", thousands(records), took.Round(time.Second), thousands(rate))
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
