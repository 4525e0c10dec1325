package mail

import (
	"context"
	"slices"
	"sync"
)

// Sender delivers rendered messages. An error means the message was not
// delivered and may be tried again; its text must not contain secrets.
type Sender interface {
	Send(ctx context.Context, m Rendered) error
}

// Recorder is a Sender for tests: it keeps every message in memory and can
// be told to fail, to simulate an outage. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	msgs []Rendered
	err  error
}

// Send records m, or returns the error set with Fail.
func (r *Recorder) Send(ctx context.Context, m Rendered) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// Fail makes every following Send return err; Fail(nil) ends the outage.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Messages returns the messages sent so far, oldest first.
func (r *Recorder) Messages() []Rendered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}
