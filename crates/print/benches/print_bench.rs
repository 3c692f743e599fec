//! Print benchmarks, each next to a baseline measured in the same run.
//!
//! `cargo bench -p tapster-print --bench print_bench`
//!
//! 1. Receipt rendering: the test receipt laid out and turned into ESC/POS
//!    bytes (58 and 80 mm), next to writing the finished layout out as plain
//!    text (baseline: the same lines, no layout, no ESC/POS).
//! 2. PDF sales report over 100,000 entries: the ledger's report query and
//!    the PDF written from it, in the same run.

#[path = "../../ledger/benches/history/mod.rs"]
mod history;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use tapster_ledger::store::ReportFilter;
use tapster_ledger::{LedgerReader, Timestamp};
use tapster_print::csv::{sales_report_csv, CsvStyle};
use tapster_print::pdf::{sales_report_pdf, ReportHeading};
use tapster_print::{escpos, sample, CodePage, Language, PaperWidth, ReceiptFormat};

const REPORT_ENTRIES: i64 = 100_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn measure(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn line(name: &str, times: &[Duration]) {
    println!(
        "{name:<44} p50 {:>9.1} µs   p99 {:>9.1} µs",
        percentile(times, 0.5).as_secs_f64() * 1e6,
        percentile(times, 0.99).as_secs_f64() * 1e6
    );
}

fn main() {
    let at = Timestamp(1_784_313_000_000);
    println!("== receipt rendering (2,000 runs each)");
    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let format = ReceiptFormat {
            width,
            code_page: CodePage::Wpc1252,
            language: Language::De,
            time_zone: TimeZone::get("Europe/Berlin").unwrap(),
        };
        let laid_out = sample::test_receipt(&format, at).unwrap();
        let bytes = escpos::render(&laid_out).unwrap();
        let baseline = measure(2_000, || {
            black_box(black_box(&laid_out).preview());
        });
        let render = measure(2_000, || {
            let receipt = sample::test_receipt(black_box(&format), at).unwrap();
            black_box(escpos::render(&receipt).unwrap());
        });
        line(
            &format!("baseline: layout as plain text ({width:?})"),
            &baseline,
        );
        line(
            &format!("lay out + render, {} bytes ({width:?})", bytes.len()),
            &render,
        );
        println!(
            "  ratio p50 {:.1}x the baseline; target: under 1 ms",
            percentile(&render, 0.5).as_secs_f64() / percentile(&baseline, 0.5).as_secs_f64()
        );
    }

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("print-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report-100k.sqlite");
    history::build(&path, REPORT_ENTRIES);
    let reader = LedgerReader::open(&path).unwrap();
    println!("== sales report over {REPORT_ENTRIES} entries (10 runs each)");
    let filter = ReportFilter::default();
    let query = measure(10, || {
        black_box(reader.sales_report(&filter).unwrap());
    });
    let report = reader.sales_report(&filter).unwrap();
    let heading = ReportHeading {
        event_name: "Bench".into(),
        currency: "EUR".into(),
        generated_at: at,
        filter: Vec::new(),
        language: Language::De,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
    };
    let mut size = 0;
    let pdf = measure(10, || {
        size = sales_report_pdf(&report, heading.clone()).unwrap().len();
    });
    let both = measure(10, || {
        let report = reader.sales_report(&filter).unwrap();
        black_box(sales_report_pdf(&report, heading.clone()).unwrap());
    });
    let sample = dir.join("report-100k.pdf");
    std::fs::write(&sample, sales_report_pdf(&report, heading.clone()).unwrap()).unwrap();
    println!("(the PDF is at {})", sample.display());
    let csv = measure(10, || {
        black_box(sales_report_csv(
            &report,
            Language::De,
            CsvStyle::Semicolon,
            "EUR",
            &heading.time_zone,
        ));
    });
    let ms = |t: &[Duration]| percentile(t, 0.5).as_secs_f64() * 1e3;
    println!(
        "{:<44} {:>9.2} ms",
        "ledger report query (baseline)",
        ms(&query)
    );
    println!(
        "{:<44} {:>9.2} ms  ({size} bytes, {} hours)",
        "PDF from the report",
        ms(&pdf),
        report.by_hour.len()
    );
    println!("{:<44} {:>9.2} ms", "query + PDF", ms(&both));
    println!("{:<44} {:>9.2} ms", "CSV from the report", ms(&csv));
    println!(
        "  PDF is {:.1}x the query; target: query + PDF under 1 s",
        ms(&pdf) / ms(&query)
    );
}
