-- Discount and allowance passes taken off sales. A pass an offline till
-- let go after it was used up elsewhere: the sale stands (the guest was
-- served), the first use to reach the server counted, this one is a
-- conflict for the manager, with what the pass took off.
-- (PostgreSQL version of migrations/server/0006_pass_conflicts.sql.)
CREATE TABLE pass_conflicts (
    event_id        TEXT   NOT NULL,
    code            TEXT   NOT NULL,
    terminal_id     TEXT   NOT NULL,
    idempotency_key TEXT   NOT NULL,
    transaction_id  TEXT   NOT NULL,
    value           BIGINT NOT NULL CHECK (value >= 0),
    reason          TEXT   NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (event_id, transaction_id),
    FOREIGN KEY (event_id, code) REFERENCES passes (event_id, code)
);

CREATE INDEX pass_redemptions_transaction ON pass_redemptions (event_id, transaction_id)
    WHERE transaction_id IS NOT NULL;

-- The pass feed for tills: every change of a pass (made, imported,
-- blocked, redeemed, given back) moves it to the event's next version.
ALTER TABLE passes ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX passes_version ON passes (event_id, version);
