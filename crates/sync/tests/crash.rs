//! A terminal killed (SIGKILL) in the middle of pushing a backlog loses
//! nothing and duplicates nothing once it runs again.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Event, Server};

const CLIENT: &str = env!("CARGO_BIN_EXE_tapster-sync");

fn run_client(args: &[&str]) -> serde_json::Value {
    let output = Command::new(CLIENT).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let last = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    serde_json::from_str(&last).unwrap()
}

#[test]
fn a_client_killed_mid_batch_loses_and_doubles_nothing() {
    let event = Event::new(50, 200_00);
    let server = Server::start(&event.db, 0.0);
    event.set_offline_limits(&server, 1_000_00, 100_000_00);
    let (id, token) = event.terminal("t1");
    let url = format!("http://{}", server.address);
    let ledger = event.dir.path().join("t1.sqlite");
    let l = ledger.to_str().unwrap();
    let sync_args = [
        "run",
        "--db",
        l,
        "--terminal",
        &id,
        "--server",
        &url,
        "--event",
        &event.id,
        "--token",
        &token,
        "--batch",
        "100",
    ];
    // Learn the balances, then sell 2,000 times offline.
    run_client(&sync_args);
    let sold = run_client(&["sell", "--db", l, "--terminal", &id, "--count", "2000"]);
    assert_eq!(sold["pending"], 2000);

    // Push, and kill the client as soon as the first batch is through.
    let mut child = Command::new(CLIENT)
        .args(sync_args.iter().chain(&["--until-synced"]))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("\"sent\":100"), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
    let arrived = event.transactions_of(&id);
    assert!(
        (100..2000).contains(&arrived),
        "killed part-way: {arrived} arrived"
    );

    // Run again: the rest arrives, the batch in flight is recognised.
    let done = run_client(
        &sync_args
            .iter()
            .copied()
            .chain(["--until-synced"])
            .collect::<Vec<_>>(),
    );
    assert_eq!(done["pending"], 0);
    assert_eq!(done["rejected"], 0);
    assert_eq!(event.transactions_of(&id), 2000, "every sale exactly once");
    let total: i64 = event.balances().values().sum();
    assert_eq!(total, 50 * 200_00 - 2000 * 4_00);
    assert!(event.check());
}
