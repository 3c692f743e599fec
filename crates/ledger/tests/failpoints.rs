//! A sale fails at every step of its transaction as storage does — disk
//! full, busy, an I/O error — and commits whole or not at all; its retry
//! under the same key then records it exactly once. Needs the `failpoints`
//! feature (`cargo test -p tapster-ledger --features failpoints`).
#![cfg(feature = "failpoints")]

mod common;

use common::{band, cart, Bar};
use tapster_ledger::store::Authorisation;

const STEPS: [&str; 4] = [
    "ledger::operation::begin",
    "ledger::operation::decided",
    "ledger::operation::appended",
    "ledger::operation::before_commit",
];

#[test]
fn a_sale_commits_whole_or_not_at_all_whatever_step_fails() {
    let scenario = fail::FailScenario::setup();
    for step in STEPS {
        for (action, code) in [
            ("full", "storage_full"),
            ("busy", "storage_busy"),
            ("io", "storage"),
        ] {
            let bar = Bar::new();
            bar.open_shift("anna");
            let guest = band(1);
            bar.top_up("anna", &guest, 50_00);
            let before = bar.fingerprint();
            let sale = bar.sale_request("anna", cart(&[("beer", 2)]), Some(&guest));

            fail::cfg(step, &format!("return({action})")).unwrap();
            let refused = bar
                .ledger
                .sell(&sale, Authorisation::ThisLedger)
                .unwrap_err();
            fail::remove(step);
            assert_eq!(refused.code(), code, "{step} {action}: {refused}");
            assert_eq!(
                bar.fingerprint(),
                before,
                "{step} {action}: a failed sale writes nothing"
            );

            // The cashier tries again with the same key: one sale.
            let done = bar.ledger.sell(&sale, Authorisation::ThisLedger).unwrap();
            assert!(!done.replayed, "{step} {action}");
            assert_eq!(bar.balance(&guest).0, 50_00 - 2 * 7_00);
            let reader = bar.ledger.reader().unwrap();
            assert!(reader.verify_chain().unwrap().is_empty());
            assert!(reader.check_invariants().unwrap().is_empty());
        }
    }
    scenario.teardown();
}

#[test]
fn a_sale_committed_just_before_a_crash_is_replayed_not_repeated() {
    let scenario = fail::FailScenario::setup();
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let sale = bar.sale_request("anna", cart(&[("beer", 2)]), Some(&guest));
    fail::cfg("ledger::operation::after_commit", "return(io)").unwrap();
    assert!(bar.ledger.sell(&sale, Authorisation::ThisLedger).is_err());
    fail::remove("ledger::operation::after_commit");
    // The caller heard nothing, but the sale is in; the retry says so.
    let again = bar.ledger.sell(&sale, Authorisation::ThisLedger).unwrap();
    assert!(again.replayed);
    assert_eq!(bar.balance(&guest).0, 50_00 - 2 * 7_00, "charged once");
    scenario.teardown();
}

#[test]
fn a_bill_paid_in_full_just_before_a_crash_is_settled_when_the_till_resumes() {
    use tapster_ledger::bills::BillStatus;
    use tapster_ledger::model::Tender;
    use tapster_ledger::store::{BillPaymentRequest, OpenBillRequest};
    use tapster_ledger::Cents;

    let scenario = fail::FailScenario::setup();
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let bill = bar
        .ledger
        .open_bill(&OpenBillRequest {
            key: bar.key(),
            staff: common::staff_id("anna"),
            cart: cart(&[("beer", 1)]),
            pass: None,
        })
        .unwrap();
    let last = BillPaymentRequest {
        key: bar.key(),
        staff: common::staff_id("anna"),
        bill: bill.id,
        tender: Tender::Wallet,
        token: Some(guest.clone()),
        offered: Cents(7_00),
        reference: None,
    };
    // The payment is durable; the till dies before the bill is settled.
    fail::cfg("ledger::bill::paid", "return(io)").unwrap();
    assert!(bar
        .ledger
        .pay_bill(&last, Authorisation::ThisLedger)
        .is_err());
    fail::remove("ledger::bill::paid");
    assert_eq!(bar.balance(&guest), Cents(43_00));
    assert_eq!(
        bar.ledger.bill(&bill.id).unwrap().status,
        BillStatus::Open,
        "paid but not yet settled"
    );
    let open = bar.ledger.resume_bills(&common::staff_id("anna")).unwrap();
    assert!(open.is_empty(), "settled on resume");
    let settled = bar.ledger.bill(&bill.id).unwrap();
    assert_eq!(settled.status, BillStatus::Settled);
    assert!(settled.settled_by.is_some());
    // The retry of the lost answer replays the payment; nothing doubles.
    let again = bar
        .ledger
        .pay_bill(&last, Authorisation::ThisLedger)
        .unwrap();
    assert!(again.payment.replayed);
    assert_eq!(again.settled.map(|s| s.entry.id), settled.settled_by);
    assert_eq!(bar.balance(&guest), Cents(43_00));
    let reader = bar.ledger.reader().unwrap();
    assert!(reader.check_invariants().unwrap().is_empty());
    scenario.teardown();
}
