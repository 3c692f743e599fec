-- Wrong codes on the guest pages per event and hour, from all addresses
-- together. An hour past the budget (tapster_server::guest::FAILURE_BUDGET)
-- raises an alarm the manager sees (manage/guest-security): many
-- addresses guessing a little each stay under every per-address limit.
-- hour: ms since the epoch / 3,600,000; alarmed_at: ms since the epoch.
CREATE TABLE guest_failure_hours (
    event_id   TEXT    NOT NULL REFERENCES events (id),
    hour       INTEGER NOT NULL,
    failures   INTEGER NOT NULL,
    alarmed_at INTEGER,
    PRIMARY KEY (event_id, hour)
) STRICT;
