//! What each receipt says: sale, top-up, cancellation, deposit return,
//! payout and adjustment slips from a ledger entry, the shift's Z (or X)
//! report, and a test receipt.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use tapster_fiscal::Signing;
use tapster_ledger::model::{Entry, EntryKind, Line, Tender};
use tapster_ledger::pricing::{lines_total, vat_breakdown};
use tapster_ledger::store::{AmountRow, SalesReport, ZReport};
use tapster_ledger::{Cents, LedgerError, LedgerReader, Timestamp};

use crate::document::{Align, PaperWidth, Receipt, ReceiptBuilder, Size, Style};
use crate::i18n::{Language, Texts};
use crate::text::CodePage;
use crate::PrintError;

/// How a terminal prints: paper, code page, language and the event's clock.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiptFormat {
    pub width: PaperWidth,
    pub code_page: CodePage,
    pub language: Language,
    pub time_zone: TimeZone,
}

impl Default for ReceiptFormat {
    fn default() -> Self {
        ReceiptFormat {
            width: PaperWidth::Mm80,
            code_page: CodePage::Wpc1252,
            language: Language::De,
            time_zone: TimeZone::system(),
        }
    }
}

/// The names around an entry that the entry itself only has ids for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptContext {
    pub event_name: String,
    pub currency: String,
    pub header: String,
    pub footer: String,
    /// The booth: the terminal's friendly name.
    pub terminal_name: String,
    pub cashier_name: String,
    /// How much of the wallet's balance after the entry is promo credit
    /// (vouchers), printed under it when there is any.
    pub promo_after: Option<Cents>,
    /// For the entry that settles a bill: the bill's payments, in order.
    #[serde(default)]
    pub payments: Vec<ReceiptPayment>,
}

/// One payment of a bill, as its receipt lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPayment {
    pub tender: Tender,
    /// The wristband, masked.
    pub wristband: Option<String>,
    pub amount: Cents,
    /// Cash handed over, when change went back.
    pub tendered: Option<Cents>,
    pub change: Cents,
    /// The card terminal's reference.
    pub reference: Option<String>,
}

impl ReceiptContext {
    /// The names for `entry` from the ledger it is stored in.
    pub fn for_entry(ledger: &LedgerReader, entry: &Entry) -> Result<ReceiptContext, PrintError> {
        let settings = ledger.settings()?;
        let terminal_name = ledger
            .terminal(&entry.terminal)
            .map(|t| t.friendly_name)
            .unwrap_or_else(|_| entry.terminal.to_string());
        let cashier_name = ledger
            .staff()?
            .into_iter()
            .find(|s| s.id == entry.staff)
            .map_or_else(|| entry.staff.to_string(), |s| s.name);
        Ok(ReceiptContext {
            event_name: settings.name,
            currency: settings.currency,
            header: settings.receipt_header,
            footer: settings.receipt_footer,
            terminal_name,
            cashier_name,
            // The wallet as this till knows it now, right after the entry.
            promo_after: entry
                .balance_after
                .and(entry.token.as_ref())
                .and_then(|token| ledger.wallet(token).ok().flatten())
                .map(|wallet| wallet.promo)
                .filter(|promo| promo.is_positive()),
            payments: if settles_bill(entry) {
                ledger
                    .bill_of_entry(&entry.id)?
                    .map(|bill| {
                        bill.payments
                            .iter()
                            .filter(|p| !p.cancelled)
                            .map(|p| ReceiptPayment {
                                tender: p.tender,
                                wristband: p.token.as_ref().map(|t| t.masked()),
                                amount: p.amount,
                                tendered: p.tendered.filter(|t| *t != p.amount),
                                change: p.change,
                                reference: p.reference.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            },
        })
    }
}

/// An entry's order: its lines without bill lines (what a bill's
/// payments paid is listed with them).
fn order_lines(entry: &Entry) -> Vec<Line> {
    entry
        .lines
        .iter()
        .filter(|l| l.bill.is_none())
        .cloned()
        .collect()
}

/// Whether an entry settles a bill (its order, paid by the bill's
/// payments): it has a negative bill line.
fn settles_bill(entry: &Entry) -> bool {
    entry
        .lines
        .iter()
        .any(|line| line.bill.is_some() && line.unit_price.is_negative())
}

/// A receipt for a ledger entry.
pub struct EntryReceipt<'a> {
    pub entry: &'a Entry,
    /// For a cancellation: the entry it cancels, to name its receipt number.
    pub cancelled: Option<&'a Entry>,
    /// Marked as a copy: a reprint.
    pub copy: bool,
    /// What the event's fiscal device answered (Germany's TSE): its block
    /// and QR code, or that it failed; none when the event signs nothing.
    pub fiscal: Option<&'a Signing>,
}

struct Writer<'a> {
    b: ReceiptBuilder,
    t: &'static Texts,
    format: &'a ReceiptFormat,
    currency: &'a str,
}

const BOLD_TALL: Style = Style {
    align: Align::Left,
    bold: true,
    size: Size::Tall,
    inverted: false,
};

impl<'a> Writer<'a> {
    fn new(format: &'a ReceiptFormat, currency: &'a str) -> Self {
        Writer {
            b: ReceiptBuilder::new(format.width, format.code_page),
            t: format.language.texts(),
            format,
            currency,
        }
    }

    fn money(&self, amount: Cents) -> String {
        self.format.language.money(amount, self.currency)
    }

    fn number(&self, amount: Cents) -> String {
        self.format.language.number(amount)
    }

    fn when(&self, at: Timestamp) -> String {
        self.format.language.date_time(at, &self.format.time_zone)
    }

    fn tender(&self, tender: Tender) -> &'static str {
        match tender {
            Tender::Wallet => self.t.wristband,
            Tender::Cash => self.t.cash,
            Tender::Card => self.t.card,
        }
    }

    fn header(&mut self, ctx: &ReceiptContext, copy: bool) {
        if copy {
            self.b.title(self.t.copy);
        }
        self.b.title(&ctx.event_name);
        self.b.paragraph(&ctx.header);
        self.b.centred(&ctx.terminal_name);
        self.b.rule(false);
    }

    fn entry_facts(&mut self, ctx: &ReceiptContext, entry: &Entry) {
        let (when, number) = (
            self.when(entry.terminal_time),
            format!("#{}", entry.sequence),
        );
        self.b
            .row(&when, &format!("{} {number}", self.t.receipt_no));
        self.b.row(
            &format!("{}: {}", self.t.cashier, ctx.cashier_name),
            &format!("{}: {}", self.t.terminal, entry.terminal),
        );
        self.b.rule(false);
    }

    /// `2 × Bier 0,5 l    9,00 €`, deposits marked, quantities as counts.
    fn lines(&mut self, lines: &[Line]) -> Result<(), PrintError> {
        // An order's bill line is what its payments paid: they are listed
        // under the total instead (a payment alone shows its bill line).
        let order = lines.iter().any(|l| l.bill.is_none());
        for line in lines.iter().filter(|l| !(order && l.bill.is_some())) {
            let total = line.total().ok_or(LedgerError::AmountOverflow)?;
            let name = if line.deposit {
                format!("{} ({})", line.name, self.t.deposit)
            } else if line.tip {
                self.t.tip.to_string()
            } else {
                line.name.clone()
            };
            let left = format!("{} × {name}", line.quantity);
            let right = self.money(total);
            self.b.row(&left, &right);
            if line.quantity.abs() > 1 {
                let unit = format!("    {} {}", self.t.each, self.money(line.unit_price));
                self.b.plain(&unit);
            }
        }
        Ok(())
    }

    fn total(&mut self, label: &str, amount: Cents) {
        self.b.rule(true);
        let (label, amount) = (label.to_string(), self.money(amount));
        self.b.row_styled(&label, &amount, BOLD_TALL);
    }

    fn vat_table(&mut self, lines: &[Line]) -> Result<(), PrintError> {
        let splits = vat_breakdown(lines)?;
        if splits.is_empty() {
            return Ok(());
        }
        self.b.rule(false);
        let rows: Vec<[String; 4]> = splits
            .iter()
            .map(|split| {
                [
                    self.format.language.vat_rate(split.rate),
                    self.number(split.net),
                    self.number(split.vat),
                    self.number(split.gross),
                ]
            })
            .collect();
        vat_rows(&mut self.b, self.t, &rows);
        Ok(())
    }

    fn payment(&mut self, entry: &Entry, promo_after: Option<Cents>) {
        // "Zahlart": money may go either way (sale, refund, payout).
        self.b.rule(false);
        let tender = match (&entry.token, entry.tender) {
            (Some(token), Tender::Wallet) => format!("{} {}", self.t.wristband, token.masked()),
            (_, tender) => self.tender(tender).to_string(),
        };
        self.b.row(&format!("{}:", self.t.paid_with), &tender);
        if let (Some(token), Tender::Cash | Tender::Card) = (&entry.token, entry.tender) {
            let band = format!("{} {}", self.t.wristband, token.masked());
            self.b.row("", &band);
        }
        if let Some(balance) = entry.balance_after {
            let balance = self.money(balance);
            self.b.row(&format!("{}:", self.t.balance_after), &balance);
            if let Some(promo) = promo_after {
                let promo = self.money(promo);
                self.b.row(&format!("  {}:", self.t.of_which_promo), &promo);
            }
        }
    }

    /// A bill's payments under its total: each tender with its amount,
    /// the cash given and the change, a card's reference.
    fn bill_payments(&mut self, payments: &[ReceiptPayment]) {
        self.b.rule(false);
        self.b.text(self.t.payments, bold());
        for payment in payments {
            let label = match (&payment.wristband, payment.tender) {
                (Some(band), _) => format!("{} {band}", self.t.wristband),
                (None, tender) => self.tender(tender).to_string(),
            };
            let amount = self.money(payment.amount);
            self.b.row(&label, &amount);
            if let Some(tendered) = payment.tendered {
                let given = format!("  {} {}", self.money(tendered), self.t.given);
                let change = self.money(payment.change);
                self.b.row(&given, "");
                self.b.row(&format!("  {}", self.t.change), &change);
            }
            if let Some(reference) = &payment.reference {
                self.b.row(&format!("  {}", self.t.reference), reference);
            }
        }
    }

    fn id_and_footer(&mut self, ctx: &ReceiptContext, entry: &Entry) {
        self.b.rule(false);
        self.b.feed(1);
        let id = entry.id.to_string();
        self.b.qr(&id);
        self.b.centred(&format!("{}:", self.t.receipt_id));
        for part in id_lines(&id, self.b.columns()) {
            self.b.centred(&part);
        }
        if !ctx.footer.trim().is_empty() {
            self.b.feed(1);
            self.b.paragraph(&ctx.footer);
        }
    }

    /// The TSE block (KassenSichV): transaction, counter, times, serial,
    /// till, signature, and the QR code of DSFinV-K Anhang I; or the
    /// outage.
    fn fiscal(&mut self, signing: &Signing) {
        let t = self.t;
        self.b.rule(false);
        let Signing::Signed(signed) = signing else {
            self.b.text(
                t.tse_outage,
                Style {
                    align: Align::Centre,
                    bold: true,
                    size: Size::Normal,
                    inverted: false,
                },
            );
            return;
        };
        self.b.centred(t.tse);
        if !signed.certified {
            self.b.centred(t.tse_not_certified);
        }
        // The TSE counts in Unix seconds.
        let start = self.when(Timestamp(signed.time_start.saturating_mul(1000)));
        let end = self.when(Timestamp(signed.time_end.saturating_mul(1000)));
        self.b.row(t.tse_transaction, &signed.number.to_string());
        self.b
            .row(t.tse_counter, &signed.signature_counter.to_string());
        self.b.row(t.tse_start, &start);
        self.b.row(t.tse_end, &end);
        let columns = self.b.columns();
        for (label, value) in [
            (t.tse_till.to_string(), &signed.client_serial),
            (t.tse_serial.to_string(), &signed.tss_serial),
            (
                format!("{} ({})", t.tse_signature, signed.algorithm),
                &signed.signature,
            ),
        ] {
            self.b.plain(&format!("{label}:"));
            for part in text_chunks(value, columns) {
                self.b.plain(&part);
            }
        }
        self.b.feed(1);
        self.b.qr(&tapster_fiscal::qr::qr_text(signed));
    }

    fn signature(&mut self) {
        self.b.feed(3);
        self.b.plain(&"_".repeat(self.b.columns()));
        self.b.plain(self.t.signature);
    }
}

/// The VAT table: rate, net, VAT, gross in columns with a space between
/// them; when a figure is too wide for its column (58 mm paper, big sums),
/// each rate is printed as a small block of label/amount rows instead, so
/// no figure is ever cut.
fn vat_rows(b: &mut ReceiptBuilder, t: &Texts, rows: &[[String; 4]]) {
    const SHARES: [usize; 4] = [2, 3, 3, 3];
    let header = [t.rate, t.net, t.vat, t.gross];
    let fits = rows
        .iter()
        .all(|cells| b.table_fits(&cells.each_ref().map(String::as_str), &SHARES));
    if fits {
        b.table(&header, &SHARES);
        for cells in rows {
            b.table(&cells.each_ref().map(String::as_str), &SHARES);
        }
        return;
    }
    for cells in rows {
        b.plain(&format!("{} {}", t.vat, cells[0]));
        for (label, value) in header.iter().zip(cells).skip(1) {
            b.row(&format!("  {label}"), value);
        }
    }
}

/// A UUID on one line, or split after its fourth hyphen when the paper is
/// narrower than 36 columns (never cut inside a group).
/// `text` cut into lines of `columns` characters (a signature, a serial).
fn text_chunks(text: &str, columns: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(columns.max(1))
        .map(|chunk| chunk.iter().collect())
        .collect()
}

fn id_lines(id: &str, columns: usize) -> Vec<String> {
    if id.chars().count() <= columns {
        return vec![id.to_string()];
    }
    match id.rmatch_indices('-').next() {
        Some((at, _)) => vec![id[..=at].to_string(), id[at + 1..].to_string()],
        None => vec![id.to_string()],
    }
}

/// The receipt of a ledger entry, by its kind.
pub fn entry_receipt(
    what: &EntryReceipt<'_>,
    ctx: &ReceiptContext,
    format: &ReceiptFormat,
) -> Result<Receipt, PrintError> {
    let entry = what.entry;
    let mut w = Writer::new(format, &ctx.currency);
    let t = w.t;
    w.header(ctx, what.copy);
    match entry.kind {
        EntryKind::Sale => {}
        EntryKind::TopUp => {
            w.b.title(t.top_up);
        }
        EntryKind::Cancel => {
            w.b.text(
                t.cancellation,
                Style {
                    align: Align::Centre,
                    bold: true,
                    size: Size::Tall,
                    inverted: true,
                },
            );
            let original = match what.cancelled {
                Some(original) => format!("#{}", original.sequence),
                None => entry.reverses.map(|id| id.to_string()).unwrap_or_default(),
            };
            w.b.centred(&format!("{} {original}", t.cancels_receipt));
        }
        EntryKind::DepositReturn => {
            w.b.title(t.deposit_return);
        }
        EntryKind::Payout => {
            w.b.title(t.payout);
        }
        EntryKind::Adjustment => {
            w.b.title(t.adjustment);
        }
    }
    w.entry_facts(ctx, entry);
    match entry.kind {
        EntryKind::Sale if settles_bill(entry) => {
            w.lines(&entry.lines)?;
            w.total(t.total, lines_total(&order_lines(entry))?);
            w.vat_table(&entry.lines)?;
            w.bill_payments(&ctx.payments);
        }
        EntryKind::Sale => {
            w.lines(&entry.lines)?;
            // What the guest pays: the debit, seen from the guest, negated.
            let paid = entry
                .amount
                .checked_neg()
                .ok_or(LedgerError::AmountOverflow)?;
            w.total(t.total, paid);
            w.vat_table(&entry.lines)?;
        }
        EntryKind::Cancel => {
            // Lines, total and VAT as reversed (negative for a cancelled
            // sale); then what the cancellation did for the guest.
            let order = order_lines(entry);
            if !entry.lines.is_empty() {
                w.lines(&entry.lines)?;
                let shown = if order.is_empty() {
                    &entry.lines
                } else {
                    &order
                };
                w.total(t.total, lines_total(shown)?);
                w.vat_table(&entry.lines)?;
            }
            // A bill's sale moved no money itself: its payments come back
            // (each with its own reversal), the order's total in all.
            let moved = match what.cancelled {
                Some(original) if settles_bill(original) => lines_total(&order)?,
                _ => entry.amount,
            };
            let label = if moved.is_negative() && !what.cancelled.is_some_and(settles_bill) {
                t.taken_back
            } else {
                t.refunded
            };
            let amount = moved.0.checked_abs().ok_or(LedgerError::AmountOverflow)?;
            let amount = w.money(Cents(amount));
            w.b.rule(true);
            w.b.row_styled(label, &amount, BOLD_TALL);
        }
        EntryKind::DepositReturn => {
            let lines: Vec<Line> = entry
                .lines
                .iter()
                .map(|line| Line {
                    // Cups handed back, counted as such.
                    quantity: line.quantity.abs(),
                    unit_price: line.unit_price,
                    ..line.clone()
                })
                .collect();
            w.lines(&lines)?;
            let label = if entry.tender == Tender::Wallet {
                t.credited
            } else {
                t.paid_out
            };
            w.total(label, entry.amount);
        }
        EntryKind::TopUp => {
            w.total(t.topped_up, entry.amount);
        }
        EntryKind::Payout => {
            let paid_out = entry
                .amount
                .checked_neg()
                .ok_or(LedgerError::AmountOverflow)?;
            w.total(t.paid_out, paid_out);
        }
        EntryKind::Adjustment => {
            w.total(t.amount, entry.amount);
        }
    }
    if !settles_bill(entry) {
        w.payment(entry, ctx.promo_after);
    }
    if entry.kind == EntryKind::Payout {
        w.signature();
    }
    if let Some(signing) = what.fiscal {
        w.fiscal(signing);
    }
    w.id_and_footer(ctx, entry);
    // A copy never opens the drawer again.
    w.b.open_drawer(entry.tender == Tender::Cash && !what.copy);
    Ok(w.b.build())
}

/// The shift report: Z when the shift is closed, X (interim) while open.
pub fn z_report_receipt(
    report: &ZReport,
    ctx: &ReceiptContext,
    format: &ReceiptFormat,
) -> Result<Receipt, PrintError> {
    let mut w = Writer::new(format, &ctx.currency);
    let t = w.t;
    w.b.title(&ctx.event_name);
    w.b.centred(&report.terminal_name);
    match &report.shift.closed {
        Some(close) => w.b.title(&format!("{} #{}", t.z_report, close.z_number)),
        None => w.b.title(t.x_report),
    };
    w.b.rule(false);
    w.b.row(&format!("{}:", t.cashier), &report.staff_name);
    let opened = w.when(report.shift.opened_at);
    w.b.row(&format!("{}:", t.opened), &opened);
    if let Some(close) = &report.shift.closed {
        let closed = w.when(close.closed_at);
        w.b.row(&format!("{}:", t.closed), &closed);
    }
    if let Some(closer) = &report.closed_by_name {
        w.b.row(&format!("{}:", t.closed_by), closer);
    }
    let sales = &report.sales;
    w.b.rule(true);
    w.b.row(&format!("{}:", t.sales), &sales.sales_count.to_string());
    let revenue = w.money(sales.revenue);
    w.b.row_styled(&format!("{}:", t.revenue), &revenue, BOLD_TALL);
    if !sales.by_vat_rate.is_empty() {
        w.b.rule(false);
        let rows: Vec<[String; 4]> = sales
            .by_vat_rate
            .iter()
            .map(|row| {
                [
                    format.language.vat_rate(row.rate),
                    w.number(row.net),
                    w.number(row.vat),
                    w.number(row.gross),
                ]
            })
            .collect();
        vat_rows(&mut w.b, t, &rows);
    }
    if !sales.by_product.is_empty() {
        w.b.rule(false);
        w.b.text(t.products, bold());
        for row in &sales.by_product {
            let right = w.money(row.gross);
            w.b.row(&format!("{} × {}", row.quantity, row.name), &right);
        }
    }
    amount_section(&mut w, t.sales_by_tender, &sales.sales_by_tender);
    amount_section(&mut w, t.top_ups, &sales.top_ups_by_tender);
    amount_section(&mut w, t.cancellations, &sales.cancellations);
    w.b.rule(false);
    for (label, row) in [
        (t.deposits_issued, sales.deposits_issued),
        (t.deposits_returned, sales.deposits_returned),
        (t.payouts, sales.payouts),
    ] {
        let right = format!("{} / {}", row.count, w.money(row.amount));
        w.b.row(label, &right);
    }
    if report.tips.0 != 0 {
        let tips = w.money(report.tips);
        w.b.row(&format!("{}:", t.tip), &tips);
    }
    w.b.rule(true);
    let cash_rows = [
        (t.float, Some(report.float)),
        (t.cash_movements, Some(report.cash_movements)),
        (t.expected_cash, Some(report.expected_cash)),
        (t.counted_cash, report.counted_cash),
    ];
    for (label, amount) in cash_rows {
        if let Some(amount) = amount {
            let right = w.money(amount);
            w.b.row(&format!("{label}:"), &right);
        }
    }
    if let Some(difference) = report.difference {
        let right = w.money(difference);
        w.b.row_styled(&format!("{}:", t.difference), &right, BOLD_TALL);
    }
    w.b.rule(false);
    w.b.centred(&format!("{} {}", t.shift, report.shift.id));
    Ok(w.b.build())
}

fn bold() -> Style {
    Style {
        bold: true,
        ..Style::PLAIN
    }
}

fn amount_section(w: &mut Writer<'_>, title: &str, rows: &[AmountRow]) {
    if rows.is_empty() {
        return;
    }
    w.b.rule(false);
    w.b.text(title, bold());
    for row in rows {
        let label = kind_or_tender_label(w.t, &row.key, &row.label);
        let right = format!("{} / {}", row.count, w.money(row.amount));
        w.b.row(&label, &right);
    }
}

/// A report's name for a category id (from its category table).
pub(crate) fn category_name(report: &SalesReport, key: &str) -> String {
    report
        .by_category
        .iter()
        .find(|c| c.key == key && !c.label.is_empty())
        .map_or_else(|| key.to_string(), |c| c.label.clone())
}

/// Report rows keyed by tender or entry kind get the printed word for it.
pub(crate) fn kind_or_tender_label(t: &Texts, key: &str, label: &str) -> String {
    match key {
        "wallet" => t.wristband.into(),
        "cash" => t.cash.into(),
        "card" => t.card.into(),
        "sale" => t.kind_sale.into(),
        "top_up" => t.kind_top_up.into(),
        "deposit_return" => t.kind_deposit_return.into(),
        "payout" => t.kind_payout.into(),
        "adjustment" => t.kind_adjustment.into(),
        "cancel" => t.kind_cancel.into(),
        _ if label.is_empty() => key.into(),
        _ => label.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample_sale;
    use crate::text;
    use tapster_ledger::model::Tender;

    fn format(width: PaperWidth) -> ReceiptFormat {
        ReceiptFormat {
            width,
            code_page: CodePage::Wpc1252,
            language: Language::De,
            time_zone: TimeZone::UTC,
        }
    }

    fn receipt_of(entry: &Entry, width: PaperWidth) -> Receipt {
        let ctx = ReceiptContext {
            event_name: "Fest".into(),
            currency: "EUR".into(),
            ..ReceiptContext::default()
        };
        let what = EntryReceipt {
            entry,
            cancelled: None,
            copy: false,
            fiscal: None,
        };
        entry_receipt(&what, &ctx, &format(width)).unwrap()
    }

    #[test]
    fn a_cancelled_sale_shows_reversed_lines_and_the_refund() {
        let mut cancel = sample_sale(Timestamp(0));
        cancel.kind = EntryKind::Cancel;
        cancel.amount = Cents(26_50);
        for line in &mut cancel.lines {
            line.quantity = -line.quantity;
        }
        let text = receipt_of(&cancel, PaperWidth::Mm80).preview();
        assert!(text.contains("*** STORNO ***"), "{text}");
        assert!(text.contains("-2 × Bier 0,5 l"), "{text}");
        assert!(
            text.contains("SUMME") && text.contains("-26,50 €"),
            "{text}"
        );
        assert!(
            text.contains("Erstattet") && text.contains(" 26,50 €"),
            "{text}"
        );
        assert!(text.contains("-2,55"), "VAT reversed too:\n{text}");
    }

    #[test]
    fn a_cancelled_cash_top_up_says_the_money_was_taken_back() {
        let mut cancel = sample_sale(Timestamp(0));
        cancel.kind = EntryKind::Cancel;
        cancel.lines.clear();
        cancel.tender = Tender::Cash;
        cancel.amount = Cents(-50_00);
        let receipt = receipt_of(&cancel, PaperWidth::Mm58);
        let text = receipt.preview();
        assert!(
            text.contains("Zurückgebucht") && text.contains("50,00 €"),
            "{text}"
        );
        assert!(!text.contains("-50,00"), "{text}");
        assert!(receipt.open_drawer, "cash moves: the drawer opens");
    }

    #[test]
    fn big_vat_figures_on_58_mm_are_never_cut() {
        let mut sale = sample_sale(Timestamp(0));
        sale.lines[0].quantity = 2_469;
        sale.amount = Cents(-(2_469 * 5_00 + 6_00 + 4_50 + 6_00));
        let receipt = receipt_of(&sale, PaperWidth::Mm58);
        let text = receipt.preview();
        let gross = Language::De.number(Cents(2_469 * 5_00 + 6_00));
        assert!(text.contains(&gross), "{gross} missing or cut:\n{text}");
        for line in receipt.lines() {
            assert!(text::columns(line) <= 32, "{line:?}");
        }
        // 80 mm still has room for the columns.
        let wide = receipt_of(&sale, PaperWidth::Mm80).preview();
        assert!(wide.contains("Satz") && wide.contains(&gross), "{wide}");
    }

    #[test]
    fn a_copy_never_opens_the_drawer() {
        let mut cash = sample_sale(Timestamp(0));
        cash.tender = Tender::Cash;
        cash.token = None;
        assert!(receipt_of(&cash, PaperWidth::Mm80).open_drawer);
        let ctx = ReceiptContext::default();
        let copy = EntryReceipt {
            entry: &cash,
            cancelled: None,
            copy: true,
            fiscal: None,
        };
        let receipt = entry_receipt(&copy, &ctx, &format(PaperWidth::Mm80)).unwrap();
        assert!(!receipt.open_drawer);
        assert!(receipt.preview().contains("KOPIE"));
    }

    #[test]
    fn ids_split_between_groups_on_narrow_paper() {
        let id = "0192f3a4-5b6c-7d8e-9f00-1a2b3c4d5e6f";
        assert_eq!(id_lines(id, 48), [id]);
        assert_eq!(
            id_lines(id, 32),
            ["0192f3a4-5b6c-7d8e-9f00-", "1a2b3c4d5e6f"]
        );
    }
}
