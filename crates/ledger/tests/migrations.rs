//! A ledger written by the first schema upgrades to the latest with its
//! data intact, and its rollups are rebuilt from the entries.

mod common;

use common::{band, cart, Bar};
use tapster_ledger::store::migrate::{schema_version, LATEST_VERSION, MIGRATIONS};
use tapster_ledger::store::ReportFilter;
use tapster_ledger::{Ledger, LedgerOptions, TerminalId};

#[test]
fn a_first_schema_ledger_upgrades_to_the_latest() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let sale = bar
        .sell("anna", cart(&[("beer", 2), ("bratwurst", 1)]), Some(&guest))
        .unwrap();
    let report_before = bar
        .ledger
        .reader()
        .unwrap()
        .sales_report(&ReportFilter::default())
        .unwrap();
    let path = bar.ledger.path().to_path_buf();
    let clock = bar.clock.clone();
    drop(bar.ledger);

    // Turn the file back into what the first migration alone produced.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE rollup; DROP TABLE rollup_progress; DROP VIEW line_facts; DROP VIEW entry_facts;
         DROP TABLE sale_intents;
         DROP TABLE band_refusals; ALTER TABLE event_settings DROP COLUMN band_policy;
         ALTER TABLE wallets DROP COLUMN confirmed_promo;
         DROP TABLE pass_uses; DROP TABLE known_passes;
         ALTER TABLE event_settings DROP COLUMN offline_pass_cap;
         ALTER TABLE shifts DROP COLUMN closed_by;
         DROP TABLE bill_payments; DROP TABLE bills;
         DROP TABLE stock_warnings;
         ALTER TABLE products DROP COLUMN description; ALTER TABLE products DROP COLUMN thumbnail_url;
         ALTER TABLE products DROP COLUMN ribbon_colour; ALTER TABLE products DROP COLUMN sale_text;
         ALTER TABLE products DROP COLUMN points; ALTER TABLE products DROP COLUMN sale_points;
         ALTER TABLE products DROP COLUMN vendor_id; ALTER TABLE products DROP COLUMN consumes;
         ALTER TABLE products DROP COLUMN sold_out;
         DROP TABLE server_product_refs; DROP TABLE plain_deliveries;
         ALTER TABLE event_settings DROP COLUMN time_zone;
         DROP TABLE fiscal_receipts; ALTER TABLE event_settings DROP COLUMN fiscal_signing;
         DROP INDEX staff_by_pin_tag; ALTER TABLE staff DROP COLUMN pin_tag; DROP TABLE pin_lookup_key;
         ALTER TABLE categories DROP COLUMN removed;
         DROP TABLE audit_log; DROP TABLE audit_delivered;
         DELETE FROM schema_migrations WHERE version > 1;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    let objects: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%rollup%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(objects, 0);
    drop(conn);
    assert!(
        MIGRATIONS.len() >= 2,
        "there must be something to upgrade to"
    );

    let ledger = Ledger::open(
        &path,
        LedgerOptions::new(TerminalId::new("bar-1").unwrap()).with_clock(clock),
    )
    .unwrap();
    assert_eq!(ledger.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(ledger.entry(&sale.entry.id).unwrap().unwrap(), sale.entry);
    assert_eq!(
        ledger.wallet(&guest).unwrap().unwrap().available.0,
        50_00 - 18_50
    );
    let reader = ledger.reader().unwrap();
    assert_eq!(
        reader.sales_report(&ReportFilter::default()).unwrap(),
        report_before
    );
    assert!(reader.check_invariants().unwrap().is_empty());
    assert!(reader.verify_chain().unwrap().is_empty());
    // A ledger from before genuine bands keeps taking bands by UID.
    assert_eq!(
        ledger.settings().unwrap().band_policy,
        tapster_ledger::model::BandPolicy::UidOnly
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(schema_version(&conn).unwrap(), LATEST_VERSION);
}
