//! Sales reports over the ledger.
//!
//! Whole five-minute buckets come from the rollup, the partial buckets at
//! the edges of the
//! range and shift reports from the raw entries. One query per source
//! returns rows grouped by every dimension; the report's tables are summed
//! from those rows here, so they all add up to the same totals.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::LedgerReader;
use crate::clock::Timestamp;
use crate::error::{LedgerError, Result};
use crate::ids::{ShiftId, StaffId, TerminalId};
use crate::money::{Cents, VatRate};

/// The rollup's granularity: five minutes (every zone's offset is a
/// multiple of 15 minutes, so buckets never straddle a local hour).
const BUCKET_MS: i64 = 300_000;
/// Later than any festival: year 33658.
const END_OF_TIME_MS: i64 = 1_000_000_000_000_000;

/// Which entries a report covers. Times are a half-open range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilter {
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub terminal: Option<TerminalId>,
    pub staff: Option<StaffId>,
    pub shift: Option<ShiftId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRow {
    pub product: String,
    pub name: String,
    pub category: String,
    pub quantity: i64,
    pub gross: Cents,
}

/// A labelled count and amount (per category, cashier, terminal, tender…).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountRow {
    pub key: String,
    pub label: String,
    pub count: i64,
    pub amount: Cents,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatRow {
    pub rate: VatRate,
    pub gross: Cents,
    pub net: Cents,
    pub vat: Cents,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRow {
    pub hour_start: Timestamp,
    pub sales: i64,
    pub gross: Cents,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub count: i64,
    pub amount: Cents,
}

/// Revenue is gross (VAT included) and net of cancellations; deposits are
/// not revenue and are reported on their own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesReport {
    pub filter: ReportFilter,
    pub sales_count: i64,
    pub revenue: Cents,
    pub revenue_net: Cents,
    pub vat_total: Cents,
    pub by_product: Vec<ProductRow>,
    pub by_category: Vec<AmountRow>,
    pub by_vat_rate: Vec<VatRow>,
    pub by_hour: Vec<HourRow>,
    pub by_staff: Vec<AmountRow>,
    pub by_terminal: Vec<AmountRow>,
    /// What guests paid for sales (deposits included), per tender.
    pub sales_by_tender: Vec<AmountRow>,
    pub top_ups_by_tender: Vec<AmountRow>,
    /// Cancellations per kind of entry cancelled; the amount is what the
    /// cancellations moved for the guest.
    pub cancellations: Vec<AmountRow>,
    pub deposits_issued: CountRow,
    pub deposits_returned: CountRow,
    pub payouts: CountRow,
    /// Vouchers credited to wallets as promo credit (count, amount), and
    /// how much of the sales promo credit paid (count 0). Known to the
    /// event's server only: zero in a till's own report.
    #[serde(default)]
    pub vouchers_credited: CountRow,
    #[serde(default)]
    pub promo_spent: CountRow,
    /// Tips (count of tip lines, amount), net of cancellations: not revenue.
    #[serde(default)]
    pub tips: CountRow,
}

/// Which buckets a report reads from the rollup and which sequence ranges
/// from the raw entries (half-open ranges; empty when start == end).
struct Window {
    use_rollup: bool,
    first_bucket: i64,
    end_bucket: i64,
    raw: [(i64, i64); 3],
}

/// The first sequence whose terminal time is at or after `at`. Terminal
/// times never decrease along the sequence, so a binary search over row
/// ids finds it without a time index.
fn first_sequence_at(conn: &Connection, at: i64, end: i64) -> Result<i64> {
    let mut time_of =
        conn.prepare_cached("SELECT terminal_time FROM entries WHERE sequence = ?1")?;
    let (mut low, mut high) = (1i64, end);
    while low < high {
        let middle = low + (high - low) / 2;
        let time: i64 = time_of.query_row([middle], |r| r.get(0))?;
        if time < at {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    Ok(low)
}

impl Window {
    fn of(conn: &Connection, filter: &ReportFilter) -> Result<Window> {
        let end: i64 = conn.query_row(
            "SELECT COALESCE(MAX(sequence), 0) + 1 FROM entries",
            [],
            |r| r.get(0),
        )?;
        let from = filter.from.map_or(0, |t| t.0.clamp(0, END_OF_TIME_MS));
        let until = filter
            .until
            .map_or(END_OF_TIME_MS, |t| t.0.clamp(0, END_OF_TIME_MS));
        let first_bucket = (from + BUCKET_MS - 1).div_euclid(BUCKET_MS);
        let end_bucket = until.div_euclid(BUCKET_MS);
        let at = |time: i64| first_sequence_at(conn, time, end);
        if let Some(shift) = &filter.shift {
            let (first, last) = super::shifts::shift_sequences(conn, shift)?;
            let start = at(from)?.max(first);
            let stop = at(until)?.min(last.map_or(end, |l| l + 1));
            return Ok(Window {
                use_rollup: false,
                first_bucket,
                end_bucket,
                raw: [(start, stop.max(start)), (0, 0), (0, 0)],
            });
        }
        if first_bucket >= end_bucket {
            let start = at(from)?;
            return Ok(Window {
                use_rollup: false,
                first_bucket,
                end_bucket,
                raw: [(start, at(until)?.max(start)), (0, 0), (0, 0)],
            });
        }
        // Entries after the last roll-up are read raw, also inside whole buckets.
        let rolled: i64 = conn.query_row(
            "SELECT rolled_through FROM rollup_progress WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        let (whole_start, whole_end) = (at(first_bucket * BUCKET_MS)?, at(end_bucket * BUCKET_MS)?);
        let unrolled_start = (rolled + 1).max(whole_start);
        Ok(Window {
            use_rollup: true,
            first_bucket,
            end_bucket,
            raw: [
                (at(from)?, whole_start),
                (whole_end, at(until)?),
                (unrolled_start, whole_end.max(unrolled_start)),
            ],
        })
    }
}

const DIMENSIONS: &str = "bucket, terminal_id, staff_id, kind, subject_kind, tender";

/// The raw rows: the sequence ranges around the rollup's whole buckets, and
/// the entries inside them not rolled up yet.
const FILTERS: &str =
    "(:terminal IS NULL OR terminal_id = :terminal) AND (:staff IS NULL OR staff_id = :staff)";

/// Runs `outer` over the union of the rollup's whole buckets (`rollup`, a
/// SELECT from `rollup` whose WHERE ends open for more conditions) and one
/// branch of raw rows (`raw`, likewise) per non-empty sequence range. One
/// branch per range keeps each a plain primary-key range scan.
fn query_facts<T>(
    conn: &Connection,
    filter: &ReportFilter,
    w: &Window,
    (outer, rollup, raw, group_by): (&str, &str, &str, &str),
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut branches = Vec::new();
    if w.use_rollup {
        branches.push(format!(
            "{rollup} AND bucket >= :first_bucket AND bucket < :end_bucket AND {FILTERS}"
        ));
    }
    let ranges: Vec<(i64, i64)> = w.raw.iter().copied().filter(|(a, b)| a < b).collect();
    for index in 0..ranges.len() {
        branches.push(format!(
            "{raw} AND entry_sequence >= :from{index} AND entry_sequence < :until{index}
             AND {FILTERS} AND (:shift IS NULL OR shift_id = :shift)"
        ));
    }
    if branches.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {outer} FROM ({}) GROUP BY {group_by}",
        branches.join(" UNION ALL ")
    );
    let terminal = filter.terminal.as_ref().map(|t| t.as_str());
    let staff = filter.staff.as_ref().map(|s| s.as_str());
    let shift = filter.shift.map(|s| s.to_string());
    let names: Vec<(String, String)> = (0..ranges.len())
        .map(|i| (format!(":from{i}"), format!(":until{i}")))
        .collect();
    let mut params: Vec<(&str, &dyn rusqlite::ToSql)> =
        vec![(":terminal", &terminal), (":staff", &staff)];
    if w.use_rollup {
        params.push((":first_bucket", &w.first_bucket));
        params.push((":end_bucket", &w.end_bucket));
    }
    if !ranges.is_empty() {
        params.push((":shift", &shift));
    }
    for ((from, until), (a, b)) in names.iter().zip(ranges.iter()) {
        params.push((from.as_str(), a));
        params.push((until.as_str(), b));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params.as_slice(), map)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

struct LineFact {
    bucket: i64,
    terminal: String,
    staff: String,
    subject_kind: String,
    product: String,
    category: String,
    vat_bp: u32,
    deposit: bool,
    quantity: i64,
    gross: i64,
}

struct EntryFact {
    bucket: i64,
    kind: String,
    subject_kind: String,
    tender: String,
    count: i64,
    amount: i64,
}

fn line_facts(conn: &Connection, filter: &ReportFilter, w: &Window) -> Result<Vec<LineFact>> {
    let columns = format!("{DIMENSIONS}, product_id, category_id, vat_bp, deposit");
    query_facts(
        conn,
        filter,
        w,
        (
            &format!("{columns}, SUM(quantity), SUM(gross)"),
            &format!("SELECT {columns}, quantity, gross FROM rollup WHERE product_id <> ''"),
            &format!("SELECT {columns}, quantity, gross FROM line_facts WHERE 1"),
            &columns,
        ),
        |row| {
            Ok(LineFact {
                bucket: row.get(0)?,
                terminal: row.get(1)?,
                staff: row.get(2)?,
                subject_kind: row.get(4)?,
                product: row.get(6)?,
                category: row.get(7)?,
                vat_bp: row.get(8)?,
                deposit: row.get(9)?,
                quantity: row.get(10)?,
                gross: row.get(11)?,
            })
        },
    )
}

fn entry_facts(conn: &Connection, filter: &ReportFilter, w: &Window) -> Result<Vec<EntryFact>> {
    query_facts(
        conn,
        filter,
        w,
        (
            &format!("{DIMENSIONS}, SUM(count), SUM(amount)"),
            &format!(
                "SELECT {DIMENSIONS}, entries AS count, amount FROM rollup WHERE product_id = ''"
            ),
            &format!("SELECT {DIMENSIONS}, 1 AS count, amount FROM entry_facts WHERE 1"),
            DIMENSIONS,
        ),
        |row| {
            Ok(EntryFact {
                bucket: row.get(0)?,
                kind: row.get(3)?,
                subject_kind: row.get(4)?,
                tender: row.get(5)?,
                count: row.get(6)?,
                amount: row.get(7)?,
            })
        },
    )
}

/// Sums amounts with overflow checks.
#[derive(Default)]
struct Tally {
    count: i64,
    amount: i64,
}

impl Tally {
    fn add(&mut self, count: i64, amount: i64) -> Result<()> {
        self.count = self
            .count
            .checked_add(count)
            .ok_or(LedgerError::AmountOverflow)?;
        self.amount = self
            .amount
            .checked_add(amount)
            .ok_or(LedgerError::AmountOverflow)?;
        Ok(())
    }
}

fn names(conn: &Connection, table: &str, column: &str) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT id, {column} FROM {table}"))?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn amount_rows(
    tallies: BTreeMap<String, Tally>,
    labels: Option<&BTreeMap<String, String>>,
) -> Vec<AmountRow> {
    tallies
        .into_iter()
        .map(|(key, tally)| AmountRow {
            label: labels
                .and_then(|l| l.get(&key).cloned())
                .unwrap_or_else(|| key.clone()),
            key,
            count: tally.count,
            amount: Cents(tally.amount),
        })
        .collect()
}

pub(super) fn sales_report(conn: &Connection, filter: &ReportFilter) -> Result<SalesReport> {
    let window = Window::of(conn, filter)?;
    let lines = line_facts(conn, filter, &window)?;
    let entries = entry_facts(conn, filter, &window)?;

    let mut products: BTreeMap<String, (String, Tally)> = BTreeMap::new();
    let mut categories: BTreeMap<String, Tally> = BTreeMap::new();
    let mut vat: BTreeMap<u32, Tally> = BTreeMap::new();
    // Hour buckets by the event's wall clock (see `local_hour_start`),
    // keyed by the instant the local hour began.
    // Each bucket's zone lookup once, however many rows it has.
    let zone = super::catalog::read_settings(conn)?.zone();
    let known = std::cell::RefCell::new(BTreeMap::<i64, i64>::new());
    let hour_of = |bucket: i64| {
        *known.borrow_mut().entry(bucket).or_insert_with(|| {
            crate::clock::local_hour_start(Timestamp(bucket.saturating_mul(BUCKET_MS)), &zone).0
        })
    };
    let mut hours: BTreeMap<i64, Tally> = BTreeMap::new();
    let mut staff: BTreeMap<String, Tally> = BTreeMap::new();
    let mut terminals: BTreeMap<String, Tally> = BTreeMap::new();
    let mut deposits_issued = Tally::default();
    let mut deposits_returned = Tally::default();
    let mut tips = Tally::default();

    for line in &lines {
        // A bill's payments and settlement move money between tenders and
        // open bills: what they paid for is in the settling entry's lines.
        if line.product == crate::bills::BILL_PRODUCT {
            continue;
        }
        if line.product == crate::bills::TIP_PRODUCT {
            if line.subject_kind == "sale" {
                tips.add(line.quantity, line.gross)?;
            }
            continue;
        }
        // Cups brought back with an order count against the deposits it
        // issues (the report's rows are sums, per product).
        match (line.subject_kind.as_str(), line.deposit) {
            ("sale", false) => {
                let (_, tally) = products
                    .entry(line.product.clone())
                    .or_insert_with(|| (line.category.clone(), Tally::default()));
                tally.add(line.quantity, line.gross)?;
                categories
                    .entry(line.category.clone())
                    .or_default()
                    .add(line.quantity, line.gross)?;
                vat.entry(line.vat_bp)
                    .or_default()
                    .add(line.quantity, line.gross)?;
                hours
                    .entry(hour_of(line.bucket))
                    .or_default()
                    .add(0, line.gross)?;
                staff
                    .entry(line.staff.clone())
                    .or_default()
                    .add(0, line.gross)?;
                terminals
                    .entry(line.terminal.clone())
                    .or_default()
                    .add(0, line.gross)?;
            }
            ("sale", true) => deposits_issued.add(line.quantity, line.gross)?,
            ("deposit_return", true) => deposits_returned
                .add(line.quantity.saturating_neg(), line.gross.saturating_neg())?,
            _ => {}
        }
    }

    let mut sales_by_tender: BTreeMap<String, Tally> = BTreeMap::new();
    let mut top_ups: BTreeMap<String, Tally> = BTreeMap::new();
    let mut cancellations: BTreeMap<String, Tally> = BTreeMap::new();
    let mut payouts = Tally::default();
    let mut sales_count = 0i64;
    for entry in &entries {
        let counted = if entry.kind == "cancel" {
            0
        } else {
            entry.count
        };
        match entry.subject_kind.as_str() {
            "sale" => {
                sales_by_tender
                    .entry(entry.tender.clone())
                    .or_default()
                    .add(counted, entry.amount.saturating_neg())?;
                sales_count = sales_count
                    .checked_add(counted)
                    .ok_or(LedgerError::AmountOverflow)?;
                hours
                    .entry(hour_of(entry.bucket))
                    .or_default()
                    .add(counted, 0)?;
            }
            "top_up" => top_ups
                .entry(entry.tender.clone())
                .or_default()
                .add(counted, entry.amount)?,
            "payout" => payouts.add(counted, entry.amount.saturating_neg())?,
            _ => {}
        }
        if entry.kind == "cancel" {
            cancellations
                .entry(entry.subject_kind.clone())
                .or_default()
                .add(entry.count, entry.amount)?;
        }
    }
    // Staff and terminal sale counts come from entries too.
    for row in entry_counts_by(conn, filter, &window)? {
        let (staff_id, terminal_id, count) = row;
        staff.entry(staff_id).or_default().add(count, 0)?;
        terminals.entry(terminal_id).or_default().add(count, 0)?;
    }

    let product_names = names(conn, "products", "name")?;
    let category_names = names(conn, "categories", "name")?;
    let staff_names = names(conn, "staff", "name")?;
    let terminal_names = names(conn, "terminals", "friendly_name")?;

    let by_vat_rate: Vec<VatRow> = vat
        .into_iter()
        .map(|(rate, tally)| {
            let split = VatRate(rate).split_gross(Cents(tally.amount));
            VatRow {
                rate: VatRate(rate),
                gross: split.gross,
                net: split.net,
                vat: split.vat,
            }
        })
        .collect();
    let revenue = Cents::checked_sum(by_vat_rate.iter().map(|r| r.gross))
        .ok_or(LedgerError::AmountOverflow)?;
    let revenue_net =
        Cents::checked_sum(by_vat_rate.iter().map(|r| r.net)).ok_or(LedgerError::AmountOverflow)?;
    let vat_total =
        Cents::checked_sum(by_vat_rate.iter().map(|r| r.vat)).ok_or(LedgerError::AmountOverflow)?;

    let mut by_product: Vec<ProductRow> = products
        .into_iter()
        .map(|(product, (category, tally))| ProductRow {
            name: product_names
                .get(&product)
                .cloned()
                .unwrap_or_else(|| product.clone()),
            product,
            category,
            quantity: tally.count,
            gross: Cents(tally.amount),
        })
        .collect();
    by_product.sort_by(|a, b| b.gross.cmp(&a.gross).then_with(|| a.name.cmp(&b.name)));

    Ok(SalesReport {
        filter: filter.clone(),
        sales_count,
        revenue,
        revenue_net,
        vat_total,
        by_product,
        by_category: amount_rows(categories, Some(&category_names)),
        by_vat_rate,
        by_hour: hours
            .into_iter()
            .map(|(hour, tally)| HourRow {
                hour_start: Timestamp(hour),
                sales: tally.count,
                gross: Cents(tally.amount),
            })
            .collect(),
        by_staff: amount_rows(staff, Some(&staff_names)),
        by_terminal: amount_rows(terminals, Some(&terminal_names)),
        sales_by_tender: amount_rows(sales_by_tender, None),
        top_ups_by_tender: amount_rows(top_ups, None),
        cancellations: amount_rows(cancellations, None),
        deposits_issued: CountRow {
            count: deposits_issued.count,
            amount: Cents(deposits_issued.amount),
        },
        deposits_returned: CountRow {
            count: deposits_returned.count,
            amount: Cents(deposits_returned.amount),
        },
        payouts: CountRow {
            count: payouts.count,
            amount: Cents(payouts.amount),
        },
        // Vouchers are the server's: a till's own ledger has none.
        vouchers_credited: CountRow::default(),
        promo_spent: CountRow::default(),
        tips: CountRow {
            count: tips.count,
            amount: Cents(tips.amount),
        },
    })
}

/// Sale counts per (staff, terminal), which entry facts grouped by hour
/// and tender do not carry.
fn entry_counts_by(
    conn: &Connection,
    filter: &ReportFilter,
    w: &Window,
) -> Result<Vec<(String, String, i64)>> {
    query_facts(
        conn,
        filter,
        w,
        (
            "staff_id, terminal_id, SUM(count)",
            "SELECT staff_id, terminal_id, entries AS count FROM rollup WHERE product_id = '' AND kind = 'sale'",
            "SELECT staff_id, terminal_id, 1 AS count FROM entry_facts WHERE kind = 'sale'",
            "staff_id, terminal_id",
        ),
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
}

impl LedgerReader {
    /// A sales report, read from one snapshot of the ledger: a roll-up
    /// committed meanwhile cannot make entries count twice.
    pub fn sales_report(&self, filter: &ReportFilter) -> Result<SalesReport> {
        let snapshot = self.conn.unchecked_transaction()?;
        sales_report(&snapshot, filter)
    }
}
