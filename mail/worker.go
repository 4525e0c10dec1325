package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openlsc/openlsc/models"
)

// Outbox states.
const (
	statusPending = models.OutboxPending
	statusSent    = models.OutboxSent
	statusFailed  = models.OutboxFailed
)

// Recording an outcome is tried this many times, waiting
// recordBackoff·2^n (at most maxRecordBackoff) in between, while the lease
// lasts: a message whose outcome is not recorded is sent again after its
// lease ends.
const (
	recordAttempts   = 8
	recordBackoff    = 50 * time.Millisecond
	maxRecordBackoff = 2 * time.Second
)

// timePrecision is the precision of the outbox's times: PostgreSQL keeps
// microseconds, and a lease is matched by its exact time.
const timePrecision = time.Microsecond

// maxErrorLen bounds the error text kept with a message.
const maxErrorLen = 500

// WorkerOptions configure a Worker. Zero values mean the defaults.
type WorkerOptions struct {
	// From is the From header of every message: an address, optionally
	// with a display name ("OpenLSC <noreply@example.com>"). Required.
	From   string
	Logger *slog.Logger // slog.Default() when nil
	// PollInterval is how long Run waits for due mail when nothing wakes
	// it. Default 5s.
	PollInterval time.Duration
	// BatchSize is how many messages one pass claims. Default 20.
	BatchSize int
	// MaxAttempts is how many sends are tried before a message is marked
	// failed. Default 10.
	MaxAttempts int
	// Lease is how long a claimed message is reserved for the worker that
	// claimed it; after that another worker may take it. Default 2m.
	Lease time.Duration
	// SendTimeout bounds one send; it must be shorter than Lease. Default 30s.
	SendTimeout time.Duration
	// Backoff returns the wait before the next attempt after attempt
	// failed attempts. Default: 30s·2^(attempt-1), at most 1h, ±25% jitter.
	Backoff func(attempt int) time.Duration
	// Renderer renders the messages; nil parses the embedded templates.
	Renderer *Renderer
}

// outboxStore is what a Worker needs of the store.
type outboxStore interface {
	Now() time.Time
	ClaimOutboxMail(ctx context.Context, now, lease time.Time, limit int) ([]models.OutboxMail, error)
	FinishOutboxMail(ctx context.Context, id int64, lease time.Time, o models.OutboxOutcome) (bool, error)
	ReleaseOutboxMail(ctx context.Context, ids []int64, lease time.Time) error
}

// Worker sends the mail in the outbox. Several workers, in one process or
// in several, may share a database: a message is claimed by one of them
// (with a lease) before it is sent, so it is sent once. It is safe for
// concurrent use.
type Worker struct {
	store    outboxStore
	sender   Sender
	renderer *Renderer
	opts     WorkerOptions
	from     string // the address part of opts.From
	log      *slog.Logger
	kick     chan struct{}

	afterPass     func()        // tests: called after each pass of Run
	recordBackoff time.Duration // the first wait before recording an outcome again
}

// NewWorker returns a worker that sends the outbox of store through
// sender, rendered by opts.Renderer (or the embedded templates, parsed
// now: a broken one is an error).
func NewWorker(store *models.Store, sender Sender, opts WorkerOptions) (*Worker, error) {
	if store == nil || sender == nil {
		return nil, errors.New("mail: NewWorker needs a store and a sender")
	}
	addr, err := netmail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("mail: the sender address %q is not valid: %w", opts.From, err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 20
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = min(30*time.Second, opts.Lease/2)
	}
	if opts.SendTimeout >= opts.Lease {
		return nil, fmt.Errorf("mail: the send timeout (%s) must be shorter than the lease (%s)", opts.SendTimeout, opts.Lease)
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	r := opts.Renderer
	if r == nil {
		if r, err = NewRenderer(); err != nil {
			return nil, err
		}
	}
	return &Worker{
		store:         store,
		sender:        sender,
		renderer:      r,
		opts:          opts,
		from:          addr.Address,
		log:           opts.Logger,
		kick:          make(chan struct{}, 1),
		recordBackoff: recordBackoff,
	}, nil
}

// DefaultBackoff waits 30s·2^(attempt-1), at most an hour, varied by up to
// a quarter either way so that messages that failed together spread out.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 8 {
		d = min(30*time.Second<<(attempt-1), time.Hour)
	}
	jitter := 0.75 + rand.Float64()/2
	return min(time.Duration(float64(d)*jitter), time.Hour)
}

// Enqueue adds msg to the outbox in tx, like the package's Enqueue, and
// wakes the worker as soon as tx commits.
func (w *Worker) Enqueue(tx *models.Tx, msg Message) error {
	check := func(m Message) error { _, err := w.renderer.render(m); return err }
	if err := enqueue(tx, check, msg); err != nil {
		return err
	}
	tx.OnCommit(w.Kick)
	return nil
}

// Kick wakes Run to look for due mail now. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends: a pass, then a wait for the poll
// interval or a Kick. A pass that found a full batch is followed by another
// at once. Errors are logged.
func (w *Worker) Run(ctx context.Context) {
	for {
		res, err := w.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.log.ErrorContext(ctx, "mail: outbox pass failed", "err", err)
		}
		if w.afterPass != nil {
			w.afterPass()
		}
		if err == nil && res.claimed == w.opts.BatchSize && res.failed == 0 {
			continue // more may be waiting
		}
		timer := time.NewTimer(w.opts.PollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-w.kick:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// ProcessOnce claims one batch of due mail and sends it. It returns how
// many messages were sent; a message that could not be sent is scheduled
// for another attempt (or marked failed) and is not an error. The error
// reports trouble with the database.
func (w *Worker) ProcessOnce(ctx context.Context) (sent int, err error) {
	res, err := w.pass(ctx)
	return res.sent, err
}

// passResult counts what one pass did.
type passResult struct {
	claimed, sent, failed int
}

// pass claims a batch and tries to send every message in it.
func (w *Worker) pass(ctx context.Context) (passResult, error) {
	var res passResult
	rows, lease, err := w.claim(ctx)
	if err != nil || len(rows) == 0 {
		return res, err
	}
	res.claimed = len(rows)
	// Bookkeeping must happen even when ctx ends mid-send: otherwise a
	// delivered message would wait for its lease to expire and be sent again.
	bg := context.WithoutCancel(ctx)
	var errs []error
	for i, row := range rows {
		// Send only while the lease surely outlasts the send; leave the
		// rest to the next pass rather than risk another worker taking a
		// message that is still being sent.
		if ctx.Err() != nil || !w.store.Now().Add(w.opts.SendTimeout).Before(lease) {
			ids := make([]int64, 0, len(rows)-i)
			for _, r := range rows[i:] {
				ids = append(ids, r.ID)
			}
			errs = append(errs, w.release(bg, ids, lease))
			break
		}
		sent, err := w.deliver(ctx, bg, row, lease)
		if sent {
			res.sent++
		} else {
			res.failed++
		}
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// claim reserves up to BatchSize due messages for this worker until the
// returned lease time.
func (w *Worker) claim(ctx context.Context) ([]models.OutboxMail, time.Time, error) {
	now := w.store.Now()
	lease := now.Add(w.opts.Lease).Truncate(timePrecision)
	rows, err := w.store.ClaimOutboxMail(ctx, now, lease, w.opts.BatchSize)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mail: claim due mail: %w", err)
	}
	return rows, lease, nil
}

// deliver renders and sends one claimed message and records the outcome.
// It reports whether the message was sent.
func (w *Worker) deliver(ctx, bg context.Context, row models.OutboxMail, lease time.Time) (bool, error) {
	log := w.log.With("outbox_id", row.ID, "template", row.Template)
	m, err := w.render(row)
	attempts := row.Attempts + 1
	if err != nil {
		// Trying again cannot help.
		log.ErrorContext(ctx, "mail: cannot render the message; marked failed", "err", err)
		return false, w.finish(bg, row, lease, models.OutboxOutcome{Status: statusFailed, Attempts: attempts, LastError: errorText(err)})
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.opts.SendTimeout)
	err = w.sender.Send(sendCtx, m)
	cancel()
	now := w.store.Now().Truncate(timePrecision)
	if err == nil {
		log.DebugContext(ctx, "mail: sent")
		// The row stays as the record of what was sent to whom and when.
		return true, w.finish(bg, row, lease, models.OutboxOutcome{Status: statusSent, Attempts: attempts, SentAt: &now})
	}
	if attempts >= w.opts.MaxAttempts {
		log.ErrorContext(ctx, "mail: giving up on the message; marked failed", "attempts", attempts, "err", err)
		return false, w.finish(bg, row, lease, models.OutboxOutcome{Status: statusFailed, Attempts: attempts, LastError: errorText(err)})
	}
	next := now.Add(w.opts.Backoff(attempts)).Truncate(timePrecision)
	log.WarnContext(ctx, "mail: send failed; will try again", "attempts", attempts, "next_attempt_at", next, "err", err)
	return false, w.finish(bg, row, lease, models.OutboxOutcome{Status: statusPending, Attempts: attempts, NextAttemptAt: &next, LastError: errorText(err)})
}

// render renders a claimed message.
func (w *Worker) render(row models.OutboxMail) (Rendered, error) {
	if row.DataErr != nil {
		return Rendered{}, fmt.Errorf("the message data cannot be opened: %w", row.DataErr)
	}
	data, err := decodeData([]byte(row.Data))
	if err != nil {
		return Rendered{}, err
	}
	return w.renderer.Render(Message{To: row.Recipient, Language: row.Language, Template: row.Template, Data: data}, w.opts.From, row.ID)
}

// finish records the outcome of an attempt and ends the lease, provided
// this worker still holds it. A failure to record (a locked database, a
// dropped connection) is retried with backoff while the lease lasts: an
// unrecorded send would be repeated once the lease runs out.
func (w *Worker) finish(ctx context.Context, row models.OutboxMail, lease time.Time, o models.OutboxOutcome) error {
	wait := w.recordBackoff
	for attempt := 1; ; attempt++ {
		done, err := w.store.FinishOutboxMail(ctx, row.ID, lease, o)
		if err == nil {
			if !done {
				// Another worker took the message after the lease ran out.
				w.log.WarnContext(ctx, "mail: the lease on an outbox message ran out before its outcome was recorded",
					"outbox_id", row.ID, "outcome", o.Status)
			}
			return nil
		}
		if attempt == recordAttempts || !w.store.Now().Add(wait).Before(lease) || ctx.Err() != nil {
			return fmt.Errorf("mail: record the outcome for outbox message %d: %w", row.ID, err)
		}
		w.log.WarnContext(ctx, "mail: recording the outcome failed; trying again",
			"outbox_id", row.ID, "attempt", attempt, "retry_in", wait, "err", err)
		time.Sleep(wait)
		wait = min(wait*2, maxRecordBackoff)
	}
}

// release gives up the lease on messages this worker did not get to.
func (w *Worker) release(ctx context.Context, ids []int64, lease time.Time) error {
	if err := w.store.ReleaseOutboxMail(ctx, ids, lease); err != nil {
		return fmt.Errorf("mail: release outbox messages: %w", err)
	}
	return nil
}

// errorText returns err as one line of bounded length for the outbox.
func errorText(err error) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(err.Error(), "?")), " ")
	if len(s) <= maxErrorLen {
		return s
	}
	s = s[:maxErrorLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
