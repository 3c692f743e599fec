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
