-- The event's time zone (seed 001's readable times, reports).
ALTER TABLE event_settings ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Berlin';

-- Syncing with a plain PointOfSale server (seed 001 only: no batch, no
-- idempotency it can be trusted with).
--
-- Two more decisions about an entry, both final and never retried:
-- 'uncertain': a wallet sale whose answer was lost and whose outcome the
--   wallet's balance cannot tell (other tills moved it); a manager decides.
-- 'kept_locally': an entry the server cannot take (a top-up: the API has no
--   credit by POST); it stays in this till's books and counts here.
CREATE TABLE entry_sync_new (
    entry_sequence INTEGER PRIMARY KEY REFERENCES entries (sequence),
    state          TEXT    NOT NULL
                   CHECK (state IN ('acknowledged', 'rejected', 'uncertain', 'kept_locally')),
    server_id      TEXT,
    server_cursor  INTEGER,
    reason         TEXT,
    decided_at     INTEGER NOT NULL,
    CHECK (state <> 'acknowledged' OR (server_id IS NOT NULL AND server_cursor IS NOT NULL)),
    CHECK (state = 'acknowledged' OR reason IS NOT NULL)
) STRICT;
INSERT INTO entry_sync_new SELECT * FROM entry_sync;
DROP TABLE entry_sync;
ALTER TABLE entry_sync_new RENAME TO entry_sync;

-- The server's own id of a product taken from its `GET pos/terminal`, as
-- JSON (a number or a string), for products whose server id is not a
-- Tapster product id as it stands or is a number.
CREATE TABLE server_product_refs (
    product_id TEXT PRIMARY KEY,
    server_ref TEXT NOT NULL
) STRICT;

-- A wallet debit sent to a plain server, written before it is sent, with
-- the wallet's balance read just before: if the answer is lost, the balance
-- afterwards tells whether the server booked it. 'booked': it did (the
-- entry is acknowledged without sending it again), leaving the wallet at
-- balance_after as of booked_cursor (this till's count for a server
-- without a wallet feed).
CREATE TABLE plain_deliveries (
    idempotency_key TEXT    PRIMARY KEY,
    token_id        TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    balance_before  INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('sent', 'booked')),
    balance_after   INTEGER,
    booked_cursor   INTEGER,
    sent_at         INTEGER NOT NULL,
    CHECK (state = 'sent' OR (balance_after IS NOT NULL AND booked_cursor IS NOT NULL))
) STRICT;
