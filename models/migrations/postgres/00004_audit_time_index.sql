-- +goose Up
-- The audit log is read newest first (keyset on occurred_at, id).
CREATE INDEX audit_events_time ON audit_events(occurred_at, id);

-- +goose Down
DROP INDEX audit_events_time;
