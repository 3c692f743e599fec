//! # tapster-print
//!
//! Receipts for thermal ESC/POS printers and reports for managers.
//!
//! - [`text`]: code pages (€ and umlauts as Windows-1252 bytes) and columns.
//! - [`i18n`]: German and English words, money and dates.
//! - [`document`]: a receipt laid out for 58 or 80 mm paper; also a preview.
//! - [`layouts`]: sale, top-up, cancellation, deposit return, payout, Z report.
//! - [`sample`]: the test receipt.
//! - [`escpos`]: a receipt as ESC/POS bytes (the `escpos` crate), drawer kick.
//! - [`printer`]: printer addresses (tcp, file, serial, usb), sending, status.
//! - [`queue`]: the print queue that retries and never blocks a sale.
//! - [`pdf`]: sales and Z reports as PDF (the `printpdf` crate).
//! - [`csv`]: the same tables as CSV.
//! - [`passes`]: QR passes (vouchers, discounts, staff allowances) as PNG
//!   and as A4 sheets of cards to cut out.

pub mod csv;
pub mod document;
pub mod escpos;
pub mod i18n;
pub mod layouts;
pub mod passes;
pub mod pdf;
pub mod printer;
pub mod queue;
pub mod sample;
pub mod text;

pub use document::{PaperWidth, Receipt};
pub use i18n::Language;
pub use layouts::{entry_receipt, z_report_receipt, EntryReceipt, ReceiptContext, ReceiptFormat};
pub use passes::{
    describe_benefit, describe_benefit_named, describe_window, pass_png, pass_sheet_pdf, PassPrint,
};
pub use printer::{PrinterStatus, PrinterUri};
pub use queue::{JobId, JobInfo, JobState, PrintQueue, QueueOptions, QueueStatus};
pub use text::CodePage;

use serde::Serialize;
use tapster_ledger::LedgerError;

/// What can go wrong when printing or exporting, in words a cashier or
/// manager can act on.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("printer address '{uri}' is not valid: {reason}")]
    BadPrinterUri { uri: String, reason: String },
    #[error("the receipt could not be prepared: {0}")]
    Render(String),
    #[error("the report could not be written: {0}")]
    Report(String),
    #[error("print job {0} is not in the list any more")]
    UnknownJob(u64),
    #[error("entry {0} is not in this ledger")]
    UnknownEntry(String),
    #[error("the pass cannot be printed: {0}")]
    BadPass(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("the file could not be written: {0}")]
    Io(#[from] std::io::Error),
}

impl PrintError {
    /// A stable code per kind of error, for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::BadPrinterUri { .. } => "bad_printer_uri",
            PrintError::Render(_) => "render_failed",
            PrintError::Report(_) => "report_failed",
            PrintError::UnknownJob(_) => "unknown_job",
            PrintError::UnknownEntry(_) => "unknown_entry",
            PrintError::BadPass(_) => "bad_pass",
            PrintError::Ledger(e) => e.code(),
            PrintError::Io(_) => "io",
        }
    }
}

impl Serialize for PrintError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("PrintError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}
