-- +goose Up
-- Orders: the quantities an agreement's licences come from (the licence
-- summary adds them up), and the lifecycle of product keys.
-- Keep in step with ../postgres/00200_orders_key_status.sql.
CREATE TABLE licence_orders (
    id           INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    number       TEXT    NOT NULL,
    ordered      TEXT    NOT NULL,
    product_id   INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    version      TEXT    NOT NULL DEFAULT '',
    edition      TEXT    NOT NULL DEFAULT '',
    quantity     INTEGER NOT NULL,
    licence_type TEXT    NOT NULL CHECK (licence_type IN ('licence','licence_sa','sa','subscription')),
    sa_ends      TEXT,
    pool         TEXT    NOT NULL CHECK (pool IN ('applications','systems','servers')),
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    UNIQUE (agreement_id, number, product_id, version, edition)
);

ALTER TABLE product_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active','blocked','retired'));
ALTER TABLE product_keys ADD COLUMN block_reason TEXT NOT NULL DEFAULT ''
    CHECK (block_reason IN ('','leaked','fraud','replaced'));
ALTER TABLE product_keys ADD COLUMN status_note TEXT NOT NULL DEFAULT '';
ALTER TABLE product_keys ADD COLUMN status_changed_at DATETIME;
ALTER TABLE product_keys ADD COLUMN replaces_id INTEGER REFERENCES product_keys(id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE product_keys DROP COLUMN replaces_id;
ALTER TABLE product_keys DROP COLUMN status_changed_at;
ALTER TABLE product_keys DROP COLUMN status_note;
ALTER TABLE product_keys DROP COLUMN block_reason;
ALTER TABLE product_keys DROP COLUMN status;
DROP TABLE licence_orders;
