package mail

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
	"github.com/openlsc/openlsc/models/modelstest"
)

// flakyStore fails the first fail attempts to record an outcome, as a
// locked database would.
type flakyStore struct {
	outboxStore
	fail     atomic.Int32
	attempts atomic.Int32
}

func (s *flakyStore) FinishOutboxMail(ctx context.Context, id int64, lease time.Time, o models.OutboxOutcome) (bool, error) {
	s.attempts.Add(1)
	if s.fail.Add(-1) >= 0 {
		return false, errors.New("database is locked")
	}
	return s.outboxStore.FinishOutboxMail(ctx, id, lease, o)
}

// TestWorkerRecordsOutcomeDespiteFailures injects failures into recording
// a sent message's outcome: the worker tries again, so the message is sent
// once and not again after its lease. Past the bound, the message is left
// pending and goes out a second time (with the same Message-ID).
func TestWorkerRecordsOutcomeDespiteFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  int32
		sends int
	}{
		{"Recovers", 3, 1},
		{"GivesUp", recordAttempts, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			store := newStore(t, clk)
			rec := &Recorder{}
			w := newWorker(t, store, rec, WorkerOptions{Lease: time.Minute, SendTimeout: 10 * time.Second})
			flaky := &flakyStore{outboxStore: store}
			flaky.fail.Store(tc.fail)
			w.store, w.recordBackoff = flaky, time.Millisecond
			commit(t, store, w, expiredMessage("a@example.com", "X 1"))

			_, err := w.ProcessOnce(context.Background())
			if (err != nil) != (tc.sends > 1) {
				t.Fatalf("ProcessOnce: %v", err)
			}
			clk.Advance(2 * time.Minute) // past the lease
			processOnce(t, w)
			msgs := rec.Messages()
			if len(msgs) != tc.sends {
				t.Fatalf("sent %d times, want %d", len(msgs), tc.sends)
			}
			if msgs[0].MessageID != msgs[len(msgs)-1].MessageID {
				t.Errorf("a repeated send has another Message-ID: %s, %s", msgs[0].MessageID, msgs[len(msgs)-1].MessageID)
			}
			if row := outbox(t, store)[0]; row.Status != statusSent || row.Data != "{}" {
				t.Errorf("row = %+v", row)
			}
		})
	}
}

// TestMailboxKeepsOnce checks that the development mailbox keeps a message
// sent twice (same Message-ID) once.
func TestMailboxKeepsOnce(t *testing.T) {
	store := newStore(t, newClock())
	box := NewMailbox(store)
	m := Rendered{From: testFrom, To: "a@example.com", Subject: "s", Text: "t", HTML: "h", MessageID: "<openlsc-outbox-1@example.com>"}
	for range 2 {
		if err := box.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if list, err := box.List(context.Background(), 10); err != nil || len(list) != 1 {
		t.Errorf("kept %d messages, %v", len(list), err)
	}
}

// TestConfirmationLinkSealed enqueues a confirmation mail: the outbox row
// holds neither the token nor the link in clear, and the delivered message
// carries the working link.
func TestConfirmationLinkSealed(t *testing.T) {
	clk := newClock()
	store := newStore(t, clk)
	rec := &Recorder{}
	w := newWorker(t, store, rec, WorkerOptions{})
	const token = "Zq8vT3kLm9Xw2Rb7Yp4Nc6Hd"
	link := "https://lsc.example.com/verify?token=" + token
	commit(t, store, w, Message{To: "a@example.com", Language: "en", Template: TemplateVerifyEmail,
		Data: map[string]any{"Link": link, "Expires": clk.Now().Add(time.Hour)}})
	for _, data := range rawOutboxData(t, store) {
		if strings.Contains(data, token) || strings.Contains(data, "lsc.example.com") {
			t.Errorf("the outbox row holds the link in clear: %s", data)
		}
	}
	processOnce(t, w)
	msgs := rec.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, link) || !strings.Contains(msgs[0].HTML, token) {
		t.Fatalf("delivered %+v", msgs)
	}
}

// TestRequiredFields keeps requiredFields in step with the templates: in
// every language, leaving out a listed field fails the rendering, and
// leaving out any other does not.
func TestRequiredFields(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for tmpl, data := range sampleData() {
		required := map[string]bool{}
		for _, f := range requiredFields[tmpl] {
			f, cond, conditional := strings.Cut(f, " if ")
			on, _ := data[cond].(bool)
			required[f] = !conditional || on
		}
		for field := range data {
			for _, lang := range Languages() {
				rest := map[string]any{}
				for k, v := range data {
					if k != field {
						rest[k] = v
					}
				}
				_, err := r.render(Message{To: "a@example.com", Language: lang, Template: tmpl, Data: rest})
				if (err != nil) != required[field] {
					t.Errorf("%s (%s) without %s: render error %v; listed as required: %v", tmpl, lang, field, err, required[field])
				}
				if checkFields(Message{Template: tmpl, Data: rest}) == nil == required[field] {
					t.Errorf("%s without %s: checkFields disagrees", tmpl, field)
				}
			}
		}
	}
}

// rawOutboxData returns the data column of every outbox row as stored.
func rawOutboxData(t testing.TB, store *models.Store) []string {
	t.Helper()
	var out []string
	for _, m := range modelstest.Find(t, store, models.OutboxMail{}) {
		out = append(out, m.Data)
	}
	return out
}
