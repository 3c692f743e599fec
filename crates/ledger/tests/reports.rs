//! Sales reports: whole hours from the rollups and partial hours from the
//! raw entries must give the same figures as summing the entries directly.

mod common;

use std::collections::BTreeMap;

use common::{band, cart, staff_id, Bar, START};
use tapster_ledger::model::{Entry, EntryKind, Tender};
use tapster_ledger::store::{
    Authorisation, CancelRequest, DepositReturnRequest, ReportFilter, SalesReport,
};
use tapster_ledger::{demo, Cents, StaffId, TerminalId, Timestamp, VatRate};

/// Enough entries that some are rolled up (batches of 256) and some not.
const STEPS: i64 = 330;

/// Sells and cancels at many moments across sixteen hours.
fn busy_evening() -> Bar {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guests: Vec<_> = (1..=15).map(band).collect();
    for guest in &guests {
        bar.top_up("anna", guest, 250_00);
    }
    let menu = [
        ("beer", 1),
        ("wine", 2),
        ("bratwurst", 1),
        ("cola", 3),
        ("spritz", 1),
        ("fries", 2),
    ];
    for step in 0..STEPS {
        bar.clock.set(Timestamp(START.0 + step * 173_000)); // every ~2.9 minutes
        let (product, quantity) = menu[(step as usize) % menu.len()];
        let guest = &guests[(step as usize) % guests.len()];
        let staff = if step % 7 == 0 { "sue" } else { "anna" };
        let token = if step % 4 == 0 { None } else { Some(guest) };
        let sale = bar
            .sell(staff, cart(&[(product, quantity)]), token)
            .unwrap();
        if step % 11 == 0 {
            bar.ledger
                .cancel(
                    &CancelRequest {
                        key: bar.key(),
                        staff: staff_id("sue"),
                        entry: sale.entry.id,
                    },
                    Authorisation::ThisLedger,
                )
                .unwrap();
        }
        let has_cups =
            token.is_some_and(|t| !bar.ledger.wallet(t).unwrap().unwrap().deposits.is_empty());
        if step % 13 == 5 && has_cups {
            bar.ledger
                .return_deposit(
                    &DepositReturnRequest {
                        key: bar.key(),
                        staff: staff_id("anna"),
                        token: token.cloned(),
                        product: demo::product("cup"),
                        quantity: 1,
                        tender: Tender::Wallet,
                    },
                    Authorisation::ThisLedger,
                )
                .unwrap();
        }
    }
    bar
}

fn all_entries(bar: &Bar) -> Vec<Entry> {
    bar.ledger
        .reader()
        .unwrap()
        .recent_entries(None, 100_000)
        .unwrap()
}

/// Revenue, (quantity, gross) per product, gross per VAT rate, cups returned.
type Naive = (
    Cents,
    BTreeMap<String, (i64, i64)>,
    BTreeMap<VatRate, i64>,
    i64,
);

/// The report's main figures computed the slow, obvious way.
fn naive(entries: &[Entry], filter: &ReportFilter) -> Naive {
    let kinds: BTreeMap<_, _> = entries.iter().map(|e| (e.id, e.kind)).collect();
    let mut revenue = 0;
    let mut products = BTreeMap::new();
    let mut vat = BTreeMap::new();
    let mut cups_returned = 0;
    for entry in entries {
        let t = entry.terminal_time;
        if filter.from.is_some_and(|f| t < f) || filter.until.is_some_and(|u| t >= u) {
            continue;
        }
        if filter.staff.as_ref().is_some_and(|s| s != &entry.staff) {
            continue;
        }
        let subject = match entry.reverses {
            Some(original) => kinds[&original],
            None => entry.kind,
        };
        for line in &entry.lines {
            let gross = line.unit_price.0 * line.quantity;
            if subject == EntryKind::Sale && !line.deposit {
                revenue += gross;
                let row = products.entry(line.product.to_string()).or_insert((0, 0));
                row.0 += line.quantity;
                row.1 += gross;
                *vat.entry(line.vat_rate).or_insert(0) += gross;
            }
            if subject == EntryKind::DepositReturn {
                cups_returned -= line.quantity;
            }
        }
    }
    (Cents(revenue), products, vat, cups_returned)
}

fn check(report: &SalesReport, entries: &[Entry], filter: &ReportFilter) {
    let (revenue, products, vat, cups_returned) = naive(entries, filter);
    assert_eq!(report.revenue, revenue, "{filter:?}");
    let got: BTreeMap<String, (i64, i64)> = report
        .by_product
        .iter()
        .filter(|r| r.quantity != 0 || r.gross.0 != 0)
        .map(|r| (r.product.clone(), (r.quantity, r.gross.0)))
        .collect();
    let want: BTreeMap<String, (i64, i64)> =
        products.into_iter().filter(|(_, v)| *v != (0, 0)).collect();
    assert_eq!(got, want, "{filter:?}");
    let got_vat: BTreeMap<VatRate, i64> = report
        .by_vat_rate
        .iter()
        .filter(|r| r.gross.0 != 0)
        .map(|r| (r.rate, r.gross.0))
        .collect();
    let want_vat: BTreeMap<VatRate, i64> = vat.into_iter().filter(|(_, v)| *v != 0).collect();
    assert_eq!(got_vat, want_vat);
    assert_eq!(report.deposits_returned.count, cups_returned);
    for row in &report.by_vat_rate {
        assert_eq!(row.net.0 + row.vat.0, row.gross.0);
    }
    let hours: i64 = report.by_hour.iter().map(|h| h.gross.0).sum();
    let staff: i64 = report.by_staff.iter().map(|h| h.amount.0).sum();
    let categories: i64 = report.by_category.iter().map(|h| h.amount.0).sum();
    assert_eq!(
        (hours, staff, categories),
        (revenue.0, revenue.0, revenue.0),
        "every table adds up to the revenue"
    );
}

#[test]
fn reports_match_the_entries_for_whole_and_partial_hours() {
    let bar = busy_evening();
    let entries = all_entries(&bar);
    let reader = bar.ledger.reader().unwrap();
    let hour = 3_600_000;
    let ranges = [
        (None, None),
        (Some(START.0), Some(START.0 + 2 * hour)),
        (
            Some(START.0 + 1_234_567),
            Some(START.0 + 4 * hour + 777_777),
        ),
        (Some(START.0 + 600_000), Some(START.0 + 1_200_000)),
        (Some(START.0 + hour), None),
        (None, Some(START.0 + 3 * hour + 1)),
        (Some(START.0 + 10 * hour), None),
    ];
    for (from, until) in ranges {
        let filter = ReportFilter {
            from: from.map(Timestamp),
            until: until.map(Timestamp),
            ..ReportFilter::default()
        };
        check(&reader.sales_report(&filter).unwrap(), &entries, &filter);
    }
    let by_staff = ReportFilter {
        staff: Some(StaffId::new("sue").unwrap()),
        from: Some(Timestamp(START.0 + 999)),
        ..ReportFilter::default()
    };
    check(
        &reader.sales_report(&by_staff).unwrap(),
        &entries,
        &by_staff,
    );
    let other_terminal = ReportFilter {
        terminal: Some(TerminalId::new("bar-9").unwrap()),
        ..ReportFilter::default()
    };
    let empty = reader.sales_report(&other_terminal).unwrap();
    assert_eq!((empty.revenue, empty.sales_count), (Cents(0), 0));
}

#[test]
fn report_tables_are_complete() {
    let bar = busy_evening();
    let report = bar
        .ledger
        .reader()
        .unwrap()
        .sales_report(&ReportFilter::default())
        .unwrap();
    assert_eq!(report.sales_count, STEPS);
    let rolled: i64 = rusqlite::Connection::open(bar.ledger.path())
        .unwrap()
        .query_row("SELECT rolled_through FROM rollup_progress", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rolled, 256, "one batch rolled up, the rest read raw");
    let cancelled: i64 = report.cancellations.iter().map(|r| r.count).sum();
    assert_eq!(cancelled, 30, "steps 0, 11, …, 319");
    assert_eq!(
        report.top_ups_by_tender,
        vec![tapster_ledger::store::AmountRow {
            key: "cash".into(),
            label: "cash".into(),
            count: 15,
            amount: Cents(3_750_00)
        }]
    );
    assert!(report.by_hour.len() >= 5);
    assert_eq!(
        report
            .by_staff
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>(),
        vec!["Anna", "Sue"]
    );
    assert_eq!(report.by_terminal[0].label, "bar-1");
    assert!(report.by_category.iter().any(|c| c.label == "Essen"));
    assert!(
        report
            .by_product
            .windows(2)
            .all(|w| w[0].gross >= w[1].gross),
        "sorted by revenue"
    );
    assert_eq!(report.by_product[0].name, "Weißwein 0,2 l");
    assert!(report.deposits_issued.count > 0);
    let paid: i64 = report.sales_by_tender.iter().map(|r| r.amount.0).sum();
    let deposits_net = report.deposits_issued.amount.0;
    assert_eq!(
        paid,
        report.revenue.0 + deposits_net,
        "guests paid revenue plus deposits"
    );
    assert!(bar.ledger.check_invariants().unwrap().is_empty());
}
