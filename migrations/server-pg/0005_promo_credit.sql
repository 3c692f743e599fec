-- Promo credit (vouchers): how much of a wallet's balance came from
-- vouchers (spent first, never paid out), and how each transaction moved
-- it: positive for a voucher or a cancellation giving it back, negative
-- for what a debit spent of it. The balance stays the total.
-- (PostgreSQL version of migrations/server/0005_promo_credit.sql.)
ALTER TABLE wallets ADD COLUMN promo_balance BIGINT NOT NULL DEFAULT 0 CHECK (promo_balance >= 0);
ALTER TABLE transactions ADD COLUMN promo_delta BIGINT NOT NULL DEFAULT 0;
-- A voucher redeemed at a till: the transaction that credited it, and the
-- answer the till got (transactions are append-only, so a retry's answer
-- is kept here).
ALTER TABLE pass_redemptions ADD COLUMN transaction_id TEXT;
ALTER TABLE pass_redemptions ADD COLUMN answer TEXT;

-- A manager's batch of passes, made once per idempotency key: a retry
-- gets the first batch, not a second set of codes as good as cash.
-- (SQLite: WITHOUT ROWID.)
CREATE TABLE pass_batch_keys (
    event_id        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    batch           TEXT NOT NULL,
    PRIMARY KEY (event_id, idempotency_key)
);
