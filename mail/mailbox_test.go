package mail

import (
	"context"
	"testing"
	"time"

	"github.com/openlsc/openlsc/models"
)

// The tables' schema is checked in models (TestOutboxSchema).

func TestMailbox(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := newStore(t, clk)
	box := NewMailbox(store)
	for _, subject := range []string{"first", "second", "third"} {
		err := box.Send(ctx, Rendered{From: testFrom, To: "a@example.com", Subject: subject, Text: "text " + subject,
			HTML: "<p>" + subject + "</p>", MessageID: "<" + subject + "@lsc.example.com>"})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	list, err := box.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range list {
		subjects = append(subjects, m.Subject)
	}
	if got, want := subjects, []string{"third", "second", "first"}; !equal(got, want) {
		t.Errorf("List subjects = %v, want %v", got, want)
	}
	if list, err := box.List(ctx, 2); err != nil || len(list) != 2 || list[0].Subject != "third" {
		t.Errorf("List(2) = %+v, %v", list, err)
	}
	got, err := box.Get(ctx, list[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := DevMail{ID: list[2].ID, MessageID: "<first@lsc.example.com>", Sender: testFrom, Recipient: "a@example.com",
		Subject: "first", TextBody: "text first", HTMLBody: "<p>first</p>", CreatedAt: newClock().Now().Truncate(time.Microsecond)}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if got != want {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if _, err := box.Get(ctx, 9999); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("Get of a missing message: %v", err)
	}
}

// TestMailboxWorker sends through the worker into the development mailbox.
func TestMailboxWorker(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, newClock())
	box := NewMailbox(store)
	w := newWorker(t, store, box, WorkerOptions{})
	commit(t, store, w, Message{To: "new@example.com", Language: "en", Template: TemplateVerifyEmail,
		Data: map[string]any{"Name": "New User", "Link": "https://lsc.example.com/verify?t=1", "Expires": time.Now()}})
	if got := processOnce(t, w); got != 1 {
		t.Fatalf("sent %d", got)
	}
	list, err := box.List(ctx, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	m := list[0]
	if m.Recipient != "new@example.com" || m.Subject != "Confirm your work email address for OpenLSC" ||
		m.Sender != testFrom || m.MessageID == "" {
		t.Errorf("kept %+v", m)
	}
	mustContain(t, m.TextBody, "https://lsc.example.com/verify?t=1")
	mustContain(t, m.HTMLBody, `href="https://lsc.example.com/verify?t=1"`)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
