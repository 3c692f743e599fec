//! Tokens, PINs, wristband UIDs and the server's TLS private key never
//! reach a log: a server run at debug level and a till selling online, opening a staff session with a
//! PIN and using the manager API, then every log line is searched.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::{pinned_tls, server_binary, till_args, Event};

const CLIENT: &str = env!("CARGO_BIN_EXE_tapster-sync");

#[test]
fn no_token_pin_or_uid_in_the_logs_of_a_full_run() {
    let event = Event::new(5, 100_00);
    let log_path = event.dir.path().join("server.log");
    let mut server = Command::new(server_binary())
        .args([
            "serve",
            "--db",
            event.db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line_copy = line.clone();
    let listening = serde_json::from_str::<serde_json::Value>(&line).unwrap();
    let address = listening["listening"].as_str().unwrap();
    let fingerprint = listening["fingerprint"].as_str().unwrap();
    let url = format!("https://{address}#{fingerprint}");
    let (id, token) = event.terminal("t1");
    let ledger = event.dir.path().join("t1.sqlite");

    // A till sells online (its token on every request, UIDs in the paths).
    let till = Command::new(CLIENT)
        .args(till_args(
            "drive",
            &ledger,
            &id,
            &url,
            &event.id,
            &token,
            &["--prefix", "s", "--count", "20", "--wristbands", "5"],
        ))
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(
        till.status.success(),
        "{}",
        String::from_utf8_lossy(&till.stdout)
    );

    // A manager with a distinctive PIN opens a staff session; one wrong try.
    let http = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(pinned_tls(fingerprint.parse().unwrap()))
        .build()
        .unwrap();
    let base = format!("https://{address}/api/v1/events/{}", event.id);
    let pin = "90817";
    let created = http
        .post(format!("{base}/manage/staff"))
        .bearer_auth(&event.admin_token)
        .json(&serde_json::json!({"id": "mia", "name": "Mia", "role": "manager", "pin": pin}))
        .send()
        .unwrap();
    assert!(created.status().is_success());
    for tried in ["90818", pin] {
        http.post(format!("{base}/pos/staff-sessions"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"staff_id": "mia", "pin": tried}))
            .send()
            .unwrap();
    }
    let session: serde_json::Value = http
        .post(format!("{base}/pos/staff-sessions"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"staff_id": "mia", "pin": pin}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let session_token = session["data"]["token"].as_str().unwrap().to_string();
    let summary = http
        .get(format!("{base}/manage/reports/summary"))
        .bearer_auth(&session_token)
        .send()
        .unwrap();
    assert!(summary.status().is_success());
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    server.wait().unwrap();

    let server_log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        server_log.lines().count() > 10,
        "the server logged the run:\n{server_log}"
    );
    let till_log = format!(
        "{}{}",
        String::from_utf8_lossy(&till.stdout),
        String::from_utf8_lossy(&till.stderr)
    );
    let wristband = tapster_ledger::demo::wristband(1).to_string();
    // The server's TLS private key: readable by its owner only, and none
    // of its lines in any log or on stdout.
    let key_path = event.dir.path().join(format!(
        "{}.tls/key.pem",
        event.db.file_name().unwrap().to_str().unwrap()
    ));
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the TLS key file is {mode:o}");
    let key = std::fs::read_to_string(&key_path).unwrap();
    let key_lines: Vec<&str> = key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .collect();
    assert!(!key_lines.is_empty());
    for line in &key_lines {
        for (name, log) in [
            ("server", &server_log),
            ("till", &till_log),
            ("stdout", &line_copy),
        ] {
            assert!(
                !log.contains(line),
                "the TLS private key is in the {name}'s log"
            );
        }
    }
    for (what, secret) in [
        ("the terminal's token", token.as_str()),
        ("the admin token", event.admin_token.as_str()),
        ("the staff session's token", session_token.as_str()),
        ("a PIN", pin),
        ("a wrong PIN", "90818"),
        ("a wristband's full UID", wristband.as_str()),
    ] {
        for (name, log) in [("server", &server_log), ("till", &till_log)] {
            assert!(!log.contains(secret), "{what} is in the {name}'s log");
        }
    }
}
