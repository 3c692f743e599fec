-- Fiscal signing (Germany's TSE, through the server): whether the event
-- signs, and what came back for each receipt this till printed, so a
-- reprint carries the same TSE block.
ALTER TABLE event_settings ADD COLUMN fiscal_signing TEXT NOT NULL DEFAULT 'off'
    CHECK (fiscal_signing IN ('off', 'simulated', 'certified'));

-- One row per entry: `signing` is the JSON the server answered (a
-- signature, or an outage with its reason), written once.
CREATE TABLE fiscal_receipts (
    entry_id   TEXT    PRIMARY KEY REFERENCES entries (id),
    signing    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
