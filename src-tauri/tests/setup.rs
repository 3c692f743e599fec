//! First start of a till against the real `tapster-server`: the setup
//! screen's commands test a token, keep the connection in the config dir,
//! and the next start is connected (the unused ledger made before is made
//! anew for the server's terminal id).

#[path = "../../crates/sync/tests/common/mod.rs"]
mod sync_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use sync_common::{Event, Server};
use tapster_app::config::{syncer, Args, Config, ServerSettings};
use tapster_app::error::ErrorCode;
use tapster_app::setup::{check_server, parse_setup_code, save_connection};
use tapster_app::terminal::Terminal;
use tapster_ledger::SystemClock;

fn config(root: &std::path::Path) -> Config {
    let config_dir = root.join("config");
    let data_dir = root.join("data");
    Config::from_args(Args::parse_from([
        "tapster-app",
        "--config-dir",
        config_dir.to_str().unwrap(),
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]))
    .unwrap()
}

#[test]
fn a_new_till_is_set_up_with_a_tested_connection_and_starts_connected() {
    let event = Event::new(2, 20_00);
    let (terminal_id, token) = event.terminal("Bar Süd");
    let server = Server::start(&event.db, 0.0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();

    // A till that was never set up asks for it.
    let mut first = config(root.path());
    // No PC/SC reader in this test (pcscd is not running here).
    first.options.pcsc_reader = None;
    assert!(first.server.is_none());
    let till = Terminal::start(first.options.clone(), Arc::new(|_| {})).unwrap();
    assert!(till.needs_setup().unwrap());
    assert!(till.session().unwrap().needs_setup);
    drop(till);

    let settings = |token: &str| ServerSettings {
        url: server.base(),
        event: event.id.clone(),
        token: token.to_string(),
        fingerprint: Some(server.fingerprint),
        next_fingerprint: None,
    };
    // A wrong token is refused; a server that is not there is "unreachable".
    let wrong = runtime
        .block_on(check_server(&settings("not-the-token")))
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::RefusedByServer);
    let nowhere = ServerSettings {
        url: "https://127.0.0.1:9".into(),
        ..settings(&token)
    };
    let away = runtime.block_on(check_server(&nowhere)).unwrap_err();
    assert_eq!(away.code, ErrorCode::ServerUnreachable);
    assert!(away.retryable);
    // A setup code with another server's fingerprint: refused, in words.
    let impostor = ServerSettings {
        fingerprint: Some(tapster_sync::Fingerprint::of_der(b"another server")),
        ..settings(&token)
    };
    let refused = runtime.block_on(check_server(&impostor)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::ServerUntrusted);
    assert!(
        refused.message.contains("identity changed"),
        "{}",
        refused.message
    );
    // The setup code the server prints for a new terminal works as it is.
    let made = event.terminal_with_setup_code(&server, "Bar Nord");
    let code = made["setup_code"].as_str().unwrap();
    assert!(
        code.starts_with("tapsters://") && code.contains("&fp=sha256:"),
        "{code}"
    );
    let from_code = parse_setup_code(code).unwrap();
    assert_eq!(from_code.fingerprint, Some(server.fingerprint));
    assert_eq!(
        runtime
            .block_on(check_server(&from_code))
            .unwrap()
            .terminal_name,
        "Bar Nord"
    );
    // The right one says which terminal this is.
    let check = runtime.block_on(check_server(&settings(&token))).unwrap();
    assert_eq!(check.terminal_id, terminal_id);
    assert_eq!(check.terminal_name, "Bar Süd");
    save_connection(&first.options.config_dir, &settings(&token), &check).unwrap();

    // The next start is connected, as that terminal.
    let mut second = config(root.path());
    second.options.pcsc_reader = None;
    let connection = second.server.clone().expect("server settings kept");
    assert_eq!(connection.token, token);
    assert_eq!(
        connection.fingerprint,
        Some(server.fingerprint),
        "the pin is kept"
    );
    assert_eq!(second.options.terminal.as_str(), terminal_id);
    let mut till = Terminal::start(second.options.clone(), Arc::new(|_| {})).unwrap();
    let sync = syncer(
        &connection,
        &second.options.config_dir,
        till.ledger().clone(),
    )
    .unwrap();
    let handle = runtime.block_on(async {
        let handle = tapster_sync::start(sync.clone(), Arc::new(SystemClock));
        till.connect(sync, handle.status.clone(), false);
        handle
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while till.needs_setup().unwrap() {
        assert!(
            Instant::now() < deadline,
            "staff never came from the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    while !till
        .catalog()
        .map(|c| c.products.iter().any(|p| p.id == "beer"))
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "the catalogue never came");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The round takes in the catalogue before the terminal's own name.
    while till.session().unwrap().terminal_name != "Bar Süd" {
        assert!(
            Instant::now() < deadline,
            "the terminal's name never came: {}",
            till.session().unwrap().terminal_name
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    runtime.block_on(handle.stop());
}
