-- The audit trail: who did what, outside a plain sale, that moves money or
-- changes what money means (payouts, balance moves, pairings, blocks,
-- corrections, prices, staff, settings, keys). See crates/server/src/audit.rs.
--
-- One hash chain per event, in the discipline of a till's entries: each
-- record's hash covers its content and the previous record's hash, so an
-- edited, removed or reordered record breaks the chain from there on.
-- actor_kind/actor_id: the event's admin token ('admin', no id), a staff
-- member's session ('staff', their id, with the terminal it was opened
-- on), a guest on their own pages ('guest', the band) or the server's own
-- console ('console': the command line, background work).
-- detail: the action's figures and fields as JSON.
CREATE TABLE audit_log (
    event_id    TEXT    NOT NULL REFERENCES events (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    at          INTEGER NOT NULL,
    actor_kind  TEXT    NOT NULL CHECK (actor_kind IN ('admin', 'staff', 'guest', 'console')),
    actor_id    TEXT,
    terminal_id TEXT,
    action      TEXT    NOT NULL,
    wallet      TEXT,
    subject     TEXT,
    detail      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    PRIMARY KEY (event_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX audit_log_by_actor ON audit_log (event_id, actor_id, seq);
CREATE INDEX audit_log_by_wallet ON audit_log (event_id, wallet, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
