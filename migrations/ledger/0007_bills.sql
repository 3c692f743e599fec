-- Bills: one order paid by one or more payments (wristbands, cash, card).
-- The order is priced and its stock taken when the bill opens; each
-- payment is an entry of its own (a sale with one bill line, listed in
-- bill_payments); the entry that settles the bill books the order's lines.
-- A bill row is the till's working record of the order; the entries are
-- what moved money.
--
-- status: open until the payments cover the total (then settled, by the
-- entry under settle_key) or it is cancelled (then every payment and the
-- settling entry are reversed, under cancel_key and a suffix).
-- band: the wristband of the bill's first wallet payment, whose cups the
-- bill takes back (checked when it paid).
CREATE TABLE bills (
    id              TEXT    PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    request_hash    TEXT    NOT NULL,
    staff_id        TEXT    NOT NULL,
    shift_id        TEXT    NOT NULL,
    opened_at       INTEGER NOT NULL,
    lines           TEXT    NOT NULL,
    stock           TEXT    NOT NULL,
    total           INTEGER NOT NULL CHECK (total > 0),
    status          TEXT    NOT NULL CHECK (status IN ('open', 'settled', 'cancelled')),
    band            TEXT,
    settle_key      TEXT    NOT NULL UNIQUE,
    cancel_key      TEXT,
    closed_at       INTEGER
) STRICT;

CREATE INDEX bills_open ON bills (status, opened_at) WHERE status = 'open';

-- A bill's payments, by the idempotency key of their entry: what cash was
-- handed over (the change is the difference) and a card terminal's
-- reference.
CREATE TABLE bill_payments (
    idempotency_key TEXT    PRIMARY KEY,
    bill_id         TEXT    NOT NULL REFERENCES bills (id),
    position        INTEGER NOT NULL,
    tendered        INTEGER,
    reference       TEXT,
    UNIQUE (bill_id, position)
) STRICT;
