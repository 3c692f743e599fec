-- Finding a staff member by PIN without trying every hash: each member's
-- PIN tag (the PIN's Argon2id keyed with the event's lookup key, see
-- crates/ledger/src/pin.rs) and the key itself. A member without a tag
-- (from before this migration, or from a server without keys) is found
-- the old way and gets a tag at their next login.
ALTER TABLE staff ADD COLUMN pin_tag TEXT;
CREATE INDEX staff_by_pin_tag ON staff (pin_tag);

-- The event's key: the server's for a connected till (handed over with
-- the catalogue), the till's own otherwise. Replacing it drops every tag.
CREATE TABLE pin_lookup_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT    NOT NULL
) STRICT;
