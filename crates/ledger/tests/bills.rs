//! Bills on a real ledger file: split payments over wristbands, cash with
//! change and card; tips; cups brought back netted into a round; a till
//! that dies between two payments; cancellation that nets to zero.

mod common;

use std::collections::BTreeMap;

use common::{band, cart, staff_id, Bar};
use proptest::prelude::*;
use tapster_ledger::bills::{BillStatus, Tip};
use tapster_ledger::demo;
use tapster_ledger::model::{EntryKind, EventMode, Tender};
use tapster_ledger::postings::Account;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{
    Authorisation, Bill, BillPaymentRequest, CancelBillRequest, CancelRequest, OpenBillRequest,
    PaidBill,
};
use tapster_ledger::{BillId, Cents, Ledger, LedgerError, LedgerOptions, TerminalId, TokenId};

fn open(bar: &Bar, staff: &str, cart: Cart) -> Bill {
    bar.ledger
        .open_bill(&OpenBillRequest {
            key: bar.key(),
            staff: staff_id(staff),
            cart,
            pass: None,
        })
        .unwrap()
}

fn payment(
    bar: &Bar,
    bill: &Bill,
    tender: Tender,
    token: Option<&TokenId>,
    offered: i64,
) -> BillPaymentRequest {
    BillPaymentRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        bill: bill.id,
        tender,
        token: token.cloned(),
        offered: Cents(offered),
        reference: (tender == Tender::Card).then(|| "4711".to_string()),
    }
}

fn pay(bar: &Bar, bill: &Bill, tender: Tender, token: Option<&TokenId>, offered: i64) -> PaidBill {
    bar.ledger
        .pay_bill(
            &payment(bar, bill, tender, token, offered),
            Authorisation::ThisLedger,
        )
        .unwrap()
}

/// What every entry of a bill did to each account, summed.
fn bill_accounts(bar: &Bar, bill: &BillId) -> BTreeMap<Account, i64> {
    let reader = bar.ledger.reader().unwrap();
    let mut sums = BTreeMap::new();
    for entry in reader.recent_entries(None, 1000).unwrap() {
        let belongs = entry.lines.iter().any(|l| l.bill == Some(*bill));
        if !belongs {
            continue;
        }
        for posting in reader.postings(&entry.id).unwrap() {
            *sums.entry(posting.account).or_insert(0) += posting.amount.0;
        }
    }
    sums
}

fn shift_report(bar: &Bar) -> tapster_ledger::store::ZReport {
    let shift = bar.ledger.current_shift().unwrap().unwrap();
    bar.ledger
        .reader()
        .unwrap()
        .shift_report(&shift.id)
        .unwrap()
}

fn assert_sound(bar: &Bar) {
    let reader = bar.ledger.reader().unwrap();
    assert!(reader.verify_chain().unwrap().is_empty());
    assert!(reader.check_invariants().unwrap().is_empty());
}

#[test]
fn two_bands_and_cash_with_change_and_a_tip_settle_one_bill() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let (first, second) = (band(1), band(2));
    bar.top_up("anna", &first, 10_00);
    bar.top_up("anna", &second, 5_00);
    // Three beers (3 × 5.00 + 3 × 2.00 cups) and 10 % on the beer: 1.50.
    let bill = open(
        &bar,
        "anna",
        cart(&[("beer", 3)]).with_tip(Tip::Percent(1000)),
    );
    assert_eq!(bill.total, Cents(22_50));
    assert_eq!(bill.tip, Cents(1_50));
    assert_eq!(bill.status, BillStatus::Open);

    let after_first = pay(&bar, &bill, Tender::Wallet, Some(&first), 10_00);
    assert_eq!(after_first.bill.remaining, Cents(12_50));
    assert!(after_first.settled.is_none());
    let after_second = pay(&bar, &bill, Tender::Wallet, Some(&second), 5_00);
    assert_eq!(after_second.bill.remaining, Cents(7_50));
    let done = pay(&bar, &bill, Tender::Cash, None, 10_00);
    assert_eq!(done.change, Cents(2_50));
    assert_eq!(done.bill.status, BillStatus::Settled);
    assert_eq!(done.bill.remaining, Cents::ZERO);
    assert_eq!(done.bill.payments.len(), 3);
    assert_eq!(done.bill.payments[2].tendered, Some(Cents(10_00)));
    assert_eq!(done.bill.payments[2].change, Cents(2_50));
    let settled = done.settled.expect("the last payment settles the bill");
    assert_eq!(settled.entry.kind, EntryKind::Sale);
    assert_eq!(
        settled.entry.amount,
        Cents::ZERO,
        "the payments moved the money"
    );
    assert_eq!(done.bill.settled_by, Some(settled.entry.id));

    assert_eq!(bar.balance(&first), Cents::ZERO);
    assert_eq!(bar.balance(&second), Cents::ZERO);
    let accounts = bill_accounts(&bar, &bill.id);
    assert_eq!(accounts.get(&Account::OpenBills), Some(&0), "{accounts:?}");
    assert_eq!(
        accounts.get(&Account::Revenue(tapster_ledger::VatRate(1900))),
        Some(&15_00)
    );
    assert_eq!(accounts.get(&Account::DepositLiability), Some(&6_00));
    let tips: i64 = accounts
        .iter()
        .filter(|(a, _)| matches!(a, Account::Tips(_)))
        .map(|(_, m)| m)
        .sum();
    assert_eq!(tips, 1_50);
    assert_sound(&bar);

    // The Z report counts the bill's cash and its tip; revenue is the
    // beer, the payments are sales by their tender.
    let report = shift_report(&bar);
    assert_eq!(report.tips, Cents(1_50));
    assert_eq!(report.sales.tips.amount, Cents(1_50));
    assert_eq!(report.sales.revenue, Cents(15_00));
    assert!(report
        .sales
        .by_product
        .iter()
        .all(|row| row.product == "beer"));
    let tender = |name: &str| {
        report
            .sales
            .sales_by_tender
            .iter()
            .find(|row| row.key == name)
            .map(|row| row.amount)
    };
    assert_eq!(tender("wallet"), Some(Cents(15_00)));
    assert_eq!(tender("cash"), Some(Cents(7_50)));
    // 15.00 of cash top-ups and 7.50 of the 10.00 handed over.
    assert_eq!(report.cash_movements, Cents(22_50));
}

#[test]
fn a_band_or_a_card_pays_at_most_the_rest_and_a_payment_is_taken_once() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let bill = open(&bar, "anna", cart(&[("beer", 1)]));
    let too_much = bar.ledger.pay_bill(
        &payment(&bar, &bill, Tender::Card, None, 7_01),
        Authorisation::ThisLedger,
    );
    assert!(matches!(too_much, Err(LedgerError::BillOverpaid { .. })));
    let request = payment(&bar, &bill, Tender::Wallet, Some(&guest), 3_00);
    let first = bar
        .ledger
        .pay_bill(&request, Authorisation::ThisLedger)
        .unwrap();
    let again = bar
        .ledger
        .pay_bill(&request, Authorisation::ThisLedger)
        .unwrap();
    assert!(again.payment.replayed);
    assert_eq!(again.payment.entry.id, first.payment.entry.id);
    assert_eq!(again.bill.remaining, Cents(4_00), "booked once");
    assert_eq!(bar.balance(&guest), Cents(47_00));
    // The same key for another payment is refused.
    let mut other = request.clone();
    other.offered = Cents(1_00);
    assert!(matches!(
        bar.ledger.pay_bill(&other, Authorisation::ThisLedger),
        Err(LedgerError::IdempotencyConflict(_))
    ));
    let card = pay(&bar, &bill, Tender::Card, None, 4_00);
    assert_eq!(card.bill.status, BillStatus::Settled);
    assert_eq!(card.bill.payments[1].reference.as_deref(), Some("4711"));
    // A settled bill takes nothing more.
    assert!(matches!(
        bar.ledger.pay_bill(
            &payment(&bar, &bill, Tender::Cash, None, 1_00),
            Authorisation::ThisLedger
        ),
        Err(LedgerError::BillNotOpen { .. })
    ));
    // A band short of its share is refused with what it has.
    let poor = band(2);
    bar.top_up("anna", &poor, 2_00);
    let bill = open(&bar, "anna", cart(&[("beer", 1)]));
    assert!(matches!(
        bar.ledger.pay_bill(
            &payment(&bar, &bill, Tender::Wallet, Some(&poor), 3_00),
            Authorisation::ThisLedger
        ),
        Err(LedgerError::InsufficientFunds { .. })
    ));
    assert_sound(&bar);
}

#[test]
fn cups_brought_back_net_against_a_round_in_one_sale() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    bar.sell("anna", cart(&[("beer", 3)]), Some(&guest))
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(29_00));
    // Three cups back and two beers: 2 × 7.00 − 3 × 2.00, one tap.
    let round = cart(&[("beer", 2)]).with_returned(&demo::product("cup"), 3);
    let sale = bar.sell("anna", round, Some(&guest)).unwrap();
    assert_eq!(sale.entry.amount, Cents(-8_00));
    assert_eq!(bar.balance(&guest), Cents(21_00));
    let wallet = bar.ledger.wallet(&guest).unwrap().unwrap();
    assert_eq!(wallet.deposits[0].count, 2, "3 − 3 + 2 cups");
    // A band cannot bring back cups it never took.
    let stranger = band(2);
    bar.top_up("anna", &stranger, 20_00);
    let refused = bar.sell(
        "anna",
        cart(&[("beer", 1)]).with_returned(&demo::product("cup"), 1),
        Some(&stranger),
    );
    assert!(matches!(
        refused,
        Err(LedgerError::DepositReturnExceeded { .. })
    ));
    // Without a band, cups come back for cash, as at the cup counter.
    let cash = bar
        .sell(
            "anna",
            cart(&[("beer", 1)]).with_returned(&demo::product("cup"), 1),
            None,
        )
        .unwrap();
    assert_eq!(cash.entry.amount, Cents(-5_00));
    // More cups than the order is worth belongs to the cup screen.
    let refused = bar.sell(
        "anna",
        cart(&[("water", 1)]).with_returned(&demo::product("cup"), 5),
        Some(&guest),
    );
    assert!(matches!(refused, Err(LedgerError::ReturnsExceedOrder)));
    assert_sound(&bar);
}

#[test]
fn a_bill_takes_back_the_cups_of_its_first_band() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    bar.sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
    let stranger = band(2);
    bar.top_up("anna", &stranger, 50_00);
    let bill = open(
        &bar,
        "anna",
        cart(&[("beer", 2)]).with_returned(&demo::product("cup"), 1),
    );
    assert_eq!(bill.total, Cents(12_00));
    let refused = bar.ledger.pay_bill(
        &payment(&bar, &bill, Tender::Wallet, Some(&stranger), 6_00),
        Authorisation::ThisLedger,
    );
    assert!(matches!(
        refused,
        Err(LedgerError::DepositReturnExceeded { .. })
    ));
    pay(&bar, &bill, Tender::Wallet, Some(&guest), 6_00);
    let done = pay(&bar, &bill, Tender::Wallet, Some(&stranger), 6_00);
    assert_eq!(done.bill.band, Some(guest.clone()));
    let settled = done.settled.unwrap().entry;
    assert_eq!(settled.token, Some(guest.clone()));
    let wallet = bar.ledger.wallet(&guest).unwrap().unwrap();
    assert_eq!(
        wallet.deposits[0].count, 2,
        "1 − 1 + 2 cups on the first band"
    );
    assert_sound(&bar);
}

#[test]
fn a_till_that_dies_between_two_payments_reopens_the_bill_with_the_first() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 10_00);
    let bill = open(&bar, "anna", cart(&[("beer", 2)]));
    let first = payment(&bar, &bill, Tender::Wallet, Some(&guest), 10_00);
    bar.ledger
        .pay_bill(&first, Authorisation::ThisLedger)
        .unwrap();
    let path = bar.ledger.path().to_path_buf();
    drop(bar.ledger);

    // The till comes back.
    let ledger = Ledger::open(
        &path,
        LedgerOptions::new(TerminalId::new("bar-1").unwrap())
            .with_clock(bar.clock.clone())
            .with_pin_cost(tapster_ledger::pin::PinHashCost::Fast),
    )
    .unwrap();
    let open_bills = ledger.resume_bills(&staff_id("anna")).unwrap();
    assert_eq!(open_bills.len(), 1);
    let reopened = &open_bills[0];
    assert_eq!(reopened.id, bill.id);
    assert_eq!(reopened.payments.len(), 1);
    assert_eq!(reopened.remaining, Cents(4_00));
    // The first payment's retry (its answer was lost) is the same payment.
    let retried = ledger.pay_bill(&first, Authorisation::ThisLedger).unwrap();
    assert!(retried.payment.replayed);
    assert_eq!(
        ledger.wallet(&guest).unwrap().unwrap().available,
        Cents::ZERO
    );
    let mut rest = first.clone();
    rest.key = tapster_ledger::IdempotencyKey::new("after-restart").unwrap();
    rest.tender = Tender::Cash;
    rest.token = None;
    rest.offered = Cents(5_00);
    let done = ledger.pay_bill(&rest, Authorisation::ThisLedger).unwrap();
    assert_eq!(done.bill.status, BillStatus::Settled);
    assert_eq!(done.change, Cents(1_00));
    assert!(ledger.resume_bills(&staff_id("anna")).unwrap().is_empty());
    let reader = ledger.reader().unwrap();
    assert!(reader.verify_chain().unwrap().is_empty());
    assert!(reader.check_invariants().unwrap().is_empty());
}

#[test]
fn a_cancelled_bill_gives_every_payment_back_and_nets_to_zero() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 10_00);
    let mut beer = bar.ledger.product(&demo::product("beer")).unwrap().unwrap();
    beer.use_stock = true;
    beer.stock = 10;
    bar.ledger.upsert_product(&beer).unwrap();

    // Open, partly paid, cancelled: the band gets its money back, the
    // drawer hands back the cash, the beer goes back into stock.
    let bill = open(&bar, "anna", cart(&[("beer", 2)]));
    let stock = |bar: &Bar| {
        bar.ledger
            .product(&demo::product("beer"))
            .unwrap()
            .unwrap()
            .stock
    };
    assert_eq!(stock(&bar), 8, "a bill holds its stock");
    pay(&bar, &bill, Tender::Wallet, Some(&guest), 6_00);
    pay(&bar, &bill, Tender::Cash, None, 5_00);
    // A payment alone cannot be cancelled: the bill is one order.
    let payment_entry = bar.ledger.bill(&bill.id).unwrap().payments[0].entry;
    assert!(matches!(
        bar.ledger.cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: payment_entry
            },
            Authorisation::ThisLedger
        ),
        Err(LedgerError::PartOfBill { .. })
    ));
    let cancel = CancelBillRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        bill: bill.id,
    };
    let cancelled = bar.ledger.cancel_bill(&cancel).unwrap();
    assert_eq!(cancelled.status, BillStatus::Cancelled);
    assert!(cancelled.payments.iter().all(|p| p.cancelled));
    assert_eq!(bar.balance(&guest), Cents(10_00));
    assert_eq!(stock(&bar), 10);
    assert!(bill_accounts(&bar, &bill.id).values().all(|m| *m == 0));
    // Asked again, the same cancellation changes nothing.
    bar.ledger.cancel_bill(&cancel).unwrap();
    assert_eq!(bar.balance(&guest), Cents(10_00));

    // Settled, then cancelled: the order is reversed too.
    let bill = open(
        &bar,
        "anna",
        cart(&[("beer", 1)]).with_tip(Tip::Amount(Cents(50))),
    );
    pay(&bar, &bill, Tender::Wallet, Some(&guest), 7_50);
    assert_eq!(
        bar.ledger.bill(&bill.id).unwrap().status,
        BillStatus::Settled
    );
    assert_eq!(stock(&bar), 9);
    bar.ledger
        .cancel_bill(&CancelBillRequest {
            key: bar.key(),
            staff: staff_id("anna"),
            bill: bill.id,
        })
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(10_00));
    assert_eq!(stock(&bar), 10);
    let accounts = bill_accounts(&bar, &bill.id);
    assert!(accounts.values().all(|m| *m == 0), "{accounts:?}");
    assert_eq!(shift_report(&bar).tips, Cents::ZERO);
    assert_sound(&bar);
}

#[test]
fn only_its_cashier_or_a_supervisor_cancels_a_bill() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let bill = open(&bar, "anna", cart(&[("water", 1)]));
    pay(&bar, &bill, Tender::Cash, None, 1_00);
    let by = |staff: &str| CancelBillRequest {
        key: bar.key(),
        staff: staff_id(staff),
        bill: bill.id,
    };
    assert!(matches!(
        bar.ledger.cancel_bill(&by("ben")),
        Err(LedgerError::NotYourLastSale)
    ));
    assert_eq!(
        bar.ledger.cancel_bill(&by("sue")).unwrap().status,
        BillStatus::Cancelled
    );
}

#[test]
fn offline_a_band_pays_its_share_of_a_bill_within_the_offline_limits() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    bar.ledger
        .apply_wallet_snapshot(
            &tapster_ledger::store::WalletSnapshot {
                token: guest.clone(),
                wallet_id: "wal_test".into(),
                balance: Cents(100_00),
                promo: Cents::ZERO,
                blocked: false,
                cursor: 10,
                deposits: vec![],
            },
            common::START,
        )
        .unwrap();
    let bill = open(&bar, "anna", cart(&[("beer", 6)]));
    // 42.00 is above the per-sale limit of 30.00: the band pays 30.00.
    let refused = bar.ledger.pay_bill(
        &payment(&bar, &bill, Tender::Wallet, Some(&guest), 42_00),
        Authorisation::ThisLedger,
    );
    assert!(
        matches!(refused, Err(LedgerError::OfflineLimit(_))),
        "{refused:?}"
    );
    let paid = pay(&bar, &bill, Tender::Wallet, Some(&guest), 30_00);
    assert!(paid.bill.payments[0].offline);
    pay(&bar, &bill, Tender::Cash, None, 12_00);
    assert_sound(&bar);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever mix of payments settles a bill, its entries leave open
    /// bills where they found it, the money in equals goods, deposits and
    /// tip; and a cancelled bill nets to zero on every account.
    #[test]
    fn bills_balance_settled_or_cancelled(
        beers in 1i64..4,
        tip in proptest::option::of(0u32..3000),
        steps in proptest::collection::vec((0u8..3, 1i64..4_000), 1..6),
        cancel in any::<bool>(),
    ) {
        let bar = Bar::new();
        bar.open_shift("anna");
        let guest = band(1);
        bar.top_up("anna", &guest, 200_00);
        let mut order = cart(&[("beer", beers)]);
        if let Some(bp) = tip.filter(|bp| *bp > 0) {
            order = order.with_tip(Tip::Percent(bp));
        }
        let bill = open(&bar, "anna", order);
        for (tender, offered) in steps {
            let (tender, token) = match tender {
                0 => (Tender::Wallet, Some(&guest)),
                1 => (Tender::Cash, None),
                _ => (Tender::Card, None),
            };
            let left = bar.ledger.bill(&bill.id).unwrap().remaining;
            if left == Cents::ZERO {
                break;
            }
            let offered = if tender == Tender::Cash { offered } else { offered.min(left.0) };
            pay(&bar, &bill, tender, token, offered);
        }
        let left = bar.ledger.bill(&bill.id).unwrap().remaining;
        if left.is_positive() {
            pay(&bar, &bill, Tender::Card, None, left.0);
        }
        let settled = bar.ledger.bill(&bill.id).unwrap();
        prop_assert_eq!(settled.status, BillStatus::Settled);
        prop_assert_eq!(settled.paid, settled.total);
        let accounts = bill_accounts(&bar, &bill.id);
        prop_assert_eq!(accounts.get(&Account::OpenBills).copied().unwrap_or(0), 0);
        let received: i64 = accounts
            .iter()
            .filter(|(a, _)| matches!(a, Account::Revenue(_) | Account::DepositLiability | Account::Tips(_)))
            .map(|(_, m)| m)
            .sum();
        prop_assert_eq!(received, settled.total.0);
        if cancel {
            bar.ledger
                .cancel_bill(&CancelBillRequest { key: bar.key(), staff: staff_id("anna"), bill: bill.id })
                .unwrap();
            prop_assert!(bill_accounts(&bar, &bill.id).values().all(|m| *m == 0));
            prop_assert_eq!(bar.balance(&guest), Cents(200_00));
        }
        let reader = bar.ledger.reader().unwrap();
        prop_assert!(reader.check_invariants().unwrap().is_empty());
    }
}

#[test]
fn a_bill_closed_with_money_still_in_open_bills_is_reported() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let bill = open(&bar, "anna", cart(&[("beer", 1)]));
    pay(&bar, &bill, Tender::Cash, None, 3_00);
    assert_sound(&bar);
    // Marked settled behind the ledger's back: 3.00 sit in open bills.
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    conn.execute("UPDATE bills SET status = 'settled'", [])
        .unwrap();
    let violations = bar.ledger.reader().unwrap().check_invariants().unwrap();
    assert_eq!(
        violations,
        vec![tapster_ledger::store::InvariantViolation::BillUnbalanced {
            bill: bill.id.to_string(),
            open: 3_00
        }]
    );
}

#[test]
fn a_pass_on_a_bill_is_held_while_it_is_open_and_given_back_when_it_is_cancelled() {
    use tapster_ledger::passes::{Benefit, Discount, Pass, PassCode};
    let bar = Bar::new();
    bar.open_shift("anna");
    let free_beer = Pass {
        code: PassCode::generate(),
        benefit: Benefit::Discount {
            discount: Discount::FreeProduct {
                product: demo::product("beer"),
            },
        },
        title: "Freibier".into(),
        subtitle: String::new(),
        valid_from: None,
        valid_until: None,
        max_redemptions: 1,
        blocked: false,
        reference: None,
        external: false,
    };
    let with_pass = |bar: &Bar| OpenBillRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        cart: cart(&[("beer", 3)]).with_tip(Tip::Percent(1000)),
        pass: Some(free_beer.clone()),
    };
    // Three beers, one free: 21.00 − 5.00; 10 % of the 10.00 beer paid.
    let bill = bar.ledger.open_bill(&with_pass(&bar)).unwrap();
    assert_eq!(bill.total, Cents(17_00));
    assert_eq!(bill.tip, Cents(1_00));
    // Held by the open bill: a second bill cannot take it.
    assert!(matches!(
        bar.ledger.open_bill(&with_pass(&bar)),
        Err(LedgerError::PassRefused(_))
    ));
    bar.ledger
        .cancel_bill(&CancelBillRequest {
            key: bar.key(),
            staff: staff_id("anna"),
            bill: bill.id,
        })
        .unwrap();
    // Given back: the next bill takes it, and its sale carries it.
    let bill = bar.ledger.open_bill(&with_pass(&bar)).unwrap();
    let done = pay(&bar, &bill, Tender::Card, None, 17_00);
    let sale = done.settled.unwrap().entry;
    assert!(sale
        .lines
        .iter()
        .any(|l| l.pass.as_ref() == Some(&free_beer.code)));
    assert_sound(&bar);
}

#[test]
fn a_bill_is_cancelled_only_when_every_payment_can_be_given_back() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    let bill = open(&bar, "anna", cart(&[("beer", 2)]));
    pay(&bar, &bill, Tender::Wallet, Some(&guest), 5_00);
    // Sue, a supervisor, takes the next payment at Anna's till.
    bar.ledger
        .pay_bill(
            &BillPaymentRequest {
                staff: staff_id("sue"),
                ..payment(&bar, &bill, Tender::Cash, None, 2_00)
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    // Anna may not reverse Sue's payment: the bill is not touched at all.
    let refused = bar.ledger.cancel_bill(&CancelBillRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        bill: bill.id,
    });
    assert!(
        matches!(refused, Err(LedgerError::NotYourLastSale)),
        "{refused:?}"
    );
    let still = bar.ledger.bill(&bill.id).unwrap();
    assert_eq!(still.status, BillStatus::Open);
    assert!(still.payments.iter().all(|p| !p.cancelled));
    assert_eq!(bar.balance(&guest), Cents(15_00));
    // Nor can the shift be closed over it.
    let closing = bar
        .ledger
        .close_shift(&tapster_ledger::store::CloseShiftRequest {
            key: bar.key(),
            staff: staff_id("anna"),
            counted: Cents(102_00),
        });
    assert!(
        matches!(closing, Err(LedgerError::BillsOpen { count: 1 })),
        "{closing:?}"
    );
    // Sue may: everything goes back.
    let cancelled = bar
        .ledger
        .cancel_bill(&CancelBillRequest {
            key: bar.key(),
            staff: staff_id("sue"),
            bill: bill.id,
        })
        .unwrap();
    assert_eq!(cancelled.status, BillStatus::Cancelled);
    assert_eq!(bar.balance(&guest), Cents(20_00));
    assert_sound(&bar);
}

#[test]
fn while_a_bands_payment_awaits_the_server_the_bill_takes_nothing_else() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    let bill = open(&bar, "anna", cart(&[("beer", 1)]));
    // A band's share was sent; its answer is not in (the till died, or
    // the server did not answer in time and the offline rules refused).
    let share = payment(&bar, &bill, Tender::Wallet, Some(&guest), 3_00);
    bar.ledger
        .record_intent(&tapster_ledger::store::Intent::BillPayment {
            bill_payment: share.clone(),
        })
        .unwrap();
    let cash = bar.ledger.pay_bill(
        &payment(&bar, &bill, Tender::Cash, None, 7_00),
        Authorisation::ThisLedger,
    );
    assert!(
        matches!(cash, Err(LedgerError::BillPaymentPending)),
        "{cash:?}"
    );
    assert!(cash.unwrap_err().retryable());
    let cancel = bar.ledger.cancel_bill(&CancelBillRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        bill: bill.id,
    });
    assert!(matches!(cancel, Err(LedgerError::BillPaymentPending)));
    // The answer: the server took it. Recorded, the bill goes on.
    bar.ledger
        .pay_bill(
            &share,
            Authorisation::Server(tapster_ledger::store::ServerApproval {
                server_id: "txn_1".into(),
                server_cursor: 1,
                balance_after: Cents(17_00),
                promo_after: None,
                at: common::START,
                debited: None,
            }),
        )
        .unwrap();
    assert!(bar.ledger.sale_intents().unwrap().is_empty());
    let done = pay(&bar, &bill, Tender::Cash, None, 4_00);
    assert_eq!(done.bill.status, BillStatus::Settled);
    assert_sound(&bar);
}

#[test]
fn bad_payments_get_a_typed_error_and_write_nothing() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    let bill = open(&bar, "anna", cart(&[("beer", 1)]));
    let before = bar.fingerprint();
    let refuse = |request: BillPaymentRequest| {
        bar.ledger
            .pay_bill(&request, Authorisation::ThisLedger)
            .unwrap_err()
    };
    let card = payment(&bar, &bill, Tender::Card, None, 1_00);
    let cases = [
        // A band without its wristband, cash with one.
        (
            payment(&bar, &bill, Tender::Wallet, None, 1_00),
            "tender_mismatch",
        ),
        (
            payment(&bar, &bill, Tender::Cash, Some(&guest), 1_00),
            "tender_mismatch",
        ),
        (payment(&bar, &bill, Tender::Cash, None, 0), "invalid_input"),
        (
            payment(&bar, &bill, Tender::Cash, None, -5_00),
            "invalid_input",
        ),
        (
            BillPaymentRequest {
                reference: Some("x".repeat(41)),
                ..card.clone()
            },
            "invalid_input",
        ),
        (
            BillPaymentRequest {
                bill: tapster_ledger::BillId(uuid::Uuid::nil()),
                ..card
            },
            "unknown_bill",
        ),
    ];
    for (request, code) in cases {
        assert_eq!(refuse(request.clone()).code(), code, "{request:?}");
        assert!(bar.ledger.check_bill_payment(&request).is_err());
    }
    assert_eq!(bar.fingerprint(), before, "nothing written");
    // An empty cart or a bad tip opens no bill.
    for cart in [
        Cart::new(),
        cart(&[("beer", 1)]).with_tip(Tip::Percent(9_000)),
    ] {
        assert!(bar
            .ledger
            .open_bill(&OpenBillRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                cart,
                pass: None,
            })
            .is_err());
    }
    assert_eq!(bar.fingerprint(), before, "nothing written");
}
