//! TEST DOUBLE, not Tapster: a server that offers seed 001's PointOfSale
//! API and nothing else, the way third-party servers of that API behave.
//! It stands in for a boundary that cannot run here (someone else's
//! server). It
//! - mounts the API under a prefix of its own and wants a slash at the end
//!   of every path (a request without one is answered 301, as Laravel or
//!   Django apps do);
//! - lists its products with integer ids;
//! - refuses `null` for `description` and `tag`, and unknown products;
//! - ignores idempotency keys: every POST books again;
//! - can lose the answer of every n-th debit after booking it, or lose the
//!   request of every m-th before booking it.
//!
//! Every booking is logged with its idempotency key, so a test counts
//! double charges exactly.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The double's products: integer ids, as its `GET pos/terminal` lists them.
pub const PRODUCTS: &[(i64, &str, i64)] = &[
    (17, "Pils 0,5 l", 450),
    (18, "Wasser", 250),
    (19, "Café Crème", 320),
];

pub const TOKEN: &str = "double-terminal-token";

#[derive(Default)]
pub struct Books {
    pub balances: BTreeMap<String, i64>,
    /// (idempotency key, token, amount) of every debit booked, in order.
    pub booked: Vec<(String, String, i64)>,
    /// Every request, by path.
    pub requests: Vec<String>,
    /// The wristbands of the debits whose answers were lost.
    pub lost_answers: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    prefix: String,
    books: Arc<Mutex<Books>>,
    debits: Arc<AtomicU64>,
    lose_answer_every: u64,
    lose_request_every: u64,
    answer_delay: Duration,
    other_till_on_lost_answer: i64,
}

pub struct PosDouble {
    pub address: String,
    pub prefix: String,
    pub books: Arc<Mutex<Books>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PosDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Faults {
    /// Lose the answer of every n-th debit (after booking it); 0: never.
    pub lose_answer_every: u64,
    /// Lose every m-th debit request (before booking it); 0: never.
    pub lose_request_every: u64,
    /// How long a lost answer keeps the till waiting (longer than its timeout).
    pub answer_delay: Duration,
    /// When an answer is lost, another till sells this much to the same
    /// wristband right after (0: nobody else is selling).
    pub other_till_on_lost_answer: i64,
}

impl Faults {
    pub fn none() -> Faults {
        Faults {
            lose_answer_every: 0,
            lose_request_every: 0,
            answer_delay: Duration::from_secs(3),
            other_till_on_lost_answer: 0,
        }
    }
}

impl PosDouble {
    /// Starts the double on a free port, mounted at `prefix` (like
    /// `/festival/pos-api`), with `wallets` (token id → balance).
    pub async fn start(prefix: &str, wallets: &[(String, i64)], faults: Faults) -> PosDouble {
        let books = Arc::new(Mutex::new(Books {
            balances: wallets.iter().cloned().collect(),
            ..Books::default()
        }));
        let shared = Shared {
            prefix: prefix.trim_end_matches('/').to_string(),
            books: books.clone(),
            debits: Arc::new(AtomicU64::new(0)),
            lose_answer_every: faults.lose_answer_every,
            lose_request_every: faults.lose_request_every,
            answer_delay: faults.answer_delay,
            other_till_on_lost_answer: faults.other_till_on_lost_answer,
        };
        let p = &shared.prefix;
        let app = Router::new()
            .route(&format!("{p}/pos/terminal/"), get(terminal))
            .route(&format!("{p}/pos/wallets/token/{{token}}/"), get(wallet))
            .route(
                &format!("{p}/pos/wallets/token/{{token}}/transactions/"),
                axum::routing::post(debit),
            )
            .fallback(without_slash)
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        PosDouble {
            address,
            prefix: prefix.to_string(),
            books,
            task,
        }
    }

    /// The API root as an operator would type it: with a slash at the end.
    pub fn url(&self) -> String {
        format!(
            "http://{}{}/",
            self.address,
            self.prefix.trim_end_matches('/')
        )
    }

    pub fn balance(&self, token: &str) -> i64 {
        self.books.lock().unwrap().balances[token]
    }

    /// How many debit requests were lost before booking.
    pub fn lost_requests(&self) -> usize {
        self.books
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.starts_with("lost request"))
            .count()
    }

    /// How many debits' answers were lost.
    pub fn lost_answers(&self) -> usize {
        self.books.lock().unwrap().lost_answers.len()
    }

    /// Keys booked more than once: double charges.
    pub fn double_charges(&self) -> usize {
        let books = self.books.lock().unwrap();
        let mut seen = BTreeMap::new();
        for (key, _, _) in &books.booked {
            *seen.entry(key.clone()).or_insert(0) += 1;
        }
        seen.values().filter(|n| **n > 1).count()
    }

    pub fn booked_keys(&self) -> Vec<String> {
        self.books
            .lock()
            .unwrap()
            .booked
            .iter()
            .map(|(k, _, _)| k.clone())
            .collect()
    }

    pub fn requests(&self) -> usize {
        self.books.lock().unwrap().requests.len()
    }

    pub fn credits_attempted(&self) -> usize {
        // The API has no credit; a till that tried one would have POSTed
        // something the double refuses (see `debit`): none may arrive.
        self.books
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.contains("credit") || r.contains("top"))
            .count()
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

fn unauthenticated() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Unauthenticated."})),
    )
        .into_response()
}

async fn without_slash(State(s): State<Shared>, uri: Uri) -> Response {
    s.books
        .lock()
        .unwrap()
        .requests
        .push(uri.path().to_string());
    let path = uri.path();
    if !path.ends_with('/') && path.starts_with(&s.prefix) {
        let to = match uri.query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        return Redirect::permanent(&to).into_response();
    }
    (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response()
}

async fn terminal(State(s): State<Shared>, headers: HeaderMap) -> Response {
    s.books.lock().unwrap().requests.push("terminal".into());
    if !authorised(&headers) {
        return unauthenticated();
    }
    let products: Vec<Value> = PRODUCTS
        .iter()
        .map(|(id, name, price)| json!({"id": id, "friendly_name": name, "price": price}))
        .collect();
    Json(json!({"data": {
        "id": "bar_west",
        "friendly_name": "Bar West",
        "permission": "all",
        "products": products,
    }}))
    .into_response()
}

fn wallet_json(token: &str, balance: i64) -> Value {
    json!({
        "id": format!("wal_{token}"),
        "token_id": token,
        "created_at": "2021-10-31T20:44:11.000000Z",
        "balance": balance,
        "paired_user": null,
    })
}

async fn wallet(
    State(s): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut books = s.books.lock().unwrap();
    books.requests.push(format!("wallet {token}"));
    if !authorised(&headers) {
        return unauthenticated();
    }
    match books.balances.get(&token) {
        Some(balance) => Json(json!({"data": wallet_json(&token, *balance)})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "This token is not paired to a wallet."})),
        )
            .into_response(),
    }
}

async fn debit(
    State(s): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    if !authorised(&headers) {
        return unauthenticated();
    }
    let n = s.debits.fetch_add(1, Ordering::SeqCst) + 1;
    let invalid = |message: &str| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": message})),
        )
            .into_response()
    };
    let body = body.0;
    if !body["description"].is_string() {
        return invalid("The description field must be a string.");
    }
    if !body.get("tag").is_none_or(Value::is_string) {
        return invalid("The tag field must be a string.");
    }
    let Some(products) = body["products"].as_array() else {
        return invalid("The products field is required.");
    };
    let mut amount = 0;
    for product in products {
        let Some(price) = product
            .as_i64()
            .and_then(|id| PRODUCTS.iter().find(|(p, _, _)| *p == id))
            .map(|(_, _, price)| *price)
        else {
            return invalid("The selected products.0 is invalid.");
        };
        amount += price;
    }
    if s.lose_request_every > 0 && n % s.lose_request_every == 0 {
        // Lost on the way in: nothing booked, no answer.
        s.books
            .lock()
            .unwrap()
            .requests
            .push(format!("lost request {token}"));
        tokio::time::sleep(s.answer_delay).await;
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    }
    let balance = {
        let mut books = s.books.lock().unwrap();
        books.requests.push(format!("debit {token}"));
        let Some(balance) = books.balances.get_mut(&token) else {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"message": "This token is not paired to a wallet."})),
            )
                .into_response();
        };
        if *balance < amount {
            return invalid("Insufficient balance.");
        }
        *balance -= amount;
        let balance = *balance;
        // The key is logged to count double charges; the double itself
        // ignores it, as the servers it stands for do.
        let key = body["idempotency_key"].as_str().unwrap_or("").to_string();
        books.booked.push((key, token.clone(), -amount));
        balance
    };
    if s.lose_answer_every > 0 && n % s.lose_answer_every == 0 {
        // Booked, but the answer never reaches the till; meanwhile another
        // till may sell to the same band.
        {
            let mut books = s.books.lock().unwrap();
            books.lost_answers.push(token.clone());
            *books.balances.get_mut(&token).unwrap() -= s.other_till_on_lost_answer;
        }
        tokio::time::sleep(s.answer_delay).await;
    }
    (
        StatusCode::CREATED,
        Json(json!({"data": wallet_json(&token, balance)})),
    )
        .into_response()
}
