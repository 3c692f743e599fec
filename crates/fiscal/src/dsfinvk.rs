//! The tax auditors' export: DSFinV-K 2.3 (Digitale Schnittstelle der
//! Finanzverwaltung für Kassensysteme), a ZIP with the specification's 20
//! CSV files, `index.xml` and the GDPdU DTD it names.
//!
//! - One cash point closing (`Z_NR`) per till per business day; a business
//!   day runs from 06:00 to 06:00 in the event's time zone, so a night at
//!   the bar is one day.
//! - Every till transaction is a `Beleg` (`BON_TYP`); a cancellation is a
//!   receipt of its own with `BON_STORNO` 1, the cancelled receipt's lines
//!   negated and a reference (`references.csv`, `Transaktion`) to it.
//! - Lines are the business cases of [`crate::cases`]: goods by VAT key,
//!   deposits, tips, bill payments, and the wallet as a multi-purpose
//!   voucher (`MehrzweckgutscheinKauf`, `…Einloesung`).
//! - Payments: cash is `Bar`, card `Unbar`; a wallet sale pays nothing at
//!   the till (its voucher redemption balances the goods).
//! - The TSE's data per receipt (`transactions_tse.csv`); a receipt made
//!   during an outage has no signature and says why in `TSE_TA_FEHLER`.
//!
//! Format (the published `index.xml`): `;` between fields, `"` around a
//! field only when it needs it, CRLF, UTF-8, decimal comma, the column
//! names in the first row; times RFC 3339 with the offset, the TSE's in
//! UTC with milliseconds. The columns are those of DSFinV-K 2.3 (the
//! same as 2.4's). Not written: the TSE's certificate
//! (`TSE_ZERTIFIKAT_I/II`, not kept by the server yet), column
//! descriptions in `index.xml` (optional in the DTD).

use std::collections::BTreeMap;
use std::io::Write;

use jiff::tz::TimeZone;
use tapster_ledger::model::{EntryKind, Line, Tender};
use tapster_ledger::{Cents, Timestamp};

use crate::cases::{record_cases, CaseError, FiscalLine, PaidWith, VatKey};
use crate::process::RECEIPT_PROCESS;
use crate::tse::Signing;

/// The specification's version the files follow.
pub const TAXONOMY_VERSION: &str = "2.3";
/// The DTD `index.xml` names, shipped beside it.
pub const DTD_NAME: &str = "gdpdu-01-09-2004.dtd";
const DTD: &str = include_str!("gdpdu-01-09-2004.dtd");
/// When a business day begins, in the event's time zone.
pub const BUSINESS_DAY_STARTS_AT_HOUR: i8 = 6;

/// Who runs the tills: the closing's master data.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Business {
    pub name: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    /// ISO 3166 alpha-3: `DEU`.
    pub country: String,
    /// Steuernummer; at least one of it and the VAT id.
    pub tax_number: String,
    pub vat_id: String,
}

impl Business {
    /// The field that does not fit the export and why, if one does not.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (field, value, max) in [
            ("business.name", &self.name, 60),
            ("business.street", &self.street, 60),
            ("business.postcode", &self.postcode, 10),
            ("business.city", &self.city, 62),
            ("business.tax_number", &self.tax_number, 20),
            ("business.vat_id", &self.vat_id, 15),
        ] {
            if value.chars().count() > max || value.contains(['\r', '\n']) {
                return Err((
                    field,
                    format!("must be one line of at most {max} characters"),
                ));
            }
        }
        let country_ok = self.country.is_empty()
            || (self.country.len() == 3 && self.country.bytes().all(|b| b.is_ascii_uppercase()));
        if !country_ok {
            return Err((
                "business.country",
                "must be an ISO 3166 alpha-3 code such as DEU".into(),
            ));
        }
        Ok(())
    }
}

/// A till transaction as the export needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// The till's entry id (`BON_ID`).
    pub id: String,
    /// The till (`Z_KASSE_ID`).
    pub till: String,
    /// The receipt's number on the till (`BON_NR`).
    pub number: i64,
    pub kind: EntryKind,
    pub tender: Tender,
    /// Seen from the guest, as in the ledger.
    pub amount: Cents,
    pub lines: Vec<Line>,
    pub on_band: bool,
    pub staff_id: String,
    pub staff_name: String,
    /// The till's time of the transaction.
    pub at: Timestamp,
    /// For a cancellation: the receipt it cancels (its id and kind).
    pub cancels: Option<(String, EntryKind)>,
    /// What the fiscal device answered; `None`: the till did not ask.
    pub signing: Option<Signing>,
}

/// What goes into one export.
pub struct Export<'a> {
    pub business: &'a Business,
    pub currency: &'a str,
    pub zone: &'a TimeZone,
    pub software_version: &'a str,
    /// Whether the event signs: without a device, no TSE tables are filled.
    pub signs: bool,
    /// All of the tills' transactions (the closings' numbers count from
    /// each till's first day), in any order.
    pub transactions: &'a [Transaction],
    /// Only business days whose start lies in `[from, to)` are exported.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("receipt {id}: {source}")]
    Case { id: String, source: CaseError },
    #[error("the amounts are too large to add up")]
    Overflow,
    #[error("the ZIP file could not be written: {0}")]
    Zip(String),
}

/// A column: its name and type (`A` text of at most that many characters,
/// `N` a number with that many decimals).
#[derive(Clone, Copy)]
enum Column {
    A(&'static str, u16),
    N(&'static str, u8),
}

struct Spec {
    file: &'static str,
    name: &'static str,
    columns: &'static [Column],
}

use Column::{A, N};

/// Every table begins with the closing's key.
macro_rules! closing_key {
    () => {
        [A("Z_KASSE_ID", 50), A("Z_ERSTELLUNG", 30), N("Z_NR", 0)]
    };
}

macro_rules! spec {
    ($file:literal, $name:literal, [$($col:expr),* $(,)?]) => {{
        const KEY: [Column; 3] = closing_key!();
        const COLUMNS: &[Column] = &[KEY[0], KEY[1], KEY[2], $($col),*];
        Spec { file: $file, name: $name, columns: COLUMNS }
    }};
}

/// The tables in the published `index.xml`'s order.
const TABLES: [Spec; 20] = [
    spec!(
        "transactions.csv",
        "Bonkopf",
        [
            A("BON_ID", 40),
            N("BON_NR", 0),
            A("BON_TYP", 30),
            A("BON_NAME", 60),
            A("TERMINAL_ID", 50),
            A("BON_STORNO", 1),
            A("BON_START", 30),
            A("BON_ENDE", 30),
            A("BEDIENER_ID", 50),
            A("BEDIENER_NAME", 50),
            N("UMS_BRUTTO", 2),
            A("KUNDE_NAME", 50),
            A("KUNDE_ID", 50),
            A("KUNDE_TYP", 50),
            A("KUNDE_STRASSE", 60),
            A("KUNDE_PLZ", 10),
            A("KUNDE_ORT", 62),
            A("KUNDE_LAND", 3),
            A("KUNDE_USTID", 15),
            A("BON_NOTIZ", 255),
        ]
    ),
    spec!(
        "transactions_vat.csv",
        "Bonkopf_USt",
        [
            A("BON_ID", 40),
            N("UST_SCHLUESSEL", 0),
            N("BON_BRUTTO", 5),
            N("BON_NETTO", 5),
            N("BON_UST", 5),
        ]
    ),
    spec!(
        "allocation_groups.csv",
        "Bonkopf_AbrKreis",
        [A("BON_ID", 40), A("ABRECHNUNGSKREIS", 50),]
    ),
    spec!(
        "datapayment.csv",
        "Bonkopf_Zahlarten",
        [
            A("BON_ID", 40),
            A("ZAHLART_TYP", 25),
            A("ZAHLART_NAME", 60),
            A("ZAHLWAEH_CODE", 3),
            N("ZAHLWAEH_BETRAG", 2),
            N("BASISWAEH_BETRAG", 2),
        ]
    ),
    spec!(
        "references.csv",
        "Bon_Referenzen",
        [
            A("BON_ID", 40),
            A("POS_ZEILE", 50),
            A("REF_TYP", 20),
            A("REF_NAME", 40),
            A("REF_DATUM", 30),
            A("REF_Z_KASSE_ID", 50),
            N("REF_Z_NR", 0),
            A("REF_BON_ID", 40),
        ]
    ),
    spec!(
        "transactions_tse.csv",
        "TSE_Transaktionen",
        [
            A("BON_ID", 40),
            N("TSE_ID", 0),
            N("TSE_TANR", 0),
            A("TSE_TA_START", 30),
            A("TSE_TA_ENDE", 30),
            A("TSE_TA_VORGANGSART", 30),
            N("TSE_TA_SIGZ", 0),
            A("TSE_TA_SIG", 512),
            A("TSE_TA_FEHLER", 200),
            A("TSE_VORGANGSDATEN", 1000),
        ]
    ),
    spec!(
        "lines.csv",
        "Bonpos",
        [
            A("BON_ID", 40),
            A("POS_ZEILE", 50),
            A("GUTSCHEIN_NR", 50),
            A("ARTIKELTEXT", 255),
            A("POS_TERMINAL_ID", 50),
            A("GV_TYP", 30),
            A("GV_NAME", 40),
            A("INHAUS", 1),
            A("P_STORNO", 1),
            N("AGENTUR_ID", 0),
            A("ART_NR", 50),
            A("GTIN", 50),
            A("WARENGR_ID", 40),
            A("WARENGR", 50),
            N("MENGE", 3),
            N("FAKTOR", 3),
            A("EINHEIT", 50),
            N("STK_BR", 5),
        ]
    ),
    spec!(
        "lines_vat.csv",
        "Bonpos_USt",
        [
            A("BON_ID", 40),
            A("POS_ZEILE", 50),
            N("UST_SCHLUESSEL", 0),
            N("POS_BRUTTO", 5),
            N("POS_NETTO", 5),
            N("POS_UST", 5),
        ]
    ),
    spec!(
        "itemamounts.csv",
        "Bonpos_Preisfindung",
        [
            A("BON_ID", 40),
            A("POS_ZEILE", 50),
            A("TYP", 20),
            N("UST_SCHLUESSEL", 0),
            N("PF_BRUTTO", 5),
            N("PF_NETTO", 5),
            N("PF_UST", 5),
        ]
    ),
    spec!(
        "subitems.csv",
        "Bonpos_Zusatzinfo",
        [
            A("BON_ID", 40),
            A("POS_ZEILE", 50),
            A("ZI_ART_NR", 50),
            A("ZI_GTIN", 50),
            A("ZI_NAME", 60),
            A("ZI_WARENGR_ID", 40),
            A("ZI_WARENGR", 50),
            N("ZI_MENGE", 3),
            N("ZI_FAKTOR", 3),
            A("ZI_EINHEIT", 50),
            N("ZI_UST_SCHLUESSEL", 0),
            N("ZI_BASISPREIS_BRUTTO", 5),
            N("ZI_BASISPREIS_NETTO", 5),
            N("ZI_BASISPREIS_UST", 5),
        ]
    ),
    spec!(
        "cashpointclosing.csv",
        "Stamm_Abschluss",
        [
            A("Z_BUCHUNGSTAG", 25),
            A("TAXONOMIE_VERSION", 10),
            A("Z_START_ID", 40),
            A("Z_ENDE_ID", 40),
            A("NAME", 60),
            A("STRASSE", 60),
            A("PLZ", 10),
            A("ORT", 62),
            A("LAND", 3),
            A("STNR", 20),
            A("USTID", 15),
            N("Z_SE_ZAHLUNGEN", 2),
            N("Z_SE_BARZAHLUNGEN", 2),
        ]
    ),
    spec!(
        "location.csv",
        "Stamm_Orte",
        [
            A("LOC_NAME", 60),
            A("LOC_STRASSE", 60),
            A("LOC_PLZ", 10),
            A("LOC_ORT", 62),
            A("LOC_LAND", 3),
            A("LOC_USTID", 15),
        ]
    ),
    spec!(
        "cashregister.csv",
        "Stamm_Kassen",
        [
            A("KASSE_BRAND", 50),
            A("KASSE_MODELL", 50),
            A("KASSE_SERIENNR", 70),
            A("KASSE_SW_BRAND", 50),
            A("KASSE_SW_VERSION", 50),
            A("KASSE_BASISWAEH_CODE", 3),
            A("KEINE_UST_ZUORDNUNG", 1),
        ]
    ),
    spec!(
        "slaves.csv",
        "Stamm_Terminals",
        [
            A("TERMINAL_ID", 50),
            A("TERMINAL_BRAND", 50),
            A("TERMINAL_MODELL", 50),
            A("TERMINAL_SERIENNR", 70),
            A("TERMINAL_SW_BRAND", 50),
            A("TERMINAL_SW_VERSION", 50),
        ]
    ),
    spec!(
        "pa.csv",
        "Stamm_Agenturen",
        [
            N("AGENTUR_ID", 0),
            A("AGENTUR_NAME", 60),
            A("AGENTUR_STRASSE", 60),
            A("AGENTUR_PLZ", 10),
            A("AGENTUR_ORT", 62),
            A("AGENTUR_LAND", 3),
            A("AGENTUR_STNR", 20),
            A("AGENTUR_USTID", 15),
        ]
    ),
    spec!(
        "vat.csv",
        "Stamm_USt",
        [
            N("UST_SCHLUESSEL", 0),
            N("UST_SATZ", 2),
            A("UST_BESCHR", 55),
        ]
    ),
    spec!(
        "tse.csv",
        "Stamm_TSE",
        [
            N("TSE_ID", 0),
            A("TSE_SERIAL", 68),
            A("TSE_SIG_ALGO", 21),
            A("TSE_ZEITFORMAT", 31),
            A("TSE_PD_ENCODING", 5),
            A("TSE_PUBLIC_KEY", 512),
            A("TSE_ZERTIFIKAT_I", 1000),
            A("TSE_ZERTIFIKAT_II", 1000),
        ]
    ),
    spec!(
        "businesscases.csv",
        "Z_GV_Typ",
        [
            A("GV_TYP", 30),
            A("GV_NAME", 40),
            N("AGENTUR_ID", 0),
            N("UST_SCHLUESSEL", 0),
            N("Z_UMS_BRUTTO", 5),
            N("Z_UMS_NETTO", 5),
            N("Z_UST", 5),
        ]
    ),
    spec!(
        "payment.csv",
        "Z_Zahlart",
        [
            A("ZAHLART_TYP", 25),
            A("ZAHLART_NAME", 60),
            N("Z_ZAHLART_BETRAG", 2),
        ]
    ),
    spec!(
        "cash_per_currency.csv",
        "Z_Waehrungen",
        [A("ZAHLART_WAEH", 3), N("ZAHLART_BETRAG_WAEH", 2),]
    ),
];

/// The export's files: name and bytes, the CSVs in `index.xml`'s order,
/// then `index.xml` and the DTD.
pub fn files(export: &Export<'_>) -> Result<Vec<(String, Vec<u8>)>, ExportError> {
    let mut rows: BTreeMap<&'static str, Vec<Vec<String>>> = BTreeMap::new();
    for closing in closings(export)? {
        closing.write(export, &mut rows)?;
    }
    let mut out = Vec::new();
    for spec in &TABLES {
        let mut csv = String::new();
        let header: Vec<&str> = spec.columns.iter().map(column_name).collect();
        csv.push_str(&header.join(";"));
        csv.push_str("\r\n");
        for row in rows.get(spec.file).map(Vec::as_slice).unwrap_or_default() {
            debug_assert_eq!(row.len(), spec.columns.len(), "{}", spec.file);
            let fields: Vec<String> = row
                .iter()
                .zip(spec.columns)
                .map(|(value, column)| field(value, column))
                .collect();
            csv.push_str(&fields.join(";"));
            csv.push_str("\r\n");
        }
        out.push((spec.file.to_string(), csv.into_bytes()));
    }
    out.push(("index.xml".into(), index_xml().into_bytes()));
    out.push((DTD_NAME.into(), DTD.as_bytes().to_vec()));
    Ok(out)
}

/// [`files`] in a ZIP.
pub fn zip(export: &Export<'_>) -> Result<Vec<u8>, ExportError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files(export)? {
        zip.start_file(name, options)
            .map_err(|e| ExportError::Zip(e.to_string()))?;
        zip.write_all(&bytes)
            .map_err(|e| ExportError::Zip(e.to_string()))?;
    }
    Ok(zip
        .finish()
        .map_err(|e| ExportError::Zip(e.to_string()))?
        .into_inner())
}

fn column_name(column: &Column) -> &'static str {
    match column {
        A(name, _) | N(name, _) => name,
    }
}

/// A field as written: text cut to its length and quoted only when it
/// must be; numbers as they come.
fn field(value: &str, column: &Column) -> String {
    match column {
        N(..) => value.to_string(),
        A(_, max) => {
            let value: String = value.chars().take(usize::from(*max)).collect();
            let needs_quotes = value.contains([';', '"', '\r', '\n'])
                || value.starts_with([' ', '\t'])
                || value.ends_with([' ', '\t']);
            if needs_quotes {
                format!("\"{}\"", value.replace('"', "\"\""))
            } else {
                value
            }
        }
    }
}

/// Cents with a decimal comma (`-12,30`).
pub fn amount(cents: Cents) -> String {
    cents.to_string().replace('.', ",")
}

/// A quantity with three decimals (`2,000`).
fn quantity(units: i64) -> String {
    format!("{units},000")
}

fn index_xml() -> String {
    let mut xml = String::from('\u{feff}');
    let mut line = |indent: usize, text: &str| {
        xml.push_str(&"  ".repeat(indent));
        xml.push_str(text);
        xml.push_str("\r\n");
    };
    line(0, r#"<?xml version="1.0" encoding="utf-8"?>"#);
    line(0, &format!(r#"<!DOCTYPE DataSet SYSTEM "{DTD_NAME}">"#));
    line(0, "<DataSet>");
    line(1, "<Version>1.0</Version>");
    line(1, "<DataSupplier>");
    line(2, "<Name>Tapster</Name>");
    line(2, "<Location />");
    line(2, "<Comment>DSFinV-K 2.3</Comment>");
    line(1, "</DataSupplier>");
    line(1, "<Media>");
    line(2, "<Name>CD Nummer 1</Name>");
    for spec in &TABLES {
        line(2, "<Table>");
        line(3, &format!("<URL>{}</URL>", spec.file));
        line(3, &format!("<Name>{}</Name>", spec.name));
        line(3, &format!("<Description>{}</Description>", spec.file));
        line(3, "<UTF8 />");
        line(3, "<DecimalSymbol>,</DecimalSymbol>");
        line(3, "<DigitGroupingSymbol>.</DigitGroupingSymbol>");
        line(3, "<Range>");
        line(4, "<From>2</From>");
        line(3, "</Range>");
        line(3, "<VariableLength>");
        line(4, "<ColumnDelimiter>;</ColumnDelimiter>");
        line(4, "<RecordDelimiter>&#xD;&#xA;</RecordDelimiter>");
        line(4, "<TextEncapsulator>\"</TextEncapsulator>");
        for column in spec.columns {
            line(4, "<VariableColumn>");
            line(5, &format!("<Name>{}</Name>", column_name(column)));
            match column {
                A(_, max) => {
                    line(5, "<AlphaNumeric />");
                    line(5, &format!("<MaxLength>{max}</MaxLength>"));
                }
                N(_, 0) => line(5, "<Numeric />"),
                N(_, accuracy) => {
                    line(5, "<Numeric>");
                    line(6, &format!("<Accuracy>{accuracy}</Accuracy>"));
                    line(5, "</Numeric>");
                }
            }
            line(4, "</VariableColumn>");
        }
        line(3, "</VariableLength>");
        line(2, "</Table>");
    }
    line(1, "</Media>");
    xml.push_str("</DataSet>");
    xml
}

/// The business day a time falls on (it begins at
/// [`BUSINESS_DAY_STARTS_AT_HOUR`]).
pub fn business_day(at: Timestamp, zone: &TimeZone) -> jiff::civil::Date {
    let local = jiff::Timestamp::from_millisecond(at.0)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone());
    let day = local.date();
    if local.hour() < BUSINESS_DAY_STARTS_AT_HOUR {
        day.yesterday().unwrap_or(day)
    } else {
        day
    }
}

/// When business day `day` begins.
pub fn day_start(day: jiff::civil::Date, zone: &TimeZone) -> Timestamp {
    day.at(BUSINESS_DAY_STARTS_AT_HOUR, 0, 0, 0)
        .to_zoned(zone.clone())
        .map(|z| Timestamp(z.timestamp().as_millisecond()))
        .unwrap_or(Timestamp(0))
}

/// RFC 3339 with the zone's offset, to the second.
fn local_time(at: Timestamp, zone: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(at.0)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The TSE's times: UTC with milliseconds, as on the receipt.
fn tse_time(unix_seconds: i64) -> String {
    crate::qr::qr_time(unix_seconds)
}

/// One till's business day.
struct Closing<'a> {
    till: &'a str,
    number: i64,
    day: jiff::civil::Date,
    transactions: Vec<&'a Transaction>,
}

/// The closings to export: per till, its business days numbered from its
/// first one, those in the range kept.
fn closings<'a>(export: &'a Export<'a>) -> Result<Vec<Closing<'a>>, ExportError> {
    let mut by_till: BTreeMap<&str, BTreeMap<jiff::civil::Date, Vec<&Transaction>>> =
        BTreeMap::new();
    for t in export.transactions {
        by_till
            .entry(&t.till)
            .or_default()
            .entry(business_day(t.at, export.zone))
            .or_default()
            .push(t);
    }
    let mut out = Vec::new();
    for (till, days) in by_till {
        for (index, (day, mut transactions)) in days.into_iter().enumerate() {
            let start = day_start(day, export.zone);
            let inside = export.from.is_none_or(|from| start >= from)
                && export.to.is_none_or(|to| start < to);
            if !inside {
                continue;
            }
            transactions.sort_by_key(|t| (t.at, t.number));
            out.push(Closing {
                till,
                number: i64::try_from(index).map_err(|_| ExportError::Overflow)? + 1,
                day,
                transactions,
            });
        }
    }
    Ok(out)
}

/// A transaction's business cases and payment.
pub fn transaction_cases(t: &Transaction) -> Result<(Vec<FiscalLine>, PaidWith), CaseError> {
    record_cases(
        t.kind,
        t.tender,
        t.amount,
        &t.lines,
        t.on_band,
        t.cancels.as_ref().map(|(_, kind)| *kind),
    )
}

fn payment_type(paid: PaidWith) -> Option<&'static str> {
    match paid {
        PaidWith::Cash => Some("Bar"),
        PaidWith::Card => Some("Unbar"),
        PaidWith::Voucher => None,
    }
}

fn vat_rate_text(key: VatKey) -> (&'static str, &'static str) {
    match key {
        VatKey::General => ("19,00", "Regelsteuersatz"),
        VatKey::Reduced => ("7,00", "Ermäßigter Steuersatz"),
        VatKey::Average107 => ("10,70", "Durchschnittsatz § 24 Abs. 1 Nr. 3 UStG"),
        VatKey::Average55 => ("5,50", "Durchschnittsatz § 24 Abs. 1 Nr. 1 UStG"),
        VatKey::NotTaxable => ("0,00", "Nicht Steuerbar"),
        VatKey::Zero => ("0,00", "Umsatzsteuerfrei"),
    }
}

fn add(sum: &mut Cents, amount: Cents) -> Result<(), ExportError> {
    *sum = sum.checked_add(amount).ok_or(ExportError::Overflow)?;
    Ok(())
}

impl Closing<'_> {
    fn write(
        &self,
        export: &Export<'_>,
        rows: &mut BTreeMap<&'static str, Vec<Vec<String>>>,
    ) -> Result<(), ExportError> {
        let zone = export.zone;
        let last_at = self.transactions.last().map_or(Timestamp(0), |t| t.at);
        let key = vec![
            self.till.to_string(),
            local_time(last_at, zone),
            self.number.to_string(),
        ];
        let mut push = |file: &'static str, fields: Vec<String>| {
            let mut row = key.clone();
            row.extend(fields);
            rows.entry(file).or_default().push(row);
        };
        // Per business case and VAT key: the sums of the lines' own gross,
        // net and VAT, so the closing's figures are its lines' to the cent.
        let mut by_case: BTreeMap<(&'static str, u8), [Cents; 3]> = BTreeMap::new();
        let mut by_payment: BTreeMap<&'static str, Cents> = BTreeMap::new();
        let mut keys_used: BTreeMap<u8, VatKey> = BTreeMap::new();
        let mut devices: Vec<(String, &crate::tse::Signed)> = Vec::new();
        for t in &self.transactions {
            let (cases, paid) = transaction_cases(t).map_err(|source| ExportError::Case {
                id: t.id.clone(),
                source,
            })?;
            let total =
                Cents::checked_sum(cases.iter().map(|c| c.amount)).ok_or(ExportError::Overflow)?;
            let storno = if t.kind == EntryKind::Cancel {
                "1"
            } else {
                "0"
            };
            push(
                "transactions.csv",
                vec![
                    t.id.clone(),
                    t.number.to_string(),
                    "Beleg".into(),
                    String::new(),
                    String::new(),
                    storno.into(),
                    local_time(t.at, zone),
                    local_time(t.at, zone),
                    t.staff_id.clone(),
                    t.staff_name.clone(),
                    amount(total),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
            );
            let mut per_key: BTreeMap<u8, (VatKey, Cents)> = BTreeMap::new();
            for (index, case) in cases.iter().enumerate() {
                let line = t.lines.get(index).filter(|_| {
                    matches!(
                        t.kind,
                        EntryKind::Sale | EntryKind::DepositReturn | EntryKind::Cancel
                    )
                });
                let text = line.map_or_else(|| case.case.as_str().to_string(), |l| l.name.clone());
                let split = case.vat.rate().split_gross(case.amount);
                let position = (index + 1).to_string();
                let (units, unit_price) = match line {
                    Some(l) => (l.quantity, l.unit_price),
                    None => (1, case.amount),
                };
                // A cancellation's lines carry the negated quantities.
                push(
                    "lines.csv",
                    vec![
                        t.id.clone(),
                        position.clone(),
                        String::new(),
                        text,
                        String::new(),
                        case.case.as_str().into(),
                        String::new(),
                        String::new(),
                        storno.into(),
                        String::new(),
                        line.map(|l| l.product.to_string()).unwrap_or_default(),
                        String::new(),
                        line.map(|l| l.category.to_string()).unwrap_or_default(),
                        String::new(),
                        quantity(units),
                        String::new(),
                        String::new(),
                        amount(unit_price),
                    ],
                );
                push(
                    "lines_vat.csv",
                    vec![
                        t.id.clone(),
                        position,
                        case.vat.id().to_string(),
                        amount(split.gross),
                        amount(split.net),
                        amount(split.vat),
                    ],
                );
                let entry = per_key
                    .entry(case.vat.id())
                    .or_insert((case.vat, Cents::ZERO));
                add(&mut entry.1, case.amount)?;
                let sums = by_case
                    .entry((case.case.as_str(), case.vat.id()))
                    .or_default();
                for (sum, part) in sums.iter_mut().zip([split.gross, split.net, split.vat]) {
                    add(sum, part)?;
                }
                keys_used.insert(case.vat.id(), case.vat);
            }
            for (id, (vat, gross)) in &per_key {
                let split = vat.rate().split_gross(*gross);
                push(
                    "transactions_vat.csv",
                    vec![
                        t.id.clone(),
                        id.to_string(),
                        amount(split.gross),
                        amount(split.net),
                        amount(split.vat),
                    ],
                );
            }
            if let Some(kind) = payment_type(paid) {
                push(
                    "datapayment.csv",
                    vec![
                        t.id.clone(),
                        kind.into(),
                        String::new(),
                        export.currency.into(),
                        String::new(),
                        amount(total),
                    ],
                );
                add(by_payment.entry(kind).or_default(), total)?;
            }
            if let Some((original, _)) = &t.cancels {
                let found = export.transactions.iter().find(|o| &o.id == original);
                let (date, till, number) = match found {
                    Some(o) => {
                        let day = business_day(o.at, zone);
                        let number = export
                            .transactions
                            .iter()
                            .filter(|x| x.till == o.till)
                            .map(|x| business_day(x.at, zone))
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .position(|d| d == day)
                            .map_or(String::new(), |p| (p + 1).to_string());
                        (local_time(o.at, zone), o.till.clone(), number)
                    }
                    None => (String::new(), String::new(), String::new()),
                };
                push(
                    "references.csv",
                    vec![
                        t.id.clone(),
                        String::new(),
                        "Transaktion".into(),
                        "Storno".into(),
                        date,
                        till,
                        number,
                        original.clone(),
                    ],
                );
            }
            if export.signs {
                let fields = match &t.signing {
                    Some(Signing::Signed(signed)) => {
                        let device = match devices.iter().position(|(s, _)| *s == signed.tss_serial)
                        {
                            Some(at) => at,
                            None => {
                                devices.push((signed.tss_serial.clone(), signed));
                                devices.len() - 1
                            }
                        };
                        vec![
                            t.id.clone(),
                            (device + 1).to_string(),
                            signed.number.to_string(),
                            tse_time(signed.time_start),
                            tse_time(signed.time_end),
                            signed.process_type.clone(),
                            signed.signature_counter.to_string(),
                            signed.signature.clone(),
                            if signed.certified {
                                String::new()
                            } else {
                                "simulierte TSE, nicht zertifiziert".into()
                            },
                            signed.process_data.clone(),
                        ]
                    }
                    unsigned => {
                        let reason = match unsigned {
                            Some(Signing::Outage { reason }) => reason.as_str(),
                            _ => {
                                "TSE-Ausfall: die Kasse konnte den Server nicht erreichen (offline)"
                            }
                        };
                        vec![
                            t.id.clone(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            RECEIPT_PROCESS.into(),
                            String::new(),
                            String::new(),
                            format!("TSE-Ausfall: {reason}"),
                            String::new(),
                        ]
                    }
                };
                push("transactions_tse.csv", fields);
            }
        }
        for ((case, id), [gross, net, vat]) in &by_case {
            push(
                "businesscases.csv",
                vec![
                    (*case).into(),
                    String::new(),
                    String::new(),
                    id.to_string(),
                    amount(*gross),
                    amount(*net),
                    amount(*vat),
                ],
            );
        }
        let mut payments = Cents::ZERO;
        for (kind, total) in &by_payment {
            push(
                "payment.csv",
                vec![(*kind).into(), String::new(), amount(*total)],
            );
            add(&mut payments, *total)?;
        }
        let cash = by_payment.get("Bar").copied().unwrap_or(Cents::ZERO);
        push(
            "cash_per_currency.csv",
            vec![export.currency.into(), amount(cash)],
        );
        for (id, vat) in &keys_used {
            let (rate, text) = vat_rate_text(*vat);
            push("vat.csv", vec![id.to_string(), rate.into(), text.into()]);
        }
        for (index, (serial, signed)) in devices.iter().enumerate() {
            push(
                "tse.csv",
                vec![
                    (index + 1).to_string(),
                    serial.clone(),
                    signed.algorithm.clone(),
                    signed.time_format.clone(),
                    "UTF-8".into(),
                    signed.public_key.clone(),
                    String::new(),
                    String::new(),
                ],
            );
        }
        let b = export.business;
        push(
            "cashregister.csv",
            vec![
                "Tapster".into(),
                "Tapster".into(),
                self.till.to_string(),
                "Tapster".into(),
                export.software_version.into(),
                export.currency.into(),
                String::new(),
            ],
        );
        push(
            "location.csv",
            vec![
                b.name.clone(),
                b.street.clone(),
                b.postcode.clone(),
                b.city.clone(),
                b.country.clone(),
                b.vat_id.clone(),
            ],
        );
        let first = self.transactions.first().map(|t| t.id.clone());
        let last = self.transactions.last().map(|t| t.id.clone());
        push(
            "cashpointclosing.csv",
            vec![
                self.day.to_string(),
                TAXONOMY_VERSION.into(),
                first.unwrap_or_default(),
                last.unwrap_or_default(),
                b.name.clone(),
                b.street.clone(),
                b.postcode.clone(),
                b.city.clone(),
                b.country.clone(),
                b.tax_number.clone(),
                b.vat_id.clone(),
                amount(payments),
                amount(cash),
            ],
        );
        Ok(())
    }
}
