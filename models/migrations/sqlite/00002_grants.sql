-- +goose Up
-- Grants are the per-licence permissions held directly or through an
-- agreement contact; authz turns them into casbin policies. Inherited
-- administration is not stored: it follows from inheritance_choices and
-- agreements.parent_id. agreement_id is NULL for the global operator role.
CREATE TABLE grants (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agreement_id INTEGER REFERENCES agreements(id) ON DELETE CASCADE,
    permission   TEXT    NOT NULL CHECK (permission IN ('administrator','license_viewer','download_manager','key_reader','operator')),
    source       TEXT    NOT NULL CHECK (source IN ('direct','contact')),
    granted_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   DATETIME NOT NULL,
    CHECK ((permission = 'operator') = (agreement_id IS NULL))
);
CREATE UNIQUE INDEX grants_unique ON grants(user_id, COALESCE(agreement_id, 0), permission, source);
CREATE INDEX grants_agreement ON grants(agreement_id, permission);

-- An MBSA administrator's answer to the inheritance question.
CREATE TABLE inheritance_choices (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mbsa_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    inherit    BOOLEAN NOT NULL,
    chosen_at  DATETIME NOT NULL,
    PRIMARY KEY (user_id, mbsa_id)
);
CREATE INDEX inheritance_choices_mbsa ON inheritance_choices(mbsa_id);

-- +goose Down
DROP TABLE inheritance_choices;
DROP TABLE grants;
