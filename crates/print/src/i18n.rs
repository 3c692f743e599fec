//! German and English: the printed words, money and dates.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use tapster_ledger::{Cents, Timestamp, VatRate};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    De,
    En,
}

impl Language {
    pub fn parse(value: &str) -> Option<Language> {
        match value.to_ascii_lowercase().as_str() {
            "de" | "de-de" | "german" | "deutsch" => Some(Language::De),
            "en" | "en-gb" | "en-us" | "english" => Some(Language::En),
            _ => None,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Language::De => &DE,
            Language::En => &EN,
        }
    }

    /// `1.234,50 €` in German, `€1,234.50` in English.
    pub fn money(self, amount: Cents, currency: &str) -> String {
        let number = self.number(amount);
        let (sign, digits) = match number.strip_prefix('-') {
            Some(rest) => ("-", rest.to_string()),
            None => ("", number),
        };
        match (self, currency_symbol(currency)) {
            (Language::De, Some(symbol)) => format!("{sign}{digits} {symbol}"),
            (Language::En, Some(symbol)) => format!("{sign}{symbol}{digits}"),
            (_, None) => format!("{sign}{digits} {currency}"),
        }
    }

    /// A count with thousands separators: `100.000` / `100,000`.
    pub fn count(self, value: i64) -> String {
        let number = self.number(Cents(value.saturating_mul(100)));
        let cut = number.len() - 3;
        number[..cut].to_string()
    }

    /// An amount without currency: `1.234,50` / `1,234.50`.
    pub fn number(self, amount: Cents) -> String {
        let (thousands, decimal) = match self {
            Language::De => ('.', ','),
            Language::En => (',', '.'),
        };
        let abs = amount.0.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (index, digit) in whole.chars().enumerate() {
            if index > 0 && (whole.len() - index).is_multiple_of(3) {
                grouped.push(thousands);
            }
            grouped.push(digit);
        }
        let sign = if amount.is_negative() { "-" } else { "" };
        format!("{sign}{grouped}{decimal}{:02}", abs % 100)
    }

    /// `19 %`, `7 %`, `5,5 %` / `5.5 %`.
    pub fn vat_rate(self, rate: VatRate) -> String {
        let whole = rate.0 / 100;
        let fraction = rate.0 % 100;
        if fraction == 0 {
            return format!("{whole} %");
        }
        let decimal = if self == Language::De { ',' } else { '.' };
        let fraction = format!("{fraction:02}");
        format!("{whole}{decimal}{} %", fraction.trim_end_matches('0'))
    }

    /// Date and time in the event's time zone: `23.11.2026 20:15` /
    /// `2026-11-23 20:15`.
    pub fn date_time(self, at: Timestamp, zone: &TimeZone) -> String {
        let Ok(instant) = jiff::Timestamp::from_millisecond(at.0) else {
            return at.0.to_string();
        };
        let local = instant.to_zoned(zone.clone());
        match self {
            Language::De => local.strftime("%d.%m.%Y %H:%M").to_string(),
            Language::En => local.strftime("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// The hour of day in the event's time zone, for report charts.
    pub fn hour_label(self, at: Timestamp, zone: &TimeZone) -> String {
        let Ok(instant) = jiff::Timestamp::from_millisecond(at.0) else {
            return at.0.to_string();
        };
        instant.to_zoned(zone.clone()).strftime("%H").to_string()
    }
}

fn currency_symbol(code: &str) -> Option<&'static str> {
    match code {
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "USD" => Some("$"),
        _ => None,
    }
}

/// Every printed word, per language.
pub struct Texts {
    pub copy: &'static str,
    pub terminal: &'static str,
    pub cashier: &'static str,
    pub receipt_no: &'static str,
    pub total: &'static str,
    pub each: &'static str,
    pub deposit: &'static str,
    pub vat: &'static str,
    pub net: &'static str,
    pub gross: &'static str,
    pub paid_with: &'static str,
    pub wristband: &'static str,
    pub cash: &'static str,
    pub card: &'static str,
    pub balance_after: &'static str,
    pub of_which_promo: &'static str,
    pub receipt_id: &'static str,
    pub tse: &'static str,
    pub tse_transaction: &'static str,
    pub tse_counter: &'static str,
    pub tse_start: &'static str,
    pub tse_end: &'static str,
    pub tse_serial: &'static str,
    pub tse_till: &'static str,
    pub tse_signature: &'static str,
    pub tse_not_certified: &'static str,
    pub tse_outage: &'static str,
    pub top_up: &'static str,
    pub topped_up: &'static str,
    pub cancellation: &'static str,
    pub cancels_receipt: &'static str,
    pub refunded: &'static str,
    pub taken_back: &'static str,
    pub deposit_return: &'static str,
    pub credited: &'static str,
    pub paid_out: &'static str,
    pub payout: &'static str,
    pub adjustment: &'static str,
    pub signature: &'static str,
    pub z_report: &'static str,
    pub x_report: &'static str,
    pub opened: &'static str,
    pub closed: &'static str,
    pub closed_by: &'static str,
    pub sales: &'static str,
    pub revenue: &'static str,
    pub products: &'static str,
    pub categories: &'static str,
    pub sales_by_tender: &'static str,
    pub top_ups: &'static str,
    pub cancellations: &'static str,
    pub deposits_issued: &'static str,
    pub deposits_returned: &'static str,
    pub payouts: &'static str,
    pub vouchers_credited: &'static str,
    pub promo_spent: &'static str,
    pub float: &'static str,
    pub cash_count: &'static str,
    pub cash_movements: &'static str,
    pub expected_cash: &'static str,
    pub counted_cash: &'static str,
    pub difference: &'static str,
    pub test_receipt: &'static str,
    pub printed: &'static str,
    pub sales_report: &'static str,
    pub period: &'static str,
    pub whole_event: &'static str,
    pub everything: &'static str,
    pub until: &'static str,
    pub filter: &'static str,
    pub by_hour: &'static str,
    pub by_cashier: &'static str,
    pub by_terminal: &'static str,
    pub quantity: &'static str,
    pub count: &'static str,
    pub amount: &'static str,
    pub product: &'static str,
    pub category: &'static str,
    pub rate: &'static str,
    pub hour: &'static str,
    pub page: &'static str,
    pub of: &'static str,
    pub shift: &'static str,
    pub none: &'static str,
    pub kind_sale: &'static str,
    pub kind_top_up: &'static str,
    pub kind_deposit_return: &'static str,
    pub kind_payout: &'static str,
    pub kind_adjustment: &'static str,
    pub kind_cancel: &'static str,
    pub passes: &'static str,
    pub cut_along_lines: &'static str,
    pub tip: &'static str,
    pub payments: &'static str,
    pub given: &'static str,
    pub change: &'static str,
    pub reference: &'static str,
    pub settlement: &'static str,
    pub vendor: &'static str,
    pub commission: &'static str,
    pub fixed_fee: &'static str,
    pub payable: &'static str,
    pub lines_sold: &'static str,
    pub time: &'static str,
    pub transaction: &'static str,
    pub unit_price: &'static str,
}

pub static DE: Texts = Texts {
    copy: "*** KOPIE ***",
    terminal: "Kasse",
    cashier: "Bediener",
    receipt_no: "Beleg",
    total: "SUMME",
    each: "je",
    deposit: "Pfand",
    vat: "MwSt",
    net: "Netto",
    gross: "Brutto",
    paid_with: "Zahlart",
    wristband: "Armband",
    cash: "Bar",
    card: "Karte",
    balance_after: "Guthaben danach",
    of_which_promo: "davon Gutschein",
    receipt_id: "Beleg-ID",
    tse: "TSE",
    tse_transaction: "TSE-Transaktion",
    tse_counter: "Signaturzähler",
    tse_start: "Start",
    tse_end: "Ende",
    tse_serial: "TSE-Seriennummer",
    tse_till: "Kasse (Client-ID)",
    tse_signature: "Signatur",
    tse_not_certified: "SIMULIERT, NICHT ZERTIFIZIERT",
    tse_outage: "TSE AUSGEFALLEN",
    top_up: "AUFLADUNG",
    topped_up: "Aufgeladen",
    cancellation: "*** STORNO ***",
    cancels_receipt: "Storno von Beleg",
    refunded: "Erstattet",
    taken_back: "Zurückgebucht",
    deposit_return: "PFANDRÜCKGABE",
    credited: "Gutgeschrieben",
    paid_out: "Ausgezahlt",
    payout: "AUSZAHLUNG",
    adjustment: "KORREKTUR",
    signature: "Unterschrift Gast",
    z_report: "Z-BERICHT",
    x_report: "X-BERICHT (Zwischenstand)",
    opened: "Geöffnet",
    closed: "Geschlossen",
    closed_by: "Geschlossen von",
    sales: "Verkäufe",
    revenue: "Umsatz",
    products: "Produkte",
    categories: "Kategorien",
    sales_by_tender: "Verkäufe nach Zahlart",
    top_ups: "Aufladungen",
    cancellations: "Stornos",
    deposits_issued: "Pfand ausgegeben",
    deposits_returned: "Pfand zurück",
    payouts: "Auszahlungen",
    vouchers_credited: "Gutscheine gutgeschrieben",
    promo_spent: "Mit Gutschein bezahlt",
    float: "Wechselgeld",
    cash_count: "Kassenbestand",
    cash_movements: "Barbewegungen",
    expected_cash: "Soll-Bestand",
    counted_cash: "Gezählt",
    difference: "Differenz",
    test_receipt: "TESTBELEG",
    printed: "Erstellt",
    sales_report: "Umsatzbericht",
    period: "Zeitraum",
    whole_event: "Ganze Veranstaltung",
    everything: "alles",
    until: "bis",
    filter: "Filter",
    by_hour: "Umsatz nach Stunde",
    by_cashier: "Nach Bediener",
    by_terminal: "Nach Kasse",
    quantity: "Menge",
    count: "Anzahl",
    amount: "Betrag",
    product: "Produkt",
    category: "Kategorie",
    rate: "Satz",
    hour: "Stunde",
    page: "Seite",
    of: "von",
    shift: "Schicht",
    none: "keine",
    kind_sale: "Verkauf",
    kind_top_up: "Aufladung",
    kind_deposit_return: "Pfandrückgabe",
    kind_payout: "Auszahlung",
    kind_adjustment: "Korrektur",
    kind_cancel: "Storno",
    passes: "Gutscheine",
    cut_along_lines: "Entlang der gestrichelten Linien ausschneiden",
    tip: "Trinkgeld",
    payments: "Zahlungen",
    given: "gegeben",
    change: "Rückgeld",
    reference: "Beleg-Nr.",
    settlement: "Abrechnung",
    vendor: "Händler",
    commission: "Provision",
    fixed_fee: "Pauschale",
    payable: "Auszuzahlen",
    lines_sold: "Einzelposten",
    time: "Zeit",
    transaction: "Vorgang",
    unit_price: "Einzelpreis",
};

pub static EN: Texts = Texts {
    copy: "*** COPY ***",
    terminal: "Terminal",
    cashier: "Cashier",
    receipt_no: "Receipt",
    total: "TOTAL",
    each: "each",
    deposit: "Deposit",
    vat: "VAT",
    net: "Net",
    gross: "Gross",
    paid_with: "Tender",
    wristband: "Wristband",
    cash: "Cash",
    card: "Card",
    balance_after: "Balance after",
    of_which_promo: "of which voucher",
    receipt_id: "Receipt ID",
    tse: "TSE",
    tse_transaction: "TSE transaction",
    tse_counter: "Signature counter",
    tse_start: "Start",
    tse_end: "End",
    tse_serial: "TSE serial number",
    tse_till: "Till (client ID)",
    tse_signature: "Signature",
    tse_not_certified: "SIMULATED, NOT CERTIFIED",
    tse_outage: "TSE FAILED",
    top_up: "TOP-UP",
    topped_up: "Topped up",
    cancellation: "*** CANCELLATION ***",
    cancels_receipt: "Cancels receipt",
    refunded: "Refunded",
    taken_back: "Taken back",
    deposit_return: "DEPOSIT RETURN",
    credited: "Credited",
    paid_out: "Paid out",
    payout: "PAYOUT",
    adjustment: "ADJUSTMENT",
    signature: "Guest signature",
    z_report: "Z REPORT",
    x_report: "X REPORT (interim)",
    opened: "Opened",
    closed: "Closed",
    closed_by: "Closed by",
    sales: "Sales",
    revenue: "Revenue",
    products: "Products",
    categories: "Categories",
    sales_by_tender: "Sales by tender",
    top_ups: "Top-ups",
    cancellations: "Cancellations",
    deposits_issued: "Deposits issued",
    deposits_returned: "Deposits returned",
    payouts: "Payouts",
    vouchers_credited: "Vouchers credited",
    promo_spent: "Paid with vouchers",
    float: "Float",
    cash_count: "Cash count",
    cash_movements: "Cash movements",
    expected_cash: "Expected cash",
    counted_cash: "Counted",
    difference: "Difference",
    test_receipt: "TEST RECEIPT",
    printed: "Generated",
    sales_report: "Sales report",
    period: "Period",
    whole_event: "Whole event",
    everything: "all",
    until: "to",
    filter: "Filter",
    by_hour: "Revenue by hour",
    by_cashier: "By cashier",
    by_terminal: "By terminal",
    quantity: "Qty",
    count: "Count",
    amount: "Amount",
    product: "Product",
    category: "Category",
    rate: "Rate",
    hour: "Hour",
    page: "Page",
    of: "of",
    shift: "Shift",
    none: "none",
    kind_sale: "Sale",
    kind_top_up: "Top-up",
    kind_deposit_return: "Deposit return",
    kind_payout: "Payout",
    kind_adjustment: "Adjustment",
    kind_cancel: "Cancellation",
    passes: "Passes",
    cut_along_lines: "Cut along the dashed lines",
    tip: "Tip",
    payments: "Payments",
    given: "given",
    change: "Change",
    reference: "Ref.",
    settlement: "Settlement",
    vendor: "Vendor",
    commission: "Commission",
    fixed_fee: "Fixed fee",
    payable: "Payable",
    lines_sold: "Line items",
    time: "Time",
    transaction: "Transaction",
    unit_price: "Unit price",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_follows_the_language() {
        assert_eq!(Language::De.money(Cents(123_450), "EUR"), "1.234,50 €");
        assert_eq!(Language::En.money(Cents(123_450), "EUR"), "€1,234.50");
        assert_eq!(Language::De.money(Cents(-5), "EUR"), "-0,05 €");
        assert_eq!(Language::En.money(Cents(-450), "EUR"), "-€4.50");
        assert_eq!(Language::De.money(Cents(100), "CHF"), "1,00 CHF");
        assert_eq!(Language::De.number(Cents(-1_000_000_00)), "-1.000.000,00");
        assert_eq!(Language::En.number(Cents(99)), "0.99");
        assert_eq!(Language::De.count(100_000), "100.000");
        assert_eq!(Language::En.count(-1_234), "-1,234");
    }

    #[test]
    fn vat_rates_and_dates_follow_the_language() {
        assert_eq!(Language::De.vat_rate(VatRate(1900)), "19 %");
        assert_eq!(Language::De.vat_rate(VatRate(550)), "5,5 %");
        assert_eq!(Language::En.vat_rate(VatRate(550)), "5.5 %");
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 2026-07-04 18:30 UTC is 20:30 summer time in Berlin.
        let at = Timestamp(1_783_189_800_000);
        assert_eq!(Language::De.date_time(at, &berlin), "04.07.2026 20:30");
        assert_eq!(Language::En.date_time(at, &berlin), "2026-07-04 20:30");
    }
}
