// Package mail composes and delivers OpenLSC's notification mail.
//
// Code that changes something worth telling someone about calls Enqueue (or
// Worker.Enqueue) in the same transaction as the change: the message is
// written to the mail_outbox table and is sent only if the transaction
// commits. A Worker claims due messages, renders them from the embedded
// templates in the recipient's language and hands them to a Sender: SMTP in
// production, Mailbox (the development mailbox shown at /dev/mail) in
// development, Recorder in tests. A failed send is retried with exponential
// backoff, so nothing is lost while the SMTP server is down.
//
// # Templates
//
// Every template exists in English ("en") and Japanese ("ja"), in
// templates/<lang>/<name>.tmpl, and defines the blocks "subject", "text"
// and "html". templates/<lang>/layout.tmpl frames the text and HTML
// bodies. All of them are parsed at start-up; a missing block or language
// is an error from NewRenderer and NewWorker.
//
// Message.Data holds the fields listed with each template constant below.
// Data is stored as JSON, so a template sees what encoding/json makes of a
// value: a time.Time is an RFC 3339 string (the datetime function formats
// it), a number is a json.Number, a slice is a list. A missing required
// field is an error (Enqueue refuses the message); an optional one may be
// left out. The outbox seals Data with the store's keyring until the
// message is sent, then drops it; still, never put secrets (authorization
// numbers, keys, tokens other than the one in a verification link) into
// Data: the recipient's mailbox keeps them.
//
// Functions available in templates: datetime (a time in UTC, written the
// way the language writes it), permissions (a list of permission names,
// such as "key_reader", as localized labels), num (a number with digit
// grouping) and args (its arguments as a list, to pass several values to a
// nested template).
package mail

import (
	"bytes"
	"encoding/json"
	"fmt"
	netmail "net/mail"
	"strings"

	"github.com/openlsc/openlsc/models"
)

// The notification templates, with the Data fields each one reads.
const (
	// TemplateVerifyEmail asks a user to confirm a work email address.
	//	Name    string  optional: the user's name, for the greeting
	//	Link    string  the single-use verification URL
	//	Expires time    when the link stops working
	TemplateVerifyEmail = "verify_email"

	// TemplateInvitation tells someone that an administrator gave them
	// access to a licence. It never names the administrator.
	//	Licence     string    the License ID as shown to users (program and number)
	//	Permissions []string  the granted permissions (models.Permission values)
	//	Link        string    where to sign in and verify the address
	TemplateInvitation = "invitation"

	// TemplateAccessRequestNew tells a licence's administrators about a new
	// access request.
	//	Requester   string    who asks (name and email address)
	//	Licence     string    the License ID
	//	Permissions []string  the requested permissions
	//	Comment     string    optional: the requester's comment
	//	Link        string    the page where the request is decided
	TemplateAccessRequestNew = "access_request_new"

	// TemplateAccessRequestDecided tells the requester the decision.
	//	Licence     string    the License ID
	//	Approved    bool      approved (possibly in part) or denied
	//	Permissions []string  the granted permissions (when approved)
	//	Message     string    optional: the administrator's message
	//	Link        string    where to open OpenLSC
	TemplateAccessRequestDecided = "access_request_decided"

	// TemplateAccessRequestExpired tells the requester that nobody decided
	// the request in time.
	//	Licence string  the License ID
	TemplateAccessRequestExpired = "access_request_expired"

	// TemplatePermissionsChanged tells a user that their permissions on a
	// licence changed (an empty list: they have none left).
	//	Licence     string    the License ID
	//	Permissions []string  the permissions the user holds now
	//	Link        string    where to open OpenLSC
	TemplatePermissionsChanged = "permissions_changed"

	// TemplateActivationDecided tells a key reader the decision on a request
	// for more MAK activations.
	//	KeySuffix string  the last characters of the product key (never the whole key)
	//	Quantity  number  the number of activations requested
	//	Approved  bool    approved or denied
	//	Message   string  optional: the operator's message
	//	Link      string  where to see the key
	TemplateActivationDecided = "activation_decided"

	// TemplateKeyStatusChanged tells a licence's administrators and key
	// readers that an operator blocked or retired one of its product keys.
	//	Licence     string  the License ID
	//	Product     string  the key's product
	//	KeySuffix   string  the last characters of the key (never the whole key)
	//	Status      string  blocked or retired
	//	Reason      string  for a blocked key: leaked, fraud or replaced ("" otherwise)
	//	Note        string  optional: the operator's note
	//	Replacement string  optional: the last characters of the replacement key
	//	Link        string  where to see the keys
	TemplateKeyStatusChanged = "key_status_changed"

	// TemplateActivationLeak tells a licence's administrators and the
	// operators that a product key was activated from more networks than
	// the organisation plausibly has.
	//	Licence       string  the License ID
	//	Product       string  the key's product
	//	KeySuffix     string  the last characters of the key
	//	Networks      int     distinct networks within the window
	//	Installations int     installations within the window
	//	Days          int     the window, in days
	//	Link          string  where to see the keys
	TemplateActivationLeak = "activation_leak"
)

// Templates lists every notification template.
func Templates() []string {
	return []string{
		TemplateVerifyEmail, TemplateInvitation, TemplateAccessRequestNew,
		TemplateAccessRequestDecided, TemplateAccessRequestExpired,
		TemplatePermissionsChanged, TemplateActivationDecided, TemplateKeyStatusChanged,
		TemplateActivationLeak,
	}
}

// Languages lists the languages mail is written in; the first is the
// default.
func Languages() []string { return []string{"en", "ja"} }

// Message is a notification to one recipient.
type Message struct {
	To       string         // the recipient's bare address, without a display name
	Language string         // "en" or "ja"; anything else means "en"
	Template string         // one of the Template constants
	Data     map[string]any // the template's fields; see the Template constants
}

// normalizeLanguage returns the supported language closest to lang.
func normalizeLanguage(lang string) string {
	for _, l := range Languages() {
		if strings.EqualFold(strings.TrimSpace(lang), l) {
			return l
		}
	}
	return Languages()[0]
}

// Enqueue adds msg to the outbox in tx; it is sent once tx commits, by
// whichever worker polls next. It checks the recipient, the template and
// that the template's required fields are present; Worker.Enqueue checks
// more (a trial rendering) and wakes an in-process worker at once. An
// invalid message is a models.CodeInvalid error.
func Enqueue(tx *models.Tx, msg Message) error {
	return enqueue(tx, checkFields, msg)
}

// enqueue validates msg, check included, and inserts it into the outbox as
// a pending message due now. The outbox seals its data.
func enqueue(tx *models.Tx, check func(Message) error, msg Message) error {
	msg.Language = normalizeLanguage(msg.Language)
	if err := validateRecipient(msg.To); err != nil {
		return models.Invalid("The mail cannot be queued.", models.FieldError{Field: "to", Message: err.Error()})
	}
	data, err := encodeData(msg.Data)
	if err != nil {
		return models.Invalid("The mail cannot be queued.", models.FieldError{Field: "data", Message: err.Error()})
	}
	// Catch an unknown template or a missing field now, in the caller's
	// transaction, rather than in the worker later.
	if err := check(msg); err != nil {
		return err
	}
	now := tx.Now().Truncate(timePrecision)
	row := models.OutboxMail{
		Recipient:     msg.To,
		Language:      msg.Language,
		Template:      msg.Template,
		Data:          string(data),
		Status:        models.OutboxPending,
		NextAttemptAt: now,
		CreatedAt:     now,
	}
	if err := tx.EnqueueMail(&row); err != nil {
		return fmt.Errorf("mail: queue %s: %w", msg.Template, err)
	}
	return nil
}

// requiredFields lists, by template, the Data fields a template cannot be
// rendered without; "F if C" means F is needed when the field C is true.
// TestRequiredFields keeps it in step with the templates.
var requiredFields = map[string][]string{
	TemplateVerifyEmail:          {"Link", "Expires"},
	TemplateInvitation:           {"Licence", "Permissions", "Link"},
	TemplateAccessRequestNew:     {"Requester", "Licence", "Permissions", "Link"},
	TemplateAccessRequestDecided: {"Licence", "Approved", "Permissions if Approved", "Link"},
	TemplateAccessRequestExpired: {"Licence"},
	TemplatePermissionsChanged:   {"Licence", "Permissions", "Link"},
	TemplateActivationDecided:    {"KeySuffix", "Quantity", "Approved", "Link"},
	TemplateKeyStatusChanged:     {"Licence", "Product", "KeySuffix", "Status", "Reason", "Link"},
	TemplateActivationLeak:       {"Licence", "Product", "KeySuffix", "Networks", "Installations", "Days", "Link"},
}

// checkFields checks that msg names a known template and carries its
// required fields.
func checkFields(msg Message) error {
	fields, ok := requiredFields[msg.Template]
	if !ok {
		return models.Invalid("The mail cannot be queued.",
			models.FieldError{Field: "template", Message: fmt.Sprintf("no template %q", msg.Template)})
	}
	for _, f := range fields {
		f, cond, conditional := strings.Cut(f, " if ")
		if on, _ := msg.Data[cond].(bool); conditional && !on {
			continue
		}
		if _, ok := msg.Data[f]; !ok {
			return models.Invalid("The mail cannot be queued.",
				models.FieldError{Field: "data", Message: fmt.Sprintf("%s needs the field %s", msg.Template, f)})
		}
	}
	return nil
}

// validateRecipient checks that to is one bare email address.
func validateRecipient(to string) error {
	if to == "" {
		return fmt.Errorf("no recipient")
	}
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("not a valid email address")
	}
	if addr.Name != "" || addr.Address != to {
		return fmt.Errorf("give the bare address, without a display name or angle brackets")
	}
	return nil
}

// encodeData returns data as the JSON object the outbox stores.
func encodeData(data map[string]any) ([]byte, error) {
	if data == nil {
		return []byte("{}"), nil
	}
	buf, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("the template data cannot be stored: %v", err)
	}
	return buf, nil
}

// decodeData parses stored template data; numbers stay json.Number so that
// they print as written.
func decodeData(buf []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("the template data is not a JSON object: %v", err)
	}
	if data == nil {
		data = map[string]any{}
	}
	return data, nil
}
