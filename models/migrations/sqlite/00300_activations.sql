-- +goose Up
-- Online activation: the installations that use a key's activations, and
-- the Ed25519 keys that sign activation certificates.
-- Keep in step with ../postgres/00300_activations.sql.
CREATE TABLE activation_signing_keys (
    id          INTEGER PRIMARY KEY,
    kid         TEXT     NOT NULL UNIQUE,
    sealed_seed BLOB     NOT NULL,
    public_key  BLOB     NOT NULL,
    created_at  DATETIME NOT NULL
);

CREATE TABLE installations (
    id          INTEGER PRIMARY KEY,
    key_id      INTEGER  NOT NULL REFERENCES product_keys(id) ON DELETE CASCADE,
    identity    TEXT     NOT NULL,
    components  TEXT     NOT NULL,
    network     TEXT     NOT NULL,
    first_seen  DATETIME NOT NULL,
    last_seen   DATETIME NOT NULL,
    UNIQUE (key_id, identity)
);
CREATE INDEX installations_key_network ON installations (key_id, network, last_seen);

-- The components of each installation (their first 8 hex digits), so that
-- a changed machine finds its installation without reading all of them.
CREATE TABLE installation_components (
    installation_id INTEGER NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    key_id          INTEGER NOT NULL,
    component       TEXT    NOT NULL,
    PRIMARY KEY (installation_id, component)
);
CREATE INDEX installation_components_key ON installation_components (key_id, component);

-- A key activated from more networks than its organisation plausibly
-- has: flagged once, with the evidence, for the operators' desk.
CREATE TABLE activation_leak_flags (
    id            INTEGER PRIMARY KEY,
    key_id        INTEGER  NOT NULL UNIQUE REFERENCES product_keys(id) ON DELETE CASCADE,
    networks      INTEGER  NOT NULL,
    installations INTEGER  NOT NULL,
    evidence      TEXT     NOT NULL,
    flagged_at    DATETIME NOT NULL
);

-- +goose Down
DROP TABLE installation_components;
DROP TABLE activation_leak_flags;
DROP TABLE installations;
DROP TABLE activation_signing_keys;
