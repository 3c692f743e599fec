//! Runs the real `tapster-server` binary on a fresh database and an
//! ephemeral loopback port, over HTTPS with its own certificate (pinned).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tapster_tls::{client_config, Fingerprint, Pins, Trust};

pub mod band;
pub mod browser;
pub mod guest;
pub mod smtp;
pub mod till;

pub const BIN: &str = env!("CARGO_BIN_EXE_tapster-server");

/// The PostgreSQL cluster the suite runs on, when it does:
/// `TAPSTER_TEST_PG_HOST` (its socket directory) and `TAPSTER_TEST_PG_PORT`,
/// set by `scripts/test.sh` for the second pass of the server's tests.
pub fn postgres_cluster() -> Option<(String, String)> {
    let host = std::env::var("TAPSTER_TEST_PG_HOST").ok()?;
    let port = std::env::var("TAPSTER_TEST_PG_PORT").unwrap_or_else(|_| "5432".into());
    Some((host, port))
}

/// A new, empty database for one test: a SQLite file in `dir`, or a new
/// database in the suite's PostgreSQL cluster.
pub fn fresh_database(dir: &Path) -> String {
    match postgres_cluster() {
        None => dir.join("server.sqlite").to_str().unwrap().to_string(),
        Some((host, port)) => postgres_database(&host, &port),
    }
}

/// A new database in the PostgreSQL cluster at `host` (its socket
/// directory) and `port`, as a URL.
pub fn postgres_database(host: &str, port: &str) -> String {
    let name = format!(
        "t_{}",
        uuid::Uuid::new_v4().simple().to_string().get(..16).unwrap()
    );
    psql(
        &format!("postgres://postgres@/postgres?host={host}&port={port}"),
        &format!("CREATE DATABASE {name}"),
    );
    format!("postgres://postgres@/{name}?host={host}&port={port}")
}

/// Runs `sql` on the PostgreSQL database `url`; its rows, `|`-separated.
pub fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([url, "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Where a server on `db` keeps its own certificate: next to a SQLite
/// file (the default), else a directory of the test's own.
pub fn tls_dir(db: &str) -> PathBuf {
    match db.strip_prefix("postgres://") {
        None => PathBuf::from(format!("{db}.tls")),
        Some(url) => {
            let name = url.split(['/', '?']).nth(1).unwrap_or("db");
            std::env::temp_dir().join(format!("tapster-tests-{name}.tls"))
        }
    }
}

/// `args` with `--tls-dir` added where a command keeps the certificate.
pub fn with_tls_dir(args: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let db = args.windows(2).find(|w| w[0] == "--db").map(|w| w[1]);
    let keeps_certificate = matches!(args.first(), Some(&"terminal" | &"tls" | &"serve"));
    if let (Some(db), true) = (db, keeps_certificate) {
        if !args.contains(&"--tls-dir") && !args.contains(&"--tls-cert") {
            out.push("--tls-dir".into());
            out.push(tls_dir(db).to_str().unwrap().into());
        }
    }
    out
}

/// Runs an administrative command and returns its JSON output.
pub fn admin(args: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(with_tls_dir(args))
        .output()
        .expect("run tapster-server");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// An event with the demo bar, a debit terminal, a credit-only terminal,
/// and a second event with its own terminal.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// The database: a SQLite file, or a fresh PostgreSQL database when
    /// the suite runs on PostgreSQL (see [`fresh_database`]).
    pub db: String,
    pub event: String,
    pub bar_token: String,
    pub topup_token: String,
    pub other_event: String,
    pub other_token: String,
    pub admin_token: String,
    pub other_admin_token: String,
}

impl Fixture {
    pub fn new(wallets: u32) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh_database(dir.path());
        Fixture::on(dir, db, wallets)
    }

    /// The fixture on the database `db` (a SQLite path or a URL).
    pub fn on(dir: tempfile::TempDir, db: String, wallets: u32) -> Fixture {
        Fixture::funded(dir, db, wallets, None)
    }

    /// As [`Fixture::on`], each wristband holding `balance` cents if given.
    pub fn funded(
        dir: tempfile::TempDir,
        db: String,
        wallets: u32,
        balance: Option<i64>,
    ) -> Fixture {
        let d = db.as_str();
        let event = admin(&["event", "create", "--db", d, "--name", "Sommerfest"])["event_id"]
            .as_str()
            .unwrap()
            .to_string();
        let bar = admin(&[
            "terminal",
            "create",
            "--db",
            d,
            "--event",
            &event,
            "--name",
            "Bar 1",
            "--permission",
            "debit",
        ]);
        let topup = admin(&[
            "terminal",
            "create",
            "--db",
            d,
            "--event",
            &event,
            "--name",
            "Kasse",
            "--permission",
            "credit",
        ]);
        let balance = balance.map(|b| b.to_string());
        let mut demo = vec!["demo", "--db", d, "--event", &event, "--wallets"];
        let count = wallets.to_string();
        demo.push(&count);
        if let Some(balance) = &balance {
            demo.extend(["--wallet-balance", balance]);
        }
        admin(&demo);
        let other_event = admin(&["event", "create", "--db", d, "--name", "Other"])["event_id"]
            .as_str()
            .unwrap()
            .to_string();
        let other = admin(&[
            "terminal",
            "create",
            "--db",
            d,
            "--event",
            &other_event,
            "--name",
            "Bar",
            "--permission",
            "all",
        ]);
        let admin_token = admin(&["admin-token", "--db", d, "--event", &event])["admin_token"]
            .as_str()
            .unwrap()
            .to_string();
        let other_admin_token = admin(&["admin-token", "--db", d, "--event", &other_event])
            ["admin_token"]
            .as_str()
            .unwrap()
            .to_string();
        Fixture {
            admin_token,
            other_admin_token,
            event,
            bar_token: bar["api_token"].as_str().unwrap().to_string(),
            topup_token: topup["api_token"].as_str().unwrap().to_string(),
            other_event,
            other_token: other["api_token"].as_str().unwrap().to_string(),
            db,
            dir,
        }
    }
}

/// A running server over HTTPS with its own certificate; stopped
/// (SIGTERM, then waited for) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// Of the certificate it made for itself, printed at start.
    pub fingerprint: Fingerprint,
    http: reqwest::blocking::Client,
}

/// A client that pins `fingerprint`, as a till does.
pub fn pinned_client(fingerprint: Fingerprint) -> reqwest::blocking::Client {
    let tls = client_config(&Trust::Pinned(Pins::new(fingerprint, None))).unwrap();
    reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap()
}

impl Server {
    /// A server without rate limit, so tests may send as fast as they like.
    pub fn start(db: &str) -> Server {
        Server::start_limited(db, 0.0)
    }

    pub fn start_limited(db: &str, per_second: f64) -> Server {
        Server::start_with(db, per_second, None, &[])
    }

    /// A server whose log (stderr, at debug level) goes to `log`.
    pub fn start_logging(db: &str, log: &Path) -> Server {
        Server::start_with(db, 0.0, Some(std::fs::File::create(log).unwrap()), &[])
    }

    /// A server with more `serve` options, its log going to `log`.
    pub fn start_options(db: &str, log: &Path, options: &[&str]) -> Server {
        Server::start_with(db, 0.0, Some(std::fs::File::create(log).unwrap()), options)
    }

    fn start_with(
        db: &str,
        per_second: f64,
        log: Option<std::fs::File>,
        options: &[&str],
    ) -> Server {
        let mut command = Command::new(BIN);
        if log.is_some() {
            command.env("RUST_LOG", "debug");
        }
        let per_second = per_second.to_string();
        let mut args = vec![
            "serve",
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            &per_second,
        ];
        args.extend_from_slice(options);
        let mut child = command
            .args(with_tls_dir(&args))
            .stdout(Stdio::piped())
            .stderr(log.map_or_else(Stdio::null, Stdio::from))
            .spawn()
            .expect("start tapster-server");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let listening: Value = serde_json::from_str(&line).expect("listening line");
        assert_eq!(listening["scheme"], "https", "HTTPS by default");
        let base = format!("https://{}", listening["listening"].as_str().unwrap());
        let fingerprint: Fingerprint = listening["fingerprint"].as_str().unwrap().parse().unwrap();
        Server {
            child,
            base,
            fingerprint,
            http: pinned_client(fingerprint),
        }
    }

    /// A client that pins this server's certificate.
    pub fn client(&self) -> reqwest::blocking::Client {
        self.http.clone()
    }

    /// A client that pins this server's certificate and shows redirects
    /// instead of following them (a browser's view of a form's answer).
    pub fn page_client(&self) -> reqwest::blocking::Client {
        let tls = client_config(&Trust::Pinned(Pins::new(self.fingerprint, None))).unwrap();
        reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn url(&self, event: &str, path: &str) -> String {
        format!("{}/api/v1/events/{event}/{path}", self.base)
    }

    /// `GET` of one of the event's routes with `token`: status and body.
    pub fn get_json(&self, event: &str, path: &str, token: &str) -> (u16, Value) {
        json(
            self.client()
                .get(self.url(event, path))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    }

    /// SIGKILL, while others may still hold the server (its clients).
    pub fn kill_now(&self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status();
    }

    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.child);
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

impl Drop for Server {
    fn drop(&mut self) {
        terminate(&self.child);
        let _ = self.child.wait();
    }
}

/// Status and JSON body of a response.
pub fn json(response: reqwest::blocking::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json::<Value>().unwrap_or(Value::Null);
    (status, body)
}

/// A PostgreSQL cluster of the test's own, made with `scripts/postgres.sh`
/// and stopped when dropped; for tests that need PostgreSQL even when the
/// suite runs on SQLite.
pub struct OwnCluster {
    dir: PathBuf,
    pub host: String,
    pub port: String,
}

impl OwnCluster {
    pub fn start() -> OwnCluster {
        let dir =
            std::env::temp_dir().join(format!("tapster-pg-{}", uuid::Uuid::new_v4().simple()));
        let port = "5432".to_string();
        let output = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/postgres.sh"
        ))
        .args(["start", dir.to_str().unwrap(), &port])
        .output()
        .expect("run scripts/postgres.sh");
        assert!(
            output.status.success(),
            "cannot start PostgreSQL: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        OwnCluster {
            host: dir.to_str().unwrap().to_string(),
            dir,
            port,
        }
    }

    /// The suite's cluster when it runs on PostgreSQL, else one of our own.
    pub fn or_suites() -> (Option<OwnCluster>, String, String) {
        match postgres_cluster() {
            Some((host, port)) => (None, host, port),
            None => {
                let own = OwnCluster::start();
                let (host, port) = (own.host.clone(), own.port.clone());
                (Some(own), host, port)
            }
        }
    }

    /// Stops PostgreSQL at once (`immediate`: as if the machine lost power)
    /// and starts it again.
    pub fn restart(host: &str) {
        let status = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/postgres.sh"
        ))
        .args(["restart", host])
        .status()
        .expect("run scripts/postgres.sh");
        assert!(status.success(), "cannot restart PostgreSQL");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/postgres.sh"
        ))
        .args(["stop", self.dir.to_str().unwrap()])
        .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
