//! How the server is reached: HTTPS by default, an operator's certificate
//! reloaded when its files change or at SIGHUP without dropping open
//! connections, plain HTTP only when asked for (and said loudly), and the
//! redirect listener.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{pinned_client, Fixture, BIN};
use serde_json::Value;
use tapster_tls::server::{generate, write_file, GeneratedCertificate};
use tapster_tls::{client_config, Fingerprint, Pins, Trust};

/// `serve` with `extra` arguments; its listening line and its stderr file.
fn serve(fx: &Fixture, extra: &[&str]) -> (Child, Value, std::path::PathBuf) {
    let log = fx.dir.path().join(format!("server-{}.log", rand_suffix()));
    let args = [
        &["serve", "--db", fx.db.as_str(), "--listen", "127.0.0.1:0"],
        extra,
    ]
    .concat();
    let mut child = Command::new(BIN)
        .args(common::with_tls_dir(&args))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, serde_json::from_str(&line).unwrap(), log)
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[test]
fn the_redirect_listener_answers_308_with_the_https_location() {
    let fx = Fixture::new(2);
    let (child, listening, _) = serve(&fx, &["--redirect-http", "0"]);
    let https: std::net::SocketAddr = listening["listening"].as_str().unwrap().parse().unwrap();
    let redirect = listening["redirect"].as_str().unwrap();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client
        .get(format!("http://{redirect}/api/v1/openapi.json?view=full"))
        .header("host", "pos.example:8080")
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 308);
    assert_eq!(
        answer.headers()["location"],
        format!(
            "https://pos.example:{}/api/v1/openapi.json?view=full",
            https.port()
        )
        .as_str()
    );
    // The integration API's POSTs too (308 keeps the method and body).
    let answer = client
        .post(format!("http://{redirect}/api/v2/bills"))
        .header("host", "pos.example")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 308);
    assert_eq!(
        answer.headers()["location"],
        format!("https://pos.example:{}/api/v2/bills", https.port()).as_str()
    );
    // Following it (pinned) reaches the API.
    let followed = pinned_client(listening["fingerprint"].as_str().unwrap().parse().unwrap())
        .get(format!("http://{redirect}/api/v1/openapi.json"))
        .header("host", "127.0.0.1")
        .send()
        .unwrap();
    assert_eq!(followed.status().as_u16(), 200);
    assert_eq!(followed.url().scheme(), "https");
    stop(child);
}

#[test]
fn plain_http_only_when_asked_for_and_then_said_loudly() {
    let fx = Fixture::new(2);
    let (child, listening, log) = serve(&fx, &["--insecure-http"]);
    assert_eq!(listening["scheme"], "http");
    assert!(listening["fingerprint"].is_null());
    let answer = reqwest::blocking::get(format!(
        "http://{}/api/v1/openapi.json",
        listening["listening"].as_str().unwrap()
    ))
    .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    stop(child);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("PLAIN HTTP"), "{log}");
    // Without it: HTTPS, and the server's own certificate made once.
    let (child, listening, _) = serve(&fx, &[]);
    assert_eq!(listening["scheme"], "https");
    let own = common::tls_dir(&fx.db);
    assert!(own.join("key.pem").exists());
    stop(child);
    let (child, again, _) = serve(&fx, &[]);
    assert_eq!(again["fingerprint"], listening["fingerprint"], "kept");
    stop(child);
}

/// A raw keep-alive HTTPS connection pinned to `fingerprint`.
struct Connection {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

impl Connection {
    fn open(address: &str, fingerprint: Fingerprint) -> std::io::Result<Connection> {
        let config = client_config(&Trust::Pinned(Pins::new(fingerprint, None))).unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let session = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let socket = TcpStream::connect(address)?;
        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut tls = rustls::StreamOwned::new(session, socket);
        // The handshake, now.
        tls.flush()?;
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(Connection { tls })
    }

    /// One request on this connection; the status code.
    fn get(&mut self, path: &str) -> u16 {
        write!(
            self.tls,
            "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            self.tls.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        self.tls.read_exact(&mut body).unwrap();
        head[9..12].parse().unwrap()
    }
}

fn install(cert: &Path, key: &Path, made: &GeneratedCertificate) {
    write_file(key, made.key_pem.as_bytes(), 0o600).unwrap();
    write_file(cert, made.cert_pem.as_bytes(), 0o644).unwrap();
}

fn wait_until_served(address: &str, fingerprint: Fingerprint) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Connection::open(address, fingerprint).is_err() {
        assert!(Instant::now() < deadline, "{fingerprint} never served");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_operator_certificate_is_reloaded_on_change_and_at_sighup_without_dropping_connections() {
    let fx = Fixture::new(2);
    let names = ["127.0.0.1".to_string()];
    let (cert, key) = (
        fx.dir.path().join("op.pem"),
        fx.dir.path().join("op-key.pem"),
    );
    let first = generate(&names, 30).unwrap();
    install(&cert, &key, &first);
    let (child, listening, log) = serve(
        &fx,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(listening["fingerprint"], first.fingerprint.to_string());
    let address = listening["listening"].as_str().unwrap().to_string();
    let mut open = Connection::open(&address, first.fingerprint).unwrap();
    assert_eq!(open.get("/api/v1/openapi.json"), 200);

    // The operator renews: new handshakes get the new certificate within
    // seconds; the connection already open carries on.
    let renewed = generate(&names, 30).unwrap();
    install(&cert, &key, &renewed);
    wait_until_served(&address, renewed.fingerprint);
    assert!(Connection::open(&address, first.fingerprint).is_err());
    assert_eq!(open.get("/api/v1/openapi.json"), 200, "not dropped");

    // Files replaced with their old modification times: only SIGHUP tells.
    let third = generate(&names, 30).unwrap();
    let stamps: Vec<_> = [&cert, &key]
        .iter()
        .map(|path| std::fs::metadata(path).unwrap().modified().unwrap())
        .collect();
    install(&cert, &key, &third);
    for (path, stamp) in [&cert, &key].iter().zip(stamps) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(stamp)
            .unwrap();
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        Connection::open(&address, third.fingerprint).is_err(),
        "unchanged times: not reloaded by itself"
    );
    assert!(Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    wait_until_served(&address, third.fingerprint);
    assert_eq!(open.get("/api/v1/openapi.json"), 200, "still not dropped");

    // A key that does not belong to the certificate: the old pair stays.
    let stray = generate(&names, 30).unwrap();
    write_file(&key, stray.key_pem.as_bytes(), 0o600).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(Connection::open(&address, third.fingerprint).is_ok());
    stop(child);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("TLS certificate reloaded"), "{log}");
    assert!(log.contains("does not belong to the certificate"), "{log}");
    for made in [&first, &renewed, &third, &stray] {
        let body = made.key_pem.lines().nth(1).unwrap();
        assert!(!log.contains(body), "a private key in the log");
    }
}
