-- +goose Up
-- Failed access requests are counted per client address too, so that a
-- fresh account does not get a fresh allowance.
ALTER TABLE access_requests ADD COLUMN client_address TEXT NOT NULL DEFAULT '';
CREATE INDEX access_requests_client ON access_requests(client_address, status, created_at);

-- +goose Down
DROP INDEX access_requests_client;
ALTER TABLE access_requests DROP COLUMN client_address;
