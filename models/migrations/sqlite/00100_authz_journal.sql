-- +goose Up
-- The authorization change journal: every committed change to grants,
-- inheritance choices or agreements' parents adds a row in its own
-- transaction, and every running server applies the rows after the last one
-- it saw (authz). AUTOINCREMENT so that an id is never reused after pruning.
-- Keep in step with ../postgres/00100_authz_journal.sql.
CREATE TABLE authz_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    origin     TEXT    NOT NULL,
    users      TEXT    NOT NULL DEFAULT '[]',
    agreements TEXT    NOT NULL DEFAULT '[]',
    reload     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL
);
CREATE INDEX authz_changes_created ON authz_changes(created_at);

-- +goose Down
DROP TABLE authz_changes;
