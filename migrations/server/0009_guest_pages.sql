-- The guest pages: the code printed on each wristband, guests' sessions,
-- failed sign-ins per address, and what guests did.
-- Times are ms since the epoch.

-- The key of the event's code hashes (HMAC-SHA256), made with the event's
-- first code.
CREATE TABLE guest_secrets (
    event_id   TEXT    PRIMARY KEY REFERENCES events (id),
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- A band's code, only as its keyed hash: one code per band, a new one
-- replaces the old.
CREATE TABLE guest_codes (
    code_hash  TEXT    PRIMARY KEY,
    event_id   TEXT    NOT NULL REFERENCES events (id),
    token_id   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX guest_codes_by_token ON guest_codes (event_id, token_id);

-- A signed-in guest: the cookie's value only as its SHA-256, the form
-- token that every change must carry.
CREATE TABLE guest_sessions (
    token_hash TEXT    PRIMARY KEY,
    event_id   TEXT    NOT NULL REFERENCES events (id),
    token_id   TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX guest_sessions_by_token ON guest_sessions (event_id, token_id);

-- Wrong codes per client address (its keyed hash): after a few, each try
-- waits longer (blocked_until).
CREATE TABLE guest_failures (
    event_id      TEXT    NOT NULL REFERENCES events (id),
    address_hash  TEXT    NOT NULL,
    failures      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL,
    PRIMARY KEY (event_id, address_hash)
) STRICT;

-- What guests did on their pages (signed in, blocked their band, asked
-- for a payout), append-only.
CREATE TABLE guest_log (
    seq          INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL REFERENCES events (id),
    token_id     TEXT    NOT NULL,
    action       TEXT    NOT NULL CHECK (action IN ('signed_in', 'blocked', 'payout_requested')),
    address_hash TEXT    NOT NULL,
    at           INTEGER NOT NULL
) STRICT;

CREATE INDEX guest_log_by_token ON guest_log (event_id, token_id, at);

CREATE TRIGGER guest_log_no_update BEFORE UPDATE ON guest_log
BEGIN SELECT RAISE(ABORT, 'the guest log is append-only'); END;
CREATE TRIGGER guest_log_no_delete BEFORE DELETE ON guest_log
BEGIN SELECT RAISE(ABORT, 'the guest log is append-only'); END;
