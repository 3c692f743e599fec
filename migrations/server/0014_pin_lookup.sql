-- Finding a staff member by PIN alone without trying every hash (see
-- crates/ledger/src/pin.rs): each event's secret lookup key, handed only
-- to the event's tills with the catalogue, and each member's PIN tag under
-- it. A member whose PIN was set before has no tag until it is set again;
-- tills then find them the old way.
CREATE TABLE pin_lookup_keys (
    event_id   TEXT    PRIMARY KEY REFERENCES events (id),
    key        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

ALTER TABLE staff ADD COLUMN pin_tag TEXT;

-- A PIN alone logs in, so no two active members share one: equal PINs
-- have equal tags, and this index refuses the second even when two
-- requests race or a member with a taken PIN is made active again.
CREATE UNIQUE INDEX staff_active_pin_tag ON staff (event_id, pin_tag)
    WHERE active = 1 AND pin_tag IS NOT NULL;
