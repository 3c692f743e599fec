-- Back office (seed 000's objects, seed 004's products): vendors and what
-- they are owed, stock per location (bar or booth), product timestamps.
-- Quantities are thousandths of an item's unit; money integer cents;
-- times ms since the epoch.

-- An independent business at the event: owns products and locations.
-- The organiser's cut: commission_bp of the gross plus fixed_fee.
CREATE TABLE vendors (
    event_id      TEXT    NOT NULL REFERENCES events (id),
    id            TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    commission_bp INTEGER NOT NULL DEFAULT 0 CHECK (commission_bp BETWEEN 0 AND 10000),
    fixed_fee     INTEGER NOT NULL DEFAULT 0 CHECK (fixed_fee >= 0),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (event_id, id)
) STRICT;

ALTER TABLE locations ADD COLUMN vendor_id TEXT;

-- Seed 004's timestamps, and its web-shop flags (not the till's).
ALTER TABLE products ADD COLUMN created_at INTEGER;
ALTER TABLE products ADD COLUMN updated_at INTEGER;
ALTER TABLE products ADD COLUMN show_title INTEGER NOT NULL DEFAULT 1 CHECK (show_title IN (0, 1));
ALTER TABLE products ADD COLUMN show_subtitle INTEGER NOT NULL DEFAULT 1 CHECK (show_subtitle IN (0, 1));

-- What is counted at the bars: a keg, a crate, cups.
CREATE TABLE inventory_items (
    event_id   TEXT    NOT NULL REFERENCES events (id),
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    unit       TEXT    NOT NULL,
    low_stock  INTEGER NOT NULL DEFAULT 0 CHECK (low_stock >= 0),
    vendor_id  TEXT,
    archived   INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, id)
) STRICT;

-- Every change of a location's stock, append-only: a location's stock of
-- an item is the sum of its rows. location_id '' is a till at no
-- location. transaction_id: the sale or cancellation that served (or gave
-- back) the goods; group_id ties a transfer's two rows or a count's row
-- together. actor: 'manager', 'staff:<id>' or 'terminal:<id>'.
CREATE TABLE stock_movements (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT    NOT NULL REFERENCES events (id),
    id             TEXT    NOT NULL UNIQUE,
    item_id        TEXT    NOT NULL,
    location_id    TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('delivery', 'transfer_out', 'transfer_in', 'waste', 'correction', 'sale', 'count')),
    quantity       INTEGER NOT NULL,
    transaction_id TEXT,
    group_id       TEXT,
    actor          TEXT    NOT NULL,
    note           TEXT,
    at             INTEGER NOT NULL
) STRICT;

CREATE INDEX stock_movements_by_item ON stock_movements (event_id, item_id, location_id);
CREATE INDEX stock_movements_by_time ON stock_movements (event_id, at);

CREATE TRIGGER stock_movements_no_update BEFORE UPDATE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;
CREATE TRIGGER stock_movements_no_delete BEFORE DELETE ON stock_movements
BEGIN SELECT RAISE(ABORT, 'stock movements are append-only'); END;

-- A physical count: what the books expected, what was found.
CREATE TABLE inventory_counts (
    event_id    TEXT    NOT NULL REFERENCES events (id),
    id          TEXT    NOT NULL,
    item_id     TEXT    NOT NULL,
    location_id TEXT    NOT NULL,
    expected    INTEGER NOT NULL,
    counted     INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    note        TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (event_id, id)
) STRICT;

-- Products sold out at one location only.
CREATE TABLE sold_out (
    event_id    TEXT    NOT NULL REFERENCES events (id),
    location_id TEXT    NOT NULL,
    product_id  TEXT    NOT NULL,
    since       INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    PRIMARY KEY (event_id, location_id, product_id)
) STRICT;

-- Every goods line of a sale or cancellation, attributed to its vendor
-- (NULL: the organiser) when it was booked, append-only: a settlement is
-- the sum of a vendor's rows. at: the till's time of the sale.
CREATE TABLE vendor_lines (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT    NOT NULL REFERENCES events (id),
    vendor_id      TEXT,
    transaction_id TEXT    NOT NULL,
    line_no        INTEGER NOT NULL,
    terminal_id    TEXT,
    location_id    TEXT,
    product_id     TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    quantity       INTEGER NOT NULL,
    unit_price     INTEGER NOT NULL,
    vat_bp         INTEGER NOT NULL,
    cancellation   INTEGER NOT NULL CHECK (cancellation IN (0, 1)),
    at             INTEGER NOT NULL,
    UNIQUE (transaction_id, line_no)
) STRICT;

CREATE INDEX vendor_lines_by_vendor ON vendor_lines (event_id, vendor_id, at);

CREATE TRIGGER vendor_lines_no_update BEFORE UPDATE ON vendor_lines
BEGIN SELECT RAISE(ABORT, 'vendor lines are append-only'); END;
CREATE TRIGGER vendor_lines_no_delete BEFORE DELETE ON vendor_lines
BEGIN SELECT RAISE(ABORT, 'vendor lines are append-only'); END;
