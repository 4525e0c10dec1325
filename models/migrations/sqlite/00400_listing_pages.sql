-- +goose Up
-- The licences under an MBSA are listed a page at a time in number order
-- (keyset on the number): read by this index, not sorted.
CREATE INDEX agreements_parent_number ON agreements(parent_id, number);
DROP INDEX agreements_parent;
-- A licence's keys are listed a page at a time in (product, type, id)
-- order (keyset).
CREATE INDEX product_keys_listing ON product_keys(agreement_id, product_id, key_type, id);

-- +goose Down
DROP INDEX product_keys_listing;
CREATE INDEX agreements_parent ON agreements(parent_id);
DROP INDEX agreements_parent_number;
