-- Genuine wristbands (NTAG 424 DNA): whether the event requires a band to
-- prove it holds its key before it pays or is topped up. Events that
-- existed before keep working with UID-only bands; new events require
-- genuine bands (written by the app when it creates the settings).
ALTER TABLE event_settings ADD COLUMN band_policy TEXT NOT NULL DEFAULT 'uid_only'
    CHECK (band_policy IN ('genuine_required', 'uid_only'));

-- Every band refused as not genuine: for the manager's security view.
-- Not money: no entry, no chain; the masked UID is enough to find a clone,
-- the full one to block it.
CREATE TABLE band_refusals (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    terminal_id TEXT    NOT NULL,
    token_id    TEXT    NOT NULL,
    reason      TEXT    NOT NULL
) STRICT;
