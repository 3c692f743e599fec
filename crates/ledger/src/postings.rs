//! Double entry: every entry is booked as postings between accounts that sum
//! to zero. Balances, revenue and the cash a drawer should hold are sums of
//! postings, so every report adds up by construction.
//!
//! Sign convention: credits positive, debits negative, so a wallet's balance
//! is the sum of its postings (as in seed 001), revenue and the deposit
//! liability grow positive, and a drawer's cash in hand is minus the sum of
//! its postings.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result};
use crate::ids::{ShiftId, TokenId};
use crate::model::{EntryKind, Line, Tender};
use crate::money::{Cents, VatRate};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Account {
    /// A guest's wallet: what the event owes the guest.
    Wallet(TokenId),
    /// The cash drawer of one shift.
    CashDrawer(ShiftId),
    /// Card payments on their way from the card processor.
    CardClearing,
    /// Gross revenue (VAT included) at one VAT rate.
    Revenue(VatRate),
    /// Cup deposits the event owes back.
    DepositLiability,
    /// Offline debits the server found uncovered, when written off.
    OfflineShortfall,
    /// Cash counted above or below what a drawer should hold.
    CashImbalance,
    /// Payments taken for bills not yet settled (see [`crate::bills`]).
    OpenBills,
    /// Tips taken in one shift, owed to its staff.
    Tips(ShiftId),
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Wallet(token) => write!(f, "wallet:{token}"),
            Account::CashDrawer(shift) => write!(f, "cash:{shift}"),
            Account::CardClearing => f.write_str("card_clearing"),
            Account::Revenue(rate) => write!(f, "revenue:{}", rate.0),
            Account::DepositLiability => f.write_str("deposit_liability"),
            Account::OfflineShortfall => f.write_str("offline_shortfall"),
            Account::CashImbalance => f.write_str("cash_imbalance"),
            Account::OpenBills => f.write_str("open_bills"),
            Account::Tips(shift) => write!(f, "tips:{shift}"),
        }
    }
}

impl FromStr for Account {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self> {
        let corrupt = || LedgerError::Corrupt(format!("unknown account '{s}'"));
        Ok(match s.split_once(':') {
            Some(("wallet", token)) => {
                Account::Wallet(TokenId::parse(token).map_err(|_| corrupt())?)
            }
            Some(("cash", shift)) => Account::CashDrawer(shift.parse().map_err(|_| corrupt())?),
            Some(("tips", shift)) => Account::Tips(shift.parse().map_err(|_| corrupt())?),
            Some(("revenue", rate)) => {
                Account::Revenue(VatRate(rate.parse().map_err(|_| corrupt())?))
            }
            None if s == "card_clearing" => Account::CardClearing,
            None if s == "deposit_liability" => Account::DepositLiability,
            None if s == "offline_shortfall" => Account::OfflineShortfall,
            None if s == "cash_imbalance" => Account::CashImbalance,
            None if s == "open_bills" => Account::OpenBills,
            _ => return Err(corrupt()),
        })
    }
}

impl From<Account> for String {
    fn from(account: Account) -> Self {
        account.to_string()
    }
}

impl TryFrom<String> for Account {
    type Error = LedgerError;
    fn try_from(value: String) -> Result<Self> {
        value.parse()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Posting {
    /// `wallet:<token>`, `cash:<shift>`, `revenue:<VAT bp>`, … (see [`Account`]).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "wallet:04A1B2C3"))]
    pub account: Account,
    pub amount: Cents,
}

/// What an entry moves, before it is booked.
pub struct Movement<'a> {
    pub kind: EntryKind,
    pub tender: Tender,
    pub token: Option<&'a TokenId>,
    pub shift: Option<ShiftId>,
    /// Seen from the guest: credits positive, debits negative.
    pub amount: Cents,
    pub lines: &'a [Line],
}

/// Books a movement. Cancellations are not booked here: they negate the
/// postings of the entry they reverse (see [`reverse`]).
pub fn book(movement: &Movement<'_>) -> Result<Vec<Posting>> {
    let counter = counter_account(movement)?;
    let mut postings = Vec::new();
    match movement.kind {
        EntryKind::Sale => {
            // The guest's side pays the total; revenue per VAT rate, the
            // deposit liability and the shift's tips receive it. A bill's
            // payment goes to open bills; the entry settling a bill takes
            // it from there.
            postings.push(Posting {
                account: counter,
                amount: movement.amount,
            });
            let mut by_account: BTreeMap<Account, Cents> = BTreeMap::new();
            for line in movement.lines {
                let account = if line.bill.is_some() {
                    Account::OpenBills
                } else if line.tip {
                    Account::Tips(movement.shift.ok_or(LedgerError::NoOpenShift)?)
                } else if line.deposit {
                    Account::DepositLiability
                } else {
                    Account::Revenue(line.vat_rate)
                };
                let total = line.total().ok_or(LedgerError::AmountOverflow)?;
                let sum = by_account.entry(account).or_default();
                *sum = sum.checked_add(total).ok_or(LedgerError::AmountOverflow)?;
            }
            postings.extend(
                by_account
                    .into_iter()
                    .map(|(account, amount)| Posting { account, amount }),
            );
        }
        EntryKind::TopUp | EntryKind::Payout | EntryKind::DepositReturn | EntryKind::Adjustment => {
            let other = match movement.kind {
                EntryKind::DepositReturn => Account::DepositLiability,
                EntryKind::Adjustment if movement.token.is_some() => Account::OfflineShortfall,
                EntryKind::Adjustment => Account::CashImbalance,
                _ => counter_of_tender(movement.tender, movement.shift)?,
            };
            // Top-ups and payouts move money between a wallet and the
            // tender; returns and adjustments between the guest's side
            // (wallet, or the drawer for cash) and their own account.
            let (first, second) = match (movement.kind, movement.token) {
                (EntryKind::DepositReturn | EntryKind::Adjustment, _) => (counter, other),
                (_, Some(token)) => (Account::Wallet(token.clone()), other),
                (_, None) => return Err(LedgerError::TenderMismatch),
            };
            // A cash count's amount is counted minus expected cash: the
            // drawer account moves the other way (cash in hand is minus
            // its postings).
            let negated = movement
                .amount
                .checked_neg()
                .ok_or(LedgerError::AmountOverflow)?;
            let (first_amount, second_amount) = match (movement.kind, movement.token) {
                (EntryKind::Adjustment, None) => (negated, movement.amount),
                _ => (movement.amount, negated),
            };
            postings.push(Posting {
                account: first,
                amount: first_amount,
            });
            postings.push(Posting {
                account: second,
                amount: second_amount,
            });
        }
        EntryKind::Cancel => return Err(corrupt("cancellations are booked by reverse()")),
    }
    postings.retain(|posting| posting.amount != Cents::ZERO);
    check_balanced(&postings)?;
    Ok(postings)
}

/// The postings of a cancellation: the original's, negated.
pub fn reverse(original: &[Posting]) -> Result<Vec<Posting>> {
    original
        .iter()
        .map(|posting| {
            Ok(Posting {
                account: posting.account.clone(),
                amount: posting
                    .amount
                    .checked_neg()
                    .ok_or(LedgerError::AmountOverflow)?,
            })
        })
        .collect()
}

/// Refuses postings that do not sum to zero; a bug, never a user error.
pub fn check_balanced(postings: &[Posting]) -> Result<()> {
    let sum =
        Cents::checked_sum(postings.iter().map(|p| p.amount)).ok_or(LedgerError::AmountOverflow)?;
    if sum != Cents::ZERO {
        return Err(corrupt("postings do not sum to zero"));
    }
    Ok(())
}

/// The account on the guest's side of a movement.
fn counter_account(movement: &Movement<'_>) -> Result<Account> {
    match (movement.tender, movement.token) {
        (Tender::Wallet, Some(token)) => Ok(Account::Wallet(token.clone())),
        (Tender::Wallet, None) => Err(LedgerError::TenderMismatch),
        (tender, _) => counter_of_tender(tender, movement.shift),
    }
}

fn counter_of_tender(tender: Tender, shift: Option<ShiftId>) -> Result<Account> {
    match tender {
        Tender::Cash => shift
            .map(Account::CashDrawer)
            .ok_or(LedgerError::NoOpenShift),
        Tender::Card => Ok(Account::CardClearing),
        Tender::Wallet => Err(LedgerError::TenderMismatch),
    }
}

fn corrupt(what: &str) -> LedgerError {
    LedgerError::Corrupt(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CategoryId, ProductId};
    use uuid::Uuid;

    fn token() -> TokenId {
        TokenId::parse("04A1B2C3").unwrap()
    }

    fn line(price: i64, quantity: i64, vat: u32, deposit: bool) -> Line {
        Line {
            product: ProductId::new("p").unwrap(),
            name: "P".into(),
            category: CategoryId::new("c").unwrap(),
            quantity,
            unit_price: Cents(price),
            vat_rate: VatRate(vat),
            deposit,
            pass: None,
            tip: false,
            bill: None,
        }
    }

    fn sum_of(postings: &[Posting], account: &Account) -> Cents {
        Cents::checked_sum(
            postings
                .iter()
                .filter(|p| &p.account == account)
                .map(|p| p.amount),
        )
        .unwrap()
    }

    #[test]
    fn a_wallet_sale_moves_money_to_revenue_and_deposits() {
        let lines = [
            line(450, 2, 1900, false),
            line(300, 1, 700, false),
            line(200, 2, 0, true),
        ];
        let t = token();
        let postings = book(&Movement {
            kind: EntryKind::Sale,
            tender: Tender::Wallet,
            token: Some(&t),
            shift: None,
            amount: Cents(-1600),
            lines: &lines,
        })
        .unwrap();
        assert_eq!(sum_of(&postings, &Account::Wallet(t)), Cents(-1600));
        assert_eq!(
            sum_of(&postings, &Account::Revenue(VatRate(1900))),
            Cents(900)
        );
        assert_eq!(
            sum_of(&postings, &Account::Revenue(VatRate(700))),
            Cents(300)
        );
        assert_eq!(sum_of(&postings, &Account::DepositLiability), Cents(400));
    }

    #[test]
    fn cash_goes_to_the_shift_drawer_and_cards_to_clearing() {
        let shift = ShiftId(Uuid::nil());
        let t = token();
        let cash_top_up = book(&Movement {
            kind: EntryKind::TopUp,
            tender: Tender::Cash,
            token: Some(&t),
            shift: Some(shift),
            amount: Cents(2000),
            lines: &[],
        })
        .unwrap();
        assert_eq!(
            sum_of(&cash_top_up, &Account::CashDrawer(shift)),
            Cents(-2000)
        );
        assert_eq!(
            sum_of(&cash_top_up, &Account::Wallet(t.clone())),
            Cents(2000)
        );
        let card_sale = book(&Movement {
            kind: EntryKind::Sale,
            tender: Tender::Card,
            token: None,
            shift: Some(shift),
            amount: Cents(-450),
            lines: &[line(450, 1, 1900, false)],
        })
        .unwrap();
        assert_eq!(sum_of(&card_sale, &Account::CardClearing), Cents(-450));
        let payout = book(&Movement {
            kind: EntryKind::Payout,
            tender: Tender::Cash,
            token: Some(&t),
            shift: Some(shift),
            amount: Cents(-700),
            lines: &[],
        })
        .unwrap();
        assert_eq!(sum_of(&payout, &Account::CashDrawer(shift)), Cents(700));
    }

    #[test]
    fn wallet_tender_needs_a_wallet_and_cash_needs_a_shift() {
        let no_wallet = book(&Movement {
            kind: EntryKind::Sale,
            tender: Tender::Wallet,
            token: None,
            shift: None,
            amount: Cents(-1),
            lines: &[line(1, 1, 0, false)],
        });
        assert!(matches!(no_wallet, Err(LedgerError::TenderMismatch)));
        let no_shift = book(&Movement {
            kind: EntryKind::Sale,
            tender: Tender::Cash,
            token: None,
            shift: None,
            amount: Cents(-1),
            lines: &[line(1, 1, 0, false)],
        });
        assert!(matches!(no_shift, Err(LedgerError::NoOpenShift)));
    }

    #[test]
    fn reversal_negates_and_stays_balanced() {
        let t = token();
        let postings = book(&Movement {
            kind: EntryKind::DepositReturn,
            tender: Tender::Wallet,
            token: Some(&t),
            shift: None,
            amount: Cents(400),
            lines: &[line(200, -2, 0, true)],
        })
        .unwrap();
        let reversed = reverse(&postings).unwrap();
        check_balanced(&reversed).unwrap();
        assert_eq!(sum_of(&reversed, &Account::Wallet(t)), Cents(-400));
    }

    #[test]
    fn account_names_round_trip() {
        for account in [
            Account::Wallet(token()),
            Account::CashDrawer(ShiftId(Uuid::from_u128(7))),
            Account::CardClearing,
            Account::Revenue(VatRate(1900)),
            Account::DepositLiability,
            Account::OfflineShortfall,
            Account::CashImbalance,
        ] {
            assert_eq!(account.to_string().parse::<Account>().unwrap(), account);
        }
        assert!("bank:1".parse::<Account>().is_err());
    }
}
