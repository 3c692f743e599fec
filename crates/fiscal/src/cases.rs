//! The ledger's entries as DSFinV-K business cases (`GV_TYP`). One table,
//! [`cases_of`], used by the receipts' signing and by the export alike.
//!
//! | Ledger entry | Business case(s) | VAT | Payment |
//! | --- | --- | --- | --- |
//! | sale, goods lines | `Umsatz` | the line's rate | by tender |
//! | sale, discount lines (a pass) | `Rabatt` (negative) | the line's rate | |
//! | sale, deposit lines (cups) | `Pfand` | the line's rate | |
//! | sale, tip lines | `TrinkgeldAN` (owed to staff) | not taxable | |
//! | sale, bill payment lines | `Anzahlungseinstellung` | not taxable | |
//! | sale, bill settling lines | `Anzahlungsaufloesung` (negative) | not taxable | |
//! | sale paid from the wallet | the above, plus `MehrzweckgutscheinEinloesung` (minus the total) | not taxable | none |
//! | top-up of the wallet | `MehrzweckgutscheinKauf` | not taxable | cash or card |
//! | payout of the wallet | `MehrzweckgutscheinEinloesung` (negative) | not taxable | cash or card (negative) |
//! | deposit return | `PfandRueckzahlung` (negative) | the line's rate | cash |
//! | deposit return onto the wristband | the above, plus `MehrzweckgutscheinKauf` (the deposit, as credit) | not taxable | none |
//! | cancellation | the cancelled entry's cases, negated, marked as a cancellation | | |
//! | cash count difference at shift close (adjustment without a band) | `DifferenzSollIst` | not taxable | cash |
//! | shift opened with a float | `Anfangsbestand` | not taxable | cash |
//! | offline shortfall written off (adjustment on a band) | none: the server's bookkeeping, not a till's transaction | | |
//!
//! The wallet is a multi-purpose voucher (§3 Abs. 14 UStG): VAT is due when
//! it is spent on goods, not when it is bought. Which business case a
//! payout of a rest is (a redemption for cash here) is for the event's tax
//! adviser to confirm.

use serde::{Deserialize, Serialize};
use tapster_ledger::model::{Entry, EntryKind, Line, Tender};
use tapster_ledger::{Cents, VatRate};

/// A DSFinV-K business case type (`GV_TYP`), as far as the ledger has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BusinessCase {
    Anfangsbestand,
    Umsatz,
    Rabatt,
    Pfand,
    PfandRueckzahlung,
    TrinkgeldAN,
    MehrzweckgutscheinKauf,
    MehrzweckgutscheinEinloesung,
    Anzahlungseinstellung,
    Anzahlungsaufloesung,
    DifferenzSollIst,
}

impl BusinessCase {
    /// The specification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            BusinessCase::Anfangsbestand => "Anfangsbestand",
            BusinessCase::Umsatz => "Umsatz",
            BusinessCase::Rabatt => "Rabatt",
            BusinessCase::Pfand => "Pfand",
            BusinessCase::PfandRueckzahlung => "PfandRueckzahlung",
            BusinessCase::TrinkgeldAN => "TrinkgeldAN",
            BusinessCase::MehrzweckgutscheinKauf => "MehrzweckgutscheinKauf",
            BusinessCase::MehrzweckgutscheinEinloesung => "MehrzweckgutscheinEinloesung",
            BusinessCase::Anzahlungseinstellung => "Anzahlungseinstellung",
            BusinessCase::Anzahlungsaufloesung => "Anzahlungsaufloesung",
            BusinessCase::DifferenzSollIst => "DifferenzSollIst",
        }
    }
}

/// DSFinV-K's VAT keys (`UST_SCHLUESSEL`), which are also the five places
/// of a receipt's process data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VatKey {
    /// 1: the general rate, 19 %.
    General,
    /// 2: the reduced rate, 7 %.
    Reduced,
    /// 3: the average rate of §24 (1) Nr. 3 UStG, 10.7 %.
    Average107,
    /// 4: the average rate of §24 (1) Nr. 1 UStG, 5.5 %.
    Average55,
    /// 5: not taxable (vouchers, tips, deposits on account).
    NotTaxable,
    /// 6: a 0 % rate on taxable supplies.
    Zero,
}

impl VatKey {
    /// The key of a ledger VAT rate; `None` for a rate German law does not
    /// have (an event elsewhere needs another scheme).
    pub fn of(rate: VatRate) -> Option<VatKey> {
        Some(match rate.0 {
            1900 => VatKey::General,
            700 => VatKey::Reduced,
            1070 => VatKey::Average107,
            550 => VatKey::Average55,
            0 => VatKey::Zero,
            _ => return None,
        })
    }

    /// The rate its amounts carry (not taxable and 0 % carry none).
    pub fn rate(self) -> VatRate {
        VatRate(match self {
            VatKey::General => 1900,
            VatKey::Reduced => 700,
            VatKey::Average107 => 1070,
            VatKey::Average55 => 550,
            VatKey::NotTaxable | VatKey::Zero => 0,
        })
    }

    /// `UST_SCHLUESSEL`.
    pub fn id(self) -> u8 {
        match self {
            VatKey::General => 1,
            VatKey::Reduced => 2,
            VatKey::Average107 => 3,
            VatKey::Average55 => 4,
            VatKey::NotTaxable => 5,
            VatKey::Zero => 6,
        }
    }

    /// Its place in a receipt's process data (the fifth holds 0 % and
    /// not taxable alike).
    pub fn place(self) -> usize {
        match self {
            VatKey::General => 0,
            VatKey::Reduced => 1,
            VatKey::Average107 => 2,
            VatKey::Average55 => 3,
            VatKey::NotTaxable | VatKey::Zero => 4,
        }
    }
}

/// One business case of a transaction, gross.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalLine {
    pub case: BusinessCase,
    pub vat: VatKey,
    /// Gross, VAT included; negative for money going back.
    pub amount: Cents,
}

/// What a transaction moves of money, for the payments of its receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaidWith {
    Cash,
    /// Card: non-cash.
    Card,
    /// The wallet (a multi-purpose voucher): no payment.
    Voucher,
}

/// Why an entry has no business cases.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("VAT rate {0} % is not a German rate: this event needs another fiscal scheme")]
    Rate(String),
    #[error("the amounts are too large to add up")]
    Overflow,
}

/// The entry as business cases, and how it was paid. An adjustment on a
/// band has none (an empty list): it is not a till's transaction.
/// Cancellations are [`negated`] cases of the entry they cancel.
pub fn cases_of(
    kind: EntryKind,
    tender: Tender,
    amount: Cents,
    lines: &[Line],
    on_band: bool,
) -> Result<(Vec<FiscalLine>, PaidWith), CaseError> {
    let paid = match tender {
        Tender::Cash => PaidWith::Cash,
        Tender::Card => PaidWith::Card,
        Tender::Wallet => PaidWith::Voucher,
    };
    let mut out = Vec::new();
    match kind {
        EntryKind::Sale => {
            for line in lines {
                let total = line.total().ok_or(CaseError::Overflow)?;
                let (case, vat) = if let Some(_bill) = &line.bill {
                    let case = if total.is_negative() {
                        BusinessCase::Anzahlungsaufloesung
                    } else {
                        BusinessCase::Anzahlungseinstellung
                    };
                    (case, VatKey::NotTaxable)
                } else if line.tip {
                    (BusinessCase::TrinkgeldAN, VatKey::NotTaxable)
                } else if line.deposit {
                    (BusinessCase::Pfand, key(line.vat_rate)?)
                } else if line.pass.is_some() && total.is_negative() {
                    (BusinessCase::Rabatt, key(line.vat_rate)?)
                } else {
                    (BusinessCase::Umsatz, key(line.vat_rate)?)
                };
                out.push(FiscalLine {
                    case,
                    vat,
                    amount: total,
                });
            }
            if paid == PaidWith::Voucher {
                let sum =
                    Cents::checked_sum(out.iter().map(|l| l.amount)).ok_or(CaseError::Overflow)?;
                out.push(FiscalLine {
                    case: BusinessCase::MehrzweckgutscheinEinloesung,
                    vat: VatKey::NotTaxable,
                    amount: sum.checked_neg().ok_or(CaseError::Overflow)?,
                });
            }
        }
        EntryKind::TopUp => out.push(FiscalLine {
            case: BusinessCase::MehrzweckgutscheinKauf,
            vat: VatKey::NotTaxable,
            amount,
        }),
        EntryKind::Payout => out.push(FiscalLine {
            case: BusinessCase::MehrzweckgutscheinEinloesung,
            vat: VatKey::NotTaxable,
            // The guest's wallet goes down: money leaves the till.
            amount: going_back(amount)?,
        }),
        EntryKind::DepositReturn => {
            for line in lines {
                out.push(FiscalLine {
                    case: BusinessCase::PfandRueckzahlung,
                    vat: key(line.vat_rate)?,
                    amount: going_back(line.total().ok_or(CaseError::Overflow)?)?,
                });
            }
            // Credited to the wristband: the guest buys voucher credit
            // with the deposit; no money moves at the till.
            if paid == PaidWith::Voucher {
                let sum =
                    Cents::checked_sum(out.iter().map(|l| l.amount)).ok_or(CaseError::Overflow)?;
                out.push(FiscalLine {
                    case: BusinessCase::MehrzweckgutscheinKauf,
                    vat: VatKey::NotTaxable,
                    amount: sum.checked_neg().ok_or(CaseError::Overflow)?,
                });
            }
        }
        EntryKind::Adjustment if !on_band => out.push(FiscalLine {
            case: BusinessCase::DifferenzSollIst,
            vat: VatKey::NotTaxable,
            amount,
        }),
        EntryKind::Adjustment | EntryKind::Cancel => {}
    }
    Ok((out, paid))
}

/// A ledger entry's business cases and how it was paid. A cancellation
/// carries its reversed lines; `cancelled` is the kind of the entry it
/// cancels (a sale when not known), whose cases it negates.
pub fn entry_cases(
    entry: &Entry,
    cancelled: Option<EntryKind>,
) -> Result<(Vec<FiscalLine>, PaidWith), CaseError> {
    record_cases(
        entry.kind,
        entry.tender,
        entry.amount,
        &entry.lines,
        entry.token.is_some(),
        cancelled,
    )
}

/// [`entry_cases`] of a transaction given by its parts (the server's
/// books, the DSFinV-K export).
pub fn record_cases(
    kind: EntryKind,
    tender: Tender,
    amount: Cents,
    lines: &[Line],
    on_band: bool,
    cancelled: Option<EntryKind>,
) -> Result<(Vec<FiscalLine>, PaidWith), CaseError> {
    if kind != EntryKind::Cancel {
        return cases_of(kind, tender, amount, lines, on_band);
    }
    let original: Vec<Line> = lines
        .iter()
        .map(|line| {
            Ok(Line {
                quantity: line.quantity.checked_neg().ok_or(CaseError::Overflow)?,
                ..line.clone()
            })
        })
        .collect::<Result<_, CaseError>>()?;
    let amount = amount.checked_neg().ok_or(CaseError::Overflow)?;
    let kind = cancelled.unwrap_or(EntryKind::Sale);
    let (cases, paid) = cases_of(kind, tender, amount, &original, on_band)?;
    Ok((negated(&cases)?, paid))
}

/// A cancellation's cases: the cancelled entry's, negated.
pub fn negated(lines: &[FiscalLine]) -> Result<Vec<FiscalLine>, CaseError> {
    lines
        .iter()
        .map(|l| {
            Ok(FiscalLine {
                amount: l.amount.checked_neg().ok_or(CaseError::Overflow)?,
                ..*l
            })
        })
        .collect()
}

/// A shift's opening float.
pub fn opening_float(float: Cents) -> FiscalLine {
    FiscalLine {
        case: BusinessCase::Anfangsbestand,
        vat: VatKey::NotTaxable,
        amount: float,
    }
}

/// Money going back to the guest, negative whichever sign it was booked
/// with; checked.
fn going_back(amount: Cents) -> Result<Cents, CaseError> {
    amount
        .0
        .checked_abs()
        .map(|abs| Cents(-abs))
        .ok_or(CaseError::Overflow)
}

fn key(rate: VatRate) -> Result<VatKey, CaseError> {
    VatKey::of(rate).ok_or_else(|| CaseError::Rate(format!("{}.{:02}", rate.0 / 100, rate.0 % 100)))
}

/// A goods line for tests.
#[cfg(test)]
pub(crate) fn test_line(product: &str, quantity: i64, cents: i64, rate: u32) -> Line {
    use tapster_ledger::{CategoryId, ProductId};
    Line {
        product: ProductId::new(product).unwrap(),
        name: product.into(),
        category: CategoryId::new("drinks").unwrap(),
        quantity,
        unit_price: Cents(cents),
        vat_rate: VatRate(rate),
        deposit: false,
        pass: None,
        tip: false,
        bill: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: &str, quantity: i64, cents: i64, rate: u32) -> Line {
        test_line(product, quantity, cents, rate)
    }

    #[test]
    fn a_wallet_sale_is_revenue_redeemed_from_the_voucher() {
        let mut cup = line("cup", 1, 300, 1900);
        cup.deposit = true;
        let mut tip = line("tip", 1, 50, 0);
        tip.tip = true;
        let lines = [
            line("beer", 2, 500, 1900),
            line("pretzel", 1, 350, 700),
            cup,
            tip,
        ];
        let (cases, paid) =
            cases_of(EntryKind::Sale, Tender::Wallet, Cents(-1700), &lines, true).unwrap();
        assert_eq!(paid, PaidWith::Voucher);
        let as_tuples: Vec<_> = cases.iter().map(|c| (c.case, c.vat, c.amount.0)).collect();
        assert_eq!(
            as_tuples,
            vec![
                (BusinessCase::Umsatz, VatKey::General, 1000),
                (BusinessCase::Umsatz, VatKey::Reduced, 350),
                (BusinessCase::Pfand, VatKey::General, 300),
                (BusinessCase::TrinkgeldAN, VatKey::NotTaxable, 50),
                (
                    BusinessCase::MehrzweckgutscheinEinloesung,
                    VatKey::NotTaxable,
                    -1700
                ),
            ]
        );
        assert_eq!(
            cases.iter().map(|c| c.amount.0).sum::<i64>(),
            0,
            "nothing paid at the till"
        );
    }

    #[test]
    fn top_ups_payouts_returns_and_counts_have_their_cases() {
        let (top_up, paid) =
            cases_of(EntryKind::TopUp, Tender::Cash, Cents(2000), &[], true).unwrap();
        assert_eq!(paid, PaidWith::Cash);
        assert_eq!(top_up[0].case, BusinessCase::MehrzweckgutscheinKauf);
        assert_eq!(top_up[0].amount, Cents(2000));
        let (payout, _) =
            cases_of(EntryKind::Payout, Tender::Cash, Cents(-750), &[], true).unwrap();
        assert_eq!(
            (payout[0].case, payout[0].amount),
            (BusinessCase::MehrzweckgutscheinEinloesung, Cents(-750))
        );
        let mut cup = line("cup", -2, 300, 1900);
        cup.deposit = true;
        let (returned, _) = cases_of(
            EntryKind::DepositReturn,
            Tender::Wallet,
            Cents(600),
            &[cup],
            true,
        )
        .unwrap();
        assert_eq!(
            (returned[0].case, returned[0].amount),
            (BusinessCase::PfandRueckzahlung, Cents(-600))
        );
        assert_eq!(
            (returned[1].case, returned[1].amount),
            (BusinessCase::MehrzweckgutscheinKauf, Cents(600)),
            "credited to the band: bought as voucher credit"
        );
        assert_eq!(returned.len(), 2);
        let (counted, _) =
            cases_of(EntryKind::Adjustment, Tender::Cash, Cents(-120), &[], false).unwrap();
        assert_eq!(counted[0].case, BusinessCase::DifferenzSollIst);
        let (written_off, _) = cases_of(
            EntryKind::Adjustment,
            Tender::Wallet,
            Cents(-120),
            &[],
            true,
        )
        .unwrap();
        assert!(
            written_off.is_empty(),
            "the server's bookkeeping, not a till's"
        );
        assert_eq!(
            opening_float(Cents(10000)).case,
            BusinessCase::Anfangsbestand
        );
    }

    #[test]
    fn a_cancellation_negates_and_foreign_rates_are_refused() {
        let (sale, _) = cases_of(
            EntryKind::Sale,
            Tender::Cash,
            Cents(500),
            &[line("beer", 1, 500, 1900)],
            false,
        )
        .unwrap();
        assert_eq!(negated(&sale).unwrap()[0].amount, Cents(-500));
        assert_eq!(
            cases_of(
                EntryKind::Sale,
                Tender::Cash,
                Cents(500),
                &[line("beer", 1, 500, 2000)],
                false
            ),
            Err(CaseError::Rate("20.00".into()))
        );
    }
}
