-- Payouts asked for on the guest pages. Times are ms since the epoch.
-- (PostgreSQL version of migrations/server/0010_payout_requests.sql.)

-- A band's request: where the rest goes. Editable until a payout run takes
-- it (run_id). donation: JSON, `{"kind": "none"}`, `{"kind": "part",
-- "cents": 500}` or `{"kind": "all"}`.
CREATE TABLE payout_requests (
    event_id       TEXT   NOT NULL REFERENCES events (id),
    token_id       TEXT   NOT NULL,
    account_holder TEXT   NOT NULL,
    iban           TEXT   NOT NULL,
    email          TEXT   NOT NULL,
    donation       TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    run_id         TEXT,
    PRIMARY KEY (event_id, token_id)
);

-- The organiser's settings for them (tapster_ledger::payout_request::PayoutSettings, JSON).
CREATE TABLE payout_settings (
    event_id TEXT PRIMARY KEY REFERENCES events (id),
    settings TEXT NOT NULL
);
