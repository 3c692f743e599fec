//! A big synthetic sales history for report benchmarks, shared by the
//! ledger's and the print crate's benches (`#[path]`-included there).
#![allow(dead_code)]

use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::{demo, Ledger, LedgerOptions, TerminalId};

pub fn fresh(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A ledger at `path` holding `entries` sales, one every 259 ms from a
/// Friday 18:00 UTC on, written with plain SQL (no hash chain: for reports only) and
/// rolled up. Kept between runs when it already holds enough entries.
pub fn build(path: &Path, entries: i64) {
    if path.exists() {
        let conn = Connection::open(path).unwrap();
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))
            .unwrap_or(0);
        if count >= entries {
            return;
        }
    }
    fresh(path);
    let ledger = Ledger::open(
        path,
        LedgerOptions::new(TerminalId::new("bench").unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    drop(ledger);
    let started = Instant::now();
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let start = 1_784_311_200_000i64; // a Friday, 18:00 UTC
    conn.execute_batch(&format!(
        "BEGIN;
         CREATE TEMP TABLE menu (n INTEGER PRIMARY KEY, product TEXT, category TEXT, price INTEGER, vat INTEGER);
         INSERT INTO menu VALUES (0, 'beer', 'beer', 500, 1900), (1, 'wine', 'wine', 600, 1900),
             (2, 'cola', 'soft', 350, 1900), (3, 'bratwurst', 'food', 450, 700), (4, 'fries', 'food', 400, 700),
             (5, 'spritz', 'wine', 750, 1900);
         WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {entries}),
         sale(i, product, category, price, vat, quantity, cup, total) AS (
             SELECT i, m.product, m.category, m.price, m.vat, 1 + i % 3, i % 6 < 3,
                    m.price * (1 + i % 3) + 200 * (i % 6 < 3)
             FROM seq JOIN menu m ON m.n = i % 6)
         INSERT INTO entries (sequence, id, terminal_id, idempotency_key, request_hash, kind, token_id, tender,
                              amount, wallet_delta, staff_id, shift_id, terminal_time, reverses, offline,
                              balance_after, lines, postings, prev_hash, hash)
         SELECT i, printf('00000000-0000-7000-8000-%012d', i), 'bench', 'k' || i, '', 'sale',
                CASE WHEN i % 4 = 0 THEN NULL ELSE printf('04D3%010X', i % 5000 + 1) END,
                CASE WHEN i % 4 = 0 THEN 'cash' ELSE 'wallet' END,
                -total, CASE WHEN i % 4 = 0 THEN 0 ELSE -total END,
                CASE i % 4 WHEN 0 THEN 'anna' WHEN 1 THEN 'ben' WHEN 2 THEN 'sue' ELSE 'max' END,
                NULL, {start} + i * 259, NULL, 0, NULL,
                CASE WHEN cup
                     THEN json_array(json_object('p', product, 'n', product, 'c', category, 'q', quantity, 'u', price, 'v', vat, 'd', 0),
                                     json_object('p', 'cup', 'n', 'Pfandbecher', 'c', 'deposit', 'q', 1, 'u', 200, 'v', 0, 'd', 1))
                     ELSE json_array(json_object('p', product, 'n', product, 'c', category, 'q', quantity, 'u', price, 'v', vat, 'd', 0))
                END,
                '[]', '', ''
         FROM sale;
         COMMIT;"
    ))
    .unwrap();
    drop(conn);
    let ledger = Ledger::open(
        path,
        LedgerOptions::new(TerminalId::new("bench").unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    ledger.roll_up_now().unwrap();
    println!(
        "(built and rolled up {entries} entries in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
