//! Every receipt layout printed over TCP on the real ESC/POS emulator
//! `emupos`, at 58 and 80 mm: what it decodes must be exactly the laid-out
//! text (€ and umlauts through Windows-1252, columns, QR payloads), and the
//! figures must be the ledger's.

mod common;

use std::time::Duration;

use common::{expected_lines, printed_lines, Emupos, Night};
use jiff::tz::TimeZone;
use tapster_ledger::pricing::vat_breakdown;
use tapster_print::layouts::{entry_receipt, z_report_receipt, EntryReceipt, ReceiptContext};
use tapster_print::{
    CodePage, JobState, Language, PaperWidth, PrintQueue, QueueOptions, Receipt, ReceiptFormat,
};

fn format(width: PaperWidth, language: Language) -> ReceiptFormat {
    ReceiptFormat {
        width,
        code_page: CodePage::Wpc1252,
        language,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
    }
}

fn print_and_read(printer: &Emupos, queue: &PrintQueue, receipt: &Receipt) -> String {
    let before = printer.receipt_ids().len();
    let job = queue.print(receipt, "test").unwrap();
    let done = queue
        .wait_for(job, Duration::from_secs(30))
        .expect("job finished");
    assert_eq!(done.state, JobState::Sent);
    printer.next_receipt(before)
}

#[test]
fn every_layout_prints_exactly_as_laid_out_on_58_and_80_mm() {
    let night = Night::new();
    let reader = night.ledger.reader().unwrap();
    let printer = Emupos::start();
    let queue = PrintQueue::start(printer.uri(), QueueOptions::default()).unwrap();
    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        for language in [Language::De, Language::En] {
            let format = format(width, language);
            for entry in night.entries() {
                let ctx = ReceiptContext::for_entry(&reader, entry).unwrap();
                let cancelled = entry.reverses.map(|id| reader.entry(&id).unwrap().unwrap());
                let receipt = entry_receipt(
                    &EntryReceipt {
                        entry,
                        cancelled: cancelled.as_ref(),
                        copy: false,
                        fiscal: None,
                    },
                    &ctx,
                    &format,
                )
                .unwrap();
                let printed = print_and_read(&printer, &queue, &receipt);
                let lines = printed_lines(&printed);
                assert_eq!(
                    lines,
                    expected_lines(&receipt),
                    "{:?} {width:?} {language:?}:\n{printed}",
                    entry.kind
                );
                for line in lines.iter().filter(|l| !l.starts_with("[qr ")) {
                    assert!(
                        line.chars().count() <= width.columns(),
                        "too wide for {width:?}: {line:?}"
                    );
                }
                assert!(lines.contains(&format!("[qr {}]", entry.id)), "{printed}");
                assert!(printed.contains("Sommerfest Würzburg"), "{printed}");
                assert!(printed.contains("Bar Nord – Zelt 1"), "{printed}");
                if language == Language::De {
                    assert!(printed.contains(" €"), "{printed}");
                }
            }
            // The Z report.
            let ctx = ReceiptContext {
                event_name: "Sommerfest Würzburg".into(),
                currency: "EUR".into(),
                ..ReceiptContext::default()
            };
            let receipt = z_report_receipt(&night.z_report, &ctx, &format).unwrap();
            let printed = print_and_read(&printer, &queue, &receipt);
            assert_eq!(printed_lines(&printed), expected_lines(&receipt));
        }
    }
}

#[test]
fn the_sale_receipt_shows_the_ledgers_figures() {
    let night = Night::new();
    let reader = night.ledger.reader().unwrap();
    let printer = Emupos::start();
    let queue = PrintQueue::start(printer.uri(), QueueOptions::default()).unwrap();
    let entry = &night.sale;
    let ctx = ReceiptContext::for_entry(&reader, entry).unwrap();
    let receipt = entry_receipt(
        &EntryReceipt {
            entry,
            cancelled: None,
            copy: false,
            fiscal: None,
        },
        &ctx,
        &format(PaperWidth::Mm80, Language::De),
    )
    .unwrap();
    let printed = print_and_read(&printer, &queue, &receipt);
    let lines = printed_lines(&printed);
    let width = 48;
    // Item rows: the amount ends exactly at the right edge.
    let beer = lines
        .iter()
        .find(|l| l.starts_with("2 × Bier 0,5 l"))
        .expect("beer line");
    assert!(
        beer.ends_with("10,00 €") && beer.chars().count() == width,
        "{beer:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("1 × Weißwein 0,2 l")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("3 × Pfandbecher (Pfand)")));
    // The total is what the ledger debited.
    let total = lines.iter().find(|l| l.starts_with("SUMME")).unwrap();
    assert!(
        total.ends_with("26,50 €") && entry.amount.0 == -26_50,
        "{total}"
    );
    // One VAT row per rate with the ledger's split, aligned in columns.
    for split in vat_breakdown(&entry.lines).unwrap() {
        let rate = Language::De.vat_rate(split.rate);
        let row = lines
            .iter()
            .find(|l| l.starts_with(&rate))
            .unwrap_or_else(|| panic!("no VAT row for {rate}:\n{printed}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[cells.len() - 3..],
            [
                Language::De.number(split.net).as_str(),
                &Language::De.number(split.vat),
                &Language::De.number(split.gross)
            ],
            "{row}"
        );
        assert_eq!(row.chars().count(), width, "{row:?}");
    }
    let balance = lines
        .iter()
        .find(|l| l.starts_with("Guthaben danach"))
        .unwrap();
    let expected = Language::De.money(entry.balance_after.unwrap(), "EUR");
    assert!(balance.ends_with(&expected), "{balance}");
    assert!(
        printed.contains("Armband ••••0001"),
        "masked wristband:\n{printed}"
    );
    assert!(
        !printed.contains(entry.token.as_ref().unwrap().as_str()),
        "full UID printed"
    );
}

#[test]
fn cash_receipts_and_the_drawer_command_open_the_drawer() {
    let night = Night::new();
    let reader = night.ledger.reader().unwrap();
    let printer = Emupos::start();
    let queue = PrintQueue::start(printer.uri(), QueueOptions::default()).unwrap();
    assert!(!printer.drawer_open());
    // A wallet sale does not open it.
    let wallet = entry_receipt(
        &EntryReceipt {
            entry: &night.sale,
            cancelled: None,
            copy: false,
            fiscal: None,
        },
        &ReceiptContext::for_entry(&reader, &night.sale).unwrap(),
        &format(PaperWidth::Mm58, Language::De),
    )
    .unwrap();
    print_and_read(&printer, &queue, &wallet);
    assert!(!printer.drawer_open(), "a wallet sale opened the drawer");
    // A cash sale does.
    let cash = entry_receipt(
        &EntryReceipt {
            entry: &night.cash_sale,
            cancelled: None,
            copy: false,
            fiscal: None,
        },
        &ReceiptContext::for_entry(&reader, &night.cash_sale).unwrap(),
        &format(PaperWidth::Mm58, Language::De),
    )
    .unwrap();
    print_and_read(&printer, &queue, &cash);
    assert!(printer.drawer_open(), "a cash sale did not open the drawer");
    printer.close_drawer();
    // The drawer on request, without printing anything.
    let receipts = printer.receipt_ids().len();
    let job = queue.open_drawer();
    let done = queue.wait_for(job, Duration::from_secs(30)).unwrap();
    assert_eq!(done.state, JobState::Sent);
    common::wait_until(Duration::from_secs(10), "the drawer to open", || {
        printer.drawer_open().then_some(())
    });
    std::thread::sleep(Duration::from_millis(1700));
    assert_eq!(
        printer.receipt_ids().len(),
        receipts,
        "the drawer kick printed something"
    );
}

#[test]
fn the_command_line_prints_the_test_receipt_and_any_stored_entry() {
    let night = Night::new();
    let printer = Emupos::start();
    let uri = printer.uri().to_string();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tapster-print"))
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    run(&["test-receipt", "--printer", &uri, "--width", "58"]);
    let test = printer.next_receipt(0);
    for expected in ["TESTBELEG", "Weißwein 0,2 l", "26,50 €", "19 %", "[qr "] {
        assert!(test.contains(expected), "{expected} missing:\n{test}");
    }
    let db = night.dir.path().join("ledger.sqlite");
    let id = night.cancel.id.to_string();
    run(&[
        "receipt",
        "--db",
        db.to_str().unwrap(),
        "--entry",
        &id,
        "--printer",
        &uri,
        "--width",
        "80",
        "--lang",
        "en",
    ]);
    let cancel = printer.next_receipt(1);
    assert!(cancel.contains("*** CANCELLATION ***"), "{cancel}");
    assert!(
        cancel.contains(&format!("Cancels receipt #{}", night.cash_sale.sequence)),
        "{cancel}"
    );
    assert!(cancel.contains(&format!("[qr {id}]")));
    // A preview needs no printer.
    let preview = run(&[
        "receipt",
        "--db",
        db.to_str().unwrap(),
        "--entry",
        &id,
        "--preview",
        "--copy",
    ]);
    assert!(
        preview.contains("*** KOPIE ***") && preview.contains("*** STORNO ***"),
        "{preview}"
    );
    // An unknown entry is a clear error.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tapster-print"))
        .args([
            "receipt",
            "--db",
            db.to_str().unwrap(),
            "--entry",
            &night.payout.shift.unwrap().to_string(),
            "--preview",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not in"),
        "{output:?}"
    );
}

/// Germany's TSE block: what the device signed, printed on the real
/// emulator at both widths and in both languages, its QR code read back
/// to the signed fields; an outage says so and carries no TSE code.
#[test]
fn a_signed_receipt_carries_the_tse_block_and_its_qr_code() {
    use tapster_fiscal::qr::parse_qr;
    use tapster_fiscal::simulated::SimulatedTse;
    use tapster_fiscal::{sign_or_outage, ProcessData, Signing};

    let night = Night::new();
    let reader = night.ledger.reader().unwrap();
    let printer = Emupos::start();
    let queue = PrintQueue::start(printer.uri(), QueueOptions::default()).unwrap();
    let entry = &night.cash_sale;
    let tse = SimulatedTse::with_clock(Box::new(|| 1_784_311_200)).unwrap();
    let data = ProcessData::of_entry(entry, None).unwrap();
    let signing = sign_or_outage(&tse, entry.terminal.as_str(), &data);
    let signed = signing.signed().unwrap();
    let outage = Signing::Outage {
        reason: "the TSE cannot be reached".into(),
    };
    let ctx = ReceiptContext::for_entry(&reader, entry).unwrap();
    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        for language in [Language::De, Language::En] {
            let receipt = |fiscal| {
                entry_receipt(
                    &EntryReceipt {
                        entry,
                        cancelled: None,
                        copy: false,
                        fiscal: Some(fiscal),
                    },
                    &ctx,
                    &format(width, language),
                )
                .unwrap()
            };
            let printed = print_and_read(&printer, &queue, &receipt(&signing));
            let lines = printed_lines(&printed);
            assert_eq!(lines, expected_lines(&receipt(&signing)), "{printed}");
            let counter = if language == Language::De {
                "Signaturzähler"
            } else {
                "Signature counter"
            };
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(counter) && l.ends_with('1')),
                "{printed}"
            );
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("NOT CERTIFIED") || l.contains("NICHT ZERTIFIZIERT")),
                "a simulated device says so: {printed}"
            );
            let qr = lines
                .iter()
                .find_map(|l| l.strip_prefix("[qr V0;"))
                .map(|rest| format!("V0;{}", rest.trim_end_matches(']')))
                .expect("the TSE's QR code");
            let fields = parse_qr(&qr).expect("the standard form");
            assert_eq!(fields.process_data, signed.process_data);
            assert_eq!(
                fields.process_data,
                "Beleg^3.50_0.00_0.00_0.00_2.00^5.50:Bar"
            );
            assert_eq!(
                (fields.number, fields.signature_counter, fields.time_start),
                (signed.number, signed.signature_counter, signed.time_start)
            );
            assert_eq!(fields.signature, signed.signature);
            assert_eq!(fields.public_key, signed.public_key);
            assert_eq!(fields.client, entry.terminal.as_str());

            let printed = print_and_read(&printer, &queue, &receipt(&outage));
            let failed = if language == Language::De {
                "TSE AUSGEFALLEN"
            } else {
                "TSE FAILED"
            };
            assert!(printed.contains(failed), "{printed}");
            assert!(!printed.contains("[qr V0;"), "{printed}");
        }
    }
}
