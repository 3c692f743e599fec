//! PostgreSQL next to SQLite, in one run on one machine:
//!
//! 1. Online debits over HTTPS (`CLIENTS` keep-alive clients, `RUN_FOR`
//!    each): SQLite, PostgreSQL with one server process, PostgreSQL with
//!    two processes on the same database (clients split between them),
//!    and `pgbench` running the debit's own SQL (`benches/debit.pgbench`,
//!    the statements the server's log shows for one debit) with as many
//!    clients on the same cluster, with and without its advisory locks. Two
//!    rounds, alternating, averaged.
//! 2. Batch ingestion: two terminals' ledgers (`BATCH_ENTRIES` offline
//!    sales each) sent at the same time, to SQLite, to PostgreSQL through
//!    one process, and through two processes (one terminal each).
//!
//! The cluster is a throwaway one (`scripts/postgres.sh`), durable as in
//! production (fsync on, `synchronous_commit` on).

use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::{admin, batch_bodies, debits_through, percentile, Server, BATCH_ENTRIES, WALLETS};

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
const DEBIT_SQL: &str = include_str!("../debit.pgbench");

/// An event on `db` with the demo bar, terminals `bar-1` and `bar-2`.
struct Setup {
    db: String,
    event: String,
    token: String,
    second_token: String,
}

fn set_up(db: &str, dir: &std::path::Path) -> Setup {
    let tls = dir.join("server.tls");
    let tls = tls.to_str().unwrap();
    let event = admin(&["event", "create", "--db", db, "--name", "Bench"])["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let terminal = |name: &str| {
        admin(&[
            "terminal",
            "create",
            "--db",
            db,
            "--event",
            &event,
            "--name",
            name,
            "--permission",
            "all",
            "--tls-dir",
            tls,
        ])["api_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (token, second_token) = (terminal("Bar 1"), terminal("Bar 2"));
    admin(&[
        "demo",
        "--db",
        db,
        "--event",
        &event,
        "--wallets",
        &WALLETS.to_string(),
        "--wallet-balance",
        "2500000",
    ]);
    Setup {
        db: db.to_string(),
        event,
        token,
        second_token,
    }
}

/// The throwaway cluster; stopped when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    host: String,
    port: String,
}

impl Cluster {
    fn start(dir: std::path::PathBuf) -> Cluster {
        let out = Command::new(SCRIPTS)
            .args(["start", dir.to_str().unwrap(), "5432"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Cluster {
            host: dir.to_str().unwrap().to_string(),
            port: "5432".into(),
            dir,
        }
    }

    fn database(&self, name: &str) -> String {
        let status = Command::new("psql")
            .args([
                "-h", &self.host, "-p", &self.port, "-U", "postgres", "-q", "-d", "postgres",
            ])
            .args(["-c", &format!("CREATE DATABASE {name}")])
            .status()
            .unwrap();
        assert!(status.success());
        format!(
            "postgres://postgres@/{name}?host={}&port={}",
            self.host, self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(SCRIPTS)
            .args(["stop", self.dir.to_str().unwrap()])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `pgbench` running `script` with `CLIENTS` clients for `RUN_FOR`: tps.
fn pgbench(cluster: &Cluster, database: &str, setup: &Setup, script: &std::path::Path) -> f64 {
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &super::CLIENTS.to_string()])
        .args(["-T", &super::RUN_FOR.as_secs().to_string()])
        .arg("-f")
        .arg(script)
        .args(["-D", &format!("event={}", setup.event)])
        .args([
            "-D",
            &format!(
                "token_hash={}",
                hex::encode(Sha256::digest(setup.token.as_bytes()))
            ),
        ])
        .args(["-D", "terminal=bar-1"])
        .args([
            "-h",
            &cluster.host,
            "-p",
            &cluster.port,
            "-U",
            "postgres",
            database,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("pgbench prints its tps")
}

/// Both terminals' batches at once, terminal `i` through `servers[i % n]`:
/// entries per second.
fn batches(servers: &[&Server], setup: &Setup, bodies: [&[Vec<u8>]; 2]) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (i, (bodies, token)) in bodies
            .iter()
            .zip([&setup.token, &setup.second_token])
            .enumerate()
        {
            let server = servers[i % servers.len()];
            let url = format!("{}/pos/transactions/batch", server.base(&setup.event));
            let client = server.client(true);
            scope.spawn(move || {
                for body in bodies.iter() {
                    let response = client
                        .post(&url)
                        .bearer_auth(token)
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send()
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                }
            });
        }
    });
    (2 * BATCH_ENTRIES) as f64 / started.elapsed().as_secs_f64()
}

pub fn main() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-bench-pg");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Not under the target directory: PostgreSQL runs as its own user,
    // which may not enter the build user's home.
    let cluster = Cluster::start(
        std::env::temp_dir().join(format!("tapster-bench-pg-{}", std::process::id())),
    );
    let sqlite = set_up(dir.join("server.sqlite").to_str().unwrap(), &dir);
    let pg_url = cluster.database("bench");
    let pg = set_up(&pg_url, &dir);
    let with_lock = dir.join("debit.pgbench");
    std::fs::write(&with_lock, DEBIT_SQL).unwrap();
    let without_lock = dir.join("debit-without-lock.pgbench");
    std::fs::write(
        &without_lock,
        DEBIT_SQL
            .lines()
            .filter(|l| !l.contains("pg_advisory_xact_lock"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();

    if let Ok(out) = std::env::var("TAPSTER_BENCH_PERF") {
        profile(std::path::Path::new(&out), &cluster, &pg, &dir, &with_lock);
        return;
    }
    println!(
        "== online debits over HTTPS, {} clients, {} s per phase, two rounds",
        super::CLIENTS,
        super::RUN_FOR.as_secs()
    );
    let mut figures: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for round in 0..2 {
        {
            let server = Server::start(&sqlite.db, true, &dir);
            let (rate, latencies) = debits_through(
                &[&server],
                &sqlite.event,
                &sqlite.token,
                &format!("s{round}"),
            );
            println!(
                "  SQLite, 1 process: {rate:.0}/s, p50 {:.2} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3
            );
            figures.entry("sqlite").or_default().push(rate);
        }
        {
            let server = Server::start(&pg.db, true, &dir);
            let (rate, latencies) =
                debits_through(&[&server], &pg.event, &pg.token, &format!("p1-{round}"));
            println!(
                "  PostgreSQL, 1 process: {rate:.0}/s, p50 {:.2} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3
            );
            figures.entry("pg1").or_default().push(rate);
        }
        {
            let (a, b) = (
                Server::start(&pg.db, true, &dir),
                Server::start(&pg.db, true, &dir),
            );
            let (rate, latencies) =
                debits_through(&[&a, &b], &pg.event, &pg.token, &format!("p2-{round}"));
            println!(
                "  PostgreSQL, 2 processes: {rate:.0}/s, p50 {:.2} ms",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3
            );
            figures.entry("pg2").or_default().push(rate);
        }
        let tps = pgbench(&cluster, "bench", &pg, &with_lock);
        println!("  pgbench, the debit's SQL: {tps:.0} tps");
        figures.entry("pgbench").or_default().push(tps);
        let tps = pgbench(&cluster, "bench", &pg, &without_lock);
        println!("  pgbench, the debit's SQL without the advisory locks: {tps:.0} tps");
        figures.entry("pgbench-nolock").or_default().push(tps);
    }
    let mean = |key: &str| figures[key].iter().sum::<f64>() / figures[key].len() as f64;
    println!(
        "debits: PostgreSQL 1 process {:.0}/s ({:.2}x pgbench {:.0} tps, target 0.6x), 2 processes {:.0}/s ({:.2}x), SQLite {:.0}/s; pgbench without the advisory locks {:.0} tps",
        mean("pg1"),
        mean("pg1") / mean("pgbench"),
        mean("pgbench"),
        mean("pg2"),
        mean("pg2") / mean("pgbench"),
        mean("sqlite"),
        mean("pgbench-nolock"),
    );

    println!("== batch ingestion, two terminals at once, {BATCH_ENTRIES} entries each in batches of 1000");
    let first = batch_bodies(&dir, "bar-1");
    let second = batch_bodies(&dir, "bar-2");
    let bodies = [first.as_slice(), second.as_slice()];
    let pg_two = set_up(&cluster.database("bench_two"), &dir);
    let server = Server::start(&sqlite.db, true, &dir);
    let sqlite_rate = batches(&[&server], &sqlite, bodies);
    drop(server);
    let server = Server::start(&pg.db, true, &dir);
    let pg1_rate = batches(&[&server], &pg, bodies);
    drop(server);
    let (a, b) = (
        Server::start(&pg_two.db, true, &dir),
        Server::start(&pg_two.db, true, &dir),
    );
    let pg2_rate = batches(&[&a, &b], &pg_two, bodies);
    println!(
        "batches: SQLite {sqlite_rate:.0} entries/s, PostgreSQL 1 process {pg1_rate:.0} ({:.2}x SQLite), 2 processes {pg2_rate:.0} ({:.2}x)",
        pg1_rate / sqlite_rate,
        pg2_rate / sqlite_rate
    );
    for db in [&sqlite.db, &pg.db, &pg_two.db] {
        assert_eq!(admin(&["check", "--db", db])["ok"], true, "{db}");
    }
}

/// Where the machine's CPU goes: `perf record -a` over one phase of
/// PostgreSQL debits through one process and one of pgbench
/// (`TAPSTER_BENCH_PERF=DIR`: `DIR/server.perf`, `DIR/pgbench.perf`; read
/// with `perf report -i FILE --sort comm`).
fn profile(
    out: &std::path::Path,
    cluster: &Cluster,
    pg: &Setup,
    dir: &std::path::Path,
    script: &std::path::Path,
) {
    std::fs::create_dir_all(out).unwrap();
    let record = |name: &str| {
        Command::new("perf")
            .args(["record", "-a", "-g", "-F", "999", "-o"])
            .arg(out.join(name))
            .args(["--", "sleep", &super::RUN_FOR.as_secs().to_string()])
            .spawn()
            .unwrap()
    };
    let server = Server::start(&pg.db, true, dir);
    let mut perf = record("server.perf");
    let (rate, _) = debits_through(&[&server], &pg.event, &pg.token, "perf");
    perf.wait().unwrap();
    println!("  PostgreSQL, 1 process: {rate:.0}/s");
    drop(server);
    let mut perf = record("pgbench.perf");
    let tps = pgbench(cluster, "bench", pg, script);
    perf.wait().unwrap();
    println!("  pgbench: {tps:.0} tps");
}
