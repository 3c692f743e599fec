//! Split bills, tips and cups back through the app's `Terminal` on a real
//! ledger file: what the cashier's split screen calls, with the band taps
//! a guest makes.

use tapster_app::error::ErrorCode;
use tapster_app::view::{Tender, TipChoice};

mod common;
use common::*;

const SECOND_BAND: &str = "04D30000000002";

#[test]
fn two_bands_and_cash_pay_one_round_with_a_tip_and_the_receipt_lists_them() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(50_00, "open").unwrap();
    // Three beers and 10 % on the beer: 21.00 + 1.50.
    let tip = Some(TipChoice::Percent { basis_points: 1000 });
    let cart = items(&[("beer", 3)]);
    let quote = t.quote_order(&cart, None, tip).unwrap();
    assert_eq!(quote.total_cents, 22_50);
    assert!(quote.lines.iter().any(|l| l.tip && l.total_cents == 1_50));
    let bill = t.open_bill(&cart, tip, None, "bill-1").unwrap();
    assert_eq!(bill.remaining_cents, 22_50);
    assert_eq!(bill.tip_cents, 1_50);

    // The first band pays what it has (20.00), without being asked how much.
    let untapped = block(t.pay_bill(&bill.id, Tender::Wallet, Some(BAND), None, None, "p1"));
    assert_eq!(untapped.unwrap_err().code, ErrorCode::NoTap);
    tap(&f, BAND);
    let first = block(t.pay_bill(&bill.id, Tender::Wallet, Some(BAND), None, None, "p1")).unwrap();
    assert_eq!(first.bill.remaining_cents, 2_50);
    assert!(first.done.is_none());
    // A card cannot pay more than is left; the second band pays 1.00.
    let too_much = block(t.pay_bill(&bill.id, Tender::Card, None, Some(3_00), None, "p2"));
    assert_eq!(too_much.unwrap_err().code, ErrorCode::BillOverpaid);
    tap(&f, SECOND_BAND);
    let second = block(t.pay_bill(
        &bill.id,
        Tender::Wallet,
        Some(SECOND_BAND),
        Some(1_00),
        None,
        "p3",
    ))
    .unwrap();
    assert_eq!(second.bill.remaining_cents, 1_50);
    // The rest in cash: a 5 € note, 3.50 back; the bill is settled.
    let last = block(t.pay_bill(&bill.id, Tender::Cash, None, Some(5_00), None, "p4")).unwrap();
    assert_eq!(last.change_cents, 3_50);
    assert_eq!(last.bill.status, "settled");
    assert_eq!(last.bill.payments.len(), 3);
    let done = last.done.expect("the last payment settles the bill");
    assert_eq!(done.amount_cents, -22_50, "the guest paid the bill's total");
    let receipt = &done.receipt.text;
    for expected in [
        "Trinkgeld",
        "Zahlungen",
        "Armband ••••0001",
        "Armband ••••0002",
        "Rückgeld",
        "SUMME",
    ] {
        assert!(
            receipt.contains(expected),
            "{expected} missing in:\n{receipt}"
        );
    }
    assert_eq!(t.wallet(BAND).unwrap().balance_cents, 0);
    assert_eq!(t.wallet(SECOND_BAND).unwrap().balance_cents, 29_00);
    // A retry of a payment whose answer was lost is the same payment.
    let again = block(t.pay_bill(&bill.id, Tender::Cash, None, Some(5_00), None, "p4")).unwrap();
    assert_eq!(again.bill.paid_cents, 22_50);
    assert_eq!(again.change_cents, 3_50);

    // The drawer holds the 1.50 kept of the note; the Z report shows the tip.
    let closed = t.close_shift(51_50, "close").unwrap();
    assert_eq!(closed.expected_cents, 51_50);
    assert!(
        closed.receipt.text.contains("Trinkgeld"),
        "{}",
        closed.receipt.text
    );
}

#[test]
fn a_short_band_pays_what_it_has_and_the_rest_goes_another_way() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open").unwrap();
    let cart = items(&[("beer", 4)]);
    tap(&f, BAND);
    let refused = block(t.pay(&cart, Tender::Wallet, Some(BAND), "sale", None)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::InsufficientFunds);
    // "Pay the rest another way": the same cart as a bill, the band's
    // 20.00 first — its tap was not used by the refused sale.
    let bill = t.open_bill(&cart, None, None, "rest").unwrap();
    let from_band =
        block(t.pay_bill(&bill.id, Tender::Wallet, Some(BAND), None, None, "rest-1")).unwrap();
    assert_eq!(from_band.bill.remaining_cents, 8_00);
    let card =
        block(t.pay_bill(&bill.id, Tender::Card, None, None, Some("4711"), "rest-2")).unwrap();
    let done = card.done.expect("settled");
    assert!(done.receipt.text.contains("4711"));
    assert_eq!(card.bill.payments[1].reference.as_deref(), Some("4711"));
    // "Cancel last" takes back the whole bill: the band gets its 20.00.
    let cancelled = t.cancel_last("undo").unwrap();
    assert_eq!(cancelled.kind, "cancel");
    assert!(cancelled.receipt.text.contains("STORNO"));
    assert_eq!(t.wallet(BAND).unwrap().balance_cents, 20_00);
}

#[test]
fn cups_back_and_a_round_are_one_sale_and_one_tap() {
    let f = start(|_| {});
    let t = &f.terminal;
    t.login("1111").unwrap();
    t.open_shift(0, "open").unwrap();
    tap(&f, SECOND_BAND);
    block(t.pay(
        &items(&[("beer", 3)]),
        Tender::Wallet,
        Some(SECOND_BAND),
        "first",
        None,
    ))
    .unwrap();
    // Three cups back, two beers: 14.00 − 6.00.
    let round = items(&[("beer", 2), ("cup", -3)]);
    let quote = t.quote(&round).unwrap();
    assert_eq!(quote.total_cents, 8_00);
    assert!(quote.lines.iter().any(|l| l.deposit && l.quantity == -3));
    tap(&f, SECOND_BAND);
    let paid = block(t.pay(
        &round,
        Tender::Wallet,
        Some(SECOND_BAND),
        "round",
        Some(8_00),
    ))
    .unwrap();
    assert_eq!(paid.amount_cents, -8_00);
    assert_eq!(t.wallet(SECOND_BAND).unwrap().deposits[0].count, 2);
    // More cups than the order is worth belongs to the cup screen.
    let refused = t.quote(&items(&[("water", 1), ("cup", -3)])).unwrap_err();
    assert_eq!(refused.code, ErrorCode::ReturnsExceedOrder);
}

#[test]
fn an_open_bill_is_there_again_after_a_restart_and_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let bill_id;
    {
        let f = start_in(dir.path());
        let t = &f.terminal;
        t.login("1111").unwrap();
        t.open_shift(0, "open").unwrap();
        let bill = t
            .open_bill(&items(&[("beer", 2)]), None, None, "bill")
            .unwrap();
        tap(&f, BAND);
        block(t.pay_bill(
            &bill.id,
            Tender::Wallet,
            Some(BAND),
            Some(10_00),
            None,
            "p1",
        ))
        .unwrap();
        bill_id = bill.id;
    }
    let f = start_in(dir.path());
    let t = &f.terminal;
    t.login("1111").unwrap();
    let open = t.resume_bill().unwrap().expect("the bill is still open");
    assert_eq!(open.id, bill_id);
    assert_eq!(open.paid_cents, 10_00);
    assert_eq!(open.remaining_cents, 4_00);
    // A cashier cannot cancel one payment of it alone.
    assert_eq!(t.wallet(BAND).unwrap().balance_cents, 10_00);
    let cancelled = t.cancel_bill(&open.id, "cancel").unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert!(cancelled.payments.iter().all(|p| p.cancelled));
    assert_eq!(t.wallet(BAND).unwrap().balance_cents, 20_00);
    assert!(t.resume_bill().unwrap().is_none());
    let closed = block(t.pay_bill(&open.id, Tender::Cash, None, None, None, "late")).unwrap_err();
    assert_eq!(closed.code, ErrorCode::BillClosed);
}
