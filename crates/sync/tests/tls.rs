//! The encrypted, pinned channel between a till and the real server: a man
//! in the middle gets nothing, a certificate switch announced ahead keeps
//! pinned tills syncing, unpinned tills validate names and dates, and the
//! wrong protocol on a port fails cleanly on both sides.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    entry_count, fast_config, server_address, server_binary, syncer, terminal_ledger,
    wallet_deltas, Event, Server,
};
use tapster_ledger::model::Tender;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::SaleRequest;
use tapster_ledger::{demo, IdempotencyKey, StaffId};
use tapster_sync::{
    ApiError, Connection, Fingerprint, Pins, ServerAddress, ServerClient, SyncError, TlsFailure,
    Trust,
};
use tapster_tls::server::{OwnCertificate, ServedCertificate, TlsListener};
use tokio::io::AsyncReadExt;

fn sale(wristband: u32) -> SaleRequest {
    SaleRequest {
        key: IdempotencyKey::random(),
        staff: StaffId::new("anna").unwrap(),
        cart: Cart::new().with(&demo::product("water"), 1),
        tender: Tender::Wallet,
        token: Some(demo::wristband(wristband)),
        pass: None,
    }
}

/// An address tills are pointed at: it either hands the connection to an
/// impostor with a certificate of its own (who would read and forward
/// what it decrypts) or relays it untouched to the real server.
struct Front {
    address: String,
    impostor: tokio::sync::watch::Sender<bool>,
    /// Bytes the impostor decrypted: requests a till sent it.
    decrypted: Arc<AtomicU64>,
    /// Connections that reached the impostor.
    intercepted: Arc<AtomicU64>,
}

impl Front {
    async fn start(upstream: String) -> Front {
        let dir = tempfile::tempdir().unwrap();
        let own = OwnCertificate::next_to(&dir.path().join("impostor.sqlite"));
        own.ensure(&["127.0.0.1".into()]).unwrap();
        let config = ServedCertificate::load(own.source())
            .unwrap()
            .server_config()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (impostor, mode) = tokio::sync::watch::channel(true);
        let decrypted = Arc::new(AtomicU64::new(0));
        let intercepted = Arc::new(AtomicU64::new(0));
        let (bytes, count) = (decrypted.clone(), intercepted.clone());
        // The impostor's own listener, on a port of its own.
        let impostor_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let impostor_address = impostor_listener.local_addr().unwrap();
        let mut tls = TlsListener::new(impostor_listener, config).unwrap();
        tokio::spawn(async move {
            let _keep = dir;
            loop {
                let (mut stream, _) = axum::serve::Listener::accept(&mut tls).await;
                let bytes = bytes.clone();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        bytes.fetch_add(n as u64, Ordering::SeqCst);
                    }
                });
            }
        });
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut changed = mode.clone();
                let target = if *changed.borrow_and_update() {
                    count.fetch_add(1, Ordering::SeqCst);
                    impostor_address.to_string()
                } else {
                    upstream.clone()
                };
                // A switch cuts the connections already open, as an
                // attacker taking over the network would.
                tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = changed.changed() => {}
                        }
                    }
                });
            }
        });
        Front {
            address,
            impostor,
            decrypted,
            intercepted,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_man_in_the_middle_gets_nothing_and_the_outbox_drains_once_the_server_is_back() {
    let event = Event::new(5, 100_00);
    let server = Server::start(&event.db, 0.0);
    let (id, token) = event.terminal("t1");
    let ledger = terminal_ledger(event.dir.path(), &id);
    let front = Front::start(server.address.clone()).await;
    front.impostor.send_replace(false);
    let url = format!("https://{}#{}", front.address, server.fingerprint);
    let till = syncer(&ledger, &url, &event.id, &token, fast_config());
    // A first round through the real server fills the balance cache.
    till.round(&mut |_| {}).await.unwrap();

    // Someone on the Wi-Fi answers in the server's place.
    front.impostor.send_replace(true);
    for n in 0..6 {
        // Asked online first: refused before anything is sent, so the sale
        // is decided offline by the ledger's limits.
        till.authorise_sale(&sale(n % 5 + 1), true)
            .await
            .expect("selling goes on offline");
    }
    let pending = ledger.pending_count().unwrap();
    assert!(pending >= 6, "the sales wait in the outbox: {pending}");
    match till.round(&mut |_| {}).await {
        Err(SyncError::Api(ApiError::Untrusted(TlsFailure::IdentityChanged { presented }))) => {
            assert_ne!(presented, server.fingerprint.to_string())
        }
        other => panic!("a refused identity, not {other:?}"),
    }
    let error = ApiError::Untrusted(TlsFailure::IdentityChanged {
        presented: String::new(),
    });
    assert_eq!(
        error.to_string(),
        "the server's identity changed: ask the manager for a new setup code"
    );
    // The background task says so too, and keeps trying.
    let handle = tapster_sync::start(till.clone(), Arc::new(tapster_ledger::SystemClock));
    let mut status = handle.status.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status.borrow_and_update().connection != Connection::Untrusted {
        assert!(Instant::now() < deadline, "{:?}", status.borrow().clone());
        let _ = tokio::time::timeout(Duration::from_secs(1), status.changed()).await;
    }
    assert!(front.intercepted.load(Ordering::SeqCst) >= 2);
    assert_eq!(
        front.decrypted.load(Ordering::SeqCst),
        0,
        "not one byte of a request reached the impostor"
    );
    assert_eq!(
        ledger.pending_count().unwrap(),
        pending,
        "nothing marked synced"
    );
    assert_eq!(event.transactions_of(&id), 0, "nothing reached the server");

    // The real server is back at that address: everything arrives, once.
    front.impostor.send_replace(false);
    handle.sync_now();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = status.borrow_and_update().clone();
        if current.connection == Connection::Online && current.pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{current:?}");
        let _ = tokio::time::timeout(Duration::from_secs(1), status.changed()).await;
    }
    handle.stop().await;
    assert_eq!(event.transactions_of(&id), entry_count(&ledger));
    assert_eq!(
        front.decrypted.load(Ordering::SeqCst),
        0,
        "the impostor never got a byte"
    );
    let deltas = wallet_deltas(&ledger);
    let balances = event.balances();
    for (wallet, delta) in deltas {
        assert_eq!(balances[&wallet], 100_00 + delta, "{wallet}");
    }
    assert!(event.check());
}

fn tls_admin(db: &std::path::Path, command: &str) -> Fingerprint {
    let output = Command::new(server_binary())
        .args(["tls", command, "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    answer
        .get("next_fingerprint")
        .or_else(|| answer.get("fingerprint"))
        .and_then(|f| f.as_str())
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_that_learnt_the_next_certificate_keeps_syncing_across_the_switch_and_one_that_did_not_is_refused(
) {
    let event = Event::new(5, 100_00);
    let mut server = Server::start(&event.db, 0.0);
    let first = server.fingerprint;
    let (a_id, a_token) = event.terminal("a");
    let (b_id, b_token) = event.terminal("b");
    let a_ledger = terminal_ledger(event.dir.path(), &a_id);
    let b_ledger = terminal_ledger(event.dir.path(), &b_id);
    let a_pins = Pins::new(first, None);
    let changes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = changes.clone();
    a_pins.on_change(move |state| record.lock().unwrap().push(state));
    let address =
        |pins: &Pins| ServerAddress::pinned(&format!("https://{}", server.address), pins.clone());
    let a = tapster_sync::Syncer::new(
        a_ledger.clone(),
        ServerClient::new(
            &address(&a_pins),
            &event.id,
            &a_token,
            Duration::from_secs(5),
        )
        .unwrap(),
        Arc::new(tapster_ledger::SystemClock),
        fast_config(),
    );
    let b_pins = Pins::new(first, None);
    let b = tapster_sync::Syncer::new(
        b_ledger.clone(),
        ServerClient::new(
            &address(&b_pins),
            &event.id,
            &b_token,
            Duration::from_secs(5),
        )
        .unwrap(),
        Arc::new(tapster_ledger::SystemClock),
        fast_config(),
    );
    a.round(&mut |_| {}).await.unwrap();
    b.round(&mut |_| {}).await.unwrap();
    // B is switched off from here until after the switch.

    // The operator prepares the next certificate; the running server
    // announces it within seconds, and A learns it at its next round.
    let next = tls_admin(&event.db, "rotate");
    let deadline = Instant::now() + Duration::from_secs(10);
    while a_pins.state().next != Some(next) {
        assert!(
            Instant::now() < deadline,
            "A never learnt the next certificate"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.round(&mut |_| {}).await.unwrap();
    }
    assert_eq!(a_pins.state().current, first);

    // The switch: the next certificate is served (a restart drops every
    // open connection, so both tills must shake hands anew).
    assert_eq!(tls_admin(&event.db, "promote"), next);
    let listen = server.address.clone();
    drop(server);
    server = Server::start_on(&event.db, 0.0, &listen);
    assert_eq!(server.fingerprint, next);

    a.authorise_sale(&sale(1), false).await.unwrap();
    let report = a
        .round(&mut |_| {})
        .await
        .expect("A syncs across the switch");
    assert_eq!(report.acknowledged, 1);
    assert_eq!(
        a_pins.state(),
        tapster_sync::PinState {
            current: next,
            next: None
        }
    );
    assert_eq!(
        changes.lock().unwrap().last().unwrap().current,
        next,
        "kept by its owner"
    );

    b.authorise_sale(&sale(2), false).await.unwrap();
    match b.round(&mut |_| {}).await {
        Err(SyncError::Api(ApiError::Untrusted(TlsFailure::IdentityChanged { presented }))) => {
            assert_eq!(presented, next.to_string())
        }
        other => panic!("B must be refused, not {other:?}"),
    }
    assert_eq!(b_ledger.pending_count().unwrap(), 1, "B's sale waits");
    assert_eq!(event.transactions_of(&b_id), 0);
    assert_eq!(event.transactions_of(&a_id), 1);
}

/// A CA of the event's own and certificates it signs for the server.
struct Authority {
    key: rcgen::KeyPair,
    params: rcgen::CertificateParams,
    certificate: rcgen::Certificate,
}

impl Authority {
    fn new() -> Authority {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Festival test CA");
        let certificate = params.self_signed(&key).unwrap();
        Authority {
            key,
            params,
            certificate,
        }
    }

    /// Writes a certificate for `names`, valid from `from` to `until` days
    /// from now, and its key, into `dir`; returns their paths.
    fn issue(
        &self,
        dir: &std::path::Path,
        label: &str,
        names: &[&str],
        from: i64,
        until: i64,
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(from);
        params.not_after = now + time::Duration::days(until);
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let certificate = params.signed_by(&key, &issuer).unwrap();
        let (cert, key_path) = (
            dir.join(format!("{label}.pem")),
            dir.join(format!("{label}-key.pem")),
        );
        std::fs::write(&cert, certificate.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert, key_path)
    }
}

fn serve_with(event: &Event, cert: &std::path::Path, key: &std::path::Path) -> Server {
    Server::start_with(
        &event.db,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_pin_a_wrong_host_name_or_an_expired_certificate_is_refused() {
    let event = Event::new(1, 10_00);
    let (_, token) = event.terminal("t1");
    let authority = Authority::new();
    let dir = event.dir.path();
    let trusted = |server: &Server| ServerAddress {
        url: format!("https://{}", server.address),
        trust: Trust::Roots {
            extra_roots: vec![authority.certificate.der().clone()],
        },
    };
    let ask = |address: ServerAddress| {
        let token = token.clone();
        let event_id = event.id.clone();
        async move {
            ServerClient::new(&address, &event_id, &token, Duration::from_secs(5))
                .unwrap()
                .terminal()
                .await
        }
    };

    // A certificate from the event's CA for this address: accepted.
    let (cert, key) = authority.issue(dir, "good", &["127.0.0.1"], -1, 30);
    let server = serve_with(&event, &cert, &key);
    assert_eq!(ask(trusted(&server)).await.unwrap().id, "t1");
    // The same server, but this till does not know the event's CA.
    match ask(ServerAddress::new(
        &format!("https://{}", server.address),
        None,
    ))
    .await
    {
        Err(ApiError::Untrusted(TlsFailure::UnknownIssuer)) => {}
        other => panic!("unknown issuer, not {other:?}"),
    }
    drop(server);

    // Made out for another name.
    let (cert, key) = authority.issue(dir, "wrong-name", &["pos.example.org"], -1, 30);
    let server = serve_with(&event, &cert, &key);
    let error = ask(trusted(&server)).await.unwrap_err();
    assert_eq!(error, ApiError::Untrusted(TlsFailure::WrongName));
    assert!(error.to_string().contains("not made out for this address"));
    drop(server);

    // Expired yesterday.
    let (cert, key) = authority.issue(dir, "expired", &["127.0.0.1"], -30, -1);
    let server = serve_with(&event, &cert, &key);
    let error = ask(trusted(&server)).await.unwrap_err();
    assert_eq!(error, ApiError::Untrusted(TlsFailure::Expired));
    assert!(error.to_string().contains("expired"));
    assert!(
        error.is_transient(),
        "the till keeps trying, and sells offline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_https_port_and_tls_to_a_plain_port_fail_cleanly() {
    let event = Event::new(1, 10_00);
    let (_, token) = event.terminal("t1");
    let ask = |url: String, fingerprint: Option<Fingerprint>| {
        let token = token.clone();
        let event_id = event.id.clone();
        async move {
            ServerClient::new(
                &ServerAddress::new(&url, fingerprint),
                &event_id,
                &token,
                Duration::from_secs(5),
            )
            .unwrap()
            .terminal()
            .await
        }
    };

    let https = Server::start(&event.db, 0.0);
    let started = Instant::now();
    match ask(format!("http://{}", https.address), None).await {
        Err(ApiError::Refused {
            status: 400,
            message,
            ..
        }) => {
            assert!(message.contains("HTTPS"), "{message}")
        }
        other => panic!("a plain 400 that says HTTPS, not {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");
    // The server carries on.
    let address = server_address(&https.url());
    assert_eq!(
        ServerClient::new(&address, &event.id, &token, Duration::from_secs(5))
            .unwrap()
            .terminal()
            .await
            .unwrap()
            .id,
        "t1"
    );
    drop(https);

    let plain = Server::start_with(&event.db, &["--insecure-http"]);
    let started = Instant::now();
    match ask(
        format!("https://{}", plain.address),
        Some(plain.fingerprint),
    )
    .await
    {
        Err(ApiError::Untrusted(TlsFailure::NotTls)) => {}
        other => panic!("not TLS, not {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");
    assert_eq!(
        ask(format!("http://{}", plain.address), None)
            .await
            .unwrap()
            .id,
        "t1",
        "the plain server carries on"
    );
    // A pinned fingerprint with http:// is a mistake, said before sending.
    assert!(matches!(
        ServerClient::new(
            &ServerAddress::new(
                &format!("http://{}", plain.address),
                Some(plain.fingerprint)
            ),
            &event.id,
            &token,
            Duration::from_secs(5),
        ),
        Err(ApiError::Misconfigured(_))
    ));
}
