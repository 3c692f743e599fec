-- tapster-server, first schema. One file holds any number of events.
-- Money is integer cents; times are integer milliseconds since the Unix
-- epoch (UTC). Transactions are append-only.

-- cursor: the event's wallet-feed position; every change to a wallet takes
-- the next value.
CREATE TABLE events (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    settings   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    cursor     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Tokens are stored only as SHA-256 hashes: they are long random secrets,
-- so a fast hash is enough, and a stolen database file reveals none.
CREATE TABLE admin_tokens (
    token_hash TEXT    PRIMARY KEY,
    event_id   TEXT    NOT NULL REFERENCES events (id),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE terminals (
    event_id      TEXT    NOT NULL REFERENCES events (id),
    id            TEXT    NOT NULL,
    friendly_name TEXT    NOT NULL,
    permission    TEXT    NOT NULL CHECK (permission IN ('debit', 'credit', 'all')),
    token_hash    TEXT    NOT NULL UNIQUE,
    layout        TEXT    NOT NULL DEFAULT '[]',
    archived      INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at    INTEGER NOT NULL,
    -- The terminal's ledger as far as it reached the server.
    last_sequence INTEGER NOT NULL DEFAULT 0,
    last_hash     TEXT    NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    -- Heartbeat.
    last_seen     INTEGER,
    app_version   TEXT,
    pending       INTEGER,
    PRIMARY KEY (event_id, id)
) STRICT;

-- Problems found in what terminals sent: sequence gaps, repeats, a broken
-- hash chain, tampered entries.
CREATE TABLE terminal_problems (
    event_id    TEXT    NOT NULL,
    terminal_id TEXT    NOT NULL,
    problem     TEXT    NOT NULL,
    sequence    INTEGER NOT NULL,
    detail      TEXT    NOT NULL,
    at          INTEGER NOT NULL
) STRICT;

CREATE TABLE categories (
    event_id TEXT    NOT NULL REFERENCES events (id),
    id       TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (event_id, id)
) STRICT;

-- data: the product as tapster-ledger's `Product`, in JSON.
CREATE TABLE products (
    event_id TEXT NOT NULL REFERENCES events (id),
    id       TEXT NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (event_id, id)
) STRICT;

CREATE TABLE staff (
    event_id TEXT    NOT NULL REFERENCES events (id),
    id       TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    role     TEXT    NOT NULL CHECK (role IN ('cashier', 'supervisor', 'manager')),
    pin_hash TEXT    NOT NULL,
    badge    TEXT,
    active   INTEGER NOT NULL CHECK (active IN (0, 1)),
    PRIMARY KEY (event_id, id)
) STRICT;

CREATE TABLE wallets (
    event_id    TEXT    NOT NULL REFERENCES events (id),
    id          TEXT    NOT NULL UNIQUE,
    token_id    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    balance     INTEGER NOT NULL,
    blocked     INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    paired_user TEXT,
    cursor      INTEGER NOT NULL,
    PRIMARY KEY (event_id, token_id)
) STRICT;

CREATE INDEX wallets_by_cursor ON wallets (event_id, cursor);

-- Outstanding returnable deposits (cups) per wallet.
CREATE TABLE wallet_deposits (
    wallet_id  TEXT    NOT NULL REFERENCES wallets (id),
    product_id TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, product_id)
) STRICT, WITHOUT ROWID;

-- response: the JSON answered the first time, returned again (with 202)
-- when the same idempotency key comes back with the same request.
-- terminal_id IS NULL: a manual transaction (manager, demo funding).
CREATE TABLE transactions (
    seq             INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL REFERENCES events (id),
    id              TEXT    NOT NULL UNIQUE,
    wallet_id       TEXT    REFERENCES wallets (id),
    terminal_id     TEXT,
    -- From a terminal's ledger (batch): its entry id, sequence, time, cashier.
    entry_id        TEXT    UNIQUE,
    sequence        INTEGER,
    terminal_time   INTEGER,
    staff_id        TEXT,
    offline         INTEGER NOT NULL DEFAULT 0,
    reverses        TEXT,
    kind            TEXT    NOT NULL CHECK (kind IN ('sale', 'top_up', 'cancel', 'deposit_return', 'payout', 'adjustment')),
    tender          TEXT    NOT NULL CHECK (tender IN ('wallet', 'cash', 'card')),
    amount          INTEGER NOT NULL,
    description     TEXT,
    tag             TEXT,
    lines           TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT,
    response        TEXT,
    cursor          INTEGER NOT NULL,
    UNIQUE (event_id, idempotency_key)
) STRICT;

CREATE INDEX transactions_by_wallet ON transactions (wallet_id, seq);

-- Terminal ledger entries that arrived in a batch after the server had
-- applied them online (under the same key): the entry id of the
-- transaction, for cancellations and the terminal's chain.
CREATE TABLE transaction_entries (
    event_id       TEXT NOT NULL,
    entry_id       TEXT PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES transactions (id)
) STRICT, WITHOUT ROWID;

-- Entries the server refused, with the reason: the decision is final for
-- the key, and managers see them as conflicts.
CREATE TABLE rejected_entries (
    event_id        TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    terminal_id     TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    entry           TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (event_id, idempotency_key)
) STRICT;

CREATE TRIGGER transactions_no_update BEFORE UPDATE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are append-only'); END;
CREATE TRIGGER transactions_no_delete BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'transactions are append-only'); END;
