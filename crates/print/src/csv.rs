//! The sales report's tables as CSV.
//!
//! The default suits spreadsheets set to German: `;` between fields, a
//! decimal comma, and a UTF-8 byte order mark so umlauts and € open right
//! with a double click. [`CsvStyle::Comma`] writes `,` and decimal points.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use tapster_ledger::store::{AmountRow, SalesReport};
use tapster_ledger::Cents;

use crate::i18n::Language;
use crate::layouts::{category_name, kind_or_tender_label};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvStyle {
    /// `;`, decimal comma, UTF-8 BOM.
    #[default]
    Semicolon,
    /// `,`, decimal point, no BOM.
    Comma,
}

impl CsvStyle {
    fn separator(self) -> char {
        match self {
            CsvStyle::Semicolon => ';',
            CsvStyle::Comma => ',',
        }
    }

    /// Amounts without thousands separators, so spreadsheets read numbers.
    pub fn amount(self, amount: Cents) -> String {
        let sign = if amount.is_negative() { "-" } else { "" };
        let abs = amount.0.unsigned_abs();
        let decimal = match self {
            CsvStyle::Semicolon => ',',
            CsvStyle::Comma => '.',
        };
        format!("{sign}{}{decimal}{:02}", abs / 100, abs % 100)
    }
}

struct Writer {
    out: String,
    style: CsvStyle,
}

impl Writer {
    fn field(&self, value: &str) -> String {
        let needs_quotes = value.contains(self.style.separator())
            || value.contains('"')
            || value.contains('\n')
            || value.contains('\r');
        // Text starting with =, +, -, @, tab or CR would run as a formula
        // in a spreadsheet; numbers (amounts, counts) stay numbers.
        let is_number = {
            let digits = value.strip_prefix('-').unwrap_or(value);
            !digits.is_empty()
                && digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        };
        let value = match value.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_number => format!("'{value}"),
            _ => value.to_string(),
        };
        if needs_quotes {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value
        }
    }

    fn row(&mut self, cells: &[String]) {
        let separator = self.style.separator().to_string();
        let line: Vec<String> = cells.iter().map(|c| self.field(c)).collect();
        self.out.push_str(&line.join(&separator));
        self.out.push_str("\r\n");
    }
}

/// One table as CSV in `style`: the first row is the header. Text that a
/// spreadsheet would run as a formula is defused.
pub fn table(style: CsvStyle, rows: &[Vec<String>]) -> String {
    let mut w = Writer {
        out: String::new(),
        style,
    };
    if style == CsvStyle::Semicolon {
        w.out.push('\u{FEFF}');
    }
    for row in rows {
        w.row(row);
    }
    w.out
}

/// The report as CSV: one section per table, each with a title row, a
/// header row and its rows, separated by blank lines. Money columns are in
/// the report's currency, as numbers.
pub fn sales_report_csv(
    report: &SalesReport,
    language: Language,
    style: CsvStyle,
    currency: &str,
    time_zone: &TimeZone,
) -> String {
    let t = language.texts();
    let mut w = Writer {
        out: String::new(),
        style,
    };
    if style == CsvStyle::Semicolon {
        w.out.push('\u{FEFF}');
    }
    let money = |amount: Cents| style.amount(amount);
    let gross = format!("{} ({currency})", t.gross);
    let amount = format!("{} ({currency})", t.amount);

    w.row(&[t.sales_report.into()]);
    w.row(&[t.sales.into(), report.sales_count.to_string()]);
    w.row(&[format!("{} ({currency})", t.revenue), money(report.revenue)]);
    w.row(&[format!("{} ({currency})", t.net), money(report.revenue_net)]);
    w.row(&[format!("{} ({currency})", t.vat), money(report.vat_total)]);

    w.out.push_str("\r\n");
    w.row(&[t.vat.into()]);
    w.row(&[
        format!("{} (%)", t.rate),
        format!("{} ({currency})", t.net),
        format!("{} ({currency})", t.vat),
        gross.clone(),
    ]);
    for row in &report.by_vat_rate {
        w.row(&[
            style.amount(Cents(i64::from(row.rate.0))),
            money(row.net),
            money(row.vat),
            money(row.gross),
        ]);
    }

    w.out.push_str("\r\n");
    w.row(&[t.products.into()]);
    w.row(&[
        t.product.into(),
        t.category.into(),
        t.quantity.into(),
        gross.clone(),
    ]);
    for row in &report.by_product {
        w.row(&[
            row.name.clone(),
            category_name(report, &row.category),
            row.quantity.to_string(),
            money(row.gross),
        ]);
    }

    w.out.push_str("\r\n");
    w.row(&[t.by_hour.into()]);
    w.row(&[t.hour.into(), t.sales.into(), gross]);
    for row in &report.by_hour {
        // The hour in the event's time zone, as the PDF shows it.
        let hour = jiff::Timestamp::from_millisecond(row.hour_start.0).map_or_else(
            |_| row.hour_start.0.to_string(),
            |at| {
                at.to_zoned(time_zone.clone())
                    .strftime("%Y-%m-%d %H:00")
                    .to_string()
            },
        );
        w.row(&[hour, row.sales.to_string(), money(row.gross)]);
    }

    let sections: [(&str, &[AmountRow]); 6] = [
        (t.categories, &report.by_category),
        (t.by_cashier, &report.by_staff),
        (t.by_terminal, &report.by_terminal),
        (t.sales_by_tender, &report.sales_by_tender),
        (t.top_ups, &report.top_ups_by_tender),
        (t.cancellations, &report.cancellations),
    ];
    for (title, rows) in sections {
        w.out.push_str("\r\n");
        w.row(&[title.into()]);
        w.row(&["".into(), t.count.into(), amount.clone()]);
        for row in rows {
            w.row(&[
                kind_or_tender_label(t, &row.key, &row.label),
                row.count.to_string(),
                money(row.amount),
            ]);
        }
    }

    w.out.push_str("\r\n");
    w.row(&[format!("{} / {}", t.deposit, t.payouts)]);
    w.row(&["".into(), t.count.into(), amount]);
    for (label, row) in [
        (t.deposits_issued, report.deposits_issued),
        (t.deposits_returned, report.deposits_returned),
        (t.payouts, report.payouts),
        (t.vouchers_credited, report.vouchers_credited),
        (t.promo_spent, report.promo_spent),
    ] {
        w.row(&[label.into(), row.count.to_string(), money(row.amount)]);
    }
    w.out
}

/// A vendor's settlement as CSV: the figures, VAT per rate, then every
/// line (time, transaction, terminal, product, quantity, unit price, VAT,
/// gross, cancellation) so the vendor can check it line by line.
pub fn settlement_csv(
    vendor_name: &str,
    settlement: &tapster_ledger::settlement::Settlement,
    lines: &[tapster_ledger::settlement::VendorLine],
    language: Language,
    style: CsvStyle,
    currency: &str,
    time_zone: &TimeZone,
) -> Result<String, tapster_ledger::LedgerError> {
    let t = language.texts();
    let mut w = Writer {
        out: String::new(),
        style,
    };
    if style == CsvStyle::Semicolon {
        w.out.push('\u{FEFF}');
    }
    let money = |amount: Cents| style.amount(amount);
    let cur = |label: &str| format!("{label} ({currency})");
    w.row(&[t.settlement.into(), vendor_name.into()]);
    w.row(&[cur(t.sales), money(settlement.sales)]);
    w.row(&[cur(t.cancellations), money(settlement.cancellations)]);
    w.row(&[cur(t.gross), money(settlement.gross)]);
    w.row(&[
        format!("{} (%)", t.commission),
        style.amount(Cents(settlement.commission_rate_bp)),
    ]);
    w.row(&[cur(t.commission), money(settlement.commission)]);
    w.row(&[cur(t.fixed_fee), money(settlement.fixed_fee)]);
    w.row(&[cur(t.payable), money(settlement.payable)]);

    w.out.push_str("\r\n");
    w.row(&[t.vat.into()]);
    w.row(&[
        format!("{} (%)", t.rate),
        cur(t.net),
        cur(t.vat),
        cur(t.gross),
    ]);
    for v in &settlement.vat {
        w.row(&[
            style.amount(Cents(i64::from(v.rate.0))),
            money(v.net),
            money(v.vat),
            money(v.gross),
        ]);
    }

    w.out.push_str("\r\n");
    w.row(&[t.lines_sold.into()]);
    w.row(&[
        t.time.into(),
        t.transaction.into(),
        t.terminal.into(),
        t.product.into(),
        t.quantity.into(),
        cur(t.unit_price),
        format!("{} (%)", t.vat),
        cur(t.gross),
        t.kind_cancel.into(),
    ]);
    for line in lines {
        w.row(&[
            language.date_time(tapster_ledger::Timestamp(line.at), time_zone),
            line.transaction_id.clone(),
            line.terminal_id.clone().unwrap_or_default(),
            line.name.clone(),
            line.quantity.to_string(),
            money(line.unit_price),
            style.amount(Cents(i64::from(line.vat_rate.0))),
            money(line.gross()?),
            if line.cancellation { "1" } else { "0" }.into(),
        ]);
    }
    Ok(w.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapster_ledger::store::ProductRow;

    fn report() -> SalesReport {
        SalesReport {
            sales_count: 2,
            revenue: Cents(1_234_50),
            by_product: vec![ProductRow {
                product: "wine".into(),
                name: "Weißwein; \"trocken\"".into(),
                category: "wine".into(),
                quantity: 3,
                gross: Cents(18_00),
            }],
            ..SalesReport::default()
        }
    }

    #[test]
    fn german_csv_has_a_bom_semicolons_and_decimal_commas() {
        let csv = sales_report_csv(
            &report(),
            Language::De,
            CsvStyle::Semicolon,
            "EUR",
            &TimeZone::UTC,
        );
        assert!(csv.starts_with('\u{FEFF}'));
        assert!(csv.contains("Umsatz (EUR);1234,50\r\n"), "{csv}");
        assert!(
            csv.contains("\"Weißwein; \"\"trocken\"\"\";wine;3;18,00\r\n"),
            "{csv}"
        );
    }

    #[test]
    fn comma_csv_has_decimal_points_and_no_bom() {
        let csv = sales_report_csv(
            &report(),
            Language::En,
            CsvStyle::Comma,
            "EUR",
            &TimeZone::UTC,
        );
        assert!(!csv.starts_with('\u{FEFF}'));
        assert!(csv.contains("Revenue (EUR),1234.50\r\n"), "{csv}");
        assert!(csv.contains("Weißwein; \"\"trocken\"\""), "{csv}");
    }

    #[test]
    fn a_table_is_quoted_and_defused_in_both_styles() {
        let rows = vec![
            vec!["name".to_string(), "amount".to_string()],
            vec![
                "=HYPERLINK(\"x\")".to_string(),
                CsvStyle::Comma.amount(Cents(-1250)),
            ],
        ];
        assert_eq!(
            table(CsvStyle::Comma, &rows),
            "name,amount\r\n\"'=HYPERLINK(\"\"x\"\")\",-12.50\r\n"
        );
        assert!(table(CsvStyle::Semicolon, &rows).starts_with("\u{FEFF}name;amount\r\n"));
    }

    #[test]
    fn formulas_are_defused() {
        let w = Writer {
            out: String::new(),
            style: CsvStyle::Semicolon,
        };
        assert_eq!(w.field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(w.field("-5"), "-5", "negative numbers stay numbers");
        assert_eq!(w.field("-12,50"), "-12,50");
        assert_eq!(w.field("-1+cmd|' /C calc'!A0"), "'-1+cmd|' /C calc'!A0");
        assert_eq!(w.field("@SUM(1)"), "'@SUM(1)");
    }
}
