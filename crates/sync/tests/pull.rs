//! What a terminal learns from the server: the catalogue, settings and
//! staff, and other booths' top-ups within one sync interval.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fast_config, syncer, terminal_ledger, Event, Server};
use serde_json::{json, Value};
use tapster_ledger::model::Tender;
use tapster_ledger::pin::Pin;
use tapster_ledger::store::{Authorisation, TopUpRequest};
use tapster_ledger::{demo, Cents, IdempotencyKey, StaffId};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_settings_and_staff_come_from_the_server() {
    let event = Event::new(2, 50_00);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let sync = syncer(&ledger, &server.url(), &event.id, &token, fast_config());
    let base = format!("{}/api/v1/events/{}/manage", server.base(), event.id);
    let http = server.client();
    // The manager changes a price, adds a cashier and lowers the offline cap.
    let products: Value = http
        .get(format!("{base}/products"))
        .bearer_auth(&event.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut beer = products["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "beer")
        .unwrap()
        .clone();
    beer["price"] = json!(550);
    assert!(http
        .put(format!("{base}/products/beer"))
        .bearer_auth(&event.admin_token)
        .json(&beer)
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let staff = json!({"id": "lena", "name": "Lena", "role": "cashier", "pin": "2468"});
    assert!(http
        .post(format!("{base}/staff"))
        .bearer_auth(&event.admin_token)
        .json(&staff)
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let mut settings: Value = http
        .get(format!("{base}/settings"))
        .bearer_auth(&event.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["data"]["offline"]["per_sale_limit"] = json!(10_00);
    assert!(http
        .put(format!("{base}/settings"))
        .bearer_auth(&event.admin_token)
        .json(&settings["data"])
        .send()
        .await
        .unwrap()
        .status()
        .is_success());

    sync.round(&mut |_| {}).await.unwrap();
    assert_eq!(
        ledger
            .product(&demo::product("beer"))
            .unwrap()
            .unwrap()
            .price,
        Cents(550)
    );
    assert_eq!(
        ledger.settings().unwrap().offline.per_sale_limit,
        Cents(10_00)
    );
    let lena = ledger
        .login(&StaffId::new("lena").unwrap(), &Pin::new("2468").unwrap())
        .unwrap();
    assert_eq!(
        lena.name, "Lena",
        "a cashier added on the server can log in at the terminal, offline too"
    );
    // A second round with nothing new writes nothing. The login's write
    // is checkpointed first, or the ledger's background checkpoint could
    // copy it into the file during the round.
    rusqlite::Connection::open(ledger.path())
        .unwrap()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let before = std::fs::metadata(ledger.path())
        .unwrap()
        .modified()
        .unwrap();
    sync.round(&mut |_| {}).await.unwrap();
    assert_eq!(
        std::fs::metadata(ledger.path())
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    // The server's PIN tags came along: a PIN alone finds its member by
    // one lookup at the till (the tag came before any PIN-only login).
    let tagged: i64 = rusqlite::Connection::open(ledger.path())
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM staff WHERE pin_tag IS NOT NULL AND id IN ('lena', 'anna')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tagged, 2);
    assert_eq!(
        ledger
            .login_by_pin(&Pin::new("2468").unwrap())
            .unwrap()
            .name,
        "Lena"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_top_up_at_another_booth_is_seen_within_one_interval() {
    let event = Event::new(2, 10_00);
    let server = Server::start(&event.db, 0.0);
    let url = server.url();
    let (bar_id, bar_token) = event.terminal("bar");
    let (desk_id, desk_token) = event.terminal("desk");
    let bar = terminal_ledger(event.dir.path(), &bar_id);
    let desk = terminal_ledger(event.dir.path(), &desk_id);
    let bar_sync = syncer(&bar, &url, &event.id, &bar_token, fast_config());
    let desk_sync = syncer(&desk, &url, &event.id, &desk_token, fast_config());
    bar_sync.round(&mut |_| {}).await.unwrap();
    desk_sync.round(&mut |_| {}).await.unwrap();
    let bar_task = tapster_sync::start(bar_sync.clone(), Arc::new(tapster_ledger::SystemClock));

    desk.top_up(
        &TopUpRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            token: demo::wristband(1),
            amount: Cents(20_00),
            tender: Tender::Cash,
        },
        Authorisation::ThisLedger,
    )
    .unwrap();
    desk_sync.round(&mut |_| {}).await.unwrap();
    let pushed = Instant::now();
    let interval = fast_config().interval;
    loop {
        if bar.wallet(&demo::wristband(1)).unwrap().unwrap().available == Cents(30_00) {
            break;
        }
        assert!(
            pushed.elapsed() < interval * 3,
            "not seen within one interval"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bar_task.stop().await;
}

/// A shift closed at a till reaches the event's audit trail once, named
/// after who closed it on which till, with the cash counted; a round
/// with nothing new sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shift_closed_at_a_till_reaches_the_events_trail_once() {
    use tapster_ledger::store::CloseShiftRequest;
    let event = Event::new(1, 50_00);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let sync = syncer(&ledger, &server.url(), &event.id, &token, fast_config());
    sync.round(&mut |_| {}).await.unwrap();
    let key = |k: &str| IdempotencyKey::new(k).unwrap();
    // Anna's shift is open (with no float): Sue, a supervisor, closes it
    // with 5 € more in the drawer than expected.
    ledger
        .close_shift(&CloseShiftRequest {
            key: key("close-1"),
            staff: StaffId::new("sue").unwrap(),
            counted: Cents(5_00),
        })
        .unwrap();
    sync.round(&mut |_| {}).await.unwrap();
    assert!(
        ledger.undelivered_shift_closes(10).unwrap().is_empty(),
        "the server has it: the next round sends nothing"
    );
    sync.round(&mut |_| {}).await.unwrap();
    // Sent again as if the answer had been lost: still one record.
    let waiting = tapster_api::audit::TillShiftCloses {
        closes: vec![tapster_api::audit::TillShiftClose {
            seq: 1,
            at: 0,
            staff_id: "sue".into(),
            shift_id: ledger
                .reader()
                .unwrap()
                .audit_records(&Default::default())
                .unwrap()
                .iter()
                .find(|r| r.action == "shift_closed")
                .unwrap()
                .subject
                .clone()
                .unwrap(),
            detail: json!({}),
        }],
    };
    let taken = sync.client().shift_closes(waiting).await.unwrap();
    assert_eq!(taken.recorded, 0);

    let trail: Value = server
        .client()
        .get(format!(
            "{}/api/v1/events/{}/manage/audit?action=shift_closed",
            server.base(),
            event.id
        ))
        .bearer_auth(&event.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = trail["data"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{trail}");
    let record = &records[0];
    assert_eq!(
        (&record["actor_id"], &record["terminal_id"]),
        (&json!("sue"), &json!(id))
    );
    assert_eq!(record["detail"]["cashier"], "anna");
    assert_eq!(record["detail"]["counted_cash"], 5_00);
    assert_eq!(record["detail"]["difference"], 5_00);
    assert!(record["detail"]["terminal_time"].is_i64());
}
