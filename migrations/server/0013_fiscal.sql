-- Fiscal signing (Germany's TSE, crates/fiscal): each event's device and
-- what it answered for every till transaction it was asked to sign.
--
-- scheme 'off': signing switched off; the row keeps the business's
-- details for the DSFinV-K export and a simulated device's key.
-- secret: the device's access as JSON (fiskaly's API key and secret, or a
-- simulated device's private key); no API hands it out.
-- since: when the device began to sign (ms since the epoch): till
-- transactions from then on without a signature are outages.
-- business: who runs the tills (name, address, tax number), JSON.
-- revision: counts the set-ups, so every server process on one database
-- opens the device anew after a change.
CREATE TABLE fiscal_devices (
    event_id   TEXT    PRIMARY KEY REFERENCES events (id),
    scheme     TEXT    NOT NULL CHECK (scheme IN ('off', 'simulated', 'fiskaly')),
    secret     TEXT    NOT NULL,
    since      INTEGER NOT NULL,
    business   TEXT    NOT NULL DEFAULT '{}',
    revision   INTEGER NOT NULL DEFAULT 1
) STRICT;

-- signing: the JSON a till got back (tapster_fiscal::Signing), a
-- signature or an outage with its reason; entry: the till's ledger entry
-- as it asked (its receipt number and cashier, for the export); written
-- once per entry.
CREATE TABLE fiscal_signatures (
    event_id          TEXT    NOT NULL REFERENCES events (id),
    entry_id          TEXT    NOT NULL,
    terminal_id       TEXT    NOT NULL,
    signed            INTEGER NOT NULL CHECK (signed IN (0, 1)),
    tx_number         INTEGER,
    signature_counter INTEGER,
    signing           TEXT    NOT NULL,
    entry             TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (event_id, entry_id)
) STRICT;

CREATE TRIGGER fiscal_signatures_no_update BEFORE UPDATE ON fiscal_signatures
BEGIN SELECT RAISE(ABORT, 'fiscal signatures are append-only'); END;
CREATE TRIGGER fiscal_signatures_no_delete BEFORE DELETE ON fiscal_signatures
BEGIN SELECT RAISE(ABORT, 'fiscal signatures are append-only'); END;
