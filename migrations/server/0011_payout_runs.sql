-- Payout runs: the organiser's batches of the guests' payout requests,
-- paid by one SEPA credit transfer file (pain.001.001.09). Times are ms
-- since the epoch; money is cents.
--
-- state: pending (the wallets are frozen: blocked, so tills refuse them)
-- → exported (the SEPA file was downloaded) → done (booked: each wallet's
-- transfer, fee and donation as payout transactions tagged
-- sepa_transfer, payout_fee and donation) or revoked (the wallets as they
-- were, the requests free for a later run).
CREATE TABLE payout_runs (
    event_id       TEXT    NOT NULL REFERENCES events (id),
    id             TEXT    PRIMARY KEY,
    state          TEXT    NOT NULL CHECK (state IN ('pending', 'exported', 'done', 'revoked')),
    created_at     INTEGER NOT NULL,
    -- The day the bank is asked to pay, YYYY-MM-DD.
    execution_date TEXT    NOT NULL,
    -- The organiser's account and transfer text when the run was made.
    debtor_name    TEXT    NOT NULL,
    debtor_iban    TEXT    NOT NULL,
    remittance     TEXT    NOT NULL,
    -- What the organiser was warned of and ran anyway (JSON list of texts).
    warnings       TEXT    NOT NULL,
    exported_at    INTEGER,
    finished_at    INTEGER
) STRICT;

CREATE INDEX payout_runs_by_event ON payout_runs (event_id, created_at);

-- A band taken by a run: what its wallet held was divided into transfer,
-- fee and donation (tapster_ledger::payout_request::PayoutSettings::split)
-- when the run froze it. position numbers the transfer's end-to-end id.
CREATE TABLE payout_run_items (
    run_id         TEXT    NOT NULL REFERENCES payout_runs (id),
    position       INTEGER NOT NULL,
    token_id       TEXT    NOT NULL,
    wallet_id      TEXT    NOT NULL REFERENCES wallets (id),
    account_holder TEXT    NOT NULL,
    iban           TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    transfer       INTEGER NOT NULL CHECK (transfer >= 0),
    fee            INTEGER NOT NULL CHECK (fee >= 0),
    donation       INTEGER NOT NULL CHECK (donation >= 0),
    -- The guest had blocked the band before: a revoked run leaves it so.
    was_blocked    INTEGER NOT NULL CHECK (was_blocked IN (0, 1)),
    PRIMARY KEY (run_id, position),
    UNIQUE (run_id, token_id)
) STRICT;

CREATE INDEX payout_run_items_by_wallet ON payout_run_items (wallet_id);
CREATE INDEX payout_run_items_by_token ON payout_run_items (token_id);
