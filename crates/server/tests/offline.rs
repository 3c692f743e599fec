//! Offline terminals against the real server: a real terminal ledger sells
//! offline, its pending entries go up in batches, the wallet feed comes
//! down. Covers the batch decisions, the chain checks and overdrafts.

mod common;

use common::till::{
    feed, open_bill, pay_bill, pending_batch, pull, push, sell, statuses, terminal_ledger,
};
use common::{json, Fixture, Server};
use serde_json::{json, Value};
use tapster_api::BatchEntry;
use tapster_ledger::model::Tender;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{Authorisation, SaleRequest, WalletSnapshot};
use tapster_ledger::{demo, Cents, IdempotencyKey, Ledger, LedgerError, StaffId, Timestamp};

fn server_balance(server: &Server, fx: &Fixture, wristband: u32) -> i64 {
    let (_, body) = json(
        server
            .client()
            .get(server.url(
                &fx.event,
                &format!("pos/wallets/token/{}", demo::wristband(wristband)),
            ))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    body["data"]["balance"].as_i64().unwrap()
}

#[test]
fn offline_sales_reach_the_server_once() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    sell(&ledger, 1, &[("beer", 1)]); // 7.00
    sell(&ledger, 2, &[("bratwurst", 1)]); // 4.50
    sell(&ledger, 1, &[("water", 1)]); // 4.50
    let batch = pending_batch(&ledger);
    assert_eq!(batch.len(), 3);
    let (status, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), vec!["created"; 3]);
    assert_eq!(body["data"]["last_sequence"], 3);
    assert!(
        body["data"]["problems"].as_array().unwrap().is_empty(),
        "{body}"
    );
    let results = body["data"]["results"].as_array().unwrap();
    assert_eq!(results[2]["balance"], 20_00 - 7_00 - 4_50);
    assert!(results[0]["transaction_id"]
        .as_str()
        .unwrap()
        .starts_with("txn_"));
    assert_eq!(server_balance(&server, &fx, 1), 20_00 - 11_50);
    assert_eq!(server_balance(&server, &fx, 2), 30_00 - 4_50);

    // The response was lost; the terminal sends the same batch again.
    let (status, again) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200);
    assert_eq!(statuses(&again), vec!["exists"; 3]);
    assert_eq!(
        again["data"]["results"][0]["transaction_id"],
        body["data"]["results"][0]["transaction_id"]
    );
    assert_eq!(
        server_balance(&server, &fx, 1),
        20_00 - 11_50,
        "nothing applied twice"
    );

    // The feed carries the new balance and the cup.
    let data = feed(&server, &fx, 0, 100);
    let wallet = data["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["token_id"] == demo::wristband(1).as_str())
        .unwrap()
        .clone();
    assert_eq!(wallet["balance"], 8_50);
    assert_eq!(
        wallet["deposits"],
        json!([{"product": "cup", "count": 2}]),
        "beer and water each came in a cup"
    );

    // Seed 000's sales records name the cashier who sold offline.
    let (status, sales) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/reports/sales"))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{sales}");
    let records = sales["data"].as_array().unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    for record in records {
        assert_eq!(
            (&record["staff_id"], &record["staff_name"]),
            (&json!("anna"), &json!("Anna")),
            "{record}"
        );
    }
}

#[test]
fn offline_debits_may_overdraw_and_then_block_the_wallet() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    // The terminal believes wristband 5 holds 40.00; the server knows 10.00.
    ledger
        .apply_wallet_snapshot(
            &WalletSnapshot {
                token: demo::wristband(5),
                wallet_id: "w".into(),
                balance: Cents(40_00),
                promo: Cents::ZERO,
                blocked: false,
                cursor: 0,
                deposits: vec![],
            },
            Timestamp(1_784_311_200_000),
        )
        .unwrap();
    sell(&ledger, 5, &[("spritz", 2)]); // 19.00, offline
    let (status, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(
        (status, statuses(&body)),
        (200, vec!["created".to_string()]),
        "{body}"
    );
    assert_eq!(server_balance(&server, &fx, 5), 10_00 - 19_00);
    let data = feed(&server, &fx, 0, 100);
    let wallet = data["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["token_id"] == demo::wristband(5).as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (wallet["balance"].as_i64(), wallet["blocked"].as_bool()),
        (Some(-9_00), Some(true))
    );
    // Online, the overdrawn wallet pays nothing more.
    let (status, body) = json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("pos/wallets/token/{}/transactions", demo::wristband(5)),
            ))
            .bearer_auth(&fx.bar_token)
            .json(&json!({"products": ["water"]}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (402, Some("insufficient_funds"))
    );
    let check = std::process::Command::new(common::BIN)
        .args(["check", "--db", fx.db.as_str()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "balances equal their transactions even when overdrawn"
    );
}

#[test]
fn tampered_foreign_unknown_and_conflicting_entries_are_rejected_for_good() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    sell(&ledger, 1, &[("beer", 1)]);
    sell(&ledger, 2, &[("beer", 1)]);
    let batch = pending_batch(&ledger);

    // An entry edited after it was written: its hash no longer matches.
    let mut tampered = batch[0].clone();
    tampered.entry.amount = Cents(-1);
    let (_, body) = push(&server, &fx, &fx.bar_token, &[tampered.clone()]);
    assert_eq!(statuses(&body), vec!["rejected"]);
    assert!(body["data"]["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("hash"));
    assert_eq!(body["data"]["problems"][0]["problem"], "tampered");
    let (_, again) = push(&server, &fx, &fx.bar_token, &[tampered]);
    assert_eq!(
        statuses(&again),
        vec!["rejected"],
        "the decision is final for the key"
    );
    // The genuine entry under the same key is now a conflict, never applied.
    let (_, genuine) = push(&server, &fx, &fx.bar_token, &batch[..1]);
    assert_eq!(statuses(&genuine), vec!["conflict"]);
    assert_eq!(server_balance(&server, &fx, 1), 20_00);

    // Entries of another terminal's ledger are not this terminal's.
    let (_, foreign) = push(&server, &fx, &fx.topup_token, &batch[1..]);
    assert_eq!(statuses(&foreign), vec!["rejected"]);
    assert!(foreign["data"]["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("belongs to terminal"));
}

#[test]
fn gaps_and_permissions_are_reported() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    for _ in 0..3 {
        sell(&ledger, 1, &[("water", 1)]);
    }
    let batch = pending_batch(&ledger);
    // Entry 2 never arrives.
    let (_, body) = push(
        &server,
        &fx,
        &fx.bar_token,
        &[batch[0].clone(), batch[2].clone()],
    );
    assert_eq!(statuses(&body), vec!["created", "created"]);
    let problems = body["data"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    assert_eq!(
        (
            problems[0]["problem"].as_str(),
            problems[0]["sequence"].as_i64()
        ),
        (Some("gap"), Some(3))
    );
    // When it does come late, it is a repeat of an old sequence.
    let (_, late) = push(&server, &fx, &fx.bar_token, &batch[1..2]);
    assert_eq!(statuses(&late), vec!["rejected"]);

    // A debit terminal may not top up, a credit terminal may.
    let top_up = |ledger: &Ledger| {
        ledger
            .top_up(
                &tapster_ledger::store::TopUpRequest {
                    key: IdempotencyKey::random(),
                    staff: StaffId::new("anna").unwrap(),
                    token: demo::wristband(3),
                    amount: Cents(10_00),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap();
    };
    top_up(&ledger);
    let entries = pending_batch(&ledger);
    let (_, body) = push(&server, &fx, &fx.bar_token, &entries[entries.len() - 1..]);
    assert_eq!(statuses(&body), vec!["rejected"]);
    assert!(
        body["data"]["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("may not top up"),
        "{body}"
    );

    // A credit-only terminal's ledger may not sell.
    let credit = terminal_ledger(fx.dir.path(), "kasse");
    pull(&server, &fx, &credit);
    sell(&credit, 2, &[("beer", 1)]);
    let (_, body) = push(&server, &fx, &fx.topup_token, &pending_batch(&credit));
    assert_eq!(statuses(&body), vec!["rejected"]);
    assert!(
        body["data"]["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("may not sell"),
        "{body}"
    );
}

#[test]
fn the_feed_pages_by_cursor_and_heartbeats_are_taken() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let first = feed(&server, &fx, 0, 2);
    assert_eq!(first["wallets"].as_array().unwrap().len(), 2);
    assert_eq!(first["more"], true);
    let second = feed(&server, &fx, first["next_cursor"].as_i64().unwrap(), 100);
    assert_eq!(second["wallets"].as_array().unwrap().len(), 3);
    assert_eq!(second["more"], false);
    let last = feed(&server, &fx, second["next_cursor"].as_i64().unwrap(), 100);
    assert!(last["wallets"].as_array().unwrap().is_empty());
    assert_eq!(last["next_cursor"], second["next_cursor"]);

    let (status, _) = json(
        server
            .client()
            .post(server.url(&fx.event, "pos/terminal/heartbeat"))
            .bearer_auth(&fx.bar_token)
            .json(&json!({"app_version": "0.1.0", "pending": 3}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 204);
    let (status, body) = json(
        server
            .client()
            .post(server.url(&fx.event, "pos/terminal/heartbeat"))
            .bearer_auth(&fx.bar_token)
            .json(&json!({"app_version": "0.1.0", "pending": -1}))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("invalid_parameters"))
    );
    let (status, _) = json(
        server
            .client()
            .get(format!(
                "{}?since=abc",
                server.url(&fx.event, "pos/wallets")
            ))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 400);
}

/// Re-seals an edited entry as a forger with the terminal's file would:
/// a consistent hash, so only the server's bookkeeping checks can catch it.
fn reseal(mut entry: BatchEntry) -> BatchEntry {
    entry.entry.hash = tapster_ledger::chain::entry_hash(&entry.entry, &entry.postings);
    entry
}

#[test]
fn postings_that_do_not_match_the_entry_are_refused() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    sell(&ledger, 1, &[("water", 1)]);
    let genuine = pending_batch(&ledger).remove(0);
    // A "sale" whose postings credit the wallet 50.00 instead of debiting it.
    let mut forged = genuine.clone();
    for posting in &mut forged.postings {
        posting.amount = if posting.account.to_string().starts_with("wallet:") {
            Cents(50_00)
        } else {
            Cents(-50_00 / 2)
        };
    }
    let forged = reseal(forged);
    let (_, body) = push(&server, &fx, &fx.bar_token, &[forged]);
    assert_eq!(statuses(&body), vec!["rejected"], "{body}");
    assert_eq!(server_balance(&server, &fx, 1), 20_00);
}

#[test]
fn a_sale_cannot_be_cancelled_twice_on_the_server() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    sell(&ledger, 1, &[("beer", 1)]);
    let sale = ledger.pending_entries(1).unwrap().remove(0);
    ledger
        .cancel(
            &tapster_ledger::store::CancelRequest {
                key: IdempotencyKey::random(),
                staff: StaffId::new("anna").unwrap(),
                entry: sale.id,
            },
            Authorisation::ThisLedger,
        )
        .unwrap();
    let batch = pending_batch(&ledger);
    let (_, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(statuses(&body), vec!["created", "created"]);
    assert_eq!(server_balance(&server, &fx, 1), 20_00);
    // The same cancellation again under a new key and the next sequence.
    let mut again = batch[1].clone();
    again.entry.idempotency_key = IdempotencyKey::random();
    again.entry.id = tapster_ledger::EntryId(uuid_like(99));
    again.entry.sequence += 1;
    again.entry.prev_hash = batch[1].entry.hash.clone();
    let (_, body) = push(&server, &fx, &fx.bar_token, &[reseal(again)]);
    assert_eq!(statuses(&body), vec!["rejected"], "{body}");
    assert!(body["data"]["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("already cancelled"));
    assert_eq!(server_balance(&server, &fx, 1), 20_00, "refunded once");
}

fn uuid_like(n: u8) -> uuid::Uuid {
    uuid::Uuid::from_bytes([n; 16])
}

#[test]
fn an_entry_claimed_as_online_is_checked_like_an_online_debit() {
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    sell(&ledger, 1, &[("beer", 1)]);
    let mut entry = pending_batch(&ledger).remove(0);
    // Not approved online by this server, yet not marked offline: the
    // server must apply its own funds rule, not the offline overdraft.
    entry.entry.offline = false;
    let entry = reseal(entry);
    let (status, blocked) = json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!("manage/wallets/token/{}/block", demo::wristband(1)),
            ))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 204, "{blocked}");

    let (status, body) = push(&server, &fx, &fx.bar_token, &[entry]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), vec!["rejected"]);
    assert_eq!(
        body["data"]["results"][0]["reason"],
        LedgerError::WalletBlocked {
            token: demo::wristband(1)
        }
        .to_string()
    );
    assert_eq!(server_balance(&server, &fx, 1), 20_00, "nothing debited");
}

/// The terminal's last entry alone (the earlier ones went up before).
fn latest(ledger: &Ledger) -> Vec<BatchEntry> {
    let mut batch = pending_batch(ledger);
    batch.split_off(batch.len() - 1)
}

/// Seed 003's `scan/info` of a code, with the till's token.
fn scan_info(server: &Server, fx: &Fixture, code: &str) -> (u16, Value) {
    json(
        server
            .client()
            .get(server.url(&fx.event, &format!("devices/scan/info?code={code}")))
            .bearer_auth(&fx.bar_token)
            .send()
            .unwrap(),
    )
}

/// A pass as a till learns it when scanned.
fn scanned_pass(server: &Server, fx: &Fixture, code: &str) -> tapster_ledger::passes::Pass {
    let (status, info) = scan_info(server, fx, code);
    assert_eq!(status, 200, "{info}");
    serde_json::from_value::<tapster_api::walletapp::PassInfo>(info)
        .unwrap()
        .pass()
        .unwrap()
}

fn sell_with_pass(
    ledger: &Ledger,
    wristband: u32,
    product: &str,
    pass: &tapster_ledger::passes::Pass,
) -> Result<tapster_ledger::store::Recorded, LedgerError> {
    ledger.sell(
        &SaleRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            cart: Cart::new().with(&demo::product(product), 1),
            tender: Tender::Wallet,
            token: Some(demo::wristband(wristband)),
            pass: Some(pass.clone()),
        },
        Authorisation::ThisLedger,
    )
}

#[test]
fn two_offline_tills_redeem_one_pass_once_and_the_other_use_is_a_conflict() {
    let fx = Fixture::new(3);
    let d = fx.db.as_str();
    let bar2 = common::admin(&[
        "terminal",
        "create",
        "--db",
        d,
        "--event",
        &fx.event,
        "--name",
        "Bar 2",
        "--permission",
        "debit",
    ]);
    let bar2_token = bar2["api_token"].as_str().unwrap().to_string();
    let server = Server::start(&fx.db);
    let (status, made) = json(
        server
            .client()
            .post(server.url(&fx.event, "manage/passes"))
            .bearer_auth(&fx.admin_token)
            .json(&json!({"count": 1, "title": "Freibier", "benefit":
                {"type": "discount", "discount": {"off": "free_product", "product": "beer"}}}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 201, "{made}");
    let code = made["data"]["codes"][0].as_str().unwrap().to_string();
    let pass = scanned_pass(&server, &fx, &code);

    let one = terminal_ledger(fx.dir.path(), "bar-1");
    let two = terminal_ledger(fx.dir.path(), bar2["id"].as_str().unwrap());
    pull(&server, &fx, &one);
    pull(&server, &fx, &two);
    let before = [
        server_balance(&server, &fx, 1),
        server_balance(&server, &fx, 2),
    ];
    // Each till lets the pass go once, offline…
    let sale_one = sell_with_pass(&one, 1, "beer", &pass).unwrap();
    assert!(matches!(
        sell_with_pass(&one, 1, "beer", &pass),
        Err(LedgerError::PassRefused(_))
    ));
    sell_with_pass(&two, 2, "beer", &pass).unwrap();
    let paid = -sale_one.entry.amount.0;
    let cup = demo::products()
        .into_iter()
        .find(|p| p.id.as_str() == "cup")
        .unwrap()
        .price
        .0;
    assert_eq!(paid, cup, "the beer is free, its cup is not");
    assert!(
        one.verify_chain().unwrap().is_empty(),
        "the pass is in the hash"
    );

    // …and the first to reach the server counts; the other sale stands
    // (the guest was served) and becomes a conflict with its value.
    let (status, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&one));
    assert_eq!(
        (status, statuses(&body)),
        (200, vec!["created".to_string()]),
        "{body}"
    );
    let (status, body) = push(&server, &fx, &bar2_token, &pending_batch(&two));
    assert_eq!(
        (status, statuses(&body)),
        (200, vec!["created".to_string()]),
        "{body}"
    );
    assert_eq!(server_balance(&server, &fx, 1), before[0] - cup);
    assert_eq!(server_balance(&server, &fx, 2), before[1] - cup);
    let (_, conflicts) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/conflicts"))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    let listed = conflicts["data"]["pass_conflicts"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{conflicts}");
    let beer = demo::products()
        .into_iter()
        .find(|p| p.id.as_str() == "beer")
        .unwrap()
        .price
        .0;
    assert_eq!(listed[0]["value"], beer);
    assert_eq!(listed[0]["code"], code.as_str());
    assert_eq!(listed[0]["pass_title"], "Freibier");
    assert_eq!(listed[0]["terminal_id"], bar2["id"]);
    assert_eq!(listed[0]["reason"], "Pass already redeemed");
    let (status, info) = scan_info(&server, &fx, &code);
    assert_eq!(
        (status, &info["data"]["redemptions_left"]),
        (409, &json!(0))
    );

    // A cancelled sale gives the pass back, on the till and the server.
    one.cancel(
        &tapster_ledger::store::CancelRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            entry: sale_one.entry.id,
        },
        Authorisation::ThisLedger,
    )
    .unwrap();
    let (_, body) = push(&server, &fx, &fx.bar_token, &latest(&one));
    assert_eq!(statuses(&body), vec!["created"], "{body}");
    let (status, info) = scan_info(&server, &fx, &code);
    assert_eq!(
        (status, &info["redemptions_left"]),
        (200, &json!(1)),
        "{info}"
    );
    assert_eq!(server_balance(&server, &fx, 1), before[0]);

    // A till that takes off more than the pass gives is refused: this one
    // believes the pass takes 100 % off, the server knows a free beer.
    let greedy = tapster_ledger::passes::Pass {
        benefit: tapster_ledger::passes::Benefit::Discount {
            discount: tapster_ledger::passes::Discount::Percent { percent: 100 },
        },
        ..pass.clone()
    };
    let before_three = server_balance(&server, &fx, 3);
    one.sell(
        &SaleRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            cart: Cart::new()
                .with(&demo::product("beer"), 1)
                .with(&demo::product("bratwurst"), 1),
            tender: Tender::Wallet,
            token: Some(demo::wristband(3)),
            pass: Some(greedy),
        },
        Authorisation::ThisLedger,
    )
    .unwrap();
    let (_, body) = push(&server, &fx, &fx.bar_token, &latest(&one));
    assert_eq!(statuses(&body), vec!["rejected"], "{body}");
    assert!(
        body["data"]["results"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("the discount does not match what pass"),
        "{body}"
    );
    assert_eq!(server_balance(&server, &fx, 3), before_three);
}

fn summary(server: &Server, fx: &Fixture) -> Value {
    let (status, body) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/reports/summary"))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

fn wallet_cups(server: &Server, fx: &Fixture, wristband: u32) -> i64 {
    let data = feed(server, fx, 0, 100);
    data["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["token_id"] == demo::wristband(wristband).as_str())
        .and_then(|w| w["deposits"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|d| d["count"].as_i64().unwrap())
        .sum()
}

#[test]
fn an_offline_split_bill_reaches_the_server_with_its_payments_order_and_tip() {
    use tapster_ledger::bills::Tip;
    use tapster_ledger::store::CancelBillRequest;

    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    // Two beers (10.00 + 4.00 cups) and 10 % on the beer: 15.00.
    let bill = open_bill(
        &ledger,
        Cart::new()
            .with(&demo::product("beer"), 2)
            .with_tip(Tip::Percent(1000)),
    );
    assert_eq!(bill.total, Cents(15_00));
    for (band, cents) in [(1, 10_00), (2, 5_00)] {
        pay_bill(
            &ledger,
            &bill,
            Tender::Wallet,
            Some(demo::wristband(band)),
            cents,
            None,
        );
    }
    let batch = pending_batch(&ledger);
    assert_eq!(batch.len(), 3, "two payments and the bill's sale");
    let (status, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), vec!["created"; 3], "{body}");
    assert_eq!(server_balance(&server, &fx, 1), 20_00 - 10_00);
    assert_eq!(server_balance(&server, &fx, 2), 30_00 - 5_00);
    assert_eq!(
        wallet_cups(&server, &fx, 1),
        2,
        "the first band took the cups"
    );
    let report = summary(&server, &fx);
    assert_eq!(report["revenue"], 10_00, "the beer, not the tip: {report}");
    assert_eq!(report["tips"], 1_00);
    assert!(
        report["by_product"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["key"] == "beer"),
        "{report}"
    );
    // Seed 000's sales records: the beer, not the payments or the tip.
    let (status, records) = json(
        server
            .client()
            .get(server.url(&fx.event, "manage/reports/sales"))
            .bearer_auth(&fx.admin_token)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    let records = records["data"].as_array().unwrap();
    assert!(!records.is_empty());
    assert!(
        records.iter().all(|r| r.to_string().contains("beer")),
        "{records:?}"
    );

    // Cancelled on the till: every payment comes back on the server too.
    ledger
        .cancel_bill(&CancelBillRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            bill: bill.id,
        })
        .unwrap();
    let batch = pending_batch(&ledger);
    assert_eq!(batch.len(), 6, "the bill's three and their reversals");
    let (status, body) = push(&server, &fx, &fx.bar_token, &batch);
    assert_eq!(status, 200);
    assert_eq!(
        statuses(&body),
        ["exists", "exists", "exists", "created", "created", "created"],
        "{body}"
    );
    assert_eq!(server_balance(&server, &fx, 1), 20_00);
    assert_eq!(server_balance(&server, &fx, 2), 30_00);
    assert_eq!(wallet_cups(&server, &fx, 1), 0);
    let report = summary(&server, &fx);
    assert_eq!(report["revenue"], 0);
    assert_eq!(report["tips"], 0);
}

fn transaction(server: &Server, fx: &Fixture, wristband: u32, body: Value) -> (u16, Value) {
    json(
        server
            .client()
            .post(server.url(
                &fx.event,
                &format!(
                    "pos/wallets/token/{}/transactions",
                    demo::wristband(wristband)
                ),
            ))
            .bearer_auth(&fx.bar_token)
            .json(&body)
            .send()
            .unwrap(),
    )
}

#[test]
fn online_a_transaction_takes_cups_back_a_tip_or_a_bill_payment() {
    let fx = Fixture::new(5);
    let server = Server::start(&fx.db);
    // Three beers first: the band has three cups out.
    let (status, body) = transaction(
        &server,
        &fx,
        2,
        json!({"products": ["beer", "beer", "beer"]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(server_balance(&server, &fx, 2), 30_00 - 21_00);
    // Three cups back, two beers, 0.50 tip: 14.00 − 6.00 + 0.50.
    let (status, body) = transaction(
        &server,
        &fx,
        2,
        json!({"products": ["beer", "beer"], "returns": ["cup", "cup", "cup"], "tip_cents": 50, "idempotency_key": "round-2"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(server_balance(&server, &fx, 2), 9_00 - 8_50);
    assert_eq!(wallet_cups(&server, &fx, 2), 2);
    // More cups than the band has out, or worth more than the order.
    let (status, body) = transaction(
        &server,
        &fx,
        1,
        json!({"products": ["beer"], "returns": ["cup"]}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], "deposit_return_exceeded");
    let (status, body) = transaction(
        &server,
        &fx,
        2,
        json!({"products": ["water"], "returns": ["cup", "cup", "cup"]}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], "returns_exceed_order");
    // A band's share of a bill the till keeps open: an amount, no products.
    let bill = "0190a0b0-0000-7000-8000-000000000001";
    let share = json!({"products": [], "bill": {"bill_id": bill, "amount": 6_00}, "idempotency_key": "share-1"});
    let (status, body) = transaction(&server, &fx, 1, share.clone());
    assert_eq!(status, 200, "{body}");
    assert_eq!(server_balance(&server, &fx, 1), 20_00 - 6_00);
    let (status, _) = transaction(&server, &fx, 1, share);
    assert_eq!(status, 202, "a repeat is the first answer");
    assert_eq!(server_balance(&server, &fx, 1), 14_00);
    let (status, body) = transaction(
        &server,
        &fx,
        1,
        json!({"products": ["beer"], "bill": {"bill_id": bill, "amount": 100}}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = transaction(
        &server,
        &fx,
        1,
        json!({"products": [], "bill": {"bill_id": bill, "amount": 100_00}}),
    );
    assert_eq!(status, 402, "not enough on the band: {body}");
    // Bad extensions: refused with the reason, nothing debited.
    for body in [
        json!({"products": ["beer"], "tip_cents": 100_01}),
        json!({"products": ["beer"], "tip_cents": 0}),
        json!({"products": [], "bill": {"bill_id": "nope", "amount": 100}}),
        json!({"products": [], "bill": {"bill_id": bill, "amount": 0}}),
        json!({"products": ["beer"], "returns": ["water"]}),
    ] {
        let (status, refused) = transaction(&server, &fx, 1, body.clone());
        assert_eq!(status, 400, "{body}: {refused}");
        assert!(refused["error_message"].as_str().is_some(), "{refused}");
    }
    assert_eq!(server_balance(&server, &fx, 1), 14_00);
    let report = summary(&server, &fx);
    assert_eq!(
        report["revenue"],
        5 * 5_00,
        "bill shares are not revenue: {report}"
    );
    assert_eq!(report["tips"], 50);
}

#[test]
fn a_pass_on_a_split_bill_with_a_tip_is_redeemed_when_the_bills_sale_arrives() {
    use tapster_ledger::bills::Tip;
    let fx = Fixture::new(3);
    let server = Server::start(&fx.db);
    let (status, made) = json(
        server
            .client()
            .post(server.url(&fx.event, "manage/passes"))
            .bearer_auth(&fx.admin_token)
            .json(&json!({"count": 1, "title": "Happy Hour", "benefit":
                {"type": "discount", "discount": {"off": "percent", "percent": 50}}}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 201, "{made}");
    let code = made["data"]["codes"][0].as_str().unwrap().to_string();
    let pass = scanned_pass(&server, &fx, &code);
    let ledger = terminal_ledger(fx.dir.path(), "bar-1");
    pull(&server, &fx, &ledger);
    // Two beers half price (5.00), their cups (4.00), 10 % tip on the 5.00.
    let bill = ledger
        .open_bill(&tapster_ledger::store::OpenBillRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            cart: Cart::new()
                .with(&demo::product("beer"), 2)
                .with_tip(Tip::Percent(1000)),
            pass: Some(pass),
        })
        .unwrap();
    assert_eq!(bill.total, Cents(9_50));
    pay_bill(
        &ledger,
        &bill,
        Tender::Wallet,
        Some(demo::wristband(1)),
        5_00,
        None,
    );
    pay_bill(&ledger, &bill, Tender::Cash, None, 4_50, None);
    let (status, body) = push(&server, &fx, &fx.bar_token, &pending_batch(&ledger));
    assert_eq!(status, 200);
    assert_eq!(statuses(&body), vec!["created"; 3], "{body}");
    let (status, info) = scan_info(&server, &fx, &code);
    assert_eq!(
        (status, &info["data"]["redemptions_left"]),
        (409, &json!(0)),
        "used by the bill: {info}"
    );
}
