//! A SEPA credit transfer initiation, ISO 20022 `pain.001.001.09`: one
//! message, one payment (the organiser's account, SEPA service level,
//! shared charges) and a transfer per guest. No BIC is needed inside SEPA,
//! so the debtor's bank is `NOTPROVIDED` (as the German banking industry's
//! specification asks) and the creditors' banks are left out.
//!
//! Names are cut to 70 characters and remittance texts to 140 after they
//! are [`transliterated`](crate::epc::transliterate); the file's ids must
//! already be valid (see [`crate::epc::valid_id`]) and unique. The control
//! sums at both levels are the transfers' sum, checked.

use std::collections::HashSet;
use std::fmt::Write as _;

use jiff::civil::{Date, DateTime};
use tapster_ledger::Cents;

use crate::epc;

/// The largest amount one SEPA credit transfer may carry: 999,999,999.99.
pub const MAX_AMOUNT: Cents = Cents(99_999_999_999);

/// The organiser's account the transfers leave from.
#[derive(Clone, Debug)]
pub struct Debtor<'a> {
    pub name: &'a str,
    pub iban: &'a str,
}

/// One guest's transfer.
#[derive(Clone, Debug)]
pub struct Transfer<'a> {
    /// Unique in the file; the guest's bank shows it.
    pub end_to_end_id: &'a str,
    pub creditor_name: &'a str,
    pub creditor_iban: &'a str,
    pub amount: Cents,
    pub remittance: &'a str,
}

/// A file's content.
#[derive(Clone, Debug)]
pub struct CreditTransfers<'a> {
    /// Unique per file; banks refuse a message id they have seen.
    pub message_id: &'a str,
    pub payment_id: &'a str,
    /// When the file was made, in the organiser's local time.
    pub created_at: DateTime,
    /// The day the bank is asked to pay.
    pub execution_date: Date,
    pub debtor: Debtor<'a>,
    pub transfers: &'a [Transfer<'a>],
}

/// Why a file cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SepaError {
    #[error("a SEPA file needs at least one transfer")]
    NoTransfers,
    #[error("'{0}' cannot identify a SEPA message or transfer: 1 to 35 letters, digits or - / ? : ( ) . , ' +")]
    Id(String),
    #[error("the id '{0}' is used twice in one file")]
    DuplicateId(String),
    #[error("'{0}' is not an IBAN in its electronic form")]
    Iban(String),
    #[error("transfer {id}: the amount must be between 0.01 and 999,999,999.99")]
    Amount { id: String },
    #[error("the file's sum is too large to write down")]
    Overflow,
    #[error("the name '{0}' has no letters a bank can print")]
    Name(String),
}

/// The `pain.001.001.09` document for `file`.
pub fn credit_transfer_file(file: &CreditTransfers<'_>) -> Result<String, SepaError> {
    if file.transfers.is_empty() {
        return Err(SepaError::NoTransfers);
    }
    let mut ids = HashSet::new();
    for id in [file.message_id, file.payment_id]
        .into_iter()
        .chain(file.transfers.iter().map(|t| t.end_to_end_id))
    {
        if !epc::valid_id(id) {
            return Err(SepaError::Id(id.to_string()));
        }
    }
    for transfer in file.transfers {
        if !ids.insert(transfer.end_to_end_id) {
            return Err(SepaError::DuplicateId(transfer.end_to_end_id.to_string()));
        }
        if !transfer.amount.is_positive() || transfer.amount > MAX_AMOUNT {
            return Err(SepaError::Amount {
                id: transfer.end_to_end_id.to_string(),
            });
        }
    }
    let sum =
        Cents::checked_sum(file.transfers.iter().map(|t| t.amount)).ok_or(SepaError::Overflow)?;
    let count = file.transfers.len();
    let debtor_name = name(file.debtor.name)?;
    let debtor_iban = iban(file.debtor.iban)?;

    let mut xml = String::with_capacity(1024 + 512 * count);
    // Writing to a String cannot fail.
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\
  <CstmrCdtTrfInitn>\n\
    <GrpHdr>\n\
      <MsgId>{msg}</MsgId>\n\
      <CreDtTm>{created}</CreDtTm>\n\
      <NbOfTxs>{count}</NbOfTxs>\n\
      <CtrlSum>{sum}</CtrlSum>\n\
      <InitgPty><Nm>{debtor}</Nm></InitgPty>\n\
    </GrpHdr>\n\
    <PmtInf>\n\
      <PmtInfId>{pmt}</PmtInfId>\n\
      <PmtMtd>TRF</PmtMtd>\n\
      <BtchBookg>true</BtchBookg>\n\
      <NbOfTxs>{count}</NbOfTxs>\n\
      <CtrlSum>{sum}</CtrlSum>\n\
      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n\
      <ReqdExctnDt><Dt>{date}</Dt></ReqdExctnDt>\n\
      <Dbtr><Nm>{debtor}</Nm></Dbtr>\n\
      <DbtrAcct><Id><IBAN>{debtor_iban}</IBAN></Id></DbtrAcct>\n\
      <DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>\n\
      <ChrgBr>SLEV</ChrgBr>\n",
        msg = file.message_id,
        created = file.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
        sum = sum,
        debtor = escape(&debtor_name),
        pmt = file.payment_id,
        date = file.execution_date,
    );
    for transfer in file.transfers {
        let creditor = name(transfer.creditor_name)?;
        let remittance = epc::fit(transfer.remittance, 140);
        let _ = write!(
            xml,
            "      <CdtTrfTxInf>\n\
        <PmtId><EndToEndId>{id}</EndToEndId></PmtId>\n\
        <Amt><InstdAmt Ccy=\"EUR\">{amount}</InstdAmt></Amt>\n\
        <Cdtr><Nm>{creditor}</Nm></Cdtr>\n\
        <CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct>\n",
            id = transfer.end_to_end_id,
            amount = transfer.amount,
            creditor = escape(&creditor),
            iban = iban(transfer.creditor_iban)?,
        );
        if !remittance.is_empty() {
            let _ = writeln!(
                xml,
                "        <RmtInf><Ustrd>{}</Ustrd></RmtInf>",
                escape(&remittance)
            );
        }
        xml.push_str("      </CdtTrfTxInf>\n");
    }
    xml.push_str("    </PmtInf>\n  </CstmrCdtTrfInitn>\n</Document>\n");
    Ok(xml)
}

fn name(text: &str) -> Result<String, SepaError> {
    let fitted = epc::fit(text, 70);
    if fitted.chars().any(|c| c.is_ascii_alphanumeric()) {
        Ok(fitted)
    } else {
        Err(SepaError::Name(text.to_string()))
    }
}

/// The IBAN without spaces, in capitals, in the schema's pattern.
fn iban(text: &str) -> Result<String, SepaError> {
    let iban: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = iban.as_bytes();
    let well_formed = (5..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(u8::is_ascii_alphanumeric);
    if well_formed {
        Ok(iban)
    } else {
        Err(SepaError::Iban(text.to_string()))
    }
}

/// The EPC set has no `<` or `&`, but a file is never one escape away
/// from broken.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer<'a>(id: &'a str, name: &'a str, cents: i64) -> Transfer<'a> {
        Transfer {
            end_to_end_id: id,
            creditor_name: name,
            creditor_iban: "DE44500105175407324931",
            amount: Cents(cents),
            remittance: "Tapster Festival: Rest vom Armband",
        }
    }

    fn file<'a>(transfers: &'a [Transfer<'a>]) -> CreditTransfers<'a> {
        CreditTransfers {
            message_id: "TAPSTER-PR1",
            payment_id: "TAPSTER-PR1-P",
            created_at: jiff::civil::date(2026, 12, 6).at(23, 5, 0, 0),
            execution_date: jiff::civil::date(2026, 12, 7),
            debtor: Debtor {
                name: "Festival Veranstaltungs GmbH & Co. KG",
                iban: "DE89 3704 0044 0532 0130 00",
            },
            transfers,
        }
    }

    #[test]
    fn the_control_sums_count_every_cent() {
        let transfers = [
            transfer("PR1-1", "Jürgen Müller", 1250),
            transfer("PR1-2", "Erika Mustermann", 5),
        ];
        let xml = credit_transfer_file(&file(&transfers)).unwrap();
        assert_eq!(xml.matches("<CtrlSum>12.55</CtrlSum>").count(), 2);
        assert_eq!(xml.matches("<NbOfTxs>2</NbOfTxs>").count(), 2);
        assert!(xml.contains("<InstdAmt Ccy=\"EUR\">0.05</InstdAmt>"));
        assert!(xml.contains("<Nm>Juergen Mueller</Nm>"));
        assert!(xml.contains("<Nm>Festival Veranstaltungs GmbH + Co. KG</Nm>"));
        assert!(xml.contains("<IBAN>DE89370400440532013000</IBAN>"));
        assert!(xml.contains("<CreDtTm>2026-12-06T23:05:00</CreDtTm>"));
        assert!(xml.contains("<Dt>2026-12-07</Dt>"));
    }

    #[test]
    fn bad_files_are_refused_before_anything_is_written() {
        assert_eq!(
            credit_transfer_file(&file(&[])),
            Err(SepaError::NoTransfers)
        );
        let twice = [transfer("A", "X", 1), transfer("A", "Y", 2)];
        assert_eq!(
            credit_transfer_file(&file(&twice)),
            Err(SepaError::DuplicateId("A".into()))
        );
        let long = "x".repeat(36);
        assert!(matches!(
            credit_transfer_file(&file(&[transfer(&long, "X", 1)])),
            Err(SepaError::Id(_))
        ));
        for cents in [0, -1, MAX_AMOUNT.0 + 1] {
            assert!(matches!(
                credit_transfer_file(&file(&[transfer("A", "X", cents)])),
                Err(SepaError::Amount { .. })
            ));
        }
        let mut bad_iban = transfer("A", "X", 1);
        bad_iban.creditor_iban = "DE44 ÄÖ";
        assert!(matches!(
            credit_transfer_file(&file(&[bad_iban])),
            Err(SepaError::Iban(_))
        ));
        assert!(matches!(
            credit_transfer_file(&file(&[transfer("A", "…", 1)])),
            Err(SepaError::Name(_))
        ));
    }
}
