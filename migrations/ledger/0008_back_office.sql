-- Back office (seed 004's product fields, vendors, inventory): what the
-- till keeps of a product beyond the grid's basics. consumes: the
-- product's recipe as JSON ([{"item": "beer-keg", "quantity": 500}]).
-- sold_out: sold out at this till's bar, as the server last said.
ALTER TABLE products ADD COLUMN description TEXT;
ALTER TABLE products ADD COLUMN thumbnail_url TEXT;
ALTER TABLE products ADD COLUMN ribbon_colour TEXT;
ALTER TABLE products ADD COLUMN sale_text TEXT;
ALTER TABLE products ADD COLUMN points INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0);
ALTER TABLE products ADD COLUMN sale_points INTEGER CHECK (sale_points >= 0);
ALTER TABLE products ADD COLUMN vendor_id TEXT;
ALTER TABLE products ADD COLUMN consumes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE products ADD COLUMN sold_out INTEGER NOT NULL DEFAULT 0 CHECK (sold_out IN (0, 1));

-- The server's low-stock warnings for this till's bar, replaced whenever
-- the catalogue is taken in.
CREATE TABLE stock_warnings (
    item_id   TEXT    PRIMARY KEY,
    name      TEXT    NOT NULL,
    unit      TEXT    NOT NULL,
    on_hand   INTEGER NOT NULL,
    low_stock INTEGER NOT NULL,
    level     TEXT    NOT NULL CHECK (level IN ('low', 'out'))
) STRICT;
