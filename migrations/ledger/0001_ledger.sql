-- Tapster terminal ledger, first schema.
-- Money columns are integer cents; timestamps are integer milliseconds since
-- the Unix epoch (UTC). Entries (with their lines and postings) are append-only.

CREATE TABLE event_settings (
    id                           INTEGER PRIMARY KEY CHECK (id = 1),
    name                         TEXT    NOT NULL,
    currency                     TEXT    NOT NULL,
    receipt_header               TEXT    NOT NULL,
    receipt_footer               TEXT    NOT NULL,
    max_wallet_balance           INTEGER NOT NULL CHECK (max_wallet_balance >= 0),
    offline_wallet_cap           INTEGER NOT NULL CHECK (offline_wallet_cap >= 0),
    offline_max_balance_age_secs INTEGER NOT NULL CHECK (offline_max_balance_age_secs >= 0),
    offline_terminal_cap         INTEGER NOT NULL CHECK (offline_terminal_cap >= 0),
    offline_per_sale_limit       INTEGER NOT NULL CHECK (offline_per_sale_limit >= 0),
    mode                         TEXT    NOT NULL CHECK (mode IN ('standalone', 'connected')),
    max_failed_logins            INTEGER NOT NULL CHECK (max_failed_logins BETWEEN 1 AND 10),
    login_lockout_secs           INTEGER NOT NULL CHECK (login_lockout_secs >= 0)
) STRICT;

CREATE TABLE categories (
    id       TEXT    PRIMARY KEY,
    name     TEXT    NOT NULL,
    position INTEGER NOT NULL
) STRICT;

CREATE TABLE products (
    id                 TEXT    PRIMARY KEY,
    name               TEXT    NOT NULL,
    subtitle           TEXT,
    category_id        TEXT    NOT NULL REFERENCES categories (id),
    price              INTEGER NOT NULL CHECK (price >= 0),
    vat_bp             INTEGER NOT NULL CHECK (vat_bp BETWEEN 0 AND 10000),
    background         TEXT    NOT NULL,
    text_colour        TEXT    NOT NULL,
    sale_price         INTEGER CHECK (sale_price >= 0),
    on_sale            INTEGER NOT NULL CHECK (on_sale IN (0, 1)),
    use_stock          INTEGER NOT NULL CHECK (use_stock IN (0, 1)),
    stock              INTEGER NOT NULL CHECK (stock >= 0),
    available_from     INTEGER,
    available_until    INTEGER,
    archived           INTEGER NOT NULL CHECK (archived IN (0, 1)),
    deposit_product_id TEXT    REFERENCES products (id),
    returnable         INTEGER NOT NULL CHECK (returnable IN (0, 1))
) STRICT;

CREATE TABLE terminals (
    id            TEXT PRIMARY KEY,
    friendly_name TEXT NOT NULL,
    permission    TEXT NOT NULL CHECK (permission IN ('debit', 'credit', 'all'))
) STRICT;

CREATE TABLE terminal_layouts (
    terminal_id TEXT    NOT NULL REFERENCES terminals (id),
    position    INTEGER NOT NULL,
    product_id  TEXT    NOT NULL REFERENCES products (id),
    PRIMARY KEY (terminal_id, position),
    UNIQUE (terminal_id, product_id)
) STRICT;

-- Which terminal this ledger file belongs to.
CREATE TABLE ledger_identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    terminal_id TEXT    NOT NULL REFERENCES terminals (id)
) STRICT;

CREATE TABLE staff (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('cashier', 'supervisor', 'manager')),
    pin_hash      TEXT    NOT NULL,
    badge         TEXT    UNIQUE,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER
) STRICT;

-- Failed logins by PIN alone (no staff chosen), per terminal.
CREATE TABLE login_throttle (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    failed_logins INTEGER NOT NULL,
    locked_until  INTEGER
) STRICT;

-- A wallet as last confirmed by the server (or, standalone, opened here).
-- confirmed_balance IS NULL: this terminal has never seen its balance.
-- The outstanding deposits in wallet_deposit_snapshots are as of
-- deposits_cursor, which a server-approved operation does not move.
CREATE TABLE wallets (
    token_id          TEXT    PRIMARY KEY,
    wallet_id         TEXT,
    blocked           INTEGER NOT NULL CHECK (blocked IN (0, 1)),
    confirmed_balance INTEGER,
    confirmed_cursor  INTEGER,
    confirmed_at      INTEGER,
    deposits_cursor   INTEGER
) STRICT;

CREATE TABLE wallet_deposit_snapshots (
    token_id   TEXT    NOT NULL REFERENCES wallets (token_id),
    product_id TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (token_id, product_id)
) STRICT, WITHOUT ROWID;

-- Shifts do not overlap on a terminal, so a shift's entries are the
-- sequence range from first_sequence to last_sequence.
CREATE TABLE shifts (
    id             TEXT    PRIMARY KEY,
    terminal_id    TEXT    NOT NULL REFERENCES terminals (id),
    staff_id       TEXT    NOT NULL REFERENCES staff (id),
    opened_at      INTEGER NOT NULL,
    float          INTEGER NOT NULL CHECK (float >= 0),
    first_sequence INTEGER NOT NULL,
    last_sequence  INTEGER,
    closed_at      INTEGER,
    z_number       INTEGER,
    expected_cash  INTEGER,
    counted_cash   INTEGER CHECK (counted_cash >= 0),
    difference     INTEGER,
    UNIQUE (terminal_id, z_number)
) STRICT;

CREATE UNIQUE INDEX shifts_one_open_per_terminal ON shifts (terminal_id) WHERE closed_at IS NULL;

-- One ledger file holds one terminal's entries, so the gap-free sequence
-- is the row id. Terminal times never decrease (see the store), so the
-- sequence order is also the time order.
-- lines: the priced lines, a JSON array of {"p": product, "n": name,
--   "c": category, "q": quantity, "u": unit price, "v": VAT basis points,
--   "d": 1 for a deposit};
-- postings: the double-entry postings, a JSON array of {"a": account,
--   "m": amount} that sums to zero. Both live in the entry's row, as in
--   Formance's ledger, so a sale writes one row instead of three B-trees.
-- wallet_delta: what the entry did to its wallet (the sum of its wallet
-- postings), kept beside the entry so a balance needs no posting scan.
CREATE TABLE entries (
    sequence        INTEGER PRIMARY KEY CHECK (sequence >= 1),
    id              TEXT    NOT NULL UNIQUE,
    terminal_id     TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    request_hash    TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('sale', 'top_up', 'cancel', 'deposit_return', 'payout', 'adjustment')),
    token_id        TEXT,
    tender          TEXT    NOT NULL CHECK (tender IN ('wallet', 'cash', 'card')),
    amount          INTEGER NOT NULL,
    wallet_delta    INTEGER NOT NULL,
    staff_id        TEXT    NOT NULL,
    shift_id        TEXT,
    terminal_time   INTEGER NOT NULL,
    reverses        TEXT    REFERENCES entries (id),
    offline         INTEGER NOT NULL CHECK (offline IN (0, 1)),
    balance_after   INTEGER,
    lines           TEXT    NOT NULL,
    postings        TEXT    NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    CHECK (token_id IS NOT NULL OR wallet_delta = 0)
) STRICT;

CREATE INDEX entries_by_token ON entries (token_id) WHERE token_id IS NOT NULL;
CREATE UNIQUE INDEX entries_cancelled_once ON entries (reverses) WHERE reverses IS NOT NULL;

-- The server's decision about an entry; no row while it is pending.
CREATE TABLE entry_sync (
    entry_sequence INTEGER PRIMARY KEY REFERENCES entries (sequence),
    state          TEXT    NOT NULL CHECK (state IN ('acknowledged', 'rejected')),
    server_id      TEXT,
    server_cursor  INTEGER,
    reason         TEXT,
    decided_at     INTEGER NOT NULL,
    CHECK (state <> 'acknowledged' OR (server_id IS NOT NULL AND server_cursor IS NOT NULL)),
    CHECK (state <> 'rejected' OR reason IS NOT NULL)
) STRICT;

-- Every entry up to decided_through has a decision; every entry up to
-- pushed_through was sent to the server in a batch (entries the server
-- approved online are sent too, for its copy of the ledger and the chain).
-- feed_cursor: how far this terminal has read the server's wallet feed.
CREATE TABLE sync_progress (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    decided_through INTEGER NOT NULL,
    pushed_through  INTEGER NOT NULL DEFAULT 0,
    feed_cursor     INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO sync_progress (id, decided_through) VALUES (1, 0);

-- Idempotency records of operations that write no entry of their own
-- (shift open and close); entries carry their own key and request hash.
CREATE TABLE operations (
    idempotency_key TEXT    PRIMARY KEY,
    operation       TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    entry_id        TEXT,
    shift_id        TEXT,
    created_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only; write a reversing entry'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only; write a reversing entry'); END;
CREATE TRIGGER operations_no_update BEFORE UPDATE ON operations
BEGIN SELECT RAISE(ABORT, 'idempotency records are append-only'); END;
CREATE TRIGGER operations_no_delete BEFORE DELETE ON operations
BEGIN SELECT RAISE(ABORT, 'idempotency records are append-only'); END;
