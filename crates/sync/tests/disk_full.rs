//! A till's ledger on a small filesystem that fills up: sales are refused
//! with a clear error and leave nothing half-written, the database stays
//! readable and consistent, and selling resumes when space returns. The
//! filesystem is a real tmpfs of 3 MiB in a private mount namespace
//! (`unshare -m`), so nothing of the machine's own disks is touched.

use std::process::Command;

const CLIENT: &str = env!("CARGO_BIN_EXE_tapster-sync");

fn last_json(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap_or_default()
}

#[test]
fn a_full_disk_refuses_sales_cleanly_and_selling_resumes_when_space_returns() {
    let mount = tempfile::tempdir().unwrap();
    let m = mount.path().display().to_string();
    let ledger = format!("{m}/ledger.sqlite");
    let sell = |count: u32| {
        format!("{CLIENT} sell --standalone --cash --db {ledger} --terminal t1 --count {count}")
    };
    let verify = format!("{CLIENT} verify --db {ledger} --terminal t1");
    // Inside the namespace: a 3 MiB tmpfs, a filler that takes the room
    // back later, sales until the disk is full, the check, the filler
    // removed, sales again. Each step's last JSON line goes to its own file
    // outside the mount.
    let out = tempfile::tempdir().unwrap();
    let o = out.path().display().to_string();
    let script = format!(
        "set -e
         mount -t tmpfs -o size=3m tapster-test {m}
         {first} > {o}/first.json
         dd if=/dev/zero of={m}/filler bs=64k count=8 status=none
         {full} > {o}/full.json || true
         {verify} > {o}/verify-full.json
         rm {m}/filler
         {again} > {o}/again.json
         {verify} > {o}/verify-after.json",
        first = sell(10),
        full = sell(1_000_000),
        again = sell(25),
    );
    let status = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .status()
        .expect("unshare (util-linux)");
    assert!(status.success(), "the disk-full run failed");
    let read = |name: &str| last_json(&std::fs::read(format!("{o}/{name}")).unwrap());

    assert_eq!(read("first.json")["sold"], 10);
    let full = read("full.json");
    assert_eq!(full["code"], "storage_full", "{full}");
    assert!(
        full["error"].as_str().unwrap().contains("disk is full"),
        "a message a cashier can act on: {full}"
    );
    let sold_until_full = full["sold"].as_i64().unwrap();
    assert!(sold_until_full > 100, "the disk held some sales: {full}");
    // What was refused left nothing: the books hold exactly the sales made.
    let at_full = read("verify-full.json");
    assert_eq!(at_full["chain_problems"], 0, "{at_full}");
    assert_eq!(at_full["invariant_violations"], 0, "{at_full}");
    assert_eq!(at_full["sales"].as_i64(), Some(10 + sold_until_full));
    // Room again: selling goes on, and the books still add up.
    assert_eq!(read("again.json")["sold"], 25);
    let after = read("verify-after.json");
    assert_eq!(after["chain_problems"], 0);
    assert_eq!(after["invariant_violations"], 0);
    assert_eq!(after["sales"].as_i64(), Some(10 + sold_until_full + 25));
}
