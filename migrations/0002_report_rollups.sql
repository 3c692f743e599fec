-- Hourly rollups that keep sales reports fast on millions of entries.
-- Triggers fill them in the same transaction as each entry; reports read
-- whole hours from here and the raw tables only for partial hours.

-- One row per line with everything reports group or filter by. For a
-- cancellation, subject_kind is the kind of the entry it reverses, so net
-- sales are the lines whose subject is a sale.
CREATE VIEW line_facts AS
SELECT l.entry_rowid,
       l.line_no,
       e.terminal_time,
       e.terminal_time / 3600000          AS hour,
       e.terminal_id,
       e.staff_id,
       e.shift_id,
       e.kind,
       COALESCE(r.kind, e.kind)           AS subject_kind,
       e.tender,
       l.product_id,
       l.category_id,
       l.vat_bp,
       l.deposit,
       l.quantity,
       l.quantity * l.unit_price          AS gross
FROM entry_lines l
JOIN entries e ON e.rowid_ = l.entry_rowid
LEFT JOIN entries r ON r.id = e.reverses;

CREATE VIEW entry_facts AS
SELECT e.rowid_ AS entry_rowid,
       e.terminal_time,
       e.terminal_time / 3600000          AS hour,
       e.terminal_id,
       e.staff_id,
       e.shift_id,
       e.kind,
       COALESCE(r.kind, e.kind)           AS subject_kind,
       e.tender,
       e.amount
FROM entries e
LEFT JOIN entries r ON r.id = e.reverses;

CREATE TABLE line_rollup (
    hour         INTEGER NOT NULL,
    terminal_id  TEXT    NOT NULL,
    staff_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL,
    tender       TEXT    NOT NULL,
    product_id   TEXT    NOT NULL,
    category_id  TEXT    NOT NULL,
    vat_bp       INTEGER NOT NULL,
    deposit      INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    PRIMARY KEY (hour, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp, deposit)
) STRICT, WITHOUT ROWID;

CREATE TABLE entry_rollup (
    hour         INTEGER NOT NULL,
    terminal_id  TEXT    NOT NULL,
    staff_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL,
    tender       TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    amount       INTEGER NOT NULL,
    PRIMARY KEY (hour, terminal_id, staff_id, kind, subject_kind, tender)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER line_rollup_on_insert AFTER INSERT ON entry_lines
BEGIN
    INSERT INTO line_rollup (hour, terminal_id, staff_id, kind, subject_kind, tender,
                             product_id, category_id, vat_bp, deposit, quantity, gross)
    SELECT hour, terminal_id, staff_id, kind, subject_kind, tender,
           product_id, category_id, vat_bp, deposit, quantity, gross
    FROM line_facts
    WHERE entry_rowid = NEW.entry_rowid AND line_no = NEW.line_no
    ON CONFLICT DO UPDATE SET quantity = quantity + excluded.quantity,
                              gross    = gross + excluded.gross;
END;

CREATE TRIGGER entry_rollup_on_insert AFTER INSERT ON entries
BEGIN
    INSERT INTO entry_rollup (hour, terminal_id, staff_id, kind, subject_kind, tender, count, amount)
    SELECT hour, terminal_id, staff_id, kind, subject_kind, tender, 1, amount
    FROM entry_facts
    WHERE entry_rowid = NEW.rowid_
    ON CONFLICT DO UPDATE SET count  = count + 1,
                              amount = amount + excluded.amount;
END;

-- Backfill from entries written under the first schema.
INSERT INTO line_rollup (hour, terminal_id, staff_id, kind, subject_kind, tender,
                         product_id, category_id, vat_bp, deposit, quantity, gross)
SELECT hour, terminal_id, staff_id, kind, subject_kind, tender,
       product_id, category_id, vat_bp, deposit, SUM(quantity), SUM(gross)
FROM line_facts
GROUP BY hour, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp, deposit;

INSERT INTO entry_rollup (hour, terminal_id, staff_id, kind, subject_kind, tender, count, amount)
SELECT hour, terminal_id, staff_id, kind, subject_kind, tender, COUNT(*), SUM(amount)
FROM entry_facts
GROUP BY hour, terminal_id, staff_id, kind, subject_kind, tender;
