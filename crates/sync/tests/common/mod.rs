//! The real `tapster-server` (over HTTPS with its own certificate, which
//! the tills pin), a fault-injecting TCP proxy in front of it, and terminal
//! ledgers, for the sync tests.
//!
//! A server's `url()` is `https://ADDRESS#sha256:…`: the fragment is the
//! fingerprint to pin, which `syncer` and `till_args` pass on as a till
//! would from its setup code.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tapster_ledger::model::EventMode;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::store::OpenShiftRequest;
use tapster_ledger::{
    demo, Cents, IdempotencyKey, Ledger, LedgerOptions, StaffId, SystemClock, TerminalId,
};
use tapster_sync::{Fingerprint, Pins, ServerAddress, ServerClient, SyncConfig, Syncer, Trust};

/// The server binary next to this test's own, brought up to date first
/// (a no-op when it is): `cargo test -p tapster-sync` alone would not.
pub fn server_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| built_binary("tapster-server", "tapster-server"))
        .clone()
}

/// `package`'s binary `bin` next to this test's own, brought up to date
/// first: tests have no `CARGO_BIN_EXE_…` for other packages' binaries.
pub fn built_binary(package: &str, bin: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", package, "--bin", bin]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(
        build.status().expect("cargo").success(),
        "cargo build -p {package} failed"
    );
    dir.join(bin)
}

pub fn admin(args: &[&str]) -> Value {
    let output = Command::new(server_binary()).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub struct Event {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub id: String,
    pub admin_token: String,
}

impl Event {
    /// An event with the demo bar and `wallets` wristbands of `balance` each.
    pub fn new(wallets: u32, balance: i64) -> Event {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.sqlite");
        let d = db.to_str().unwrap();
        let id = admin(&["event", "create", "--db", d, "--name", "Sync"])["event_id"]
            .as_str()
            .unwrap()
            .to_string();
        admin(&[
            "demo",
            "--db",
            d,
            "--event",
            &id,
            "--wallets",
            &wallets.to_string(),
            "--wallet-balance",
            &balance.to_string(),
        ]);
        let admin_token = admin(&["admin-token", "--db", d, "--event", &id])["admin_token"]
            .as_str()
            .unwrap()
            .to_string();
        Event {
            dir,
            db,
            id,
            admin_token,
        }
    }

    /// A terminal with permission `all`; returns (id, token).
    pub fn terminal(&self, name: &str) -> (String, String) {
        let t = self.create_terminal(name, &[]);
        (
            t["id"].as_str().unwrap().to_string(),
            t["api_token"].as_str().unwrap().to_string(),
        )
    }

    /// A terminal with permission `all` made with the setup code a new
    /// till takes (`setup_code`, `id`, …, as `terminal create` prints).
    pub fn terminal_with_setup_code(&self, server: &Server, name: &str) -> Value {
        self.create_terminal(name, &["--address", &server.address])
    }

    fn create_terminal(&self, name: &str, extra: &[&str]) -> Value {
        let db = self.db.to_str().unwrap();
        let mut args = vec!["terminal", "create", "--db", db, "--event", &self.id];
        args.extend(["--name", name, "--permission", "all"]);
        args.extend(extra);
        admin(&args)
    }

    /// `GET manage/{path}` as the event's admin, as text.
    pub fn manage_get(&self, server: &Server, path: &str) -> String {
        server
            .blocking_client()
            .get(format!(
                "{}/api/v1/events/{}/manage/{path}",
                server.base(),
                self.id
            ))
            .bearer_auth(&self.admin_token)
            .send()
            .unwrap()
            .text()
            .unwrap()
    }

    /// Raises the event's offline limits (the server's settings rule the
    /// terminals), through the manager API of a running server.
    pub fn set_offline_limits(&self, server: &Server, wallet_cap: i64, terminal_cap: i64) {
        let url = format!(
            "https://{}/api/v1/events/{}/manage/settings",
            server.address, self.id
        );
        let client = server.blocking_client();
        let mut settings: Value = client
            .get(&url)
            .bearer_auth(&self.admin_token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        settings["data"]["offline"]["wallet_cap"] = wallet_cap.into();
        settings["data"]["offline"]["terminal_cap"] = terminal_cap.into();
        let response = client
            .put(&url)
            .bearer_auth(&self.admin_token)
            .json(&settings["data"])
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }

    /// Every wallet's balance, read from the server's database file.
    pub fn balances(&self) -> std::collections::BTreeMap<String, i64> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut stmt = conn
            .prepare("SELECT token_id, balance FROM wallets WHERE event_id = ?1")
            .unwrap();
        stmt.query_map([&self.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// How many transactions each terminal has on the server.
    pub fn transactions_of(&self, terminal: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row(
            "SELECT COUNT(*) FROM transactions WHERE event_id = ?1 AND terminal_id = ?2",
            [&self.id, terminal],
            |r| r.get(0),
        )
        .unwrap()
    }

    pub fn check(&self) -> bool {
        Command::new(server_binary())
            .args(["check", "--db", self.db.to_str().unwrap()])
            .status()
            .unwrap()
            .success()
    }
}

/// A running server; SIGTERM on drop.
pub struct Server {
    child: Child,
    pub address: String,
    pub fingerprint: Fingerprint,
}

impl Server {
    pub fn start(db: &Path, rate_limit: f64) -> Server {
        Server::start_on(db, rate_limit, "127.0.0.1:0")
    }

    pub fn start_on(db: &Path, rate_limit: f64, listen: &str) -> Server {
        Server::spawn(db, listen, &["--rate-limit", &rate_limit.to_string()])
    }

    /// A server on a free port with `extra` arguments (no rate limit).
    pub fn start_with(db: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--rate-limit", "0"];
        args.extend_from_slice(extra);
        Server::spawn(db, "127.0.0.1:0", &args)
    }

    fn spawn(db: &Path, listen: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(server_binary())
            .args(["serve", "--db", db.to_str().unwrap(), "--listen", listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let listening = serde_json::from_str::<Value>(&line).unwrap();
        let plain = extra.contains(&"--insecure-http");
        assert_eq!(
            listening["scheme"],
            if plain { "http" } else { "https" },
            "HTTPS unless asked otherwise"
        );
        Server {
            child,
            address: listening["listening"].as_str().unwrap().to_string(),
            fingerprint: match listening["fingerprint"].as_str() {
                Some(fingerprint) => fingerprint.parse().unwrap(),
                // Plain HTTP: no certificate; a pin that matches nothing.
                None => Fingerprint::of_der(b"no certificate"),
            },
        }
    }

    /// `https://ADDRESS#FINGERPRINT` (see the module's notes).
    pub fn url(&self) -> String {
        format!("https://{}#{}", self.address, self.fingerprint)
    }

    /// `https://ADDRESS`, for requests of the test's own.
    pub fn base(&self) -> String {
        format!("https://{}", self.address)
    }

    /// Clients that pin this server's certificate.
    pub fn blocking_client(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .use_preconfigured_tls(pinned_tls(self.fingerprint))
            .build()
            .unwrap()
    }

    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_preconfigured_tls(pinned_tls(self.fingerprint))
            .build()
            .unwrap()
    }
}

pub fn pinned_tls(fingerprint: Fingerprint) -> rustls::ClientConfig {
    tapster_tls::client_config(&Trust::Pinned(Pins::new(fingerprint, None))).unwrap()
}

/// A test URL split into the server's address and the pin it carries.
pub fn server_address(url: &str) -> ServerAddress {
    match url.split_once('#') {
        Some((base, fingerprint)) => ServerAddress::new(base, Some(fingerprint.parse().unwrap())),
        None => ServerAddress::new(url, None),
    }
}

impl Server {
    /// SIGKILL: no shutdown, no last commit — as a power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// How the proxy treats traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Everything passes.
    Pass = 0,
    /// Connections are accepted and closed at once; open ones are cut.
    Refuse = 1,
    /// Requests reach the server; its answers are dropped (the client
    /// never learns what happened).
    CutAnswers = 2,
    /// At random per answer: pass, drop, or break off half-way.
    Random = 3,
    /// Answers are held back this long (see `delay`).
    Delay = 4,
}

/// A TCP proxy that can refuse, cut, break off and delay, for the tests.
pub struct Proxy {
    pub address: String,
    /// The pin of the server behind it.
    fingerprint: Fingerprint,
    fault: Arc<AtomicU8>,
    delay_ms: Arc<AtomicU64>,
    pub connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(server: &Server) -> Proxy {
        let upstream = server.address.as_str();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let fault = Arc::new(AtomicU8::new(Fault::Pass as u8));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_string();
        let (f, d, c, s) = (
            fault.clone(),
            delay_ms.clone(),
            connections.clone(),
            stop.clone(),
        );
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let rng = Arc::new(Mutex::new(0x2545_F491_4F6C_DD1Du64));
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        let _ = client.set_nonblocking(false);
                        if f.load(Ordering::Relaxed) == Fault::Refuse as u8 {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        let (f, d, rng) = (f.clone(), d.clone(), rng.clone());
                        std::thread::spawn(move || relay(client, server, f, d, rng));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Proxy {
            address,
            fingerprint: server.fingerprint,
            fault,
            delay_ms,
            connections,
            stop,
        }
    }

    /// `https://PROXY#FINGERPRINT`: the server's pin, through the proxy.
    pub fn url(&self) -> String {
        format!("https://{}#{}", self.address, self.fingerprint)
    }

    pub fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::Relaxed);
    }

    pub fn delay(&self, by: Duration) {
        self.delay_ms
            .store(by.as_millis() as u64, Ordering::Relaxed);
        self.set(Fault::Delay);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn next_random(state: &Mutex<u64>) -> u64 {
    let mut x = state.lock().unwrap();
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn relay(
    client: TcpStream,
    server: TcpStream,
    fault: Arc<AtomicU8>,
    delay: Arc<AtomicU64>,
    rng: Arc<Mutex<u64>>,
) {
    let (mut client_read, mut server_write) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let upstream_fault = fault.clone();
    let cut_client = client.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match client_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if upstream_fault.load(Ordering::Relaxed) == Fault::Refuse as u8 {
                        break;
                    }
                    if server_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_write.shutdown(Shutdown::Write);
        let _ = cut_client.shutdown(Shutdown::Read);
    });
    let (mut server_read, mut client_write) = (server, client);
    let mut buf = [0u8; 65536];
    loop {
        let n = match server_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mode = fault.load(Ordering::Relaxed);
        let pass = match mode {
            m if m == Fault::Pass as u8 => n,
            m if m == Fault::Refuse as u8 || m == Fault::CutAnswers as u8 => 0,
            m if m == Fault::Delay as u8 => {
                std::thread::sleep(Duration::from_millis(delay.load(Ordering::Relaxed)));
                n
            }
            _ => match next_random(&rng) % 10 {
                0..=2 => 0,     // dropped
                3..=4 => n / 2, // broken off half-way
                _ => n,
            },
        };
        if pass > 0 && client_write.write_all(&buf[..pass]).is_err() {
            break;
        }
        if pass < n {
            break;
        }
    }
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = server_read.shutdown(Shutdown::Both);
}

/// `tapster-sync COMMAND` for a till: its ledger, and the event on the
/// server at `url` with the terminal's id and token; then `extra`.
pub fn till_args(
    command: &str,
    ledger: &Path,
    terminal: &str,
    url: &str,
    event: &str,
    token: &str,
    extra: &[&str],
) -> Vec<String> {
    let ledger = ledger.to_str().unwrap();
    let (url, pin) = match url.split_once('#') {
        Some((base, fingerprint)) => (base, vec!["--fingerprint", fingerprint]),
        None => (url, vec![]),
    };
    [
        command,
        "--db",
        ledger,
        "--terminal",
        terminal,
        "--server",
        url,
        "--event",
        event,
        "--token",
        token,
    ]
    .iter()
    .chain(&pin)
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

/// A terminal's own ledger (connected mode, a shift open for Anna).
pub fn terminal_ledger(dir: &Path, id: &str) -> Arc<Ledger> {
    let ledger = Ledger::open(
        dir.join(format!("{id}.sqlite")),
        LedgerOptions::new(TerminalId::new(id).unwrap()).with_pin_cost(PinHashCost::Fast),
    )
    .unwrap();
    demo::seed(&ledger, 0).unwrap();
    let mut settings = ledger.settings().unwrap();
    settings.mode = EventMode::Connected;
    ledger.update_settings(&settings).unwrap();
    ledger
        .open_shift(&OpenShiftRequest {
            key: IdempotencyKey::random(),
            staff: StaffId::new("anna").unwrap(),
            float: Cents(0),
        })
        .unwrap();
    Arc::new(ledger)
}

pub fn fast_config() -> SyncConfig {
    SyncConfig {
        interval: Duration::from_millis(200),
        authorise_deadline: Duration::from_millis(800),
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(500),
        batch_size: 50,
        ..SyncConfig::default()
    }
}

pub fn syncer(
    ledger: &Arc<Ledger>,
    url: &str,
    event: &str,
    token: &str,
    config: SyncConfig,
) -> Arc<Syncer> {
    let client =
        ServerClient::new(&server_address(url), event, token, Duration::from_secs(5)).unwrap();
    Arc::new(Syncer::new(
        ledger.clone(),
        client,
        Arc::new(SystemClock),
        config,
    ))
}

/// What a ledger's non-rejected entries did to each wallet.
pub fn wallet_deltas(ledger: &Ledger) -> std::collections::BTreeMap<String, i64> {
    wallet_deltas_in(ledger.path())
}

/// What the non-rejected entries in the ledger file at `path` did to each
/// wallet.
pub fn wallet_deltas_in(path: &Path) -> std::collections::BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT e.token_id, SUM(e.wallet_delta) FROM entries e
             LEFT JOIN entry_sync s ON s.entry_sequence = e.sequence
             WHERE e.token_id IS NOT NULL AND (s.state IS NULL OR s.state <> 'rejected')
             GROUP BY e.token_id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub fn rejected_count(ledger: &Ledger) -> i64 {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM entry_sync WHERE state = 'rejected'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

pub fn entry_count(ledger: &Ledger) -> i64 {
    let conn = rusqlite::Connection::open(ledger.path()).unwrap();
    conn.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))
        .unwrap()
}

/// The guest of `band` asks for a payout on the guest pages, as their
/// phone would: a code from the manager, sign-in, the form.
pub fn guest_asks_for_payout(event: &Event, server: &Server, band: &str, iban: &str) {
    let admin = server.blocking_client();
    let codes: serde_json::Value = admin
        .post(format!(
            "https://{}/api/v1/events/{}/manage/guest-codes",
            server.address, event.id
        ))
        .bearer_auth(&event.admin_token)
        .json(&serde_json::json!({ "token_ids": [band] }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let code = codes["data"]["codes"][0]["code"].as_str().unwrap();
    let phone = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(pinned_tls(server.fingerprint))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = format!("https://{}/guest/{}", server.address, event.id);
    let signed = phone
        .post(format!("{page}/sign-in"))
        .form(&[("code", code)])
        .send()
        .unwrap();
    assert_eq!(signed.status(), 303);
    let cookie = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let shown = phone
        .get(format!("{page}?lang=en"))
        .header("Cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let at = shown.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &shown[at..at + shown[at..].find('"').unwrap()];
    let asked = phone
        .post(format!("{page}/payout"))
        .header("Cookie", &cookie)
        .form(&[
            ("csrf", csrf),
            ("account_holder", "Jürgen Müller"),
            ("iban", iban),
            ("email", "guest@example.org"),
        ])
        .send()
        .unwrap();
    assert_eq!(asked.status(), 303);
}
