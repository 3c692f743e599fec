//! PDF and CSV reports from a real ledger, read back with poppler's
//! `pdftotext`: the figures in the PDF are the ledger's.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Night, START};
use jiff::tz::TimeZone;
use tapster_ledger::store::{ProductRow, ReportFilter, SalesReport};
use tapster_ledger::{Cents, Timestamp};
use tapster_print::csv::{sales_report_csv, CsvStyle};
use tapster_print::pdf::{sales_report_pdf, z_report_pdf, ReportHeading};
use tapster_print::Language;

fn heading(language: Language) -> ReportHeading {
    ReportHeading {
        event_name: "Sommerfest Würzburg".into(),
        currency: "EUR".into(),
        generated_at: Timestamp(START.0 + 3_600_000),
        filter: vec![("Kasse".into(), "Bar Nord – Zelt 1".into())],
        language,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
    }
}

/// The PDF's text as poppler extracts it, page by page; the pages are also
/// rendered to PNG next to the PDF for a person to look at.
fn pdf_text(bytes: &[u8], name: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reports");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    std::fs::write(&pdf, bytes).unwrap();
    let output = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext from poppler-utils (scripts/setup.sh installs it)");
    assert!(output.status.success(), "{output:?}");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&pdf)
        .arg(dir.join(name))
        .status()
        .unwrap();
    assert!(status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .split('\u{c}')
        .filter(|page| !page.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether one line has all `cells` in this order. Spaces are ignored:
/// `pdftotext` sometimes drops the one in "7 %".
fn has_row(text: &str, cells: &[&str]) -> bool {
    text.lines().any(|line| {
        let line = line.replace(' ', "");
        let mut rest = line.as_str();
        cells
            .iter()
            .all(|cell| match rest.find(&cell.replace(' ', "")) {
                Some(at) => {
                    rest = &rest[at + cell.replace(' ', "").len()..];
                    true
                }
                None => false,
            })
    })
}

#[test]
fn the_sales_report_pdf_shows_the_ledgers_totals() {
    let night = Night::new();
    let reader = night.ledger.reader().unwrap();
    let report = reader.sales_report(&ReportFilter::default()).unwrap();
    assert!(report.revenue.is_positive());
    let bytes = sales_report_pdf(&report, heading(Language::De)).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let pages = pdf_text(&bytes, "sales-de");
    let all = pages.join("\n");
    let de = Language::De;
    assert!(all.contains("Umsatzbericht"), "{all}");
    assert!(all.contains("Sommerfest Würzburg"));
    assert!(all.contains("Bar Nord – Zelt 1"), "the filter is shown");
    assert!(all.contains("Ganze Veranstaltung"));
    assert!(all.contains("17.07.2026 21:30"), "generation time:\n{all}");
    assert!(all.contains(&de.money(report.revenue, "EUR")));
    for row in &report.by_vat_rate {
        assert!(
            has_row(
                &all,
                &[
                    &de.vat_rate(row.rate),
                    &de.money(row.net, "EUR"),
                    &de.money(row.vat, "EUR"),
                    &de.money(row.gross, "EUR"),
                ]
            ),
            "VAT row {row:?} missing:\n{all}"
        );
    }
    // The VAT rows add up to the report's totals, as printed.
    assert!(has_row(
        &all,
        &[
            "SUMME",
            &de.money(report.revenue_net, "EUR"),
            &de.money(report.vat_total, "EUR"),
            &de.money(report.revenue, "EUR"),
        ]
    ));
    for row in &report.by_product {
        assert!(
            has_row(
                &all,
                &[
                    &row.name,
                    &row.quantity.to_string(),
                    &de.money(row.gross, "EUR")
                ]
            ),
            "product {row:?} missing"
        );
    }
    assert!(all.contains("Weißwein 0,2 l"));
    assert!(all.contains("Umsatz nach Stunde"), "the chart's section");
    let count = pages.len();
    for (index, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("Seite {} von {count}", index + 1)),
            "page number on page {}",
            index + 1
        );
    }
}

#[test]
fn long_reports_break_pages_and_repeat_the_table_header() {
    let report = SalesReport {
        sales_count: 500,
        revenue: Cents(123_456_78),
        by_product: (0..150)
            .map(|n| ProductRow {
                product: format!("p{n}"),
                name: format!("Produkt Nummer {n} mit Überlänge für die Spalte"),
                category: "Getränke".into(),
                quantity: n,
                gross: Cents(n * 1_00),
            })
            .collect(),
        ..SalesReport::default()
    };
    let pages = pdf_text(
        &sales_report_pdf(&report, heading(Language::En)).unwrap(),
        "long-en",
    );
    assert!(pages.len() >= 3, "{} pages", pages.len());
    for (index, page) in pages.iter().enumerate() {
        assert!(page.contains(&format!("Page {} of {}", index + 1, pages.len())));
    }
    let last = pages.last().unwrap();
    assert!(last.contains("Product"), "the header is repeated");
    assert!(pages.join("\n").contains("Produkt Nummer 149"));
}

#[test]
fn the_z_report_pdf_shows_the_cash_count() {
    let night = Night::new();
    let z = &night.z_report;
    let pages = pdf_text(&z_report_pdf(z, heading(Language::De)).unwrap(), "z-de");
    let all = pages.join("\n");
    let de = Language::De;
    let close = z.shift.closed.as_ref().unwrap();
    assert!(
        all.contains(&format!("Z-BERICHT #{}", close.z_number)),
        "{all}"
    );
    assert!(all.contains("Anna"));
    assert!(has_row(
        &all,
        &["Soll-Bestand", &de.money(z.expected_cash, "EUR")]
    ));
    assert!(has_row(
        &all,
        &["Gezählt", &de.money(close.counted_cash, "EUR")]
    ));
    assert!(has_row(&all, &["Differenz", "-1,50 €"]), "{all}");
    assert!(all.contains(&de.money(z.sales.revenue, "EUR")));
}

#[test]
fn the_csv_has_the_ledgers_figures() {
    let night = Night::new();
    let reader = night.ledger.reader().unwrap();
    let report = reader.sales_report(&ReportFilter::default()).unwrap();
    let csv = sales_report_csv(
        &report,
        Language::De,
        CsvStyle::Semicolon,
        "EUR",
        &TimeZone::get("Europe/Berlin").unwrap(),
    );
    assert!(csv.starts_with('\u{FEFF}'));
    let euros = |c: Cents| format!("{},{:02}", c.0 / 100, c.0 % 100);
    assert!(
        csv.contains(&format!("Umsatz (EUR);{}\r\n", euros(report.revenue))),
        "{csv}"
    );
    for row in &report.by_vat_rate {
        assert!(csv.contains(&format!(
            ";{};{};{}\r\n",
            euros(row.net),
            euros(row.vat),
            euros(row.gross)
        )));
    }
    assert!(csv.contains("Weißwein 0,2 l;Wein;1;6,00\r\n"), "{csv}");
}
