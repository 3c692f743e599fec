-- (PostgreSQL version of migrations/server/0015_audit.sql.)
-- The audit trail: who did what, outside a plain sale, that moves money or
-- changes what money means. One hash chain per event; append-only.
CREATE TABLE audit_log (
    event_id    TEXT   NOT NULL REFERENCES events (id),
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    at          BIGINT NOT NULL,
    actor_kind  TEXT   NOT NULL CHECK (actor_kind IN ('admin', 'staff', 'guest', 'console')),
    actor_id    TEXT,
    terminal_id TEXT,
    action      TEXT   NOT NULL,
    wallet      TEXT,
    subject     TEXT,
    detail      TEXT   NOT NULL,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL,
    PRIMARY KEY (event_id, seq)
);

CREATE INDEX audit_log_by_actor ON audit_log (event_id, actor_id, seq);
CREATE INDEX audit_log_by_wallet ON audit_log (event_id, wallet, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION tapster_append_only('the audit trail is append-only');
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION tapster_append_only('the audit trail is append-only');
