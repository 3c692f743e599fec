-- Passes this till let go with a sale (discounts, allowances): offline it
-- lets a pass go no more often than the pass allows; the server settles
-- uses across tills when the sales arrive. A cancelled sale's use is
-- deleted, giving it back.
CREATE TABLE pass_uses (
    code            TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL PRIMARY KEY,
    at              INTEGER NOT NULL
) STRICT;

CREATE INDEX pass_uses_code ON pass_uses (code, at);

-- The event's discount and allowance passes as the server's pass feed
-- told them, by the digest of their code (a till's disk holds no codes):
-- a till takes a pass off a cart offline with what it knows of it.
CREATE TABLE known_passes (
    code_digest TEXT    NOT NULL PRIMARY KEY,
    pass        TEXT    NOT NULL,
    used        INTEGER NOT NULL CHECK (used >= 0),
    version     INTEGER NOT NULL
) STRICT;

-- What passes may take off carts here before the server confirmed them.
ALTER TABLE event_settings ADD COLUMN offline_pass_cap INTEGER NOT NULL DEFAULT 10000
    CHECK (offline_pass_cap >= 0);

-- Who closed a shift: its cashier, or a supervisor closing a shift its
-- cashier left open (the Z report names them).
ALTER TABLE shifts ADD COLUMN closed_by TEXT;
