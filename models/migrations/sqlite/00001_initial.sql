-- +goose Up
-- The initial OpenLSC schema (SQLite dialect). Keep in step with
-- ../postgres/00001_initial.sql: TestSchemaMatchesModels checks both.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

-- Agreements are License IDs. auth_hash is the keyed hash of an Open
-- License authorization number; the number itself is never stored.
CREATE TABLE agreements (
    id              INTEGER PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    program         TEXT    NOT NULL CHECK (program IN ('mbsa','enterprise','select_plus','open_value','open_license')),
    name            TEXT    NOT NULL DEFAULT '',
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    parent_id       INTEGER REFERENCES agreements(id),
    starts          TEXT,
    ends            TEXT,
    auth_hash       TEXT,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX agreements_organization ON agreements(organization_id);
CREATE INDEX agreements_parent ON agreements(parent_id);

CREATE TABLE agreement_contacts (
    id           INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('primary','notices','online_admin')),
    created_at   DATETIME NOT NULL,
    UNIQUE (agreement_id, email, role)
);
CREATE INDEX agreement_contacts_email ON agreement_contacts(email);

CREATE TABLE users (
    id                     INTEGER PRIMARY KEY,
    display_name           TEXT    NOT NULL DEFAULT '',
    first_name             TEXT    NOT NULL DEFAULT '',
    last_name              TEXT    NOT NULL DEFAULT '',
    language               TEXT    NOT NULL DEFAULT 'en',
    work_email             TEXT,
    work_email_verified_at DATETIME,
    last_sign_in_at        DATETIME,
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL
);
-- A verified work email belongs to one user at a time.
CREATE UNIQUE INDEX users_verified_work_email ON users(work_email) WHERE work_email_verified_at IS NOT NULL;

CREATE TABLE identities (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    issuer      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    email       TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    last_seen_at DATETIME,
    UNIQUE (issuer, subject)
);
CREATE INDEX identities_user ON identities(user_id);

CREATE TABLE email_verifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME,
    created_at  DATETIME NOT NULL
);
CREATE INDEX email_verifications_user ON email_verifications(user_id);

CREATE TABLE access_requests (
    id                  INTEGER PRIMARY KEY,
    requester_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agreement_id        INTEGER REFERENCES agreements(id),
    program             TEXT    NOT NULL,
    license_number      TEXT    NOT NULL,
    permissions         TEXT    NOT NULL,
    comment             TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL CHECK (status IN ('pending','approved','denied','cancelled','expired','failed')),
    failure_reason      TEXT    NOT NULL DEFAULT '',
    granted_permissions TEXT    NOT NULL DEFAULT '',
    decided_by          INTEGER REFERENCES users(id),
    decided_at          DATETIME,
    decision_message    TEXT    NOT NULL DEFAULT '',
    expires_at          DATETIME NOT NULL,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE INDEX access_requests_requester ON access_requests(requester_id, status);
CREATE INDEX access_requests_agreement ON access_requests(agreement_id, status);

CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    first_name   TEXT    NOT NULL DEFAULT '',
    last_name    TEXT    NOT NULL DEFAULT '',
    permissions  TEXT    NOT NULL,
    invited_by   INTEGER REFERENCES users(id),
    status       TEXT    NOT NULL CHECK (status IN ('pending','accepted','revoked','expired')),
    expires_at   DATETIME NOT NULL,
    accepted_at  DATETIME,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX invitations_email ON invitations(email, status);
CREATE INDEX invitations_agreement ON invitations(agreement_id);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

CREATE TABLE product_versions (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    version     TEXT    NOT NULL,
    edition     TEXT    NOT NULL DEFAULT '',
    released    TEXT,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (product_id, version, edition)
);

CREATE TABLE product_files (
    id          INTEGER PRIMARY KEY,
    version_id  INTEGER NOT NULL REFERENCES product_versions(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (version_id, name)
);

CREATE TABLE entitlements (
    id           INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    version_id   INTEGER NOT NULL REFERENCES product_versions(id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    UNIQUE (agreement_id, version_id)
);
CREATE INDEX entitlements_version ON entitlements(version_id);

-- Key material is sealed with AES-GCM; fingerprint is a keyed hash used to
-- find a key again on re-import; suffix holds the last five characters that
-- lists show.
CREATE TABLE product_keys (
    id                INTEGER PRIMARY KEY,
    agreement_id      INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    product_id        INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    key_type          TEXT    NOT NULL,
    sealed_key        BLOB    NOT NULL,
    fingerprint       TEXT    NOT NULL,
    suffix            TEXT    NOT NULL,
    activation_limit  INTEGER,
    activations_used  INTEGER,
    activations_as_of DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (agreement_id, product_id, fingerprint)
);

CREATE TABLE activation_requests (
    id               INTEGER PRIMARY KEY,
    key_id           INTEGER NOT NULL REFERENCES product_keys(id) ON DELETE CASCADE,
    requester_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    reason           TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL CHECK (status IN ('pending','approved','denied','cancelled')),
    decided_by       INTEGER REFERENCES users(id),
    decided_at       DATETIME,
    decision_message TEXT    NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE INDEX activation_requests_status ON activation_requests(status);

-- Append-only: the triggers below refuse every UPDATE and DELETE.
CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY,
    occurred_at  DATETIME NOT NULL,
    actor_id     INTEGER REFERENCES users(id),
    actor        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    agreement_id INTEGER REFERENCES agreements(id),
    source_addr  TEXT    NOT NULL DEFAULT '',
    details      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_agreement ON audit_events(agreement_id, occurred_at);
CREATE INDEX audit_events_kind ON audit_events(kind, occurred_at);
CREATE INDEX audit_events_actor ON audit_events(actor_id, occurred_at);

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT    NOT NULL,
    language        TEXT    NOT NULL DEFAULT 'en',
    template        TEXT    NOT NULL,
    data            TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL CHECK (status IN ('pending','sent','failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    lease_until     DATETIME,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);

-- Sessions are keyed by a hash of the cookie value.
CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    identity_id  INTEGER REFERENCES identities(id) ON DELETE CASCADE,
    data         TEXT    NOT NULL DEFAULT '{}',
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    expires_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME,
    created_at   DATETIME NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE mail_outbox;
DROP TABLE audit_events;
DROP TABLE activation_requests;
DROP TABLE product_keys;
DROP TABLE entitlements;
DROP TABLE product_files;
DROP TABLE product_versions;
DROP TABLE products;
DROP TABLE invitations;
DROP TABLE access_requests;
DROP TABLE email_verifications;
DROP TABLE identities;
DROP TABLE users;
DROP TABLE agreement_contacts;
DROP TABLE agreements;
DROP TABLE organizations;
