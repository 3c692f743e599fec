//! What a TSE signs of a receipt: process type `Kassenbeleg-V1` with its
//! process data `Beleg^<gross per VAT>^<payments>` (DSFinV-K, Anhang I):
//! the gross amounts in the five places 19 %, 7 %, 10.7 %, 5.5 %, 0 %
//! joined by `_`, then each payment as `<amount>:Bar` or `<amount>:Unbar`
//! joined by `_`. Amounts with two decimals and a point.

use serde::{Deserialize, Serialize};
use tapster_ledger::Cents;

use crate::cases::{CaseError, FiscalLine, PaidWith, VatKey};

/// The process type of a receipt.
pub const RECEIPT_PROCESS: &str = "Kassenbeleg-V1";

/// Cash or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentKind {
    Cash,
    NonCash,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Cash => "Bar",
            PaymentKind::NonCash => "Unbar",
        }
    }
}

/// A receipt's signed content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessData {
    /// `Beleg`, cancellations too: a cancellation is a receipt of its own
    /// with the amounts negated (DSFinV-K marks it `BON_STORNO`);
    /// `AVBelegstorno` is not for receipts a TSE signs.
    pub receipt_type: String,
    /// Gross per place (see [`VatKey::place`]).
    pub gross: [Cents; 5],
    pub payments: Vec<(Cents, PaymentKind)>,
}

impl ProcessData {
    /// The receipt of a ledger entry (see [`crate::cases::entry_cases`]).
    pub fn of_entry(
        entry: &tapster_ledger::model::Entry,
        cancelled: Option<tapster_ledger::model::EntryKind>,
    ) -> Result<ProcessData, CaseError> {
        let (lines, paid) = crate::cases::entry_cases(entry, cancelled)?;
        ProcessData::of(&lines, paid)
    }

    /// A receipt of `lines` paid `with` (a wallet sale pays nothing at
    /// the till: its voucher redemption balances the goods).
    pub fn of(lines: &[FiscalLine], with: PaidWith) -> Result<ProcessData, CaseError> {
        let mut gross = [Cents::ZERO; 5];
        for line in lines {
            if line.vat == VatKey::NotTaxable
                && matches!(
                    line.case,
                    crate::BusinessCase::MehrzweckgutscheinEinloesung
                        | crate::BusinessCase::MehrzweckgutscheinKauf
                )
                && with == PaidWith::Voucher
            {
                // The voucher pays (or is paid with a deposit); it is not
                // a supply of its own.
                continue;
            }
            let place = &mut gross[line.vat.place()];
            *place = place.checked_add(line.amount).ok_or(CaseError::Overflow)?;
        }
        let total =
            Cents::checked_sum(lines.iter().map(|l| l.amount)).ok_or(CaseError::Overflow)?;
        let payments = match with {
            PaidWith::Cash => vec![(total, PaymentKind::Cash)],
            PaidWith::Card => vec![(total, PaymentKind::NonCash)],
            PaidWith::Voucher if total == Cents::ZERO => Vec::new(),
            PaidWith::Voucher => vec![(total, PaymentKind::NonCash)],
        };
        Ok(ProcessData {
            receipt_type: "Beleg".into(),
            gross,
            payments,
        })
    }

    /// The text the TSE signs.
    pub fn text(&self) -> String {
        // Cents print as the specification writes amounts: `12.50`, `-0.05`.
        let gross: Vec<String> = self.gross.iter().map(Cents::to_string).collect();
        let payments: Vec<String> = self
            .payments
            .iter()
            .map(|(amount, kind)| format!("{amount}:{}", kind.as_str()))
            .collect();
        format!(
            "{}^{}^{}",
            self.receipt_type,
            gross.join("_"),
            payments.join("_")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::{cases_of, negated};
    use tapster_ledger::model::{EntryKind, Line, Tender};

    fn line(quantity: i64, cents: i64, rate: u32) -> Line {
        crate::cases::test_line("p", quantity, cents, rate)
    }

    #[test]
    fn a_cash_sale_reads_as_the_specification_writes_it() {
        let lines = [line(2, 500, 1900), line(1, 350, 700)];
        let (cases, paid) =
            cases_of(EntryKind::Sale, Tender::Cash, Cents(1350), &lines, false).unwrap();
        let data = ProcessData::of(&cases, paid).unwrap();
        assert_eq!(data.text(), "Beleg^10.00_3.50_0.00_0.00_0.00^13.50:Bar");
        let cancelled = ProcessData::of(&negated(&cases).unwrap(), paid).unwrap();
        assert_eq!(
            cancelled.text(),
            "Beleg^-10.00_-3.50_0.00_0.00_0.00^-13.50:Bar"
        );
    }

    #[test]
    fn a_wallet_sale_pays_nothing_and_a_top_up_is_a_voucher_bought() {
        let (cases, paid) = cases_of(
            EntryKind::Sale,
            Tender::Wallet,
            Cents(-500),
            &[line(1, 500, 1900)],
            true,
        )
        .unwrap();
        assert_eq!(
            ProcessData::of(&cases, paid).unwrap().text(),
            "Beleg^5.00_0.00_0.00_0.00_0.00^"
        );
        let (cases, paid) =
            cases_of(EntryKind::TopUp, Tender::Card, Cents(2000), &[], true).unwrap();
        assert_eq!(
            ProcessData::of(&cases, paid).unwrap().text(),
            "Beleg^0.00_0.00_0.00_0.00_20.00^20.00:Unbar"
        );
    }
}
