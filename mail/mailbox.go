package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/openlsc/openlsc/models"
)

// DevMail is a message kept by the development mailbox.
type DevMail struct {
	ID        int64
	MessageID string // the Message-ID header, with angle brackets
	Sender    string // the From header
	Recipient string
	Subject   string
	TextBody  string
	HTMLBody  string
	CreatedAt time.Time
}

// TableName names the development mailbox table.
func (DevMail) TableName() string { return "dev_mail" }

// Mailbox is the development mailbox: a Sender that keeps every message in
// the dev_mail table, for the /dev/mail page, instead of delivering it. It
// is safe for concurrent use.
type Mailbox struct {
	store *models.Store
}

// NewMailbox returns the development mailbox kept in store.
func NewMailbox(store *models.Store) *Mailbox { return &Mailbox{store: store} }

// Send keeps m.
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
	if err := b.store.DB().WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("mail: keep the message in the development mailbox: %w", err)
	}
	return nil
}

// List returns up to limit messages, newest first.
func (b *Mailbox) List(ctx context.Context, limit int) ([]DevMail, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []DevMail
	if err := b.store.DB().WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("mail: list the development mailbox: %w", err)
	}
	return out, nil
}

// Get returns the message with the given ID, or a models.CodeNotFound
// error.
func (b *Mailbox) Get(ctx context.Context, id int64) (DevMail, error) {
	var m DevMail
	err := b.store.DB().WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DevMail{}, &models.Error{Code: models.CodeNotFound, Message: "There is no such message.", Err: err}
	}
	if err != nil {
		return DevMail{}, fmt.Errorf("mail: read the development mailbox: %w", err)
	}
	return m, nil
}
