//! Property tests over random sequences of operations: the ledger's
//! invariants hold whatever cashiers do, replays change nothing, and any
//! edited row breaks the hash chain.

mod common;

use std::collections::BTreeMap;

use common::{band, staff_id, Bar, START};
use proptest::prelude::*;
use tapster_ledger::model::{EventMode, SyncState, Tender};
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{
    Authorisation, CancelRequest, DepositReturnRequest, PayoutRequest, Recorded, SaleRequest,
    TopUpRequest, WalletSnapshot,
};
use tapster_ledger::{demo, Cents, EntryId, LedgerError, TokenId};

const WALLETS: usize = 4;
const PRODUCTS: [&str; 9] = [
    "beer",
    "radler",
    "wine",
    "spritz",
    "cola",
    "water",
    "bratwurst",
    "fries",
    "cup",
];

#[derive(Clone, Debug)]
enum Op {
    TopUp {
        wallet: usize,
        cents: i64,
    },
    Sell {
        wallet: Option<usize>,
        items: Vec<(usize, i64)>,
    },
    ReturnCups {
        wallet: usize,
        quantity: i64,
    },
    Cancel {
        nth: usize,
        supervisor: bool,
    },
    Payout {
        wallet: usize,
    },
    Replay {
        nth: usize,
    },
    Advance {
        secs: i64,
    },
    /// Connected mode only: the server acknowledges the oldest pending entry.
    Acknowledge,
    /// Connected mode only: the server's feed reports a wallet.
    Snapshot {
        wallet: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..WALLETS, -500i64..12_000).prop_map(|(wallet, cents)| Op::TopUp { wallet, cents }),
        6 => (prop::option::weighted(0.8, 0..WALLETS), prop::collection::vec((0..PRODUCTS.len(), -1i64..5), 0..4))
            .prop_map(|(wallet, items)| Op::Sell { wallet, items }),
        1 => (0..WALLETS, 0i64..4).prop_map(|(wallet, quantity)| Op::ReturnCups { wallet, quantity }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(nth, supervisor)| Op::Cancel { nth, supervisor }),
        1 => (0..WALLETS).prop_map(|wallet| Op::Payout { wallet }),
        1 => any::<usize>().prop_map(|nth| Op::Replay { nth }),
        1 => (0i64..3_000).prop_map(|secs| Op::Advance { secs }),
        2 => Just(Op::Acknowledge),
        1 => (0..WALLETS).prop_map(|wallet| Op::Snapshot { wallet }),
    ]
}

#[derive(Clone, Debug)]
enum Done {
    Sale(SaleRequest),
    TopUp(TopUpRequest),
    Return(DepositReturnRequest),
    Cancel(CancelRequest),
    Payout(PayoutRequest),
}

fn replay(bar: &Bar, done: &Done) -> Result<Recorded, LedgerError> {
    let l = &bar.ledger;
    match done {
        Done::Sale(r) => l.sell(r, Authorisation::ThisLedger),
        Done::TopUp(r) => l.top_up(r, Authorisation::ThisLedger),
        Done::Return(r) => l.return_deposit(r, Authorisation::ThisLedger),
        Done::Cancel(r) => l.cancel(r, Authorisation::ThisLedger),
        Done::Payout(r) => l.payout(r, Authorisation::ThisLedger),
    }
}

/// The server as the connected-mode test imagines it: balances move when
/// it acknowledges an entry, and its feed has a cursor.
#[derive(Default)]
struct ServerModel {
    balances: BTreeMap<TokenId, i64>,
    cups: BTreeMap<TokenId, i64>,
    cursor: i64,
}

impl ServerModel {
    fn deposits(&self, token: &TokenId) -> Vec<tapster_ledger::model::DepositCount> {
        match self.cups.get(token) {
            Some(&count) if count != 0 => vec![tapster_ledger::model::DepositCount {
                product: demo::product("cup"),
                count,
            }],
            _ => vec![],
        }
    }
}

fn wallet_posting_sum(bar: &Bar, token: &TokenId, only_pending: bool) -> i64 {
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    conn.query_row(
        "SELECT COALESCE(SUM(p.value ->> 'm'), 0) FROM entries e JOIN json_each(e.postings) p
         LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
         WHERE p.value ->> 'a' = ?1 AND (NOT ?2 OR s.state IS NULL)",
        rusqlite::params![format!("wallet:{token}"), only_pending],
        |r| r.get(0),
    )
    .unwrap()
}

fn run(mode: EventMode, ops: Vec<Op>, tamper_pick: usize) -> Result<(), TestCaseError> {
    let bar = Bar::with_mode(mode);
    let mut cola = bar.ledger.product(&demo::product("cola")).unwrap().unwrap();
    cola.stock = 6;
    bar.ledger.upsert_product(&cola).unwrap();
    bar.open_shift("anna");
    let tokens: Vec<TokenId> = (1..=WALLETS as u32).map(band).collect();
    let mut server = ServerModel::default();
    if mode == EventMode::Connected {
        for token in &tokens {
            server.balances.insert(token.clone(), 60_00);
            bar.ledger
                .apply_wallet_snapshot(
                    &WalletSnapshot {
                        token: token.clone(),
                        wallet_id: "w".into(),
                        balance: Cents(60_00),
                        promo: Cents::ZERO,
                        blocked: false,
                        cursor: 0,
                        deposits: vec![],
                    },
                    START,
                )
                .unwrap();
        }
    }
    let mut done: Vec<Done> = Vec::new();
    let mut entries: Vec<EntryId> = Vec::new();

    for op in ops {
        let result = match op {
            Op::TopUp { wallet, cents } => {
                let r = TopUpRequest {
                    key: bar.key(),
                    staff: staff_id("anna"),
                    token: tokens[wallet].clone(),
                    amount: Cents(cents),
                    tender: Tender::Cash,
                };
                bar.ledger
                    .top_up(&r, Authorisation::ThisLedger)
                    .map(|rec| (Done::TopUp(r), rec))
            }
            Op::Sell { wallet, items } => {
                let cart = items.iter().fold(Cart::new(), |c, (p, q)| {
                    c.with(&demo::product(PRODUCTS[*p]), *q)
                });
                let token = wallet.map(|w| tokens[w].clone());
                let r = SaleRequest {
                    key: bar.key(),
                    staff: staff_id("anna"),
                    cart,
                    tender: if token.is_some() {
                        Tender::Wallet
                    } else {
                        Tender::Cash
                    },
                    token,
                    pass: None,
                };
                bar.ledger
                    .sell(&r, Authorisation::ThisLedger)
                    .map(|rec| (Done::Sale(r), rec))
            }
            Op::ReturnCups { wallet, quantity } => {
                let r = DepositReturnRequest {
                    key: bar.key(),
                    staff: staff_id("anna"),
                    token: Some(tokens[wallet].clone()),
                    product: demo::product("cup"),
                    quantity,
                    tender: Tender::Wallet,
                };
                bar.ledger
                    .return_deposit(&r, Authorisation::ThisLedger)
                    .map(|rec| (Done::Return(r), rec))
            }
            Op::Cancel { nth, supervisor } if !entries.is_empty() => {
                let r = CancelRequest {
                    key: bar.key(),
                    staff: staff_id(if supervisor { "sue" } else { "anna" }),
                    entry: entries[nth % entries.len()],
                };
                bar.ledger
                    .cancel(&r, Authorisation::ThisLedger)
                    .map(|rec| (Done::Cancel(r), rec))
            }
            Op::Payout { wallet } => {
                let r = PayoutRequest {
                    key: bar.key(),
                    staff: staff_id("anna"),
                    token: tokens[wallet].clone(),
                    tender: Tender::Cash,
                };
                bar.ledger
                    .payout(&r, Authorisation::ThisLedger)
                    .map(|rec| (Done::Payout(r), rec))
            }
            Op::Replay { nth } if !done.is_empty() => {
                let before = bar.fingerprint();
                let again = replay(&bar, &done[nth % done.len()]).unwrap();
                prop_assert!(again.replayed);
                prop_assert_eq!(bar.fingerprint(), before, "a replay changed the ledger");
                continue;
            }
            Op::Advance { secs } => {
                bar.clock.advance_secs(secs);
                continue;
            }
            Op::Acknowledge if mode == EventMode::Connected => {
                if let Some(entry) = bar.ledger.pending_entries(1).unwrap().into_iter().next() {
                    server.cursor += 1;
                    if let Some(token) = &entry.token {
                        let postings = bar.ledger.reader().unwrap().postings(&entry.id).unwrap();
                        let moved: i64 = postings
                            .iter()
                            .filter(|p| p.account.to_string() == format!("wallet:{token}"))
                            .map(|p| p.amount.0)
                            .sum();
                        *server.balances.get_mut(token).unwrap() += moved;
                        if entry.tender == Tender::Wallet {
                            let cups: i64 = entry
                                .lines
                                .iter()
                                .filter(|l| l.deposit)
                                .map(|l| l.quantity)
                                .sum();
                            *server.cups.entry(token.clone()).or_default() += cups;
                        }
                    }
                    let ack = SyncState::Acknowledged {
                        server_id: format!("txn_{}", server.cursor),
                        server_cursor: server.cursor,
                        at: START,
                    };
                    bar.ledger.record_sync_decision(&entry.id, &ack).unwrap();
                }
                continue;
            }
            Op::Snapshot { wallet } if mode == EventMode::Connected => {
                let token = &tokens[wallet];
                bar.ledger
                    .apply_wallet_snapshot(
                        &WalletSnapshot {
                            token: token.clone(),
                            wallet_id: "w".into(),
                            balance: Cents(server.balances[token]),
                            promo: Cents::ZERO,
                            blocked: false,
                            cursor: server.cursor,
                            deposits: server.deposits(token),
                        },
                        bar.clock.now_for_tests(),
                    )
                    .unwrap();
                continue;
            }
            _ => continue,
        };
        match result {
            Ok((request, recorded)) => {
                prop_assert!(!recorded.replayed);
                entries.push(recorded.entry.id);
                done.push(request);
            }
            Err(error) => {
                // Refusals are fine; storage failures are not.
                prop_assert!(
                    !matches!(error, LedgerError::Storage(_) | LedgerError::Corrupt(_)),
                    "{error:?}"
                );
            }
        }
    }

    prop_assert_eq!(bar.ledger.check_invariants().unwrap(), vec![]);
    prop_assert_eq!(bar.ledger.verify_chain().unwrap(), vec![]);
    if mode == EventMode::Connected {
        // The feed catches up with everything the server acknowledged.
        for token in &tokens {
            let snapshot = WalletSnapshot {
                token: token.clone(),
                wallet_id: "w".into(),
                balance: Cents(server.balances[token]),
                promo: Cents::ZERO,
                blocked: false,
                cursor: server.cursor,
                deposits: server.deposits(token),
            };
            bar.ledger
                .apply_wallet_snapshot(&snapshot, bar.clock.now_for_tests())
                .unwrap();
        }
    }
    for token in &tokens {
        let view = bar.ledger.wallet(token).unwrap();
        let Some(view) = view else { continue };
        match mode {
            // Standalone, the balance is the sum of the wallet's postings.
            EventMode::Standalone => {
                prop_assert_eq!(view.available.0, wallet_posting_sum(&bar, token, false))
            }
            // Connected, what the server confirmed plus what it has not seen.
            EventMode::Connected => {
                prop_assert_eq!(
                    view.available.0,
                    server.balances[token] + wallet_posting_sum(&bar, token, true)
                )
            }
        }
        prop_assert!(view.available.0 >= 0, "no wallet goes below zero");
        for deposit in &view.deposits {
            prop_assert!(deposit.count >= 0);
        }
    }

    // Editing any row of any entry breaks the chain.
    if !entries.is_empty() {
        let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
        conn.execute_batch("DROP TRIGGER entries_no_update;")
            .unwrap();
        let rowid = (tamper_pick % entries.len()) as i64 + 1;
        if tamper_pick.is_multiple_of(2) {
            conn.execute(
                "UPDATE entries SET amount = amount + 1 WHERE sequence = ?1",
                [rowid],
            )
            .unwrap();
        } else {
            conn.execute(
                "UPDATE entries SET terminal_time = terminal_time + 1 WHERE sequence = ?1",
                [rowid],
            )
            .unwrap();
        }
        prop_assert!(
            !bar.ledger.verify_chain().unwrap().is_empty(),
            "an edited entry went unnoticed"
        );
    }
    Ok(())
}

trait NowForTests {
    fn now_for_tests(&self) -> tapster_ledger::Timestamp;
}

impl NowForTests for std::sync::Arc<tapster_ledger::ManualClock> {
    fn now_for_tests(&self) -> tapster_ledger::Timestamp {
        tapster_ledger::Clock::now(self.as_ref())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn standalone_invariants_hold(ops in prop::collection::vec(op(), 1..40), tamper in any::<usize>()) {
        run(EventMode::Standalone, ops, tamper)?;
    }

    #[test]
    fn connected_invariants_hold(ops in prop::collection::vec(op(), 1..40), tamper in any::<usize>()) {
        run(EventMode::Connected, ops, tamper)?;
    }
}
