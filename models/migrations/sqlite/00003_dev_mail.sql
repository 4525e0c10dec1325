-- +goose Up
-- The development mailbox: with `openlsc serve --dev`, mail is kept here and
-- shown at /dev/mail instead of being sent (mail.Mailbox). Keep in step with
-- ../postgres/00003_dev_mail.sql.
CREATE TABLE dev_mail (
    id         INTEGER PRIMARY KEY,
    message_id TEXT    NOT NULL,
    sender     TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    text_body  TEXT    NOT NULL,
    html_body  TEXT    NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE dev_mail;
