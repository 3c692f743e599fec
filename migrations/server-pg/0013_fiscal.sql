-- (PostgreSQL version of migrations/server/0013_fiscal.sql.)
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
    event_id   TEXT   PRIMARY KEY REFERENCES events (id),
    scheme     TEXT   NOT NULL CHECK (scheme IN ('off', 'simulated', 'fiskaly')),
    secret     TEXT   NOT NULL,
    since      BIGINT NOT NULL,
    business   TEXT   NOT NULL DEFAULT '{}',
    revision   BIGINT NOT NULL DEFAULT 1
);

-- signing: the JSON a till got back (tapster_fiscal::Signing), a
-- signature or an outage with its reason; entry: the till's ledger entry
-- as it asked (its receipt number and cashier, for the export); written
-- once per entry.
CREATE TABLE fiscal_signatures (
    event_id          TEXT   NOT NULL REFERENCES events (id),
    entry_id          TEXT   NOT NULL,
    terminal_id       TEXT   NOT NULL,
    signed            BIGINT NOT NULL CHECK (signed IN (0, 1)),
    tx_number         BIGINT,
    signature_counter BIGINT,
    signing           TEXT   NOT NULL,
    entry             TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (event_id, entry_id)
);

CREATE TRIGGER fiscal_signatures_no_update BEFORE UPDATE ON fiscal_signatures
FOR EACH ROW EXECUTE FUNCTION tapster_append_only('fiscal signatures are append-only');
CREATE TRIGGER fiscal_signatures_no_delete BEFORE DELETE ON fiscal_signatures
FOR EACH ROW EXECUTE FUNCTION tapster_append_only('fiscal signatures are append-only');
