-- Rollups per five-minute bucket that keep sales reports fast on millions
-- of entries. The store rolls up new entries in batches, inside the
-- transaction of the entry that completes a batch; reports read whole
-- buckets from here and the raw entries for the partial buckets at the
-- edges of a range and for entries not yet rolled up.

-- One row per line with everything reports group or filter by. For a
-- cancellation, subject_kind is the kind of the entry it reverses, so net
-- sales are the lines whose subject is a sale.
CREATE VIEW line_facts AS
SELECT e.sequence                         AS entry_sequence,
       e.terminal_time,
       e.terminal_time / 300000           AS bucket,
       e.terminal_id,
       e.staff_id,
       e.shift_id,
       e.kind,
       COALESCE(r.kind, e.kind)           AS subject_kind,
       e.tender,
       l.value ->> 'p'                    AS product_id,
       l.value ->> 'c'                    AS category_id,
       l.value ->> 'v'                    AS vat_bp,
       l.value ->> 'd'                    AS deposit,
       l.value ->> 'q'                    AS quantity,
       (l.value ->> 'q') * (l.value ->> 'u') AS gross
FROM entries e
JOIN json_each(e.lines) l
LEFT JOIN entries r ON r.id = e.reverses;

CREATE VIEW entry_facts AS
SELECT e.sequence AS entry_sequence,
       e.terminal_time,
       e.terminal_time / 300000           AS bucket,
       e.terminal_id,
       e.staff_id,
       e.shift_id,
       e.kind,
       COALESCE(r.kind, e.kind)           AS subject_kind,
       e.tender,
       e.amount
FROM entries e
LEFT JOIN entries r ON r.id = e.reverses;

-- Entry rows (product_id = '') count entries and sum their amounts; line
-- rows sum quantities and gross line totals. Sharing one table keeps a
-- sale's rollup writes on one page.
CREATE TABLE rollup (
    bucket         INTEGER NOT NULL,
    terminal_id  TEXT    NOT NULL,
    staff_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL,
    tender       TEXT    NOT NULL,
    product_id   TEXT    NOT NULL,
    category_id  TEXT    NOT NULL,
    vat_bp       INTEGER NOT NULL,
    deposit      INTEGER NOT NULL,
    entries      INTEGER NOT NULL,
    amount       INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    gross        INTEGER NOT NULL,
    PRIMARY KEY (bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp, deposit)
) STRICT, WITHOUT ROWID;

-- Entries up to rolled_through are in the rollup; later ones are not yet.
CREATE TABLE rollup_progress (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    rolled_through INTEGER NOT NULL
) STRICT;

INSERT INTO rollup_progress (id, rolled_through) SELECT 1, COALESCE(MAX(sequence), 0) FROM entries;

-- Backfill from entries written under the first schema.
INSERT INTO rollup (bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id,
                    vat_bp, deposit, entries, amount, quantity, gross)
SELECT bucket, terminal_id, staff_id, kind, subject_kind, tender, '', '', 0, 0, COUNT(*), SUM(amount), 0, 0
FROM entry_facts
GROUP BY bucket, terminal_id, staff_id, kind, subject_kind, tender;

INSERT INTO rollup (bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id,
                    vat_bp, deposit, entries, amount, quantity, gross)
SELECT bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp, deposit,
       0, 0, SUM(quantity), SUM(gross)
FROM line_facts
GROUP BY bucket, terminal_id, staff_id, kind, subject_kind, tender, product_id, category_id, vat_bp, deposit;
