//! A **test double** of fiskaly SIGN DE's API v2, for the suite: the calls
//! [`crate::fiskaly::FiskalyTse`] makes (auth, TSS state, client, the two
//! transaction revisions), answered on a loopback port with real ECDSA
//! signatures from a key of its own. It checks what a real TSS refuses
//! (a wrong key, an unknown client, a revision out of order, a finished
//! transaction finished again) and can be switched off and on to play an
//! outage. It is not fiskaly: the real service is one `base_url` away.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

/// The double's credentials.
pub const API_KEY: &str = "test_double_key";
pub const API_SECRET: &str = "test_double_secret";
pub const TSS_ID: &str = "00000000-0000-4000-8000-00000000d0b1";

#[derive(Default)]
struct Books {
    clients: HashMap<String, String>,
    /// id → (revision, state, number, client id, time_start)
    txs: HashMap<String, (u64, String, u64, String, i64)>,
    numbers: u64,
    counter: u64,
    /// The FINISHED requests' schemas, for the tests to look at.
    finished: Vec<Value>,
    down: bool,
}

struct Double {
    books: Mutex<Books>,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    token: String,
}

/// A running double.
pub struct FiskalyDouble {
    address: SocketAddr,
    state: Arc<Double>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FiskalyDouble {
    /// Starts it on a free loopback port.
    pub fn start() -> FiskalyDouble {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("a key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("the key");
        let state = Arc::new(Double {
            books: Mutex::new(Books::default()),
            key,
            rng,
            token: uuid::Uuid::new_v4().to_string(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let address = listener.local_addr().expect("its address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/api/v2/auth", post(auth))
            .route("/api/v2/tss/{tss}", get(tss))
            .route("/api/v2/tss/{tss}/client/{client}", put(client))
            .route("/api/v2/tss/{tss}/tx/{tx}", put(tx))
            .with_state(state.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("the listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        FiskalyDouble {
            address,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The `base_url` to configure.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v2", self.address)
    }

    /// Plays an outage: every call answers 503 while `down`.
    pub fn set_down(&self, down: bool) {
        self.state.books.lock().expect("books").down = down;
    }

    /// The receipts signed so far (`schema` of each FINISHED revision).
    pub fn finished(&self) -> Vec<Value> {
        self.state.books.lock().expect("books").finished.clone()
    }

    /// The double's public key, Base64.
    pub fn public_key(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.state.key.public_key().as_ref())
    }
}

impl Drop for FiskalyDouble {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Answer = (StatusCode, Json<Value>);

fn refuse(status: StatusCode, message: &str) -> Answer {
    (
        status,
        Json(json!({ "status_code": status.as_u16(), "message": message })),
    )
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl Double {
    /// None when the call may go on; the answer otherwise.
    fn gate(&self, headers: Option<&HeaderMap>) -> Option<Answer> {
        if self.books.lock().expect("books").down {
            return Some(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "test double switched off",
            ));
        }
        let headers = headers?;
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        (bearer != Some(self.token.as_str())).then(|| refuse(StatusCode::UNAUTHORIZED, "bad token"))
    }

    fn serial(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.key.public_key().as_ref());
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

async fn auth(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Answer {
    if let Some(refused) = d.gate(None) {
        return refused;
    }
    if body["api_key"] != API_KEY || body["api_secret"] != API_SECRET {
        return refuse(StatusCode::UNAUTHORIZED, "wrong api key or secret");
    }
    (
        StatusCode::OK,
        Json(json!({ "access_token": d.token, "access_token_expires_in": 600 })),
    )
}

async fn tss(State(d): State<Arc<Double>>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    if let Some(refused) = d.gate(Some(&headers)) {
        return refused;
    }
    if id != TSS_ID {
        return refuse(StatusCode::NOT_FOUND, "no such TSS");
    }
    (
        StatusCode::OK,
        Json(json!({ "_id": id, "state": "INITIALIZED", "serial_number": d.serial() })),
    )
}

async fn client(
    State(d): State<Arc<Double>>,
    headers: HeaderMap,
    Path((tss, client)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Answer {
    if let Some(refused) = d.gate(Some(&headers)) {
        return refused;
    }
    let Some(serial) = body["serial_number"].as_str().filter(|_| tss == TSS_ID) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "serial_number missing or unknown TSS",
        );
    };
    d.books
        .lock()
        .expect("books")
        .clients
        .insert(client.clone(), serial.to_string());
    (
        StatusCode::OK,
        Json(json!({ "_id": client, "serial_number": serial, "state": "REGISTERED" })),
    )
}

async fn tx(
    State(d): State<Arc<Double>>,
    headers: HeaderMap,
    Path((tss, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Answer {
    if let Some(refused) = d.gate(Some(&headers)) {
        return refused;
    }
    if tss != TSS_ID {
        return refuse(StatusCode::NOT_FOUND, "no such TSS");
    }
    let revision: u64 = query
        .get("tx_revision")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let client = body["client_id"].as_str().unwrap_or_default().to_string();
    let mut books = d.books.lock().expect("books");
    let Some(serial) = books.clients.get(&client).cloned() else {
        return refuse(StatusCode::BAD_REQUEST, "client not registered");
    };
    match (
        body["state"].as_str(),
        revision,
        books.txs.get(&id).cloned(),
    ) {
        (Some("ACTIVE"), 1, None) => {
            books.numbers += 1;
            let (number, start) = (books.numbers, now());
            books
                .txs
                .insert(id.clone(), (1, "ACTIVE".into(), number, client, start));
            (
                StatusCode::OK,
                Json(
                    json!({ "_id": id, "number": number, "state": "ACTIVE", "time_start": start }),
                ),
            )
        }
        (Some("FINISHED"), 2, Some((1, state, number, owner, start)))
            if state == "ACTIVE" && owner == client =>
        {
            books.counter += 1;
            let counter = books.counter;
            let end = now();
            let signed = format!("{number};{counter};{start};{end};{}", body["schema"]);
            let signature = d.key.sign(&d.rng, signed.as_bytes()).expect("a signature");
            let engine = base64::engine::general_purpose::STANDARD;
            books
                .txs
                .insert(id.clone(), (2, "FINISHED".into(), number, owner, start));
            books.finished.push(body["schema"].clone());
            (
                StatusCode::OK,
                Json(json!({
                    "_id": id,
                    "number": number,
                    "state": "FINISHED",
                    "time_start": start,
                    "time_end": end,
                    "tss_serial_number": d.serial(),
                    "client_serial_number": serial,
                    "signature": {
                        "value": engine.encode(signature.as_ref()),
                        "algorithm": "ecdsa-plain-SHA384",
                        "counter": counter,
                        "public_key": engine.encode(d.key.public_key().as_ref()),
                    },
                    "log": { "timestamp_format": "unixTime" },
                })),
            )
        }
        _ => refuse(
            StatusCode::CONFLICT,
            "transaction revision or state out of order",
        ),
    }
}
