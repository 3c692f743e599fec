//! Every operation and every rule of the ledger, on a real SQLite file.

mod common;

use common::{band, cart, staff_id, Bar, START};
use tapster_ledger::error::OfflineLimit;
use tapster_ledger::model::{EntryKind, EventMode, Permission, SyncState, Tender};
use tapster_ledger::pin::{Pin, PinHashCost, PinLookupKey, PinTag};
use tapster_ledger::store::{
    AdjustmentRequest, Authorisation, CancelRequest, CloseShiftRequest, DepositReturnRequest,
    NewStaff, OpenShiftRequest, PayoutRequest, SaleRequest, ServerApproval, TopUpRequest,
    WalletSnapshot,
};
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerError, LedgerOptions, TerminalId, Timestamp,
};

#[test]
fn a_wallet_sale_debits_the_price_with_deposits_and_stock() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let sale = bar
        .sell("anna", cart(&[("beer", 2), ("cola", 1)]), Some(&guest))
        .unwrap();
    // 2 × 5.00 + 3.50 + 3 cups × 2.00
    assert_eq!(sale.entry.amount, Cents(-19_50));
    assert_eq!(sale.entry.balance_after, Some(Cents(30_50)));
    assert_eq!(sale.entry.kind, EntryKind::Sale);
    assert!(!sale.replayed && !sale.entry.offline);
    assert_eq!(sale.entry.lines.len(), 3);
    let cup = &sale.entry.lines[2];
    assert!(cup.deposit && cup.quantity == 3);
    assert_eq!(bar.balance(&guest), Cents(30_50));
    let wallet = bar.ledger.wallet(&guest).unwrap().unwrap();
    assert_eq!(wallet.deposits.len(), 1);
    assert_eq!(
        (
            wallet.deposits[0].product.as_str(),
            wallet.deposits[0].count
        ),
        ("cup", 3)
    );
    assert_eq!(
        bar.ledger
            .product(&demo::product("cola"))
            .unwrap()
            .unwrap()
            .stock,
        499
    );
    assert_eq!(sale.entry.sequence, 2, "the top-up was entry 1");
    assert_eq!(sale.entry.id.0.get_version_num(), 7);
    let reader = bar.ledger.reader().unwrap();
    let postings = reader.postings(&sale.entry.id).unwrap();
    assert_eq!(
        Cents::checked_sum(postings.iter().map(|p| p.amount)),
        Some(Cents::ZERO)
    );
    assert!(bar.ledger.verify_chain().unwrap().is_empty());
    assert!(bar.ledger.check_invariants().unwrap().is_empty());
}

#[test]
fn insufficient_funds_names_the_missing_amount_and_writes_nothing() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 10_00);
    let before = bar.fingerprint();
    let err = bar
        .sell("anna", cart(&[("beer", 2)]), Some(&guest))
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::InsufficientFunds {
                available: Cents(10_00),
                required: Cents(14_00),
                missing: Cents(4_00)
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "insufficient_funds");
    assert!(err.to_string().contains("4.00 missing"));
    assert_eq!(bar.fingerprint(), before);
}

#[test]
fn every_refused_operation_leaves_the_database_unchanged() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    bar.sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
    let before = bar.fingerprint();
    let l = &bar.ledger;
    let anna = staff_id("anna");
    let failures: Vec<(&str, LedgerError)> = vec![
        (
            "empty cart",
            bar.sell("anna", cart(&[]), Some(&guest)).unwrap_err(),
        ),
        (
            "zero quantity",
            bar.sell("anna", cart(&[("beer", 0)]), Some(&guest))
                .unwrap_err(),
        ),
        (
            "negative quantity",
            bar.sell("anna", cart(&[("beer", -2)]), Some(&guest))
                .unwrap_err(),
        ),
        (
            "unknown product",
            bar.sell("anna", cart(&[("absinth", 1)]), Some(&guest))
                .unwrap_err(),
        ),
        (
            "out of stock",
            bar.sell("anna", cart(&[("cola", 501)]), None).unwrap_err(),
        ),
        (
            "unknown wallet",
            bar.sell("anna", cart(&[("beer", 1)]), Some(&band(99)))
                .unwrap_err(),
        ),
        (
            "unknown staff",
            bar.sell("zoe", cart(&[("beer", 1)]), Some(&guest))
                .unwrap_err(),
        ),
        (
            "top-up of zero",
            l.top_up(
                &TopUpRequest {
                    key: bar.key(),
                    staff: anna.clone(),
                    token: guest.clone(),
                    amount: Cents(0),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap_err(),
        ),
        (
            "negative top-up",
            l.top_up(
                &TopUpRequest {
                    key: bar.key(),
                    staff: anna.clone(),
                    token: guest.clone(),
                    amount: Cents(-5_00),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap_err(),
        ),
        (
            "top-up above maximum",
            l.top_up(
                &TopUpRequest {
                    key: bar.key(),
                    staff: anna.clone(),
                    token: guest.clone(),
                    amount: Cents(240_00),
                    tender: Tender::Card,
                },
                Authorisation::ThisLedger,
            )
            .unwrap_err(),
        ),
        (
            "top-up by wallet",
            l.top_up(
                &TopUpRequest {
                    key: bar.key(),
                    staff: anna.clone(),
                    token: guest.clone(),
                    amount: Cents(5_00),
                    tender: Tender::Wallet,
                },
                Authorisation::ThisLedger,
            )
            .unwrap_err(),
        ),
        (
            "too many cups back",
            l.return_deposit(
                &DepositReturnRequest {
                    key: bar.key(),
                    staff: anna.clone(),
                    token: Some(guest.clone()),
                    product: demo::product("cup"),
                    quantity: 2,
                    tender: Tender::Wallet,
                },
                Authorisation::ThisLedger,
            )
            .unwrap_err(),
        ),
        (
            "cashier adjusts",
            l.adjust(
                &AdjustmentRequest {
                    key: bar.key(),
                    staff: anna.clone(),
                    token: guest.clone(),
                    amount: Cents(1),
                },
                Authorisation::ThisLedger,
            )
            .unwrap_err(),
        ),
        (
            "second shift",
            l.open_shift(&OpenShiftRequest {
                key: bar.key(),
                staff: anna.clone(),
                float: Cents(0),
            })
            .unwrap_err(),
        ),
        (
            "negative count",
            l.close_shift(&CloseShiftRequest {
                key: bar.key(),
                staff: anna.clone(),
                counted: Cents(-1),
            })
            .unwrap_err(),
        ),
    ];
    for (what, error) in &failures {
        assert_ne!(error.code(), "storage", "{what}: {error}");
    }
    assert_eq!(
        bar.fingerprint(),
        before,
        "a refused operation wrote something"
    );
}

#[test]
fn blocked_wallets_cannot_pay() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    bar.ledger.set_wallet_blocked(&guest, true).unwrap();
    let before = bar.fingerprint();
    let err = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap_err();
    assert!(matches!(err, LedgerError::WalletBlocked { .. }), "{err:?}");
    assert_eq!(bar.fingerprint(), before);
    bar.ledger.set_wallet_blocked(&guest, false).unwrap();
    bar.sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
}

#[test]
fn selling_needs_an_own_open_shift() {
    let bar = Bar::new();
    let err = bar.sell("anna", cart(&[("beer", 1)]), None).unwrap_err();
    assert!(matches!(err, LedgerError::NoOpenShift));
    bar.open_shift("anna");
    let err = bar.sell("ben", cart(&[("beer", 1)]), None).unwrap_err();
    assert!(matches!(err, LedgerError::ShiftOfAnotherCashier));
    // A supervisor may step in at Anna's till.
    bar.sell("sue", cart(&[("beer", 1)]), None).unwrap();
}

#[test]
fn terminal_permissions_are_enforced() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    let mut terminal = bar.ledger.terminal().unwrap();
    terminal.permission = Permission::Debit;
    bar.ledger.upsert_terminal(&terminal).unwrap();
    let err = bar
        .ledger
        .top_up(
            &TopUpRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                token: guest.clone(),
                amount: Cents(5_00),
                tender: Tender::Cash,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::TerminalNotPermitted {
                permission: Permission::Debit,
                ..
            }
        ),
        "{err:?}"
    );
    let sale = bar
        .sell("anna", cart(&[("water", 1)]), Some(&guest))
        .unwrap();
    // A debit terminal may still cancel its own sale.
    bar.ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();

    terminal.permission = Permission::Credit;
    bar.ledger.upsert_terminal(&terminal).unwrap();
    let err = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap_err();
    assert!(matches!(
        err,
        LedgerError::TerminalNotPermitted {
            permission: Permission::Credit,
            ..
        }
    ));
    bar.top_up("anna", &guest, 1_00);
}

#[test]
fn tender_and_wristband_must_match() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    let mut request = bar.sale_request("anna", cart(&[("beer", 1)]), None);
    request.tender = tapster_ledger::model::Tender::Wallet;
    assert!(matches!(
        bar.ledger.sell(&request, Authorisation::ThisLedger),
        Err(LedgerError::TenderMismatch)
    ));
    let mut request = bar.sale_request("anna", cart(&[("beer", 1)]), Some(&guest));
    request.tender = tapster_ledger::model::Tender::Cash;
    assert!(matches!(
        bar.ledger.sell(&request, Authorisation::ThisLedger),
        Err(LedgerError::TenderMismatch)
    ));
}

#[test]
fn idempotency_keys_replay_and_refuse_other_requests() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let request = bar.sale_request("anna", cart(&[("beer", 1)]), Some(&guest));
    let first = bar
        .ledger
        .sell(&request, Authorisation::ThisLedger)
        .unwrap();
    let before = bar.fingerprint();
    // Time passes and the stock changes: the replay still returns the original.
    bar.clock.advance_secs(60);
    let again = bar
        .ledger
        .sell(&request, Authorisation::ThisLedger)
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.entry, first.entry);
    assert_eq!(bar.fingerprint(), before);
    assert_eq!(bar.balance(&guest), Cents(43_00));

    let mut different = request.clone();
    different.cart = cart(&[("beer", 2)]);
    let err = bar
        .ledger
        .sell(&different, Authorisation::ThisLedger)
        .unwrap_err();
    assert!(matches!(err, LedgerError::IdempotencyConflict(_)));
    let top_up_with_same_key = TopUpRequest {
        key: request.key.clone(),
        staff: staff_id("anna"),
        token: guest.clone(),
        amount: Cents(1_00),
        tender: Tender::Cash,
    };
    assert!(matches!(
        bar.ledger
            .top_up(&top_up_with_same_key, Authorisation::ThisLedger),
        Err(LedgerError::IdempotencyConflict(_))
    ));
    assert_eq!(bar.fingerprint(), before);
}

#[test]
fn top_ups_respect_the_maximum_balance() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 200_00);
    let err = bar
        .ledger
        .top_up(
            &TopUpRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                token: guest.clone(),
                amount: Cents(60_00),
                tender: Tender::Cash,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        LedgerError::MaxBalanceExceeded {
            max: Cents(250_00),
            would_be: Cents(260_00)
        }
    ));
    bar.top_up("anna", &guest, 50_00);
    assert_eq!(bar.balance(&guest), Cents(250_00));
}

#[test]
fn deposits_come_back_at_most_as_often_as_they_were_paid() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    bar.sell("anna", cart(&[("beer", 2)]), Some(&guest))
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(6_00));
    let request = |quantity| DepositReturnRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        token: Some(guest.clone()),
        product: demo::product("cup"),
        quantity,
        tender: Tender::Wallet,
    };
    let err = bar
        .ledger
        .return_deposit(&request(3), Authorisation::ThisLedger)
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::DepositReturnExceeded {
                outstanding: 2,
                requested: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let returned = bar
        .ledger
        .return_deposit(&request(2), Authorisation::ThisLedger)
        .unwrap();
    assert_eq!(returned.entry.amount, Cents(4_00));
    assert_eq!(returned.entry.balance_after, Some(Cents(10_00)));
    assert!(bar
        .ledger
        .wallet(&guest)
        .unwrap()
        .unwrap()
        .deposits
        .is_empty());
    assert!(matches!(
        bar.ledger
            .return_deposit(&request(1), Authorisation::ThisLedger),
        Err(LedgerError::DepositReturnExceeded { outstanding: 0, .. })
    ));
    let not_a_cup = DepositReturnRequest {
        product: demo::product("beer"),
        ..request(1)
    };
    assert!(matches!(
        bar.ledger
            .return_deposit(&not_a_cup, Authorisation::ThisLedger),
        Err(LedgerError::NotReturnable { .. })
    ));
    // Cups bought with cash come back for cash, without a wristband.
    let cash = DepositReturnRequest {
        token: None,
        tender: Tender::Cash,
        ..request(1)
    };
    assert_eq!(
        bar.ledger
            .return_deposit(&cash, Authorisation::ThisLedger)
            .unwrap()
            .entry
            .amount,
        Cents(2_00)
    );
    assert!(bar.ledger.check_invariants().unwrap().is_empty());
}

#[test]
fn cancellation_rules() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let first = bar
        .sell("anna", cart(&[("cola", 1)]), Some(&guest))
        .unwrap();
    let last = bar
        .sell("anna", cart(&[("beer", 2), ("cola", 1)]), Some(&guest))
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(50_00 - 5_50 - 19_50));
    let cancel = |staff: &str, entry| CancelRequest {
        key: bar.key(),
        staff: staff_id(staff),
        entry,
    };

    let err = bar
        .ledger
        .cancel(&cancel("anna", first.entry.id), Authorisation::ThisLedger)
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::NotYourLastSale),
        "only the last sale"
    );

    let reversal = bar
        .ledger
        .cancel(&cancel("anna", last.entry.id), Authorisation::ThisLedger)
        .unwrap();
    assert_eq!(reversal.entry.kind, EntryKind::Cancel);
    assert_eq!(reversal.entry.amount, Cents(19_50));
    assert_eq!(reversal.entry.reverses, Some(last.entry.id));
    assert!(reversal.entry.lines.iter().all(|l| l.quantity < 0));
    assert_eq!(bar.balance(&guest), Cents(50_00 - 5_50));
    assert_eq!(
        bar.ledger
            .product(&demo::product("cola"))
            .unwrap()
            .unwrap()
            .stock,
        499,
        "stock restored"
    );
    assert_eq!(
        bar.ledger.wallet(&guest).unwrap().unwrap().deposits[0].count,
        1,
        "cups restored"
    );

    let err = bar
        .ledger
        .cancel(&cancel("sue", last.entry.id), Authorisation::ThisLedger)
        .unwrap_err();
    assert!(matches!(err, LedgerError::AlreadyCancelled));
    let err = bar
        .ledger
        .cancel(&cancel("sue", reversal.entry.id), Authorisation::ThisLedger)
        .unwrap_err();
    assert!(matches!(err, LedgerError::CannotCancelCancellation));
    // Still not Anna's last sale (the cancelled one came after), but a supervisor may.
    bar.ledger
        .cancel(&cancel("sue", first.entry.id), Authorisation::ThisLedger)
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(50_00));
    assert!(bar.ledger.check_invariants().unwrap().is_empty());
}

#[test]
fn a_cashier_cannot_cancel_another_cashiers_sale() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let sale = bar.sell("anna", cart(&[("beer", 1)]), None).unwrap();
    bar.ledger
        .close_shift(&CloseShiftRequest {
            key: bar.key(),
            staff: staff_id("anna"),
            counted: Cents(107_00),
        })
        .unwrap();
    bar.open_shift("ben");
    let err = bar
        .ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("ben"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(matches!(err, LedgerError::NotYourLastSale));
}

#[test]
fn cancelling_a_spent_top_up_is_refused() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    let top_up = bar.top_up("anna", &guest, 10_00);
    bar.sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
    let err = bar
        .ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("sue"),
                entry: top_up.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::InsufficientFunds {
                missing: Cents(7_00),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn payout_zeroes_the_wallet_from_the_drawer() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    bar.sell("anna", cart(&[("water", 1)]), Some(&guest))
        .unwrap();
    let request = |key| PayoutRequest {
        key,
        staff: staff_id("anna"),
        token: guest.clone(),
        tender: Tender::Cash,
    };
    let paid = bar
        .ledger
        .payout(&request(bar.key()), Authorisation::ThisLedger)
        .unwrap();
    assert_eq!(paid.entry.amount, Cents(-15_50));
    assert_eq!(paid.entry.balance_after, Some(Cents::ZERO));
    assert_eq!(bar.balance(&guest), Cents::ZERO);
    assert!(matches!(
        bar.ledger
            .payout(&request(bar.key()), Authorisation::ThisLedger),
        Err(LedgerError::NothingToPayOut)
    ));
}

#[test]
fn shift_close_computes_expected_cash_difference_and_z_numbers() {
    let bar = Bar::new();
    bar.open_shift("anna"); // float 100.00
    let guest = band(1);
    bar.top_up("anna", &guest, 30_00); // cash in
    bar.sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap(); // wallet
    bar.sell("anna", cart(&[("bratwurst", 2)]), None).unwrap(); // cash in 9.00
    let card = tapster_ledger::store::SaleRequest {
        tender: Tender::Card,
        ..bar.sale_request("anna", cart(&[("fries", 1)]), None)
    };
    bar.ledger.sell(&card, Authorisation::ThisLedger).unwrap();
    bar.ledger
        .payout(
            &PayoutRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                token: guest.clone(),
                tender: Tender::Cash,
            },
            Authorisation::ThisLedger,
        )
        .unwrap(); // cash out 23.00
    let expected = Cents(100_00 + 30_00 + 9_00 - 23_00);
    let close = CloseShiftRequest {
        key: bar.key(),
        staff: staff_id("anna"),
        counted: Cents(expected.0 - 5_00),
    };
    let z = bar.ledger.close_shift(&close).unwrap();
    assert_eq!(z.expected_cash, expected);
    assert_eq!(z.counted_cash, Some(Cents(expected.0 - 5_00)));
    assert_eq!(z.difference, Some(Cents(-5_00)));
    assert_eq!(z.shift.closed.as_ref().unwrap().z_number, 1);
    assert_eq!(z.sales.sales_count, 3);
    assert_eq!(z.sales.revenue, Cents(5_00 + 9_00 + 4_00));
    let by_tender: Vec<(String, i64)> = z
        .sales
        .sales_by_tender
        .iter()
        .map(|r| (r.key.clone(), r.amount.0))
        .collect();
    assert_eq!(
        by_tender,
        vec![
            ("card".into(), 4_00),
            ("cash".into(), 9_00),
            ("wallet".into(), 7_00)
        ]
    );
    assert_eq!(z.sales.top_ups_by_tender[0].amount, Cents(30_00));
    assert_eq!(z.sales.payouts.amount, Cents(23_00));
    assert_eq!(z.sales.deposits_issued.count, 1);
    // The difference is booked, so the drawer's postings now match the count.
    let again = bar.ledger.close_shift(&close).unwrap();
    assert!(again.replayed);
    assert_eq!(again.difference, Some(Cents(-5_00)));
    assert!(matches!(
        bar.sell("anna", cart(&[("beer", 1)]), None),
        Err(LedgerError::NoOpenShift)
    ));

    bar.open_shift("ben");
    let z2 = bar
        .ledger
        .close_shift(&CloseShiftRequest {
            key: bar.key(),
            staff: staff_id("ben"),
            counted: Cents(100_00),
        })
        .unwrap();
    assert_eq!(z2.shift.closed.unwrap().z_number, 2);
    assert_eq!(z2.difference, Some(Cents::ZERO));
    assert!(bar.ledger.check_invariants().unwrap().is_empty());
}

#[test]
fn a_cashier_cannot_close_another_cashiers_shift() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let err = bar
        .ledger
        .close_shift(&CloseShiftRequest {
            key: bar.key(),
            staff: staff_id("ben"),
            counted: Cents(100_00),
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::ShiftOfAnotherCashier));
    bar.ledger
        .close_shift(&CloseShiftRequest {
            key: bar.key(),
            staff: staff_id("sue"),
            counted: Cents(100_00),
        })
        .unwrap();
}

fn snapshot(token: &tapster_ledger::TokenId, balance: i64, cursor: i64) -> WalletSnapshot {
    WalletSnapshot {
        token: token.clone(),
        wallet_id: "wal_test".into(),
        balance: Cents(balance),
        promo: Cents::ZERO,
        blocked: false,
        cursor,
        deposits: vec![],
    }
}

#[test]
fn offline_debits_obey_every_limit() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    let err = bar
        .sell("anna", cart(&[("water", 1)]), Some(&guest))
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::OfflineLimit(OfflineLimit::BalanceUnknown)),
        "{err:?}"
    );

    bar.ledger
        .apply_wallet_snapshot(&snapshot(&guest, 200_00, 10), START)
        .unwrap();
    // Per sale: 30.00 by default. 4 spritz + 4 cups = 38.00.
    let err = bar
        .sell("anna", cart(&[("spritz", 4)]), Some(&guest))
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::OfflineLimit(OfflineLimit::PerSale { .. })),
        "{err:?}"
    );
    // Per wallet: 50.00 by default.
    let sale = bar
        .sell("anna", cart(&[("spritz", 2), ("beer", 1)]), Some(&guest))
        .unwrap(); // 26.00
    assert!(sale.entry.offline);
    bar.sell("anna", cart(&[("spritz", 2)]), Some(&guest))
        .unwrap(); // 19.00 → 45.00
    let err = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap_err(); // 7.00 → 52.00
    assert!(
        matches!(
            err,
            LedgerError::OfflineLimit(OfflineLimit::WalletCap {
                cap: Cents(50_00),
                would_be: Cents(52_00)
            })
        ),
        "{err:?}"
    );
    assert_eq!(bar.ledger.offline_exposure().unwrap(), Cents(45_00));

    // Terminal-wide exposure.
    let other = band(2);
    bar.ledger
        .apply_wallet_snapshot(&snapshot(&other, 100_00, 11), START)
        .unwrap();
    let mut settings = bar.ledger.settings().unwrap();
    settings.offline.terminal_cap = Cents(50_00);
    bar.ledger.update_settings(&settings).unwrap();
    let err = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&other))
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::OfflineLimit(OfflineLimit::TerminalCap { .. })
        ),
        "{err:?}"
    );

    // Age of the confirmed balance: 4 hours by default.
    settings.offline.terminal_cap = Cents(1_000_00);
    bar.ledger.update_settings(&settings).unwrap();
    bar.clock.advance_secs(4 * 3600 + 1);
    let err = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&other))
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::OfflineLimit(OfflineLimit::BalanceTooOld { .. })
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "offline_limit");
}

#[test]
fn available_balance_is_the_confirmed_one_plus_what_the_server_has_not_counted() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    bar.ledger
        .apply_wallet_snapshot(&snapshot(&guest, 50_00, 10), START)
        .unwrap();
    let sale = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(43_00));
    assert_eq!(bar.ledger.pending_count().unwrap(), 1);
    // The server applied it at cursor 12, but its feed is still at 10.
    let ack = SyncState::Acknowledged {
        server_id: "txn_1".into(),
        server_cursor: 12,
        at: START,
    };
    bar.ledger
        .record_sync_decision(&sale.entry.id, &ack)
        .unwrap();
    bar.ledger
        .record_sync_decision(&sale.entry.id, &ack)
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(43_00));
    assert_eq!(bar.ledger.pending_count().unwrap(), 0);
    assert_eq!(bar.ledger.offline_exposure().unwrap(), Cents::ZERO);
    // The feed catches up (another booth topped up 10.00 meanwhile).
    bar.ledger
        .apply_wallet_snapshot(&snapshot(&guest, 53_00, 13), START)
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(53_00));
    // An older snapshot never overwrites a newer one.
    bar.ledger
        .apply_wallet_snapshot(&snapshot(&guest, 1_00, 11), START)
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(53_00));
    // A different decision for the same entry is refused.
    let reject = SyncState::Rejected {
        reason: "nope".into(),
        at: START,
    };
    assert!(bar
        .ledger
        .record_sync_decision(&sale.entry.id, &reject)
        .is_err());

    // A rejected entry no longer counts.
    let refused = bar
        .sell("anna", cart(&[("water", 1)]), Some(&guest))
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(48_50));
    bar.ledger
        .record_sync_decision(&refused.entry.id, &reject)
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(53_00));
    assert_eq!(
        bar.ledger
            .reader()
            .unwrap()
            .sync_state(&refused.entry.id)
            .unwrap(),
        reject
    );
    // The manager's list of refused entries has it, with the reason.
    let rejected = bar.ledger.reader().unwrap().rejected_entries(10).unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, refused.entry);
    assert_eq!((rejected[0].1.as_str(), rejected[0].2), ("nope", START));
}

#[test]
fn a_sale_the_server_approved_is_recorded_as_acknowledged() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    let approval = ServerApproval {
        server_id: "txn_9".into(),
        server_cursor: 40,
        balance_after: Cents(12_00),
        promo_after: None,
        at: START,
        debited: None,
    };
    let sale = bar
        .ledger
        .sell(
            &bar.sale_request("anna", cart(&[("beer", 1)]), Some(&guest)),
            Authorisation::Server(approval),
        )
        .unwrap();
    assert!(!sale.entry.offline);
    assert_eq!(sale.entry.balance_after, Some(Cents(12_00)));
    assert_eq!(bar.ledger.pending_count().unwrap(), 0);
    let wallet = bar.ledger.wallet(&guest).unwrap().unwrap();
    assert_eq!(
        (
            wallet.confirmed_balance,
            wallet.confirmed_cursor,
            wallet.available
        ),
        (Some(Cents(12_00)), Some(40), Cents(12_00))
    );
}

#[test]
fn pin_login_locks_after_repeated_failures() {
    let bar = Bar::new();
    let anna = staff_id("anna");
    let wrong = Pin::new("9999").unwrap();
    assert_eq!(
        bar.ledger
            .login(&anna, &Pin::new("1111").unwrap())
            .unwrap()
            .name,
        "Anna"
    );
    for left in (1..5).rev() {
        let err = bar.ledger.login(&anna, &wrong).unwrap_err();
        assert!(
            matches!(err, LedgerError::WrongPin { attempts_left } if attempts_left == left),
            "{err:?}"
        );
    }
    assert!(matches!(
        bar.ledger.login(&anna, &wrong),
        Err(LedgerError::LoginLocked {
            retry_after_secs: 300
        })
    ));
    // While locked even the right PIN is not checked.
    assert!(matches!(
        bar.ledger.login(&anna, &Pin::new("1111").unwrap()),
        Err(LedgerError::LoginLocked { .. })
    ));
    bar.clock.advance_secs(301);
    bar.ledger.login(&anna, &Pin::new("1111").unwrap()).unwrap();
    // Locks survive a restart: they are in the ledger.
    for _ in 0..5 {
        let _ = bar.ledger.login(&anna, &wrong);
    }
    let reopened = Ledger::open(
        bar.ledger.path(),
        LedgerOptions::new(TerminalId::new("bar-1").unwrap()).with_clock(bar.clock.clone()),
    )
    .unwrap();
    assert!(matches!(
        reopened.login(&anna, &Pin::new("1111").unwrap()),
        Err(LedgerError::LoginLocked { .. })
    ));
}

#[test]
fn pin_only_login_finds_the_staff_member_and_throttles() {
    let bar = Bar::new();
    assert_eq!(logged_in_by_pin(&bar, "3333"), "Sue");
    for _ in 0..4 {
        assert!(matches!(
            bar.ledger.login_by_pin(&Pin::new("0000").unwrap()),
            Err(LedgerError::WrongPin { .. })
        ));
    }
    assert!(matches!(
        bar.ledger.login_by_pin(&Pin::new("0000").unwrap()),
        Err(LedgerError::LoginLocked { .. })
    ));
    assert!(matches!(
        bar.ledger.login_by_pin(&Pin::new("3333").unwrap()),
        Err(LedgerError::LoginLocked { .. })
    ));
}

/// Each staff member's PIN tag, by id, as the ledger file holds them.
fn pin_tags(bar: &Bar) -> std::collections::BTreeMap<String, Option<String>> {
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    let mut stmt = conn.prepare("SELECT id, pin_tag FROM staff").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// The name of whom `pin` alone logs in.
fn logged_in_by_pin(bar: &Bar, pin: &str) -> String {
    bar.ledger
        .login_by_pin(&Pin::new(pin).unwrap())
        .unwrap()
        .name
}

fn set_pin_tag(bar: &Bar, id: &str, tag: Option<&str>) {
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    conn.execute(
        "UPDATE staff SET pin_tag = ?2 WHERE id = ?1",
        rusqlite::params![id, tag],
    )
    .unwrap();
}

#[test]
fn a_pin_alone_finds_its_staff_member_by_tag_not_by_trying_every_hash() {
    let bar = Bar::new();
    let tags = pin_tags(&bar);
    assert!(tags.len() >= 3);
    for (id, tag) in &tags {
        let tag = tag.as_deref().unwrap_or_else(|| panic!("{id} has no tag"));
        PinTag::parse(tag).unwrap();
    }
    let distinct: std::collections::BTreeSet<_> = tags.values().collect();
    assert_eq!(distinct.len(), tags.len(), "different PINs, different tags");

    // Sue's tag points elsewhere: her PIN is no longer found, which shows
    // a login looks at the tagged member only, not at every hash.
    let anna_tag = tags["anna"].clone().unwrap();
    let ben_tag = tags["ben"].clone().unwrap();
    set_pin_tag(&bar, "sue", Some(&ben_tag));
    assert!(matches!(
        bar.ledger.login_by_pin(&Pin::new("3333").unwrap()),
        Err(LedgerError::WrongPin { .. })
    ));
    // A member without a tag (from before tags) is found by their hash,
    // and gets their tag at that login.
    set_pin_tag(&bar, "sue", None);
    set_pin_tag(&bar, "anna", None);
    assert_eq!(logged_in_by_pin(&bar, "1111"), "Anna");
    let after = pin_tags(&bar);
    assert_eq!(after["anna"].as_deref(), Some(anna_tag.as_str()));
    assert_eq!(after["sue"], None, "only who logged in was tagged");
    assert_eq!(logged_in_by_pin(&bar, "3333"), "Sue");
    // Uniqueness holds across tagged and untagged members alike.
    set_pin_tag(&bar, "ben", None);
    for taken in ["1111", "2222", "3333"] {
        let err = bar
            .ledger
            .add_staff(&NewStaff {
                id: staff_id("zoe"),
                name: "Zoe".into(),
                role: tapster_ledger::model::Role::Cashier,
                pin: Pin::new(taken).unwrap(),
                badge: None,
            })
            .unwrap_err();
        assert!(matches!(err, LedgerError::PinInUse), "{taken}: {err:?}");
    }
    let err = bar
        .ledger
        .set_staff_pin(&staff_id("anna"), &Pin::new("2222").unwrap())
        .unwrap_err();
    assert!(matches!(err, LedgerError::PinInUse), "{err:?}");
    bar.ledger
        .set_staff_pin(&staff_id("anna"), &Pin::new("4711").unwrap())
        .unwrap();
    assert_ne!(pin_tags(&bar)["anna"].as_deref(), Some(anna_tag.as_str()));
    assert_eq!(logged_in_by_pin(&bar, "4711"), "Anna");
}

#[test]
fn the_servers_pin_lookup_key_replaces_the_tills_own() {
    let bar = Bar::new();
    let ben = bar
        .ledger
        .reader()
        .unwrap()
        .staff()
        .unwrap()
        .into_iter()
        .find(|m| m.name == "Ben")
        .unwrap();
    let hash = {
        let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
        conn.query_row("SELECT pin_hash FROM staff WHERE id = 'ben'", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap()
    };
    let server_key = PinLookupKey::generate(PinHashCost::Fast);
    bar.ledger.adopt_pin_lookup_key(&server_key).unwrap();
    assert!(
        pin_tags(&bar).values().all(Option::is_none),
        "tags made with the old key are dropped"
    );
    // Logins still work (the slow way) and tag under the new key.
    assert_eq!(logged_in_by_pin(&bar, "2222"), "Ben");
    let ben_tag = server_key.tag(&Pin::new("2222").unwrap()).unwrap();
    assert_eq!(pin_tags(&bar)["ben"].as_deref(), Some(ben_tag.as_str()));
    // Adopting the same key again keeps the tags.
    bar.ledger.adopt_pin_lookup_key(&server_key).unwrap();
    assert!(pin_tags(&bar)["ben"].is_some());

    // The server's record without a tag keeps the till's while the PIN
    // is the same, and drops it with a new PIN.
    bar.ledger.upsert_staff_hashed(&ben, &hash, None).unwrap();
    assert_eq!(pin_tags(&bar)["ben"].as_deref(), Some(ben_tag.as_str()));
    let new_hash =
        tapster_ledger::pin::hash_pin(&Pin::new("5555").unwrap(), PinHashCost::Fast).unwrap();
    bar.ledger
        .upsert_staff_hashed(&ben, &new_hash, None)
        .unwrap();
    assert_eq!(pin_tags(&bar)["ben"], None);
    // With the server's tag, the new PIN is found by it.
    let new_tag = server_key.tag(&Pin::new("5555").unwrap()).unwrap();
    bar.ledger
        .upsert_staff_hashed(&ben, &new_hash, Some(&new_tag))
        .unwrap();
    assert_eq!(pin_tags(&bar)["ben"].as_deref(), Some(new_tag.as_str()));
    assert_eq!(logged_in_by_pin(&bar, "5555"), "Ben");
}

#[test]
fn staff_pins_are_unique_hashed_and_inactive_staff_cannot_log_in() {
    let bar = Bar::new();
    let err = bar
        .ledger
        .add_staff(&NewStaff {
            id: staff_id("zoe"),
            name: "Zoe".into(),
            role: tapster_ledger::model::Role::Cashier,
            pin: Pin::new("1111").unwrap(),
            badge: None,
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::PinInUse));
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    let hash: String = conn
        .query_row("SELECT pin_hash FROM staff WHERE id = 'anna'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("1111"));
    bar.ledger
        .set_staff_active(&staff_id("ben"), false)
        .unwrap();
    assert!(matches!(
        bar.ledger
            .login(&staff_id("ben"), &Pin::new("2222").unwrap()),
        Err(LedgerError::StaffInactive(_))
    ));
    assert!(matches!(
        bar.ledger.login_by_pin(&Pin::new("2222").unwrap()),
        Err(LedgerError::WrongPin { .. })
    ));
}

#[test]
fn entries_and_postings_are_append_only() {
    let bar = Bar::new();
    bar.open_shift("anna");
    bar.sell("anna", cart(&[("beer", 1)]), None).unwrap();
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    for sql in [
        "UPDATE entries SET amount = 0",
        "DELETE FROM entries",
        "UPDATE entries SET lines = '[]'",
        "UPDATE entries SET postings = '[]'",
        "DELETE FROM operations",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn money_edge_cases() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let mut free = bar
        .ledger
        .product(&demo::product("water"))
        .unwrap()
        .unwrap();
    free.price = Cents(0);
    free.deposit_product = None;
    bar.ledger.upsert_product(&free).unwrap();
    let sale = bar.sell("anna", cart(&[("water", 3)]), None).unwrap();
    assert_eq!(sale.entry.amount, Cents(0));

    let mut huge = free.clone();
    huge.price = Cents(i64::MAX / 2);
    bar.ledger.upsert_product(&huge).unwrap();
    let before = bar.fingerprint();
    assert!(matches!(
        bar.sell("anna", cart(&[("water", 3)]), None),
        Err(LedgerError::AmountOverflow)
    ));
    assert!(matches!(
        bar.sell("anna", cart(&[("water", 2), ("beer", 1)]), None),
        Err(LedgerError::AmountOverflow)
    ));
    assert_eq!(bar.fingerprint(), before);

    let mut negative = free;
    negative.price = Cents(-1);
    assert!(matches!(
        bar.ledger.upsert_product(&negative),
        Err(LedgerError::InvalidInput(_))
    ));
}

#[test]
fn archived_and_out_of_window_products_are_refused() {
    let bar = Bar::new();
    bar.open_shift("anna");
    bar.ledger
        .set_product_archived(&demo::product("radler"), true)
        .unwrap();
    assert!(matches!(
        bar.sell("anna", cart(&[("radler", 1)]), None),
        Err(LedgerError::ProductArchived { .. })
    ));
    bar.ledger
        .set_product_archived(&demo::product("radler"), false)
        .unwrap();
    bar.sell("anna", cart(&[("radler", 1)]), None).unwrap();
    let mut fries = bar
        .ledger
        .product(&demo::product("fries"))
        .unwrap()
        .unwrap();
    fries.available_from = Some(Timestamp(START.0 + 3_600_000));
    bar.ledger.upsert_product(&fries).unwrap();
    assert!(matches!(
        bar.sell("anna", cart(&[("fries", 1)]), None),
        Err(LedgerError::ProductNotAvailable { .. })
    ));
    bar.clock.advance_secs(3600);
    bar.sell("anna", cart(&[("fries", 1)]), None).unwrap();
}

#[test]
fn managers_can_adjust_and_roles_are_checked() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 5_00);
    let request = |staff: &str, amount| AdjustmentRequest {
        key: IdempotencyKey::random(),
        staff: staff_id(staff),
        token: guest.clone(),
        amount: Cents(amount),
    };
    assert!(matches!(
        bar.ledger
            .adjust(&request("sue", 1_00), Authorisation::ThisLedger),
        Err(LedgerError::RoleNotPermitted { .. })
    ));
    bar.ledger
        .adjust(&request("max", 1_00), Authorisation::ThisLedger)
        .unwrap();
    assert_eq!(bar.balance(&guest), Cents(6_00));
    assert!(matches!(
        bar.ledger
            .adjust(&request("max", -7_00), Authorisation::ThisLedger),
        Err(LedgerError::InsufficientFunds { .. })
    ));
    assert!(bar
        .ledger
        .check_staff_may(
            &staff_id("anna"),
            tapster_ledger::rules::Action::ViewReports
        )
        .is_err());
    assert!(bar
        .ledger
        .check_staff_may(&staff_id("sue"), tapster_ledger::rules::Action::ViewReports)
        .is_ok());
}

#[test]
fn a_ledger_belongs_to_one_terminal_and_refuses_newer_schemas() {
    let bar = Bar::new();
    let path = bar.ledger.path().to_path_buf();
    let err = Ledger::open(&path, LedgerOptions::new(TerminalId::new("bar-2").unwrap()))
        .err()
        .unwrap();
    assert!(matches!(err, LedgerError::WrongTerminal { .. }));
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = Ledger::open(&path, LedgerOptions::new(TerminalId::new("bar-1").unwrap()))
        .err()
        .unwrap();
    assert!(matches!(err, LedgerError::SchemaTooNew { found: 999, .. }));
    assert!(err.to_string().contains("newer Tapster"));
}

#[test]
fn demo_seed_funds_wallets_and_balances_the_drawer() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(
        dir.path().join("demo.sqlite"),
        LedgerOptions::new(TerminalId::new("demo").unwrap())
            .with_pin_cost(tapster_ledger::pin::PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 10).unwrap();
    assert_eq!(
        ledger
            .wallet(&demo::wristband(4))
            .unwrap()
            .unwrap()
            .available,
        Cents(50_00)
    );
    assert!(ledger.current_shift().unwrap().is_none());
    assert_eq!(ledger.terminal().unwrap().layout.len(), 8);
    assert!(ledger.check_invariants().unwrap().is_empty());
    assert!(ledger.verify_chain().unwrap().is_empty());
}

#[test]
fn a_sale_whose_cups_came_back_cannot_be_cancelled_into_a_double_refund() {
    // Found by the property tests: buy a beer, return the cup for 2.00, then
    // cancel the beer: the cancellation would refund the deposit again.
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    let sale = bar
        .sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
    bar.ledger
        .return_deposit(
            &DepositReturnRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                token: Some(guest.clone()),
                product: demo::product("cup"),
                quantity: 1,
                tender: Tender::Wallet,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    let before = bar.fingerprint();
    let err = bar
        .ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::DepositReturnExceeded {
                outstanding: 0,
                requested: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(bar.fingerprint(), before);
}

#[test]
fn terminal_times_never_go_backwards_when_the_clock_does() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let first = bar.sell("anna", cart(&[("beer", 1)]), None).unwrap();
    bar.clock.set(Timestamp(START.0 - 3_600_000)); // someone set the clock back an hour
    let second = bar.sell("anna", cart(&[("beer", 1)]), None).unwrap();
    assert_eq!(second.entry.terminal_time, first.entry.terminal_time);
    assert_eq!(second.entry.sequence, first.entry.sequence + 1);
    assert!(bar.ledger.verify_chain().unwrap().is_empty());
}

#[test]
fn everything_committed_is_there_after_reopening() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 230_00);
    let mut sales = Vec::new();
    for _ in 0..50 {
        sales.push(
            bar.sell("anna", cart(&[("water", 1)]), Some(&guest))
                .unwrap()
                .entry,
        );
    }
    let path = bar.ledger.path().to_path_buf();
    let clock = bar.clock.clone();
    drop(bar.ledger);
    let reopened = Ledger::open(
        &path,
        LedgerOptions::new(TerminalId::new("bar-1").unwrap()).with_clock(clock),
    )
    .unwrap();
    for sale in &sales {
        assert_eq!(reopened.entry(&sale.id).unwrap().as_ref(), Some(sale));
    }
    assert_eq!(
        reopened.wallet(&guest).unwrap().unwrap().available,
        Cents(230_00 - 50 * (2_50 + 2_00))
    );
    assert_eq!(
        reopened.pending_count().unwrap(),
        51,
        "the top-up and 50 sales"
    );
}

// Findings of the review of the first version, each pinned by a test.

#[test]
fn a_sale_that_emptied_the_stock_can_be_cancelled() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let mut cola = bar.ledger.product(&demo::product("cola")).unwrap().unwrap();
    cola.stock = 2;
    bar.ledger.upsert_product(&cola).unwrap();
    let sale = bar.sell("anna", cart(&[("cola", 2)]), None).unwrap();
    assert_eq!(bar.ledger.product(&cola.id).unwrap().unwrap().stock, 0);
    bar.ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    assert_eq!(bar.ledger.product(&cola.id).unwrap().unwrap().stock, 2);
}

#[test]
fn cups_on_two_lines_of_one_sale_are_counted_together_when_cancelling() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 20_00);
    // A beer (with its cup) and a spare cup: two lines of the same cup.
    let sale = bar
        .sell("anna", cart(&[("beer", 1), ("cup", 1)]), Some(&guest))
        .unwrap();
    assert_eq!(
        sale.entry
            .lines
            .iter()
            .filter(|l| l.product.as_str() == "cup")
            .count(),
        2
    );
    bar.ledger
        .return_deposit(
            &DepositReturnRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                token: Some(guest.clone()),
                product: demo::product("cup"),
                quantity: 1,
                tender: Tender::Wallet,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    let err = bar
        .ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::DepositReturnExceeded {
                outstanding: 1,
                requested: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_server_approved_return_keeps_the_cup_count_right() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    let cups = vec![tapster_ledger::model::DepositCount {
        product: demo::product("cup"),
        count: 2,
    }];
    bar.ledger
        .apply_wallet_snapshot(
            &WalletSnapshot {
                deposits: cups,
                ..snapshot(&guest, 50_00, 5)
            },
            START,
        )
        .unwrap();
    let request = |quantity| DepositReturnRequest {
        key: IdempotencyKey::random(),
        staff: staff_id("anna"),
        token: Some(guest.clone()),
        product: demo::product("cup"),
        quantity,
        tender: Tender::Wallet,
    };
    let approval = ServerApproval {
        server_id: "txn_r".into(),
        server_cursor: 6,
        balance_after: Cents(54_00),
        promo_after: None,
        at: START,
        debited: None,
    };
    bar.ledger
        .return_deposit(&request(2), Authorisation::Server(approval))
        .unwrap();
    assert!(bar
        .ledger
        .wallet(&guest)
        .unwrap()
        .unwrap()
        .deposits
        .is_empty());
    let err = bar
        .ledger
        .return_deposit(&request(1), Authorisation::ThisLedger)
        .unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::DepositReturnExceeded { outstanding: 0, .. }
        ),
        "{err:?}"
    );
}

#[test]
fn taking_money_off_a_wallet_by_adjustment_follows_the_debit_rules() {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 10_00);
    bar.ledger.set_wallet_blocked(&guest, true).unwrap();
    let request = AdjustmentRequest {
        key: bar.key(),
        staff: staff_id("max"),
        token: guest.clone(),
        amount: Cents(-1_00),
    };
    assert!(matches!(
        bar.ledger.adjust(&request, Authorisation::ThisLedger),
        Err(LedgerError::WalletBlocked { .. })
    ));

    let connected = Bar::with_mode(EventMode::Connected);
    let request = AdjustmentRequest {
        key: connected.key(),
        staff: staff_id("max"),
        token: band(2),
        amount: Cents(-1_00),
    };
    let err = connected
        .ledger
        .adjust(&request, Authorisation::ThisLedger)
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::OfflineLimit(OfflineLimit::BalanceUnknown)),
        "{err:?}"
    );
}

#[test]
fn an_entry_the_server_refused_cannot_be_cancelled() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    bar.ledger
        .apply_wallet_snapshot(&snapshot(&guest, 50_00, 1), START)
        .unwrap();
    let sale = bar
        .sell("anna", cart(&[("water", 1)]), Some(&guest))
        .unwrap();
    bar.ledger
        .record_sync_decision(
            &sale.entry.id,
            &SyncState::Rejected {
                reason: "wallet unknown".into(),
                at: START,
            },
        )
        .unwrap();
    let before = bar.fingerprint();
    let err = bar
        .ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("sue"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(matches!(err, LedgerError::CannotCancelRejected), "{err:?}");
    assert_eq!(bar.fingerprint(), before);
}

#[test]
fn an_offline_sale_later_approved_by_the_server_under_its_key_is_acknowledged() {
    let bar = Bar::with_mode(EventMode::Connected);
    bar.open_shift("anna");
    let guest = band(1);
    bar.ledger
        .apply_wallet_snapshot(&snapshot(&guest, 50_00, 1), START)
        .unwrap();
    let request = bar.sale_request("anna", cart(&[("beer", 1)]), Some(&guest));
    let offline = bar
        .ledger
        .sell(&request, Authorisation::ThisLedger)
        .unwrap();
    assert!(offline.entry.offline);
    assert_eq!(bar.ledger.pending_count().unwrap(), 1);
    let approval = ServerApproval {
        server_id: "txn_7".into(),
        server_cursor: 2,
        balance_after: Cents(43_00),
        promo_after: None,
        at: START,
        debited: None,
    };
    let again = bar
        .ledger
        .sell(&request, Authorisation::Server(approval))
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.entry, offline.entry);
    assert_eq!(bar.ledger.pending_count().unwrap(), 0);
    assert!(matches!(
        bar.ledger
            .reader()
            .unwrap()
            .sync_state(&offline.entry.id)
            .unwrap(),
        SyncState::Acknowledged {
            server_cursor: 2,
            ..
        }
    ));
    assert_eq!(bar.balance(&guest), Cents(43_00));
}

#[test]
fn check_sale_prices_without_writing_and_refuses_what_sell_would() {
    let bar = Bar::new();
    let request = bar.sale_request("anna", cart(&[("beer", 2)]), Some(&band(1)));
    assert!(matches!(
        bar.ledger.check_sale(&request),
        Err(LedgerError::NoOpenShift)
    ));
    bar.open_shift("anna");
    let before = bar.fingerprint();
    // Funds are the server's to check: an unknown wristband still prices.
    assert_eq!(bar.ledger.check_sale(&request).unwrap(), Cents(2 * 7_00));
    assert_eq!(bar.fingerprint(), before, "nothing written");
    let unknown = bar.sale_request("anna", cart(&[("absinth", 1)]), Some(&band(1)));
    assert!(matches!(
        bar.ledger.check_sale(&unknown),
        Err(LedgerError::UnknownProduct(_))
    ));
}

#[test]
fn a_pass_goes_with_a_sale_once_per_till_and_a_cancellation_gives_it_back() {
    use tapster_ledger::passes::{Benefit, Discount, Pass, PassCode};
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    let pass = Pass {
        code: PassCode::generate(),
        benefit: Benefit::Discount {
            discount: Discount::Percent { percent: 50 },
        },
        title: "Happy Hour".into(),
        subtitle: String::new(),
        valid_from: None,
        valid_until: None,
        max_redemptions: 1,
        blocked: false,
        reference: None,
        external: false,
    };
    let with_pass = |items: &[(&str, i64)]| SaleRequest {
        pass: Some(pass.clone()),
        ..bar.sale_request("anna", cart(items), Some(&guest))
    };
    let full = bar
        .ledger
        .check_sale(&bar.sale_request("anna", cart(&[("cola", 2)]), Some(&guest)))
        .unwrap();
    let first = bar
        .ledger
        .sell(&with_pass(&[("cola", 2)]), Authorisation::ThisLedger)
        .unwrap();
    let discount: Vec<_> = first
        .entry
        .lines
        .iter()
        .filter(|l| l.pass.is_some())
        .collect();
    assert_eq!(discount.len(), 1);
    assert_eq!(discount[0].product.as_str(), "discount");
    assert_eq!(discount[0].name, "Happy Hour");
    let cola = demo::products()
        .into_iter()
        .find(|p| p.id.as_str() == "cola")
        .unwrap()
        .price
        .0;
    let deposits = full.0 - 2 * cola;
    assert_eq!(
        -first.entry.amount.0,
        deposits + (2 * cola + 1) / 2,
        "half the goods, the deposits in full"
    );
    // Offline, this till lets a single-use pass go once, and writes
    // nothing for the refused second use.
    let before = bar.fingerprint();
    let err = bar
        .ledger
        .sell(&with_pass(&[("cola", 1)]), Authorisation::ThisLedger)
        .unwrap_err();
    assert!(matches!(err, LedgerError::PassRefused(_)), "{err}");
    assert_eq!(err.to_string(), "pass refused: Pass already redeemed");
    assert_eq!(bar.fingerprint(), before);
    // A pass that does not fit the cart is refused as such.
    let free_cake = Pass {
        code: PassCode::generate(),
        benefit: Benefit::Discount {
            discount: Discount::FreeProduct {
                product: demo::product("beer"),
            },
        },
        ..pass.clone()
    };
    let err = bar
        .ledger
        .sell(
            &SaleRequest {
                pass: Some(free_cake),
                ..bar.sale_request("anna", cart(&[("cola", 1)]), Some(&guest))
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(matches!(err, LedgerError::PassNotApplicable(_)), "{err}");

    // Cancelled, the sale gives the pass back; the chain holds the pass.
    bar.ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: first.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    bar.ledger
        .sell(&with_pass(&[("cola", 1)]), Authorisation::ThisLedger)
        .unwrap();
    assert!(bar.ledger.verify_chain().unwrap().is_empty());
}

#[test]
fn a_connected_till_takes_passes_off_offline_only_up_to_its_cap_and_knows_the_pass_feed() {
    use tapster_ledger::passes::{Benefit, Discount, KnownPass, PassCode};
    let bar = Bar::with_mode(EventMode::Connected);
    let mut settings = bar.ledger.settings().unwrap();
    settings.offline.pass_cap = Cents(-1);
    assert!(matches!(
        bar.ledger.update_settings(&settings),
        Err(LedgerError::InvalidInput(_))
    ));
    settings.offline.pass_cap = Cents(8_00);
    bar.ledger.update_settings(&settings).unwrap();
    bar.open_shift("anna");
    let code = |n: u32| PassCode::parse(&format!("EVT-PASS-{n:04}")).unwrap();
    let known = |n: u32, used: u32, version: i64| KnownPass {
        code_digest: code(n).digest(),
        benefit: Benefit::Discount {
            discount: Discount::Amount {
                amount: Cents(5_00),
            },
        },
        title: format!("Fünf Euro {n}"),
        subtitle: String::new(),
        valid_from: None,
        valid_until: None,
        max_redemptions: 2,
        blocked: false,
        external: true,
        used,
        version,
    };
    // The feed names passes by digest only; a later version replaces an
    // earlier one, never the other way round.
    bar.ledger
        .apply_pass_feed(&[known(1, 0, 1), known(2, 1, 2), known(3, 0, 3)])
        .unwrap();
    bar.ledger.apply_pass_feed(&[known(1, 1, 4)]).unwrap();
    bar.ledger.apply_pass_feed(&[known(1, 0, 2)]).unwrap();
    assert_eq!(bar.ledger.pass_feed_version().unwrap(), 4);
    assert!(bar.ledger.known_pass(&code(9), START).unwrap().is_none());
    let (first, used) = bar.ledger.known_pass(&code(1), START).unwrap().unwrap();
    assert_eq!((first.title.as_str(), used), ("Fünf Euro 1", 1));
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    let kept: String = conn
        .query_row("SELECT group_concat(pass) FROM known_passes", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!kept.contains("EVT-PASS"), "no code on the till's disk");

    let cash_sale = |n: u32| {
        let (pass, _) = bar.ledger.known_pass(&code(n), START).unwrap().unwrap();
        bar.ledger.sell(
            &SaleRequest {
                pass: Some(pass),
                ..bar.sale_request("anna", cart(&[("fries", 2)]), None)
            },
            Authorisation::ThisLedger,
        )
    };
    // Pass 1 allows two uses, the server counted one: one left here.
    cash_sale(1).unwrap();
    assert!(matches!(cash_sale(1), Err(LedgerError::PassRefused(_))));
    // 5.00 taken off so far; another 5.00 would pass the 8.00 cap.
    let err = cash_sale(3).unwrap_err();
    assert!(
        matches!(
            err,
            LedgerError::OfflineLimit(OfflineLimit::PassCap { would_be, .. }) if would_be == Cents(10_00)
        ),
        "{err}"
    );
}

#[test]
fn a_category_is_removed_only_when_empty_and_past_sales_keep_its_name() {
    use tapster_ledger::CategoryId;
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 50_00);
    bar.sell("anna", cart(&[("beer", 1)]), Some(&guest))
        .unwrap();
    let beer_category = CategoryId::new("beer").unwrap();
    let in_beer = |bar: &Bar| -> Vec<_> {
        bar.ledger
            .reader()
            .unwrap()
            .products(true)
            .unwrap()
            .into_iter()
            .filter(|p| p.category == beer_category)
            .collect()
    };
    let filed = in_beer(&bar);
    assert!(!filed.is_empty());
    let err = bar.ledger.remove_category(&beer_category).unwrap_err();
    assert!(
        matches!(&err, LedgerError::CategoryNotEmpty { name, products } if name == "Bier" && *products == filed.len() as i64),
        "{err:?}"
    );
    // Archived products count: one left behind keeps the category.
    let wine = CategoryId::new("wine").unwrap();
    for mut product in filed.iter().skip(1).cloned() {
        product.category = wine.clone();
        bar.ledger.upsert_product(&product).unwrap();
    }
    let mut last = filed[0].clone();
    last.archived = true;
    bar.ledger.upsert_product(&last).unwrap();
    assert!(matches!(
        bar.ledger.remove_category(&beer_category).unwrap_err(),
        LedgerError::CategoryNotEmpty { products: 1, .. }
    ));
    last.category = wine.clone();
    bar.ledger.upsert_product(&last).unwrap();

    bar.ledger.remove_category(&beer_category).unwrap();
    let listed = bar.ledger.reader().unwrap().categories().unwrap();
    assert!(listed.iter().all(|c| c.id != beer_category), "{listed:?}");
    assert!(matches!(
        bar.ledger.remove_category(&beer_category).unwrap_err(),
        LedgerError::UnknownCategory(_)
    ));
    // Nothing can be filed under it any more…
    let mut back = last.clone();
    back.category = beer_category.clone();
    assert!(matches!(
        bar.ledger.upsert_product(&back).unwrap_err(),
        LedgerError::InvalidInput(_)
    ));
    // …but what was sold under it is still reported under its name.
    let report = bar
        .ledger
        .reader()
        .unwrap()
        .sales_report(&tapster_ledger::store::ReportFilter::default())
        .unwrap();
    assert!(
        report.by_category.iter().any(|c| c.label == "Bier"),
        "{:?}",
        report.by_category
    );
    // Saving it again brings it back.
    bar.ledger
        .upsert_category(&tapster_ledger::model::Category {
            id: beer_category.clone(),
            name: "Bier".into(),
            position: 9,
        })
        .unwrap();
    assert!(bar
        .ledger
        .reader()
        .unwrap()
        .categories()
        .unwrap()
        .iter()
        .any(|c| c.id == beer_category));
    bar.ledger.upsert_product(&back).unwrap();
}

#[test]
fn categories_are_reordered_as_a_whole() {
    use tapster_ledger::CategoryId;
    let bar = Bar::new();
    let ids = |bar: &Bar| -> Vec<CategoryId> {
        bar.ledger
            .reader()
            .unwrap()
            .categories()
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    let mut order = ids(&bar);
    order.reverse();
    let reordered = bar.ledger.reorder_categories(&order).unwrap();
    assert_eq!(
        reordered.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        order
    );
    assert_eq!(
        reordered.iter().map(|c| c.position).collect::<Vec<_>>(),
        (1..=order.len() as i64).collect::<Vec<_>>()
    );
    assert_eq!(ids(&bar), order);

    let missing = &order[1..];
    let mut twice = order.clone();
    twice[0] = twice[1].clone();
    for bad in [missing.to_vec(), twice] {
        let err = bar.ledger.reorder_categories(&bad).unwrap_err();
        assert!(matches!(err, LedgerError::InvalidInput(_)), "{err:?}");
    }
    let mut unknown = order.clone();
    unknown[0] = CategoryId::new("nope").unwrap();
    assert!(matches!(
        bar.ledger.reorder_categories(&unknown).unwrap_err(),
        LedgerError::UnknownCategory(_)
    ));
    assert_eq!(ids(&bar), order, "a refused order changes nothing");
}

#[test]
fn a_badge_belongs_to_one_staff_member_and_no_guest() {
    let bar = Bar::new();
    let badge = band(77);
    let anna = staff_id("anna");
    let member = bar.ledger.set_staff_badge(&anna, Some(&badge)).unwrap();
    assert_eq!(member.badge.as_ref(), Some(&badge));
    assert_eq!(bar.ledger.login_by_badge(&badge).unwrap().id, anna);
    // Again for Anna: nothing changes.
    bar.ledger.set_staff_badge(&anna, Some(&badge)).unwrap();

    let err = bar
        .ledger
        .set_staff_badge(&staff_id("sue"), Some(&badge))
        .unwrap_err();
    assert!(
        matches!(&err, LedgerError::BadgeInUse { holder } if holder == "Anna"),
        "{err:?}"
    );
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 10_00);
    assert!(matches!(
        bar.ledger
            .set_staff_badge(&staff_id("sue"), Some(&guest))
            .unwrap_err(),
        LedgerError::BadgeIsGuestBand
    ));
    assert!(matches!(
        bar.ledger
            .set_staff_badge(&staff_id("nobody"), None)
            .unwrap_err(),
        LedgerError::UnknownStaff(_)
    ));

    // Nor does a badge become a guest's wallet.
    let err = bar
        .ledger
        .top_up(
            &TopUpRequest {
                key: bar.key(),
                staff: anna.clone(),
                token: badge.clone(),
                amount: Cents(10_00),
                tender: Tender::Cash,
            },
            Authorisation::ThisLedger,
        )
        .unwrap_err();
    assert!(matches!(err, LedgerError::BandIsStaffBadge), "{err:?}");

    let member = bar.ledger.set_staff_badge(&anna, None).unwrap();
    assert_eq!(member.badge, None);
    assert!(bar.ledger.login_by_badge(&badge).is_err());
    bar.ledger
        .set_staff_badge(&staff_id("sue"), Some(&badge))
        .unwrap();
    assert_eq!(
        bar.ledger.login_by_badge(&badge).unwrap().id,
        staff_id("sue")
    );
}

#[test]
fn the_tills_trail_records_who_closed_cancelled_paid_out_and_corrected() {
    use tapster_ledger::store::{TillAudit, TillAuditFilter};
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 30_00);
    let sale = bar
        .sell("anna", cart(&[("cola", 1)]), Some(&guest))
        .unwrap();
    bar.ledger
        .cancel(
            &CancelRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                entry: sale.entry.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    bar.ledger
        .adjust(
            &AdjustmentRequest {
                key: bar.key(),
                staff: staff_id("max"),
                token: guest.clone(),
                amount: Cents(-1_00),
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    let payout_key = bar.key();
    let payout = PayoutRequest {
        key: payout_key,
        staff: staff_id("anna"),
        token: guest.clone(),
        tender: Tender::Cash,
    };
    bar.ledger
        .payout(&payout, Authorisation::ThisLedger)
        .unwrap();
    // The same payout again is replayed: recorded once.
    bar.ledger
        .payout(&payout, Authorisation::ThisLedger)
        .unwrap();
    // Sue (supervisor) closes Anna's shift.
    bar.ledger
        .close_shift(&CloseShiftRequest {
            key: bar.key(),
            staff: staff_id("sue"),
            counted: Cents(0),
        })
        .unwrap();

    let reader = bar.ledger.reader().unwrap();
    let records = reader.audit_records(&TillAuditFilter::default()).unwrap();
    let summary: Vec<(&str, &str)> = records
        .iter()
        .rev()
        .map(|r| (r.action.as_str(), r.staff.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("cancellation", "anna"),
            ("correction", "max"),
            ("payout", "anna"),
            ("shift_closed", "sue"),
        ]
    );
    let closed = &records[0];
    let detail: serde_json::Value = serde_json::from_str(&closed.detail).unwrap();
    assert_eq!(detail["cashier"], "anna");
    assert_eq!(detail["counted_cash"], 0);
    assert_eq!(closed.staff_name.as_deref(), Some("Sue"));
    let paid = &records[1];
    assert_eq!(paid.wallet.as_deref(), Some(guest.as_str()));
    // Filters.
    let only = |filter: TillAuditFilter| reader.audit_records(&filter).unwrap().len();
    assert_eq!(
        only(TillAuditFilter {
            staff: Some(staff_id("anna")),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        only(TillAuditFilter {
            action: Some("payout".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        only(TillAuditFilter {
            wallet: Some(guest.to_string()),
            ..Default::default()
        }),
        3
    );
    assert_eq!(
        only(TillAuditFilter {
            limit: Some(2),
            ..Default::default()
        }),
        2
    );

    // An app-side record joins the same chain.
    bar.ledger
        .record_audit(
            &staff_id("max"),
            &TillAudit::new(
                "product_changed",
                serde_json::json!({ "price": [350, 400] }),
            )
            .subject("cola"),
        )
        .unwrap();
    let check = reader.verify_audit().unwrap();
    assert_eq!((check.records, check.first_broken), (5, None));

    // Only shift closes go to the server, each once.
    let waiting = bar.ledger.undelivered_shift_closes(10).unwrap();
    assert_eq!(waiting.len(), 1);
    bar.ledger.mark_audit_delivered(waiting[0].seq).unwrap();
    assert!(bar.ledger.undelivered_shift_closes(10).unwrap().is_empty());
}

#[test]
fn the_tills_trail_cannot_be_changed_and_a_change_past_the_trigger_is_found() {
    let bar = Bar::new();
    bar.open_shift("anna");
    for _ in 0..3 {
        bar.ledger
            .close_shift(&CloseShiftRequest {
                key: bar.key(),
                staff: staff_id("anna"),
                counted: Cents(0),
            })
            .unwrap();
        bar.open_shift("anna");
    }
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    for statement in [
        "UPDATE audit_log SET staff_id = 'ben' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ] {
        let err = conn.execute(statement, []).unwrap_err();
        assert!(err.to_string().contains("never"), "{statement}: {err}");
    }
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET staff_id = 'ben' WHERE seq = 2;",
    )
    .unwrap();
    let check = bar.ledger.reader().unwrap().verify_audit().unwrap();
    assert_eq!((check.records, check.first_broken), (3, Some(2)));
}
