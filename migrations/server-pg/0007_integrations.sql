-- Integration keys for the Winston-shaped API (seed 002): each for one
-- event (Winston's tenant) and one app name; a request presents
-- `Token <app>@<key>`. Only a hash of the key is kept. One key per app:
-- making a new one revokes the old.
-- (PostgreSQL version of migrations/server/0007_integrations.sql.)
CREATE TABLE integration_keys (
    event_id   TEXT   NOT NULL REFERENCES events (id),
    app        TEXT   NOT NULL,
    key_hash   TEXT   NOT NULL UNIQUE,
    can_write  BIGINT NOT NULL DEFAULT 0 CHECK (can_write IN (0, 1)),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE INDEX integration_keys_by_app ON integration_keys (event_id, app);
