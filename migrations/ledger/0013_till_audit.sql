-- The till's own audit trail: who did what here to money or its rules
-- (shift closes, cancellations, payouts, corrections; on a standalone
-- till also its catalogue, staff and settings changes), chained record
-- by record like entries (tapster_ledger::chain::audit_hash) and never
-- changed or removed. Shift closes go on to the event's server.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    terminal_id TEXT    NOT NULL,
    staff_id    TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    wallet      TEXT,
    subject     TEXT,
    detail      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit records are never changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit records are never removed');
END;

-- Up to which record the server has this till's shift closes.
CREATE TABLE audit_delivered (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
) STRICT;
