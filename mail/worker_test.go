package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

func TestEnqueue(t *testing.T) {
	clk := newClock()
	store := newStore(t, clk)
	t.Run("OK", func(t *testing.T) {
		err := store.InTx(context.Background(), func(tx *models.Tx) error {
			return Enqueue(tx, Message{To: "a@example.com", Language: "JA", Template: TemplateActivationDecided,
				Data: map[string]any{"KeySuffix": "ABCDE", "Quantity": 10, "Approved": true, "Link": "https://x.example/"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		rows := outbox(t, store)
		if len(rows) != 1 {
			t.Fatalf("%d rows, want 1", len(rows))
		}
		r := rows[0]
		now := clk.Now().Truncate(time.Microsecond)
		if r.Recipient != "a@example.com" || r.Language != "ja" || r.Template != TemplateActivationDecided ||
			r.Status != statusPending || r.Attempts != 0 || r.LeaseUntil != nil || r.SentAt != nil ||
			!r.NextAttemptAt.Equal(now) || !r.CreatedAt.Equal(now) {
			t.Errorf("row = %+v", r)
		}
		// At rest the data is sealed; a claim opens it.
		if raw := rawOutboxData(t, store)[0]; !strings.HasPrefix(raw, "sealed:") || strings.Contains(raw, "x.example") {
			t.Errorf("stored data = %s", raw)
		}
		claimed, err := store.ClaimOutboxMail(context.Background(), clk.Now(), clk.Now().Add(time.Minute), 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %d, %v", len(claimed), err)
		}
		if d := claimed[0].Data; d != `{"Approved":true,"KeySuffix":"ABCDE","Link":"https://x.example/","Quantity":10}` {
			t.Errorf("data = %s", d)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		valid := expiredMessage("a@example.com", "X 1")
		for name, change := range map[string]func(*Message){
			"NoRecipient":      func(m *Message) { m.To = "" },
			"NotAnAddress":     func(m *Message) { m.To = "not an address" },
			"DisplayName":      func(m *Message) { m.To = "Alice <a@example.com>" },
			"AngleBrackets":    func(m *Message) { m.To = "<a@example.com>" },
			"TwoRecipients":    func(m *Message) { m.To = "a@example.com, b@example.com" },
			"HeaderInjection":  func(m *Message) { m.To = "a@example.com\r\nBcc: b@example.com" },
			"UnknownTemplate":  func(m *Message) { m.Template = "welcome" },
			"MissingField":     func(m *Message) { m.Data = map[string]any{} },
			"UnencodableValue": func(m *Message) { m.Data["Licence"] = func() {} },
		} {
			t.Run(name, func(t *testing.T) {
				msg := valid
				msg.Data = map[string]any{"Licence": "X 1"}
				change(&msg)
				w := newWorker(t, store, &Recorder{}, WorkerOptions{})
				for _, enqueue := range []func(*models.Tx, Message) error{Enqueue, w.Enqueue} {
					var enqueueErr error
					_ = store.InTx(context.Background(), func(tx *models.Tx) error {
						enqueueErr = enqueue(tx, msg)
						return errors.New("roll back")
					})
					if got := models.ErrorCode(enqueueErr); got != models.CodeInvalid {
						t.Errorf("error %v has code %s, want invalid", enqueueErr, got)
					}
				}
			})
		}
	})
}

func TestWorkerRolledBack(t *testing.T) {
	store := newStore(t, newClock())
	rec := &Recorder{}
	w := newWorker(t, store, rec, WorkerOptions{})
	err := store.InTx(context.Background(), func(tx *models.Tx) error {
		if err := w.Enqueue(tx, expiredMessage("a@example.com", "X 1")); err != nil {
			return err
		}
		return errors.New("the change failed")
	})
	if err == nil {
		t.Fatal("InTx succeeded")
	}
	if rows := outbox(t, store); len(rows) != 0 {
		t.Errorf("outbox has %d rows after a rollback", len(rows))
	}
	if len(w.kick) != 0 {
		t.Error("a rolled-back transaction kicked the worker")
	}
	if got := processOnce(t, w); got != 0 {
		t.Errorf("ProcessOnce sent %d", got)
	}
	if got := len(rec.Messages()); got != 0 {
		t.Errorf("%d messages sent", got)
	}

	// A committed one kicks the worker.
	commit(t, store, w, expiredMessage("a@example.com", "X 1"))
	if len(w.kick) != 1 {
		t.Error("a committed transaction did not kick the worker")
	}
}

// TestWorkerOutage sends to an SMTP server that is down, then back up on
// the same address.
func TestWorkerOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // the server is down

	sender, err := NewSMTP(fmt.Sprintf("smtp://mailer:%s@127.0.0.1:%d?tls=none", secretPassword, port), "noreply@lsc.example.com")
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	store := newStore(t, clk)
	w := newWorker(t, store, sender, WorkerOptions{Backoff: DefaultBackoff})
	commit(t, store, w, expiredMessage("a@example.com", "Open Value 1"))

	if got := processOnce(t, w); got != 0 {
		t.Fatalf("ProcessOnce sent %d while the server is down", got)
	}
	row := outbox(t, store)[0]
	if row.Status != statusPending || row.Attempts != 1 || row.LeaseUntil != nil || row.SentAt != nil {
		t.Errorf("row after a failed attempt = %+v", row)
	}
	if !row.NextAttemptAt.After(clk.Now()) {
		t.Errorf("next_attempt_at %v is not after now %v", row.NextAttemptAt, clk.Now())
	}
	if row.LastError == "" || strings.Contains(row.LastError, secretPassword) {
		t.Errorf("last_error = %q", row.LastError)
	}

	// Not due yet: nothing happens.
	if got := processOnce(t, w); got != 0 {
		t.Errorf("ProcessOnce sent %d before the retry is due", got)
	}
	if got := outbox(t, store)[0].Attempts; got != 1 {
		t.Errorf("attempts = %d before the retry is due", got)
	}

	// The server comes back; the retry falls due.
	srv := startSMTP(t, addr, withAuth("mailer", secretPassword))
	clk.Advance(2 * time.Hour)
	if got := processOnce(t, w); got != 1 {
		t.Fatalf("ProcessOnce sent %d after the outage, want 1", got)
	}
	if got := processOnce(t, w); got != 0 {
		t.Errorf("ProcessOnce sent %d more", got)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("the server received %d messages, want exactly 1", got)
	}
	row = outbox(t, store)[0]
	if row.Status != statusSent || row.Attempts != 2 || row.LastError != "" {
		t.Errorf("row after delivery = %+v", row)
	}
}

func TestWorkerMaxAttempts(t *testing.T) {
	clk := newClock()
	store := newStore(t, clk)
	rec := &Recorder{}
	rec.Fail(errors.New("451 4.3.0 try again later"))
	w := newWorker(t, store, rec, WorkerOptions{MaxAttempts: 3})
	commit(t, store, w, expiredMessage("a@example.com", "X 1"))
	for attempt := 1; attempt <= 3; attempt++ {
		if got := processOnce(t, w); got != 0 {
			t.Fatalf("attempt %d sent %d", attempt, got)
		}
		row := outbox(t, store)[0]
		if row.Attempts != attempt {
			t.Fatalf("attempts = %d, want %d", row.Attempts, attempt)
		}
		wantStatus := statusPending
		if attempt == 3 {
			wantStatus = statusFailed
		}
		if row.Status != wantStatus || row.LastError != "451 4.3.0 try again later" {
			t.Errorf("attempt %d: status %s, last_error %q", attempt, row.Status, row.LastError)
		}
		clk.Advance(time.Hour)
	}
	rec.Fail(nil)
	if got := processOnce(t, w); got != 0 {
		t.Errorf("a failed message was sent again (%d)", got)
	}
	if got := len(rec.Messages()); got != 0 {
		t.Errorf("%d messages sent", got)
	}
}

// TestWorkerRenderFailure stores rows that cannot be rendered (as a
// template change might leave them): they fail at once.
func TestWorkerRenderFailure(t *testing.T) {
	clk := newClock()
	store := newStore(t, clk)
	rec := &Recorder{}
	w := newWorker(t, store, rec, WorkerOptions{})
	now := clk.Now()
	for _, row := range []models.OutboxMail{
		{Recipient: "a@example.com", Language: "en", Template: TemplateVerifyEmail, Data: `{"Name":"x"}`},
		{Recipient: "a@example.com", Language: "en", Template: "retired_template", Data: `{}`},
		{Recipient: "a@example.com", Language: "en", Template: TemplateAccessRequestExpired, Data: `[1,2]`},
	} {
		row.Status, row.NextAttemptAt, row.CreatedAt = statusPending, now, now
		if err := store.InTx(context.Background(), func(tx *models.Tx) error { return tx.EnqueueMail(&row) }); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, store, w, expiredMessage("ok@example.com", "X 1"))
	if got := processOnce(t, w); got != 1 {
		t.Errorf("ProcessOnce sent %d, want 1", got)
	}
	for _, row := range outbox(t, store)[:3] {
		if row.Status != statusFailed || row.Attempts != 1 || row.LastError == "" || row.LeaseUntil != nil {
			t.Errorf("row %d = %+v", row.ID, row)
		}
	}
	if msgs := rec.Messages(); len(msgs) != 1 || msgs[0].To != "ok@example.com" {
		t.Errorf("sent %+v", msgs)
	}
}

// TestWorkerLease checks that a claimed message is left alone until its
// lease runs out, and that a worker whose lease ran out cannot record an
// outcome over the worker that took over.
func TestWorkerLease(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := newStore(t, clk)
	a := newWorker(t, store, &Recorder{}, WorkerOptions{Lease: time.Minute, SendTimeout: 10 * time.Second})
	b := newWorker(t, store, &Recorder{}, WorkerOptions{Lease: time.Minute, SendTimeout: 10 * time.Second})
	commit(t, store, a, expiredMessage("a@example.com", "X 1"))

	rowsA, leaseA, err := a.claim(ctx)
	if err != nil || len(rowsA) != 1 {
		t.Fatalf("a claimed %d rows, %v", len(rowsA), err)
	}
	if got := processOnce(t, b); got != 0 {
		t.Fatalf("b sent a message a holds (%d)", got)
	}
	clk.Advance(time.Minute + time.Second)
	rowsB, leaseB, err := b.claim(ctx)
	if err != nil || len(rowsB) != 1 {
		t.Fatalf("b claimed %d rows after a's lease ran out, %v", len(rowsB), err)
	}

	// a comes back late and records a failure: nothing changes.
	if err := a.finish(ctx, rowsA[0], leaseA, models.OutboxOutcome{Status: statusPending, Attempts: 1, LastError: "late"}); err != nil {
		t.Fatal(err)
	}
	row := outbox(t, store)[0]
	if row.Status != statusPending || row.Attempts != 0 || row.LastError != "" || row.LeaseUntil == nil || !row.LeaseUntil.Equal(leaseB) {
		t.Errorf("row after a's late outcome = %+v", row)
	}
	// b records its success.
	if err := b.finish(ctx, rowsB[0], leaseB, models.OutboxOutcome{Status: statusSent, Attempts: 1, SentAt: new(clk.Now())}); err != nil {
		t.Fatal(err)
	}
	row = outbox(t, store)[0]
	if row.Status != statusSent || row.Attempts != 1 || row.LeaseUntil != nil {
		t.Errorf("row after b's outcome = %+v", row)
	}
}

// clockSender advances the clock by step on every send, like a slow SMTP
// server.
type clockSender struct {
	Recorder
	clk  *fakeClock
	step time.Duration
}

func (s *clockSender) Send(ctx context.Context, m Rendered) error {
	s.clk.Advance(s.step)
	return s.Recorder.Send(ctx, m)
}

// TestWorkerLeaseRunsShort checks that a worker stops sending from a
// batch whose lease would run out mid-send and releases the rest.
func TestWorkerLeaseRunsShort(t *testing.T) {
	clk := newClock()
	store := newStore(t, clk)
	slow := &clockSender{clk: clk, step: time.Minute}
	w := newWorker(t, store, slow, WorkerOptions{Lease: 2 * time.Minute, SendTimeout: 30 * time.Second})
	commit(t, store, w, expiredMessage("a@example.com", "1"), expiredMessage("b@example.com", "2"), expiredMessage("c@example.com", "3"))
	if got := processOnce(t, w); got != 2 {
		t.Fatalf("sent %d, want 2", got)
	}
	rows := outbox(t, store)
	if rows[2].Status != statusPending || rows[2].LeaseUntil != nil || rows[2].Attempts != 0 {
		t.Errorf("the third row was not released: %+v", rows[2])
	}
	if got := processOnce(t, w); got != 1 {
		t.Errorf("the next pass sent %d, want 1", got)
	}
}

// TestWorkersConcurrent has two workers, each with its own connection
// pool, drain one outbox into a real SMTP server at the same time. Every
// message must arrive exactly once.
func TestWorkersConcurrent(t *testing.T) {
	srv := startSMTP(t, "127.0.0.1:0")
	url := modelstest.URL(t)
	clk := newClock()
	opts := models.Options{Keyring: modelstest.Keyring(t), Now: clk.Now}
	stores := []*models.Store{modelstest.Open(t, url, opts), modelstest.Open(t, url, opts)}
	var workers []*Worker
	for _, s := range stores {
		sender, err := NewSMTP(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", srv.Port), "noreply@lsc.example.com")
		if err != nil {
			t.Fatal(err)
		}
		workers = append(workers, newWorker(t, s, sender, WorkerOptions{BatchSize: 3}))
	}
	const n = 50
	var msgs []Message
	for i := range n {
		msgs = append(msgs, expiredMessage(fmt.Sprintf("user%d@example.com", i), fmt.Sprint(i)))
	}
	commit(t, stores[0], workers[0], msgs...)

	var wg sync.WaitGroup
	sent := make([]int, len(workers))
	errs := make([]error, len(workers))
	start := make(chan struct{})
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for pass := 0; ; pass++ {
				if pass > n {
					errs[i] = errors.New("the worker does not run out of mail")
					return
				}
				k, err := w.ProcessOnce(context.Background())
				if err != nil {
					errs[i] = err
					return
				}
				if k == 0 {
					return
				}
				sent[i] += k
			}
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		if got := processOnce(t, w); got != 0 {
			t.Errorf("a final pass sent %d", got)
		}
	}
	t.Logf("the workers sent %v", sent)
	if sent[0]+sent[1] != n {
		t.Errorf("the workers report %v sent, want %d in all", sent, n)
	}
	count := map[string]int{}
	for _, m := range srv.Messages() {
		count[parse(t, m.Data).Header.Get("Message-ID")]++
	}
	if len(count) != n {
		t.Errorf("%d distinct messages received, want %d", len(count), n)
	}
	for id, c := range count {
		if c != 1 {
			t.Errorf("%s received %d times", id, c)
		}
	}
	for _, row := range outbox(t, stores[1]) {
		if row.Status != statusSent || row.Attempts != 1 {
			t.Errorf("row %d: status %s, attempts %d", row.ID, row.Status, row.Attempts)
		}
	}
}

// notifySender passes every message to a channel.
type notifySender struct{ ch chan Rendered }

func (s notifySender) Send(_ context.Context, m Rendered) error {
	s.ch <- m
	return nil
}

// TestWorkerRun checks that Run drains a backlog batch after batch, then
// waits, and that Kick (as Worker.Enqueue arranges on commit) wakes it
// long before the poll interval.
func TestWorkerRun(t *testing.T) {
	store := modelstest.New(t)
	sender := notifySender{ch: make(chan Rendered, 10)}
	w := newWorker(t, store, sender, WorkerOptions{BatchSize: 2, PollInterval: time.Hour})
	passes := make(chan struct{}, 10)
	w.afterPass = func() { passes <- struct{}{} }
	commit(t, store, w, expiredMessage("a@example.com", "1"), expiredMessage("b@example.com", "2"), expiredMessage("c@example.com", "3"))
	<-w.kick // that commit's kick: Run finds the backlog without it

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	timeout := time.After(20 * time.Second)
	wait := func(what string) {
		t.Helper()
		select {
		case <-passes:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	// 2 (a full batch: go on), 1, then a wait.
	wait("the first pass")
	wait("the second pass")
	if got := len(sender.ch); got != 3 {
		t.Fatalf("%d messages sent after two passes, want 3", got)
	}
	for range 3 {
		<-sender.ch
	}

	commit(t, store, w, expiredMessage("d@example.com", "4"))
	select {
	case m := <-sender.ch:
		if m.To != "d@example.com" {
			t.Errorf("sent to %s", m.To)
		}
	case <-timeout:
		t.Fatal("the kicked worker did not send")
	}
	cancel()
	select {
	case <-done:
	case <-timeout:
		t.Fatal("Run did not return after the context ended")
	}
}

func TestNewWorkerErrors(t *testing.T) {
	store := modelstest.New(t)
	for name, opts := range map[string]WorkerOptions{
		"NoFrom":          {},
		"BadFrom":         {From: "OpenLSC"},
		"TimeoutTooLarge": {From: testFrom, Lease: time.Minute, SendTimeout: time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewWorker(store, &Recorder{}, opts); err == nil {
				t.Error("NewWorker succeeded")
			}
		})
	}
	if _, err := NewWorker(store, nil, WorkerOptions{From: testFrom}); err == nil {
		t.Error("NewWorker without a sender succeeded")
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, base := range map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 50: time.Hour,
	} {
		for range 20 {
			d := DefaultBackoff(attempt)
			if d < base*3/4 || d > min(base*5/4, time.Hour) {
				t.Errorf("DefaultBackoff(%d) = %s, want %s ± 25%% and at most 1h", attempt, d, base)
			}
		}
	}
}

func TestErrorText(t *testing.T) {
	long := strings.Repeat("あ", 400)
	got := errorText(errors.New("line one\nline two " + long))
	if strings.Contains(got, "\n") || len(got) > maxErrorLen+len("…") || !strings.HasPrefix(got, "line one line two あ") {
		t.Errorf("errorText = %q (%d bytes)", got, len(got))
	}
}

func TestRecorder(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r.Send(context.Background(), Rendered{To: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	if got := len(r.Messages()); got != 20 {
		t.Errorf("%d messages, want 20", got)
	}
	outage := errors.New("down")
	r.Fail(outage)
	if err := r.Send(context.Background(), Rendered{}); !errors.Is(err, outage) {
		t.Errorf("Send during an outage: %v", err)
	}
	r.Fail(nil)
	if err := r.Send(context.Background(), Rendered{}); err != nil {
		t.Error(err)
	}
	if got := len(r.Messages()); got != 21 {
		t.Errorf("%d messages, want 21", got)
	}
}
