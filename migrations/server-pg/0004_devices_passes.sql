-- Devices and passes (seed 003, walletapp): a device is a terminal with a
-- uuid, the integrator's own id, a PIN (hashed, like staff PINs), point
-- multipliers and a location; passes are QR codes redeemed at devices.
-- (PostgreSQL version of migrations/server/0004_devices_passes.sql.)

-- A bar or booth; devices stand at one, reports group by it.
CREATE TABLE locations (
    event_id   TEXT   NOT NULL REFERENCES events (id),
    identifier TEXT   NOT NULL,
    address    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, identifier)
);

ALTER TABLE terminals ADD COLUMN identifier TEXT;
ALTER TABLE terminals ADD COLUMN external_device_id TEXT;
ALTER TABLE terminals ADD COLUMN add_multiplier BIGINT NOT NULL DEFAULT 1;
ALTER TABLE terminals ADD COLUMN subtract_multiplier BIGINT NOT NULL DEFAULT 1;
ALTER TABLE terminals ADD COLUMN pin_hash TEXT;
ALTER TABLE terminals ADD COLUMN location_id TEXT;
-- A till sells and syncs; a scanner (a device made through seed 003's API,
-- often third-party hardware) only scans passes: its token gets nothing of
-- the PointOfSale API — no band keys, no wallets, no staff sessions.
ALTER TABLE terminals ADD COLUMN kind TEXT NOT NULL DEFAULT 'till' CHECK (kind IN ('till', 'scanner'));

-- Terminals from before get a uuid (version 4, random, lower case with
-- hyphens: what the SQLite file builds from randomblob). gen_random_uuid()
-- is built in since PostgreSQL 13 and is evaluated once per row.
UPDATE terminals SET identifier = gen_random_uuid()::text;

CREATE UNIQUE INDEX terminals_identifier ON terminals (event_id, identifier);
CREATE UNIQUE INDEX terminals_external_device_id ON terminals (event_id, external_device_id)
    WHERE external_device_id IS NOT NULL;

-- One row per pass. benefit: the ledger's `passes::Benefit` as JSON.
-- Times in ms; NULL: no bound.
CREATE TABLE passes (
    event_id        TEXT   NOT NULL REFERENCES events (id),
    code            TEXT   NOT NULL,
    pass_type       TEXT   NOT NULL CHECK (pass_type IN ('discount', 'voucher', 'allowance')),
    benefit         TEXT   NOT NULL,
    batch           TEXT   NOT NULL,
    title           TEXT   NOT NULL,
    subtitle        TEXT   NOT NULL DEFAULT '',
    valid_from      BIGINT,
    valid_until     BIGINT,
    max_redemptions BIGINT NOT NULL DEFAULT 1 CHECK (max_redemptions >= 1),
    blocked         BIGINT NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    reference       TEXT,
    external        BIGINT NOT NULL DEFAULT 0 CHECK (external IN (0, 1)),
    user_identifier TEXT,
    user_first_name TEXT,
    created_at      BIGINT NOT NULL,
    -- PostgreSQL only: the order passes were made in (SQLite's rowid).
    made            BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (event_id, code)
);

CREATE INDEX passes_batch ON passes (event_id, batch);

-- Every redemption, append-only: which device, where, when.
CREATE TABLE pass_redemptions (
    event_id    TEXT   NOT NULL,
    code        TEXT   NOT NULL,
    terminal_id TEXT   NOT NULL,
    location_id TEXT,
    at          BIGINT NOT NULL,
    -- The device's key for this scan: its retry gets the same answer, not
    -- "already redeemed".
    idempotency_key TEXT,
    FOREIGN KEY (event_id, code) REFERENCES passes (event_id, code)
);

CREATE INDEX pass_redemptions_code ON pass_redemptions (event_id, code, at);
CREATE UNIQUE INDEX pass_redemptions_key ON pass_redemptions (event_id, terminal_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
