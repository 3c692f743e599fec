//! `tapster-print`: test a printer, print any stored entry or shift report,
//! open the drawer, and export reports as PDF or CSV.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use jiff::tz::TimeZone;
use tapster_ledger::store::ReportFilter;
use tapster_ledger::{EntryId, LedgerReader, ShiftId, StaffId, TerminalId, Timestamp};
use tapster_print::csv::{sales_report_csv, CsvStyle};
use tapster_print::layouts::{entry_receipt, z_report_receipt, EntryReceipt, ReceiptContext};
use tapster_print::pdf::{sales_report_pdf, z_report_pdf, ReportHeading};
use tapster_print::printer::{connect, Timeouts};
use tapster_print::{
    CodePage, JobState, Language, PaperWidth, PrintQueue, PrinterUri, QueueOptions, Receipt,
    ReceiptFormat,
};

#[derive(Parser)]
#[command(
    name = "tapster-print",
    version,
    about = "Tapster receipts and reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Output {
    /// Printer address: tcp://host:9100, file:///dev/usb/lp0,
    /// serial:///dev/ttyUSB0?baud=19200 or usb://04b8:0e28.
    #[arg(long, required_unless_present = "preview")]
    printer: Option<PrinterUri>,
    /// Paper width in mm.
    #[arg(long, default_value = "80", value_parser = parse_width)]
    width: PaperWidth,
    #[arg(long, default_value = "wpc1252", value_parser = parse_code_page)]
    code_page: CodePage,
    #[arg(long, default_value = "de", value_parser = parse_language)]
    lang: Language,
    /// IANA time zone for printed times (default: this machine's).
    #[arg(long)]
    time_zone: Option<String>,
    /// Show the receipt as text here instead of printing it.
    #[arg(long)]
    preview: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Print a sample sale receipt (€, umlauts, VAT lines, QR code).
    TestReceipt(Output),
    /// Print the receipt of a stored ledger entry.
    Receipt {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        entry: EntryId,
        /// Mark it as a copy.
        #[arg(long)]
        copy: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Print a shift's Z report (X report while it is open).
    ZReport {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        shift: ShiftId,
        /// Write it as a PDF instead of printing it.
        #[arg(long)]
        pdf: Option<PathBuf>,
        #[command(flatten)]
        output: Output,
    },
    /// Open the cash drawer.
    Drawer {
        #[arg(long)]
        printer: PrinterUri,
    },
    /// Ask the printer how it is.
    Status {
        #[arg(long)]
        printer: PrinterUri,
    },
    /// Write the sales report as PDF and/or CSV.
    Report {
        #[arg(long)]
        db: PathBuf,
        /// Start of the period, e.g. 2026-07-04T18:00:00+02:00.
        #[arg(long)]
        from: Option<jiff::Timestamp>,
        #[arg(long)]
        until: Option<jiff::Timestamp>,
        #[arg(long)]
        terminal: Option<TerminalId>,
        #[arg(long)]
        staff: Option<StaffId>,
        #[arg(long)]
        pdf: Option<PathBuf>,
        #[arg(long)]
        csv: Option<PathBuf>,
        /// CSV with `,` and decimal points instead of `;` and commas.
        #[arg(long)]
        comma: bool,
        #[arg(long, default_value = "de", value_parser = parse_language)]
        lang: Language,
        #[arg(long)]
        time_zone: Option<String>,
    },
}

fn parse_width(value: &str) -> Result<PaperWidth, String> {
    PaperWidth::parse(value).ok_or_else(|| "the width is 58 or 80 (mm)".into())
}

fn parse_code_page(value: &str) -> Result<CodePage, String> {
    CodePage::parse(value).ok_or_else(|| "the code page is wpc1252 or ascii".into())
}

fn parse_language(value: &str) -> Result<Language, String> {
    Language::parse(value).ok_or_else(|| "the language is de or en".into())
}

fn zone(name: Option<&str>) -> Result<TimeZone> {
    match name {
        Some(name) => TimeZone::get(name).with_context(|| format!("unknown time zone {name}")),
        None => Ok(TimeZone::system()),
    }
}

fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

impl Output {
    fn format(&self) -> Result<ReceiptFormat> {
        Ok(ReceiptFormat {
            width: self.width,
            code_page: self.code_page,
            language: self.lang,
            time_zone: zone(self.time_zone.as_deref())?,
        })
    }

    /// Prints `receipt` (or shows it) and waits until the printer took it.
    fn emit(&self, receipt: &Receipt, title: &str) -> Result<()> {
        if self.preview {
            print!("{}", receipt.preview());
            return Ok(());
        }
        let Some(printer) = &self.printer else {
            bail!("--printer or --preview is needed");
        };
        let queue = PrintQueue::start(printer.clone(), QueueOptions::default())?;
        let job = queue.print_report(receipt, title)?;
        let Some(done) = queue.wait_for(job, Duration::from_secs(30)) else {
            let status = queue.status();
            bail!(
                "the printer did not take the job within 30 s ({:?}: {})",
                status.status,
                status.last_error.unwrap_or_default()
            );
        };
        match done.state {
            JobState::Sent => {
                println!("printed on {printer}");
                Ok(())
            }
            other => bail!("not printed: {other:?}"),
        }
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::TestReceipt(output) => {
            let receipt = tapster_print::sample::test_receipt(&output.format()?, now())?;
            output.emit(&receipt, "test receipt")
        }
        Command::Receipt {
            db,
            entry,
            copy,
            output,
        } => {
            let ledger = LedgerReader::open(&db)
                .with_context(|| format!("cannot open ledger {}", db.display()))?;
            let stored = ledger
                .entry(&entry)?
                .with_context(|| format!("entry {entry} is not in {}", db.display()))?;
            let cancelled = match stored.reverses {
                Some(original) => ledger.entry(&original)?,
                None => None,
            };
            let ctx = ReceiptContext::for_entry(&ledger, &stored)?;
            let receipt = entry_receipt(
                &EntryReceipt {
                    entry: &stored,
                    cancelled: cancelled.as_ref(),
                    copy,
                    fiscal: None,
                },
                &ctx,
                &output.format()?,
            )?;
            output.emit(&receipt, &format!("receipt #{}", stored.sequence))
        }
        Command::ZReport {
            db,
            shift,
            pdf,
            output,
        } => {
            let ledger = LedgerReader::open(&db)
                .with_context(|| format!("cannot open ledger {}", db.display()))?;
            let report = ledger.shift_report(&shift)?;
            let settings = ledger.settings()?;
            if let Some(path) = pdf {
                let heading = ReportHeading {
                    event_name: settings.name,
                    currency: settings.currency,
                    generated_at: now(),
                    filter: Vec::new(),
                    language: output.lang,
                    time_zone: zone(output.time_zone.as_deref())?,
                };
                std::fs::write(&path, z_report_pdf(&report, heading)?)?;
                println!("wrote {}", path.display());
                return Ok(());
            }
            let ctx = ReceiptContext {
                event_name: settings.name,
                currency: settings.currency,
                ..ReceiptContext::default()
            };
            let receipt = z_report_receipt(&report, &ctx, &output.format()?)?;
            output.emit(&receipt, "Z report")
        }
        Command::Drawer { printer } => {
            let queue = PrintQueue::start(printer.clone(), QueueOptions::default())?;
            let job = queue.open_drawer();
            match queue
                .wait_for(job, Duration::from_secs(15))
                .map(|j| j.state)
            {
                Some(JobState::Sent) => {
                    println!("drawer opened on {printer}");
                    Ok(())
                }
                other => bail!("the drawer was not opened: {other:?}"),
            }
        }
        Command::Status { printer } => {
            let mut connection = connect(&printer, Timeouts::default())
                .with_context(|| format!("{printer} cannot be reached"))?;
            println!("{:?}", connection.status());
            Ok(())
        }
        Command::Report {
            db,
            from,
            until,
            terminal,
            staff,
            pdf,
            csv,
            comma,
            lang,
            time_zone,
        } => {
            if pdf.is_none() && csv.is_none() {
                bail!("say where to write it: --pdf FILE and/or --csv FILE");
            }
            let ledger = LedgerReader::open(&db)
                .with_context(|| format!("cannot open ledger {}", db.display()))?;
            let settings = ledger.settings()?;
            let t = lang.texts();
            let mut described = Vec::new();
            if let Some(id) = &terminal {
                let name = ledger
                    .terminal(id)
                    .map_or_else(|_| id.to_string(), |t| t.friendly_name);
                described.push((t.terminal.to_string(), name));
            }
            if let Some(id) = &staff {
                let name = ledger
                    .staff()?
                    .into_iter()
                    .find(|s| &s.id == id)
                    .map_or_else(|| id.to_string(), |s| s.name);
                described.push((t.cashier.to_string(), name));
            }
            let filter = ReportFilter {
                from: from.map(|at| Timestamp(at.as_millisecond())),
                until: until.map(|at| Timestamp(at.as_millisecond())),
                terminal,
                staff,
                shift: None,
            };
            let report = ledger.sales_report(&filter)?;
            if let Some(path) = pdf {
                let heading = ReportHeading {
                    event_name: settings.name.clone(),
                    currency: settings.currency.clone(),
                    generated_at: now(),
                    filter: described,
                    language: lang,
                    time_zone: zone(time_zone.as_deref())?,
                };
                std::fs::write(&path, sales_report_pdf(&report, heading)?)?;
                println!("wrote {}", path.display());
            }
            if let Some(path) = csv {
                let style = if comma {
                    CsvStyle::Comma
                } else {
                    CsvStyle::Semicolon
                };
                std::fs::write(
                    &path,
                    sales_report_csv(
                        &report,
                        lang,
                        style,
                        &settings.currency,
                        &zone(time_zone.as_deref())?,
                    ),
                )?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
    }
}
