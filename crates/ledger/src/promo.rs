//! Promo credit: the part of a wallet's balance that came from vouchers,
//! not from the guest's money. It is spent before paid money, never paid
//! out, and shown apart. A wallet's `balance` stays the total a guest can
//! spend; its `promo` is how much of that is promo, so a till or report that
//! does not know promo credit still adds up.
//!
//! One rule moves promo credit, [`promo_after`]: the server applies it to
//! every transaction, and a till folds it over the entries the server has
//! not counted yet.

use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result};
use crate::model::EntryKind;
use crate::money::Cents;

/// What one wallet movement is, as far as promo credit cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromoMove {
    /// A voucher redeemed: the whole amount is promo credit.
    Voucher,
    /// A cancellation giving back a debit that took `promo_used` (positive)
    /// of promo credit: that much becomes promo again.
    Reversal { promo_used: Cents },
    /// Anything else, by its kind.
    Ordinary(EntryKind),
}

/// A wallet's promo credit after a movement of `amount` (credits positive),
/// given its promo credit before and its balance after.
///
/// - Debits spend promo credit first.
/// - Payouts never spend it: a payout hands out paid money only (see
///   [`payable`]).
/// - Vouchers add to it; a cancellation gives back what its debit took;
///   other credits (top-ups, cups returned) are paid money.
/// - It never exceeds what is on the wallet: a balance that fell below it
///   (an offline payout that did not know of it) takes it down too.
pub fn promo_after(
    movement: PromoMove,
    amount: Cents,
    promo_before: Cents,
    balance_after: Cents,
) -> Result<Cents> {
    let before = promo_before.max(Cents::ZERO);
    let moved = match movement {
        PromoMove::Voucher => before.checked_add(amount.max(Cents::ZERO)),
        PromoMove::Reversal { promo_used } => {
            before.checked_add(promo_used.max(Cents::ZERO).min(amount.max(Cents::ZERO)))
        }
        PromoMove::Ordinary(EntryKind::Payout) => Some(before),
        PromoMove::Ordinary(_) if amount.is_negative() => {
            let spent = amount.checked_neg().map(|debit| debit.min(before));
            spent.and_then(|spent| before.checked_sub(spent))
        }
        PromoMove::Ordinary(_) => Some(before),
    }
    .ok_or(LedgerError::AmountOverflow)?;
    Ok(moved.min(balance_after.max(Cents::ZERO)))
}

/// How much of a balance may be paid out in cash or to a card: what the
/// guest paid in, never promo credit.
pub fn payable(balance: Cents, promo: Cents) -> Cents {
    balance
        .checked_sub(promo.max(Cents::ZERO))
        .unwrap_or(Cents::ZERO)
        .max(Cents::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn after(movement: PromoMove, amount: i64, promo: i64, balance_after: i64) -> i64 {
        promo_after(movement, Cents(amount), Cents(promo), Cents(balance_after))
            .unwrap()
            .0
    }

    #[test]
    fn debits_spend_promo_first() {
        let sale = PromoMove::Ordinary(EntryKind::Sale);
        assert_eq!(after(sale, -450, 1000, 2550), 550);
        assert_eq!(after(sale, -1500, 1000, 1500), 0);
        assert_eq!(
            after(PromoMove::Ordinary(EntryKind::TopUp), 2000, 550, 4550),
            550
        );
    }

    #[test]
    fn payouts_leave_promo_credit_on_the_wallet() {
        assert_eq!(payable(Cents(3000), Cents(1000)), Cents(2000));
        assert_eq!(payable(Cents(500), Cents(1000)), Cents::ZERO);
        assert_eq!(
            after(PromoMove::Ordinary(EntryKind::Payout), -2000, 1000, 1000),
            1000
        );
    }

    #[test]
    fn a_cancellation_gives_back_the_promo_its_sale_took() {
        let back = PromoMove::Reversal {
            promo_used: Cents(450),
        };
        assert_eq!(after(back, 450, 550, 3000), 1000);
    }

    fn movement() -> impl Strategy<Value = (PromoMove, i64)> {
        prop_oneof![
            (1i64..5_000).prop_map(|a| (PromoMove::Voucher, a)),
            (1i64..5_000).prop_map(|a| (PromoMove::Ordinary(EntryKind::TopUp), a)),
            (1i64..5_000).prop_map(|a| (PromoMove::Ordinary(EntryKind::Sale), -a)),
            (1i64..5_000).prop_map(|a| (PromoMove::Ordinary(EntryKind::Adjustment), -a)),
            (1i64..3_000).prop_map(|a| (PromoMove::Ordinary(EntryKind::DepositReturn), a)),
            Just((PromoMove::Ordinary(EntryKind::Payout), 0)),
        ]
    }

    proptest! {
        /// Whatever happens to a wallet: promo credit stays between zero and
        /// the balance, and payouts never hand out more than the guest paid
        /// in (top-ups and cups back) minus what the guest's own money bought.
        #[test]
        fn promo_credit_is_never_paid_out(moves in prop::collection::vec(movement(), 1..60)) {
            let (mut balance, mut promo, mut paid_in, mut paid_out) = (0i64, 0i64, 0i64, 0i64);
            let mut spent_paid_money = 0i64;
            for (movement, amount) in moves {
                let amount = match movement {
                    PromoMove::Ordinary(EntryKind::Payout) => -payable(Cents(balance), Cents(promo)).0,
                    _ if amount < 0 => -(-amount).min(balance.max(0)),
                    _ => amount,
                };
                let before = promo;
                balance += amount;
                promo = after(movement, amount, promo, balance);
                match movement {
                    PromoMove::Ordinary(EntryKind::Payout) => paid_out -= amount,
                    PromoMove::Voucher => {}
                    _ if amount > 0 => paid_in += amount,
                    _ => spent_paid_money += -amount - (before - promo),
                }
                prop_assert!(promo >= 0 && promo <= balance.max(0));
                prop_assert!(paid_out <= paid_in - spent_paid_money);
                prop_assert_eq!(balance - promo, paid_in - spent_paid_money - paid_out);
            }
        }
    }
}
