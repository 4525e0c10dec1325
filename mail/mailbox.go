package mail

import (
	"context"
	"fmt"

	"github.com/openlsc/openlsc/models"
)

// DevMail is a message kept by the development mailbox.
type DevMail = models.DevMail

// Mailbox is the development mailbox: a Sender that keeps every message in
// the dev_mail table, for the /dev/mail page, instead of delivering it. It
// is safe for concurrent use.
type Mailbox struct {
	store *models.Store
}

// NewMailbox returns the development mailbox kept in store.
func NewMailbox(store *models.Store) *Mailbox { return &Mailbox{store: store} }

// Send keeps m, once: a message sent again with the same Message-ID (after
// its outcome was lost) is not kept twice.
func (b *Mailbox) Send(ctx context.Context, m Rendered) error {
	row := DevMail{
		MessageID: m.MessageID,
		Sender:    m.From,
		Recipient: m.To,
		Subject:   m.Subject,
		TextBody:  m.Text,
		HTMLBody:  m.HTML,
		CreatedAt: b.store.Now().Truncate(timePrecision),
	}
	if _, err := b.store.KeepDevMail(ctx, &row); err != nil {
		return fmt.Errorf("mail: keep the message in the development mailbox: %w", err)
	}
	return nil
}

// List returns up to limit messages, newest first.
func (b *Mailbox) List(ctx context.Context, limit int) ([]DevMail, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := b.store.DevMails(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("mail: list the development mailbox: %w", err)
	}
	return out, nil
}

// Get returns the message with the given ID, or a models.CodeNotFound
// error.
func (b *Mailbox) Get(ctx context.Context, id int64) (DevMail, error) {
	return b.store.DevMailByID(ctx, id)
}
