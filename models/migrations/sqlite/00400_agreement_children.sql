-- +goose Up
-- The licences under an MBSA are listed a page at a time in number order
-- (keyset on the number): read by this index, not sorted.
CREATE INDEX agreements_parent_number ON agreements(parent_id, number);
DROP INDEX agreements_parent;

-- +goose Down
CREATE INDEX agreements_parent ON agreements(parent_id);
DROP INDEX agreements_parent_number;
