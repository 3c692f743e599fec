-- Genuine wristbands: each event's master keys for bands (NTAG 424 DNA,
-- per-band keys diversified from them), one row per key version. Handed
-- only to the event's paired tills, over the pinned TLS channel.
-- (PostgreSQL version of migrations/server/0003_band_keys.sql.)
CREATE TABLE band_keys (
    event_id   TEXT   NOT NULL REFERENCES events (id),
    version    BIGINT NOT NULL CHECK (version BETWEEN 1 AND 255),
    master     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, version)
);

-- The highest read counter seen in a band's SUN link: a link whose counter
-- does not go up is a replay.
CREATE TABLE sun_counters (
    event_id TEXT   NOT NULL REFERENCES events (id),
    token_id TEXT   NOT NULL,
    counter  BIGINT NOT NULL,
    PRIMARY KEY (event_id, token_id)
);
