-- A wristband sale this terminal asks the server to authorise, written
-- before the question is sent. If the terminal dies after the server
-- applied the sale but before the answer was recorded here, the next sync
-- asks again under the same idempotency key (the server answers with what
-- it did) and records the sale: the wallet and the ledger agree.
CREATE TABLE sale_intents (
    idempotency_key TEXT    PRIMARY KEY,
    request         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
