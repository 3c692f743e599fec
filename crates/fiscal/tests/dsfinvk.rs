//! The DSFinV-K export from a real till ledger: random nights of cash,
//! card and wallet sales, top-ups and cancellations (property test); the
//! files' columns match `index.xml`, every closing adds up across its
//! tables, and cash and card reconcile with the ledger's postings to the
//! cent. `index.xml` is checked against the GDPdU DTD by `xmllint`.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use tapster_fiscal::dsfinvk::{self, Business, Export, Transaction};
use tapster_fiscal::simulated::SimulatedTse;
use tapster_fiscal::{sign_or_outage, ProcessData, Signing};
use tapster_ledger::model::{Entry, EntryKind, Tender};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::postings::Account;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{
    Authorisation, CancelRequest, CloseShiftRequest, DepositReturnRequest, OpenShiftRequest,
    PayoutRequest, SaleRequest, TopUpRequest,
};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, ManualClock, StaffId, TerminalId, Timestamp,
};

#[derive(Clone, Debug)]
enum Step {
    Sale(Vec<(usize, i64)>, Tender),
    TopUp(i64, Tender),
    CancelLast,
    /// Cups back, onto the wristband or paid out in cash.
    CupsBack(i64, bool),
    /// The wristband's whole balance paid out in cash.
    PayOut,
    /// The shift closes with this much cash counted (a difference is a
    /// transaction of its own) and a new one opens.
    CloseShift(i64),
    /// Hours pass (a night crosses business days).
    Wait(i64),
}

const PRODUCTS: [&str; 6] = ["beer", "wine", "cola", "water", "bratwurst", "fries"];

fn tender() -> impl Strategy<Value = Tender> {
    prop_oneof![Just(Tender::Cash), Just(Tender::Card), Just(Tender::Wallet)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (prop::collection::vec((0..PRODUCTS.len(), 1..4_i64), 1..4), tender())
            .prop_map(|(items, tender)| Step::Sale(items, tender)),
        2 => (1..50_i64, prop_oneof![Just(Tender::Cash), Just(Tender::Card)])
            .prop_map(|(euros, tender)| Step::TopUp(euros * 100, tender)),
        1 => Just(Step::CancelLast),
        1 => (1..3_i64, any::<bool>()).prop_map(|(cups, onto_band)| Step::CupsBack(cups, onto_band)),
        1 => Just(Step::PayOut),
        1 => (0..300_i64).prop_map(|euros| Step::CloseShift(euros * 100)),
        1 => (1..10_i64).prop_map(Step::Wait),
    ]
}

struct Night {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    clock: Arc<ManualClock>,
}

impl Night {
    fn new() -> Night {
        let dir = tempfile::tempdir().unwrap();
        // 17 July 2026, 18:00 in Berlin.
        let clock = Arc::new(ManualClock::new(Timestamp(1_784_304_000_000)));
        let ledger = Ledger::open(
            dir.path().join("bar-1.sqlite"),
            LedgerOptions::new(TerminalId::new("bar-1").unwrap())
                .with_clock(clock.clone())
                .with_pin_cost(PinHashCost::Fast),
        )
        .unwrap();
        demo::seed(&ledger, 3).unwrap();
        ledger
            .open_shift(&OpenShiftRequest {
                key: IdempotencyKey::random(),
                staff: anna(),
                float: Cents(0),
            })
            .unwrap();
        Night {
            _dir: dir,
            ledger,
            clock,
        }
    }

    fn run(&self, step: &Step, last: &mut Option<Entry>) {
        self.clock.advance_secs(60);
        let done = match step {
            Step::Sale(items, tender) => {
                let cart = items.iter().fold(Cart::new(), |cart, (product, quantity)| {
                    cart.with(&demo::product(PRODUCTS[*product]), *quantity)
                });
                self.ledger.sell(
                    &SaleRequest {
                        key: IdempotencyKey::random(),
                        staff: anna(),
                        cart,
                        tender: *tender,
                        token: (*tender == Tender::Wallet).then(|| demo::wristband(1)),
                        pass: None,
                    },
                    Authorisation::ThisLedger,
                )
            }
            Step::TopUp(amount, tender) => self.ledger.top_up(
                &TopUpRequest {
                    key: IdempotencyKey::random(),
                    staff: anna(),
                    token: demo::wristband(1),
                    amount: Cents(*amount),
                    tender: *tender,
                },
                Authorisation::ThisLedger,
            ),
            Step::CancelLast => match last.take() {
                Some(entry) => self.ledger.cancel(
                    &CancelRequest {
                        key: IdempotencyKey::random(),
                        staff: anna(),
                        entry: entry.id,
                    },
                    Authorisation::ThisLedger,
                ),
                None => return,
            },
            Step::CupsBack(cups, onto_band) => self.ledger.return_deposit(
                &DepositReturnRequest {
                    key: IdempotencyKey::random(),
                    staff: anna(),
                    token: onto_band.then(|| demo::wristband(1)),
                    product: demo::product("cup"),
                    quantity: *cups,
                    tender: if *onto_band {
                        Tender::Wallet
                    } else {
                        Tender::Cash
                    },
                },
                Authorisation::ThisLedger,
            ),
            Step::PayOut => self.ledger.payout(
                &PayoutRequest {
                    key: IdempotencyKey::random(),
                    staff: anna(),
                    token: demo::wristband(1),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            ),
            Step::CloseShift(counted) => {
                self.ledger
                    .close_shift(&CloseShiftRequest {
                        key: IdempotencyKey::random(),
                        staff: anna(),
                        counted: Cents(*counted),
                    })
                    .unwrap();
                self.ledger
                    .open_shift(&OpenShiftRequest {
                        key: IdempotencyKey::random(),
                        staff: anna(),
                        float: Cents(0),
                    })
                    .unwrap();
                *last = None;
                return;
            }
            Step::Wait(hours) => {
                self.clock.advance_secs(3600 * hours);
                return;
            }
        };
        // A wallet without enough money refuses: nothing booked.
        if let Ok(recorded) = done {
            if recorded.entry.kind != EntryKind::Cancel {
                *last = Some(recorded.entry);
            }
        }
    }

    /// The ledger's entries as the export takes them, each signed (or,
    /// every fifth, made during an outage).
    fn transactions(&self) -> Vec<Transaction> {
        let reader = self.ledger.reader().unwrap();
        let mut entries = reader.recent_entries(None, 10_000).unwrap();
        entries.reverse();
        let tse = SimulatedTse::new().unwrap();
        let kinds: BTreeMap<String, EntryKind> =
            entries.iter().map(|e| (e.id.to_string(), e.kind)).collect();
        entries
            .iter()
            // A count's difference is the till's; an adjustment on a band
            // is the server's bookkeeping.
            .filter(|e| e.kind != EntryKind::Adjustment || e.token.is_none())
            .enumerate()
            .map(|(index, e)| {
                let cancels = e
                    .reverses
                    .map(|id| (id.to_string(), kinds[&id.to_string()]));
                let data = ProcessData::of_entry(e, cancels.as_ref().map(|c| c.1)).unwrap();
                let signing = if index % 5 == 4 {
                    Signing::Outage {
                        reason: "the TSE cannot be reached".into(),
                    }
                } else {
                    sign_or_outage(&tse, e.terminal.as_str(), &data)
                };
                Transaction {
                    id: e.id.to_string(),
                    till: e.terminal.to_string(),
                    number: e.sequence,
                    kind: e.kind,
                    tender: e.tender,
                    amount: e.amount,
                    lines: e.lines.clone(),
                    on_band: e.token.is_some(),
                    staff_id: e.staff.to_string(),
                    staff_name: "Anna".into(),
                    at: e.terminal_time,
                    cancels,
                    signing: Some(signing),
                }
            })
            .collect()
    }

    /// Cash and card the till took in, from the ledger's postings (which
    /// book money into the drawer or to the card processor as negative).
    fn cash_and_card(&self) -> (i64, i64) {
        let reader = self.ledger.reader().unwrap();
        let (mut cash, mut card) = (0, 0);
        for entry in reader.recent_entries(None, 10_000).unwrap() {
            for posting in reader.postings(&entry.id).unwrap() {
                match posting.account {
                    Account::CashDrawer(_) => cash -= posting.amount.0,
                    Account::CardClearing => card -= posting.amount.0,
                    _ => {}
                }
            }
        }
        (cash, card)
    }
}

fn anna() -> StaffId {
    StaffId::new("anna").unwrap()
}

fn business() -> Business {
    Business {
        name: "Sommerfest GmbH".into(),
        street: "Mainkai 1".into(),
        postcode: "97070".into(),
        city: "Würzburg".into(),
        country: "DEU".into(),
        tax_number: "257/123/45678".into(),
        vat_id: "DE123456789".into(),
    }
}

/// A table read back: its header and rows, by column name.
struct Table {
    rows: Vec<BTreeMap<String, String>>,
}

fn read(files: &[(String, Vec<u8>)], name: &str) -> Table {
    let bytes = &files.iter().find(|(n, _)| n == name).expect(name).1;
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.is_empty() || text.ends_with("\r\n"), "{name}: CRLF");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(bytes.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), header.len(), "{name}: every row has every column");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    Table { rows }
}

/// `-12,30` as cents.
fn cents(text: &str) -> i64 {
    if text.is_empty() {
        return 0;
    }
    let (whole, fraction) = text.split_once(',').unwrap_or((text, "0"));
    let negative = whole.starts_with('-');
    let whole: i64 = whole.trim_start_matches('-').parse().unwrap();
    let fraction: i64 = format!("{fraction:0<2}")[..2].parse().unwrap();
    let value = whole * 100 + fraction;
    if negative {
        -value
    } else {
        value
    }
}

/// Sum of `column` per closing (`Z_KASSE_ID`, `Z_NR`).
fn per_closing(table: &Table, column: &str) -> BTreeMap<(String, String), i64> {
    let mut sums = BTreeMap::new();
    for row in &table.rows {
        *sums
            .entry((row["Z_KASSE_ID"].clone(), row["Z_NR"].clone()))
            .or_insert(0) += cents(&row[column]);
    }
    sums
}

fn export_of(transactions: &[Transaction]) -> Vec<(String, Vec<u8>)> {
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    dsfinvk::files(&Export {
        business: &business(),
        currency: "EUR",
        zone: &zone,
        software_version: "test",
        signs: true,
        transactions,
        from: None,
        to: None,
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_closing_adds_up_and_cash_and_card_are_the_ledgers(
        steps in prop::collection::vec(step(), 1..30)
    ) {
        let night = Night::new();
        night.run(&Step::TopUp(100_00, Tender::Cash), &mut None);
        let mut last = None;
        for step in &steps {
            night.run(step, &mut last);
        }
        let transactions = night.transactions();
        let files = export_of(&transactions);

        let heads = read(&files, "transactions.csv");
        prop_assert_eq!(heads.rows.len(), transactions.len());
        let turnover = per_closing(&heads, "UMS_BRUTTO");
        let lines = per_closing(&read(&files, "lines_vat.csv"), "POS_BRUTTO");
        let vat = per_closing(&read(&files, "transactions_vat.csv"), "BON_BRUTTO");
        let cases = per_closing(&read(&files, "businesscases.csv"), "Z_UMS_BRUTTO");
        let payments = per_closing(&read(&files, "datapayment.csv"), "BASISWAEH_BETRAG");
        let closings = read(&files, "cashpointclosing.csv");
        let closing_payments = per_closing(&closings, "Z_SE_ZAHLUNGEN");
        prop_assert_eq!(&lines, &turnover);
        // The closing's VAT and net are its lines' to the cent.
        let lines_vat = read(&files, "lines_vat.csv");
        let cases_table = read(&files, "businesscases.csv");
        prop_assert_eq!(per_closing(&lines_vat, "POS_UST"), per_closing(&cases_table, "Z_UST"));
        prop_assert_eq!(per_closing(&lines_vat, "POS_NETTO"), per_closing(&cases_table, "Z_UMS_NETTO"));
        prop_assert_eq!(&vat, &turnover);
        prop_assert_eq!(&cases, &turnover);
        for (closing, total) in &closing_payments {
            prop_assert_eq!(payments.get(closing).copied().unwrap_or(0), *total);
            prop_assert_eq!(turnover.get(closing).copied().unwrap_or(0), *total);
        }

        // Cash and card to the cent: what the ledger's postings moved.
        let (cash, card) = night.cash_and_card();
        let payment = read(&files, "payment.csv");
        let sum_of = |kind: &str| -> i64 {
            payment.rows.iter().filter(|r| r["ZAHLART_TYP"] == kind)
                .map(|r| cents(&r["Z_ZAHLART_BETRAG"])).sum()
        };
        prop_assert_eq!(sum_of("Bar"), cash);
        prop_assert_eq!(sum_of("Unbar"), card);
        prop_assert_eq!(
            closings.rows.iter().map(|r| cents(&r["Z_SE_BARZAHLUNGEN"])).sum::<i64>(),
            cash
        );

        // Every receipt has its TSE row; outages say why and carry no
        // signature.
        let tse = read(&files, "transactions_tse.csv");
        prop_assert_eq!(tse.rows.len(), transactions.len());
        for row in &tse.rows {
            prop_assert_eq!(
                row["TSE_TA_SIG"].is_empty(),
                row["TSE_TA_FEHLER"].starts_with("TSE-Ausfall")
            );
        }
        // A count's difference is its own business case.
        let differences = transactions.iter().filter(|t| t.kind == EntryKind::Adjustment).count();
        let lines = read(&files, "lines.csv");
        prop_assert_eq!(
            lines.rows.iter().filter(|r| r["GV_TYP"] == "DifferenzSollIst").count(),
            differences
        );
        // A cancellation points at the receipt it cancels.
        let references = read(&files, "references.csv");
        let cancels = transactions.iter().filter(|t| t.kind == EntryKind::Cancel).count();
        prop_assert_eq!(references.rows.len(), cancels);
    }
}

#[test]
fn the_files_follow_index_xml_and_index_xml_the_dtd() {
    let night = Night::new();
    night.run(&Step::TopUp(20_00, Tender::Card), &mut None);
    let mut last = None;
    night.run(&Step::Sale(vec![(0, 2), (4, 1)], Tender::Wallet), &mut last);
    night.run(&Step::Sale(vec![(2, 1)], Tender::Cash), &mut last);
    night.run(&Step::CancelLast, &mut last);
    // Past 06:00 the next morning: a second business day.
    night.run(&Step::Wait(13), &mut None);
    night.run(&Step::Sale(vec![(3, 1)], Tender::Cash), &mut last);
    let files = export_of(&night.transactions());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 22, "{names:?}");
    assert!(names.contains(&"index.xml") && names.contains(&"gdpdu-01-09-2004.dtd"));

    // Each CSV's header is its table's columns in index.xml.
    let index = String::from_utf8(
        files
            .iter()
            .find(|(n, _)| n == "index.xml")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    for (name, bytes) in files.iter().filter(|(n, _)| n.ends_with(".csv")) {
        let header = std::str::from_utf8(bytes)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string();
        let at = index.find(&format!("<URL>{name}</URL>")).expect(name);
        let table = &index[at..at + index[at..].find("</Table>").unwrap()];
        let columns: Vec<&str> = table
            .match_indices("<VariableColumn>")
            .map(|(i, _)| {
                let rest = &table[i..];
                let start = rest.find("<Name>").unwrap() + 6;
                &rest[start..start + rest[start..].find("</Name>").unwrap()]
            })
            .collect();
        assert_eq!(header, columns.join(";"), "{name}");
    }

    // Two business days: two closings, numbered 1 and 2.
    let closings = read(&files, "cashpointclosing.csv");
    let numbers: Vec<&str> = closings.rows.iter().map(|r| r["Z_NR"].as_str()).collect();
    assert_eq!(numbers, vec!["1", "2"]);
    assert_eq!(closings.rows[0]["Z_BUCHUNGSTAG"], "2026-07-17");
    assert_eq!(closings.rows[0]["TAXONOMIE_VERSION"], "2.3");
    assert_eq!(closings.rows[0]["ORT"], "Würzburg");
    // The wallet sale: goods by VAT key and the voucher redeemed.
    let lines = read(&files, "lines.csv");
    let cases: Vec<&str> = lines.rows.iter().map(|r| r["GV_TYP"].as_str()).collect();
    for case in [
        "MehrzweckgutscheinKauf",
        "Umsatz",
        "Pfand",
        "MehrzweckgutscheinEinloesung",
    ] {
        assert!(cases.contains(&case), "{cases:?}");
    }
    let beer = lines.rows.iter().find(|r| r["ART_NR"] == "beer").unwrap();
    assert_eq!(
        (beer["MENGE"].as_str(), beer["STK_BR"].as_str()),
        ("2,000", "5,00")
    );
    // The cancellation: marked, negated, and pointing at the cola sale.
    let heads = read(&files, "transactions.csv");
    let storno = heads.rows.iter().find(|r| r["BON_STORNO"] == "1").unwrap();
    assert_eq!(storno["UMS_BRUTTO"], "-5,50");
    let reference = &read(&files, "references.csv").rows[0];
    assert_eq!(reference["REF_TYP"], "Transaktion");
    assert_eq!(reference["REF_Z_NR"], "1");
    assert!(heads
        .rows
        .iter()
        .any(|r| r["BON_ID"] == reference["REF_BON_ID"]));
    assert!(
        storno["BON_START"].ends_with("+02:00"),
        "{}",
        storno["BON_START"]
    );

    // index.xml is valid against the DTD it names.
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--valid")
        .arg(dir.path().join("index.xml"))
        .output()
        .expect("xmllint (apt package libxml2-utils) checks index.xml");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // And the ZIP holds the same files.
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let transactions = night.transactions();
    let zip = dsfinvk::zip(&Export {
        business: &business(),
        currency: "EUR",
        zone: &zone,
        software_version: "test",
        signs: true,
        transactions: &transactions,
        from: None,
        to: None,
    })
    .unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    assert_eq!(archive.len(), 22);
}
