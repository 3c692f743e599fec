-- Integration keys for the Winston-shaped API (seed 002): each for one
-- event (Winston's tenant) and one app name; a request presents
-- `Token <app>@<key>`. Only a hash of the key is kept. One key per app:
-- making a new one revokes the old.
CREATE TABLE integration_keys (
    event_id   TEXT    NOT NULL REFERENCES events (id),
    app        TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL UNIQUE,
    can_write  INTEGER NOT NULL DEFAULT 0 CHECK (can_write IN (0, 1)),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX integration_keys_by_app ON integration_keys (event_id, app);
