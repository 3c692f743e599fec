-- Staff sessions on the manager API: a till's supervisor or manager logs in
-- with their PIN (checked here, with the same lockout rule as a till's login)
-- and gets a token for what their role allows, until it expires.
-- (PostgreSQL version of migrations/server/0002_staff_sessions.sql.)

ALTER TABLE staff ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until BIGINT;

CREATE TABLE staff_sessions (
    token_hash  TEXT   PRIMARY KEY,
    event_id    TEXT   NOT NULL REFERENCES events (id),
    staff_id    TEXT   NOT NULL,
    terminal_id TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
