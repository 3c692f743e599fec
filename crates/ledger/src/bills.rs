//! Bills: one order paid by one or more payments — wristbands, cash with
//! change, card — with a tip and cups brought back netted into it.
//!
//! The rules here are pure; the store runs them (see `store::bills`). In
//! the books, a bill's payments move money into the `open_bills` account
//! (each a sale entry with one bill line) and the entry that settles the
//! bill moves it from there to revenue, deposits and tips (a sale entry
//! with the order's lines and one negative bill line). A settled or
//! cancelled bill leaves `open_bills` where it found it.

use serde::{Deserialize, Serialize};

use crate::error::{InputError, LedgerError, Result};
use crate::ids::{BillId, CategoryId, ProductId};
use crate::model::{Line, Tender};
use crate::money::{Cents, VatRate};
use crate::pricing::{lines_total, PricedCart};

/// The product id of tip lines (reserved: no catalogue product may use it).
pub const TIP_PRODUCT: &str = "tip";
pub const TIP_CATEGORY: &str = "tips";
/// The product id of bill lines (reserved).
pub const BILL_PRODUCT: &str = "bill";
pub const BILL_CATEGORY: &str = "bills";

/// Product ids that name lines the ledger makes, never catalogue products.
pub const RESERVED_PRODUCT_IDS: &[&str] =
    &[TIP_PRODUCT, BILL_PRODUCT, crate::passes::DISCOUNT_PRODUCT];

/// The largest tip, as an amount: more is a typo, not generosity.
pub const MAX_TIP: Cents = Cents(100_00);
/// The largest tip, as a share of the goods: 50 %.
pub const MAX_TIP_PERCENT_BP: u32 = 5_000;

/// A tip chosen on the till or the customer display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Tip {
    /// A fixed amount.
    Amount(Cents),
    /// A share of the goods (after discounts, without deposits), in basis
    /// points: 1000 is 10 %.
    Percent(u32),
}

impl Tip {
    /// What the tip comes to on `goods`, rounded half up to the cent.
    pub fn amount_on(self, goods: Cents) -> Result<Cents> {
        let amount = match self {
            Tip::Amount(amount) => {
                if !amount.is_positive() || amount > MAX_TIP {
                    return Err(InputError::new(
                        "tip",
                        format!("must be more than zero and at most {MAX_TIP}"),
                    )
                    .into());
                }
                amount
            }
            Tip::Percent(bp) => {
                if bp == 0 || bp > MAX_TIP_PERCENT_BP {
                    return Err(
                        InputError::new("tip", "must be 0.01 % to 50 % of the goods").into(),
                    );
                }
                let base = i128::from(goods.0.max(0));
                let cents = (base * i128::from(bp) + 5_000) / 10_000;
                Cents(i64::try_from(cents).map_err(|_| LedgerError::AmountOverflow)?)
            }
        };
        Ok(amount.min(MAX_TIP))
    }
}

/// The goods of a priced cart: what a percentage tip is a share of.
pub fn goods_total(lines: &[Line]) -> Result<Cents> {
    Cents::checked_sum(
        lines
            .iter()
            .filter(|line| line.is_goods())
            .map(|line| line.total().unwrap_or(Cents::ZERO)),
    )
    .ok_or(LedgerError::AmountOverflow)
}

/// A tip line of `amount` (no VAT: a tip is the staff's, not revenue).
pub fn tip_line(amount: Cents) -> Line {
    Line {
        product: ProductId::new(TIP_PRODUCT).expect("a valid id"),
        name: "Trinkgeld".into(),
        category: CategoryId::new(TIP_CATEGORY).expect("a valid id"),
        quantity: 1,
        unit_price: amount,
        vat_rate: VatRate(0),
        deposit: false,
        pass: None,
        tip: true,
        bill: None,
    }
}

/// Adds the tip to a priced cart (after any discount), as its last line.
/// A percentage of nothing adds no line.
pub fn add_tip(mut priced: PricedCart, tip: Option<Tip>) -> Result<PricedCart> {
    let Some(tip) = tip else {
        return Ok(priced);
    };
    let amount = tip.amount_on(goods_total(&priced.lines)?)?;
    if amount == Cents::ZERO {
        return Ok(priced);
    }
    priced.lines.push(tip_line(amount));
    priced.total = lines_total(&priced.lines)?;
    Ok(priced)
}

/// The tip in a set of lines.
pub fn tip_total(lines: &[Line]) -> Cents {
    Cents(
        lines
            .iter()
            .filter(|line| line.tip)
            .filter_map(Line::total)
            .map(|total| total.0)
            .sum(),
    )
}

/// The line of a payment into `bill` (`amount` > 0), or, negated, of the
/// entry that settles it.
pub fn bill_line(bill: BillId, amount: Cents) -> Line {
    Line {
        product: ProductId::new(BILL_PRODUCT).expect("a valid id"),
        name: "Rechnung".into(),
        category: CategoryId::new(BILL_CATEGORY).expect("a valid id"),
        quantity: 1,
        unit_price: amount,
        vat_rate: VatRate(0),
        deposit: false,
        pass: None,
        tip: false,
        bill: Some(bill),
    }
}

/// The line of a payment into `bill`: named by the card terminal's
/// reference when there is one, so it travels with the entry (to the
/// server and its integrations).
pub fn payment_line(bill: BillId, amount: Cents, reference: Option<&str>) -> Line {
    let mut line = bill_line(bill, amount);
    if let Some(reference) = reference {
        line.name = format!("{PAYMENT_REFERENCE_PREFIX}{reference}");
    }
    line
}

/// How a payment line's name starts when it carries a reference.
pub const PAYMENT_REFERENCE_PREFIX: &str = "Ref. ";

/// The card terminal's reference a payment line carries.
pub fn payment_reference(line: &Line) -> Option<&str> {
    line.bill?;
    line.name.strip_prefix(PAYMENT_REFERENCE_PREFIX)
}

/// The bill an entry's lines belong to, if any.
pub fn bill_of(lines: &[Line]) -> Option<BillId> {
    lines.iter().find_map(|line| line.bill)
}

/// What a payment puts towards a bill and what goes back to the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// Booked to the bill (never more than was left).
    pub amount: Cents,
    /// Cash handed back: what was tendered above the rest.
    pub change: Cents,
}

/// How much of `offered` a payment by `tender` puts towards a bill with
/// `remaining` left: a wristband or a card pays at most the rest; cash
/// may be more, and the difference is change.
pub fn apply_payment(remaining: Cents, tender: Tender, offered: Cents) -> Result<Applied> {
    if !remaining.is_positive() {
        return Err(LedgerError::BillAlreadyCovered);
    }
    if !offered.is_positive() {
        return Err(InputError::new("payment", "must be more than zero").into());
    }
    match tender {
        Tender::Cash => {
            let amount = offered.min(remaining);
            Ok(Applied {
                amount,
                change: offered
                    .checked_sub(amount)
                    .ok_or(LedgerError::AmountOverflow)?,
            })
        }
        Tender::Wallet | Tender::Card if offered > remaining => {
            Err(LedgerError::BillOverpaid { remaining, offered })
        }
        Tender::Wallet | Tender::Card => Ok(Applied {
            amount: offered,
            change: Cents::ZERO,
        }),
    }
}

/// What is left to pay: the total less what the payments put in.
pub fn remaining(total: Cents, paid: &[Cents]) -> Result<Cents> {
    let paid = Cents::checked_sum(paid.iter().copied()).ok_or(LedgerError::AmountOverflow)?;
    total.checked_sub(paid).ok_or(LedgerError::AmountOverflow)
}

/// A bill's state, as the till shows it and the store keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillStatus {
    Open,
    Settled,
    Cancelled,
}

impl BillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Open => "open",
            BillStatus::Settled => "settled",
            BillStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Result<BillStatus> {
        match value {
            "open" => Ok(BillStatus::Open),
            "settled" => Ok(BillStatus::Settled),
            "cancelled" => Ok(BillStatus::Cancelled),
            other => Err(LedgerError::Corrupt(format!(
                "unknown bill status '{other}'"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_percentage_tip_is_a_share_of_the_goods_rounded_half_up() {
        assert_eq!(Tip::Percent(1000).amount_on(Cents(905)).unwrap(), Cents(91));
        assert_eq!(Tip::Percent(1000).amount_on(Cents(904)).unwrap(), Cents(90));
        assert_eq!(Tip::Percent(500).amount_on(Cents(0)).unwrap(), Cents(0));
        assert_eq!(
            Tip::Amount(Cents(150)).amount_on(Cents(0)).unwrap(),
            Cents(150)
        );
        assert!(Tip::Amount(Cents(0)).amount_on(Cents(100)).is_err());
        assert!(Tip::Amount(Cents(100_01)).amount_on(Cents(100)).is_err());
        assert!(Tip::Percent(5_001).amount_on(Cents(100)).is_err());
        assert!(Tip::Percent(0).amount_on(Cents(100)).is_err());
    }

    #[test]
    fn cash_gives_change_and_bands_and_cards_pay_at_most_the_rest() {
        assert_eq!(
            apply_payment(Cents(730), Tender::Cash, Cents(1000)).unwrap(),
            Applied {
                amount: Cents(730),
                change: Cents(270)
            }
        );
        assert_eq!(
            apply_payment(Cents(730), Tender::Cash, Cents(500)).unwrap(),
            Applied {
                amount: Cents(500),
                change: Cents::ZERO
            }
        );
        assert!(matches!(
            apply_payment(Cents(730), Tender::Card, Cents(731)),
            Err(LedgerError::BillOverpaid { .. })
        ));
        assert!(matches!(
            apply_payment(Cents(730), Tender::Wallet, Cents(731)),
            Err(LedgerError::BillOverpaid { .. })
        ));
        assert!(matches!(
            apply_payment(Cents::ZERO, Tender::Cash, Cents(1)),
            Err(LedgerError::BillAlreadyCovered)
        ));
        assert!(apply_payment(Cents(10), Tender::Cash, Cents(0)).is_err());
    }

    proptest! {
        /// Whatever is offered in whatever order, the payments never put in
        /// more than the total, each puts in something, change is cash's
        /// only, and once nothing is left the payments sum to the total.
        #[test]
        fn payments_always_sum_to_the_total(
            total in 1i64..50_000,
            attempts in proptest::collection::vec((0u8..3, 1i64..60_000), 1..12),
        ) {
            let total = Cents(total);
            let mut paid: Vec<Cents> = Vec::new();
            for (tender, offered) in attempts {
                let tender = [Tender::Wallet, Tender::Cash, Tender::Card][usize::from(tender)];
                let left = remaining(total, &paid).unwrap();
                match apply_payment(left, tender, Cents(offered)) {
                    Ok(applied) => {
                        prop_assert!(applied.amount.is_positive());
                        prop_assert!(applied.amount <= left);
                        prop_assert_eq!(applied.amount.0 + applied.change.0, offered);
                        if tender != Tender::Cash {
                            prop_assert_eq!(applied.change, Cents::ZERO);
                        }
                        paid.push(applied.amount);
                    }
                    Err(LedgerError::BillAlreadyCovered) => prop_assert_eq!(left, Cents::ZERO),
                    Err(LedgerError::BillOverpaid { .. }) => {
                        prop_assert!(tender != Tender::Cash && offered > left.0)
                    }
                    Err(other) => prop_assert!(false, "unexpected {other}"),
                }
                let left = remaining(total, &paid).unwrap();
                prop_assert!(!left.is_negative());
                if left == Cents::ZERO {
                    prop_assert_eq!(paid.iter().map(|p| p.0).sum::<i64>(), total.0);
                }
            }
        }

        /// A percentage tip is never more than the share asked (plus half
        /// a cent) nor above the cap.
        #[test]
        fn percentage_tips_stay_within_their_share(goods in 0i64..1_000_000, bp in 1u32..=5_000) {
            let tip = Tip::Percent(bp).amount_on(Cents(goods)).unwrap();
            prop_assert!(tip <= MAX_TIP);
            prop_assert!(i128::from(tip.0) * 10_000 <= i128::from(goods) * i128::from(bp) + 5_000);
        }
    }
}
