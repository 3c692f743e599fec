//! The HTTP surface: the PointOfSale API of seed 001 under
//! `/api/v1/events/{event_id}/`. Handlers parse, call the store, map errors.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
#[allow(unused_imports)]
use tapster_api::{
    BatchRequest, BatchResponse, CreatePayout, CreateTransaction, Data, ErrorBody, Heartbeat,
    PayoutApplied, TerminalResource, WalletFeed, WalletResource,
};
use tapster_ledger::{IdempotencyKey, TokenId};

use crate::error::ServerError;
use crate::limit::RateLimit;
use crate::store::{Applied, AuthenticatedTerminal, ServerStore};

/// Larger request bodies are refused: no PointOfSale request comes close.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A batch of a thousand entries with a few lines each fits.
pub const MAX_BATCH_BODY_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<ServerStore>,
    pub guests: Arc<GuestServices>,
}

/// What the guest pages use besides the books.
#[derive(Debug, Default)]
pub struct GuestServices {
    /// The outgoing mail relay, when there is one: receipts by e-mail.
    pub mail: Option<crate::mail::Mailer>,
    /// The guest pages' public address (`https://pay.example.org`), for
    /// links in e-mails; none: the e-mails carry no link.
    pub portal_url: Option<String>,
}

/// The API. `rate_limit` is the average number of requests per second
/// each token may make to each endpoint (0: no limit).
pub fn router(store: Arc<ServerStore>, rate_limit: f64) -> Router {
    router_with(store, rate_limit, GuestServices::default())
}

/// [`router`] with mail and the public address for the guest pages.
pub fn router_with(store: Arc<ServerStore>, rate_limit: f64, guests: GuestServices) -> Router {
    let state = AppState {
        store,
        guests: Arc::new(guests),
    };
    Router::new()
        .route("/api/v1/events/{event_id}/pos/terminal", get(get_terminal))
        .route(
            "/api/v1/events/{event_id}/pos/wallets/token/{token_id}",
            get(get_wallet),
        )
        .route(
            "/api/v1/events/{event_id}/pos/wallets/token/{token_id}/transactions",
            post(post_transaction),
        )
        .route(
            "/api/v1/events/{event_id}/pos/wallets/token/{token_id}/payout",
            post(post_payout),
        )
        .route(
            "/api/v1/events/{event_id}/pos/transactions/batch",
            post(post_batch).layer(DefaultBodyLimit::max(MAX_BATCH_BODY_BYTES)),
        )
        .route(
            "/api/v1/events/{event_id}/pos/wallets",
            get(get_wallet_feed),
        )
        .route(
            "/api/v1/events/{event_id}/pos/terminal/heartbeat",
            post(post_heartbeat),
        )
        .route("/api/v1/events/{event_id}/pos/catalog", get(get_catalog))
        .route(
            "/api/v1/events/{event_id}/pos/staff-sessions",
            post(post_staff_session),
        )
        .route(
            "/api/v1/events/{event_id}/pos/band-keys",
            get(get_band_keys),
        )
        .route(
            "/api/v1/events/{event_id}/pos/fiscal/receipts",
            post(post_fiscal_receipt),
        )
        .route(
            "/api/v1/events/{event_id}/pos/audit/shift-closes",
            post(post_shift_closes),
        )
        .merge(crate::admin::routes())
        .merge(crate::stock_admin::routes())
        .merge(crate::shop_products::routes())
        .merge(crate::walletapp::routes())
        // Every route above needs a token of its event before anything of
        // the request is read.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ))
        // Integrations authenticate with their own `Token app@key`.
        .merge(crate::winston::routes())
        // Seed 000's objects check their token themselves, to answer in
        // the seed's error shape.
        .merge(crate::wristcoin::routes())
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        // A guest's phone, with no token: the link's own signature is the
        // proof, and a link works once.
        .route("/api/v1/events/{event_id}/guest/sun", get(get_sun_tap))
        .route_layer(axum::middleware::from_fn_with_state(
            RateLimit::new(rate_limit),
            crate::limit::limit,
        ))
        // The guest pages: public, with their own limit on wrong codes.
        .merge(crate::portal::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Refuses a request without a token of the path's event: a terminal's for
/// `pos/…`, the admin's or a staff session's for `manage/…` (401 before
/// the body is read; what the token may do is the handler's to check).
async fn require_token(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response, ServerError> {
    let mut parts = request.uri().path().split('/').skip(4);
    let (event, scope) = match (parts.next(), parts.next()) {
        (Some(event), Some(scope)) => (event.to_string(), scope.to_string()),
        _ => return Err(ServerError::Unauthenticated),
    };
    let token = bearer(request.headers()).ok_or(ServerError::Unauthenticated)?;
    let store = state.store.clone();
    let known = blocking(move || match scope.as_str() {
        // A scanner's token scans passes and nothing else: no band keys,
        // no wallets, no staff sessions.
        "pos" => match store.authenticate_terminal(&event, &token)? {
            Some(terminal) if terminal.scanner => Err(ServerError::Forbidden(
                "a scanner's token may scan passes only (abilities scanners.get, scanners.post)"
                    .into(),
            )),
            found => Ok(found.is_some()),
        },
        "manage" => Ok(store.authenticate_manager(&event, &token)?.is_some()),
        // Seed 003: managers (devices.*) and devices (scanners.*); which
        // may do what is the handler's to check (403).
        "devices" | "locations" | "products" => {
            Ok(store.authenticate_terminal(&event, &token)?.is_some()
                || store.authenticate_manager(&event, &token)?.is_some())
        }
        _ => Ok(false),
    })
    .await?;
    if !known {
        return Err(ServerError::Unauthenticated);
    }
    Ok(next.run(request).await)
}

async fn not_found() -> ServerError {
    ServerError::NotFound("this path".into())
}

/// Runs blocking store work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServerError::Internal(format!("worker failed: {e}")))?
}

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The terminal behind `Authorization: Bearer <api_token>`, for this event.
async fn authenticate(
    state: &AppState,
    event: &str,
    headers: &HeaderMap,
) -> Result<AuthenticatedTerminal, ServerError> {
    let token = bearer(headers).ok_or(ServerError::Unauthenticated)?;
    let store = state.store.clone();
    let event = event.to_string();
    blocking(move || store.authenticate_terminal(&event, &token))
        .await?
        .ok_or(ServerError::Unauthenticated)
}

fn parse_token(token_id: &str) -> Result<TokenId, ServerError> {
    TokenId::parse(token_id).map_err(|e| ServerError::invalid("token_id", e.to_string()))
}

/// Settings, categories, full products and staff (PINs as hashes): what
/// a terminal needs to sell and to decide offline.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/pos/catalog", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), security(("api_token" = [])),
    responses((status = 200, body = Data<tapster_api::Catalog>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn get_catalog(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let store = state.store.clone();
    let catalog = blocking(move || store.catalog(&event_id, terminal.id.as_str())).await?;
    Ok(Json(Data::new(catalog)).into_response())
}

/// The event's master keys for genuine wristbands (current and previous
/// version), for a paired till. Served over TLS only (refused with
/// `--insecure-http`).
#[utoipa::path(get, path = "/api/v1/events/{event_id}/pos/band-keys", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), security(("api_token" = [])),
    responses((status = 200, body = Data<tapster_api::BandKeysResource>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token, or the server runs without TLS", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn get_band_keys(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let store = state.store.clone();
    let keyring = blocking(move || store.band_keys(&event_id)).await?;
    tracing::info!(terminal = %terminal.id, version = keyring.current.version, "band keys handed to a till");
    let resource = |keys: &tapster_band::BandKeys| tapster_api::BandKeyResource {
        version: keys.version,
        key: hex::encode(keys.master),
    };
    Ok(Json(Data::new(tapster_api::BandKeysResource {
        current: resource(&keyring.current),
        previous: keyring.previous.as_ref().map(resource),
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct SunQuery {
    /// The link's encrypted PICC data (32 hex digits).
    e: String,
    /// The link's signature (16 hex digits).
    c: String,
}

/// A band's SUN link, as a guest's phone opens it: verified with the
/// band's key, used once (a replayed link is refused), resolved to the
/// wallet.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/guest/sun", tag = "guest",
    params(("event_id" = String, Path, description = "The event"), SunQuery),
    responses((status = 200, body = Data<tapster_api::SunTapResource>),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn get_sun_tap(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    query: Result<Query<SunQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ServerError> {
    let query = crate::admin::query_params(query)?;
    let store = state.store.clone();
    let resource = blocking(move || {
        let tap = store.resolve_sun_link(&event_id, &query.e, &query.c)?;
        let wallet = store.wallet(&event_id, &tap.token)?;
        Ok(tapster_api::SunTapResource {
            token_id: tap.token.to_string(),
            counter: tap.counter,
            key_version: tap.key_version,
            wallet,
        })
    })
    .await?;
    Ok(Json(Data::new(resource)).into_response())
}

/// The terminal this token belongs to, with its products.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/pos/terminal", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), security(("api_token" = [])),
    responses((status = 200, body = Data<TerminalResource>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn get_terminal(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let store = state.store.clone();
    let resource = blocking(move || store.terminal_resource(&terminal)).await?;
    Ok(Json(Data::new(resource)).into_response())
}

/// A wallet's balance, found by wristband.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/pos/wallets/token/{token_id}", tag = "pos",
    params(("event_id" = String, Path, description = "The event"), ("token_id" = String, Path, description = "The wristband's NFC UID as hex (4, 7 or 10 bytes)")), security(("api_token" = [])),
    responses((status = 200, body = Data<WalletResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn get_wallet(
    State(state): State<AppState>,
    Path((event_id, token_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    authenticate(&state, &event_id, &headers).await?;
    let token = parse_token(&token_id)?;
    let store = state.store.clone();
    let wallet = blocking(move || store.wallet(&event_id, &token))
        .await?
        .ok_or_else(|| ServerError::NotFound("this token is not paired to a wallet".into()))?;
    Ok(Json(Data::new(wallet)).into_response())
}

/// The idempotency key from the body or from an `Idempotency-Key` /
/// `X-Idempotency-Key` header; different keys in two places are refused.
fn idempotency_key(
    body: Option<&str>,
    headers: &HeaderMap,
) -> Result<Option<IdempotencyKey>, ServerError> {
    let mut found: Option<String> = body.map(str::to_string);
    for name in ["idempotency-key", "x-idempotency-key"] {
        if let Some(value) = headers.get(name) {
            let value = value
                .to_str()
                .map_err(|_| ServerError::invalid(name, "must be printable ASCII"))?
                .to_string();
            match &found {
                Some(existing) if existing != &value => {
                    return Err(ServerError::invalid(
                        "idempotency_key",
                        "differs between body and header",
                    ))
                }
                _ => found = Some(value),
            }
        }
    }
    found
        .map(|k| {
            IdempotencyKey::new(k).map_err(|e| ServerError::invalid("idempotency_key", e.reason))
        })
        .transpose()
}

/// The body, or an error for one that is too large or unreadable.
pub(crate) fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ServerError> {
    body.map_err(|rejection| ServerError::UnreadableBody {
        too_large: rejection.status() == StatusCode::PAYLOAD_TOO_LARGE,
        message: rejection.body_text(),
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ServerError> {
    serde_json::from_slice(body)
        .map_err(|e| ServerError::invalid("body", format!("is not a valid {what}: {e}")))
}

/// Entries of an offline terminal's ledger, in its sequence order; one
/// decision per entry (`created`, `exists`, `conflict`, `rejected`).
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/transactions/batch", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), request_body = BatchRequest, security(("api_token" = [])),
    responses((status = 200, body = Data<BatchResponse>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn post_batch(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let store = state.store.clone();
    // Parsing a thousand entries is work too: off the async threads.
    let response = blocking(move || {
        let started = std::time::Instant::now();
        let request: BatchRequest = parse_json(&body, "batch")?;
        tracing::debug!(
            entries = request.entries.len(),
            parse_ms = started.elapsed().as_millis() as u64,
            "batch parsed"
        );
        store.ingest_batch(&terminal, &request.entries)
    })
    .await?;
    Ok(Json(Data::new(response)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    #[serde(default)]
    since: i64,
    #[serde(default = "default_feed_limit")]
    limit: u32,
}

fn default_feed_limit() -> u32 {
    1000
}

/// Wallets changed after a cursor, for terminals' offline balance cache.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/pos/wallets", tag = "pos",
    params(("event_id" = String, Path, description = "The event"), ("since" = Option<i64>, Query, description = "Cursor of the last change seen (default 0)"),
        ("limit" = Option<u32>, Query, description = "At most this many wallets (default 1000)")),
    security(("api_token" = [])),
    responses((status = 200, body = Data<WalletFeed>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn get_wallet_feed(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    authenticate(&state, &event_id, &headers).await?;
    let query = crate::admin::query_params(query)?;
    let store = state.store.clone();
    let feed = blocking(move || store.wallet_feed(&event_id, query.since, query.limit)).await?;
    Ok(Json(Data::new(feed)).into_response())
}

/// A terminal's sign of life: its app version and pending entries.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/terminal/heartbeat", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), request_body = Heartbeat, security(("api_token" = [])),
    responses((status = 204),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn post_heartbeat(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let beat: Heartbeat = parse_json(&body, "heartbeat")?;
    let store = state.store.clone();
    blocking(move || store.heartbeat(&terminal, &beat)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A till's shift closes for the event's audit trail (Tapster's extension):
/// who closed whose drawer, counted and expected cash. Each shift is
/// recorded once, however often a till sends it.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/audit/shift-closes", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), request_body = tapster_api::audit::TillShiftCloses, security(("api_token" = [])),
    responses((status = 200, description = "How many were new", body = Data<tapster_api::audit::ShiftClosesTaken>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A scanner's token (scans passes only)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn post_shift_closes(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let closes: tapster_api::audit::TillShiftCloses = parse_json(&body, "shift closes")?;
    let store = state.store.clone();
    let taken = blocking(move || store.record_shift_closes(&terminal, closes)).await?;
    Ok(Json(Data::new(taken)).into_response())
}

/// Signs the receipt of an entry the till just committed with the event's
/// fiscal device (Tapster's extension): a signature, or an outage with its
/// reason; the sale stands either way. Asked again for the same entry, the
/// same answer.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/fiscal/receipts", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), request_body = tapster_api::fiscal::SignReceipt, security(("api_token" = [])),
    responses((status = 200, description = "`{\"state\": \"signed\", …}` with the TSE's transaction number, counter, times, serial, algorithm, public key and signature, or `{\"state\": \"outage\", \"reason\": …}`", body = Data<tapster_api::fiscal::Signing>),
        (status = 400, description = "Not a receipt (an adjustment), or a VAT rate German law does not have", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Another till's entry, or a scanner's token", body = ErrorBody),
        (status = 409, description = "The event has no fiscal device", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn post_fiscal_receipt(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let request: tapster_api::fiscal::SignReceipt = parse_json(&body, "receipt")?;
    let store = state.store.clone();
    let signing = blocking(move || store.sign_receipt(&terminal, &request)).await?;
    Ok(Json(Data::new(signing)).into_response())
}

/// A staff member's PIN (from a till's login) for a session on the manager
/// API that allows what their role allows. Wrong PINs count towards the
/// same lockout as a till's login.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/staff-sessions", tag = "pos",
    params(("event_id" = String, Path, description = "The event")), request_body = tapster_api::manage::StaffSessionRequest, security(("api_token" = [])),
    responses((status = 201, body = Data<tapster_api::manage::StaffSession>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Wrong PIN, locked, inactive, or a scanner's token", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn post_staff_session(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let request: tapster_api::manage::StaffSessionRequest = parse_json(&body, "staff session")?;
    let store = state.store.clone();
    let session = blocking(move || store.open_staff_session(&terminal, &request)).await?;
    Ok((StatusCode::CREATED, Json(Data::new(session))).into_response())
}

/// Debits a wallet for products, once per idempotency key (body or
/// `Idempotency-Key` header). A repeat of the same request answers 202 with
/// the original result; the same key with another request 409.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/wallets/token/{token_id}/transactions", tag = "pos",
    params(("event_id" = String, Path, description = "The event"), ("token_id" = String, Path, description = "The wristband's NFC UID as hex (4, 7 or 10 bytes)"), ("Idempotency-Key" = Option<String>, Header, description = "Alternative to the body's idempotency_key")),
    request_body = CreateTransaction, security(("api_token" = [])),
    responses((status = 200, body = Data<WalletResource>),
        (status = 202, description = "Repeated key: the original result", body = Data<WalletResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 402, description = "Not enough balance, or blocked", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No wallet for the wristband, or no such pass", body = ErrorBody),
        (status = 409, description = "The key was used for another request, or the pass is used up (`pass_refused`)", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "The pass is blocked or outside its window (`pass_refused`), or not for these products (`pass_not_applicable`); more cups back than the wallet has out (`deposit_return_exceeded`) or worth more than the order (`returns_exceed_order`)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn post_transaction(
    State(state): State<AppState>,
    Path((event_id, token_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let request: CreateTransaction = parse_json(&body, "transaction")?;
    let token = parse_token(&token_id)?;
    let key = idempotency_key(request.idempotency_key.as_deref(), &headers)?;
    let store = state.store.clone();
    let outcome =
        blocking(move || store.create_transaction(&terminal, &token, &request, key.as_ref()))
            .await?;
    let status = match outcome.applied {
        Applied::Created => StatusCode::OK,
        Applied::Replayed => StatusCode::ACCEPTED,
    };
    // The body is seed 001's; a terminal that keeps a ledger also needs
    // the transaction's id and feed cursor, which travel as headers.
    let mut response = (status, Json(Data::new(outcome.wallet))).into_response();
    let headers = response.headers_mut();
    ledger_headers(headers, &outcome.transaction_id, outcome.cursor);
    if let Some(promo) = outcome.promo {
        headers.insert(
            tapster_api::PROMO_HEADER,
            axum::http::HeaderValue::from(promo),
        );
    }
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/wallets/token/{token_id}/payout", tag = "pos",
    params(("event_id" = String, Path, description = "The event"), ("token_id" = String, Path, description = "The wristband's NFC UID as hex")),
    request_body = CreatePayout, security(("api_token" = [])),
    responses((status = 200, description = "Paid out: the amount and the wallet after it (transaction id and cursor in the headers)", body = Data<PayoutApplied>),
        (status = 202, description = "Repeated key: the original result", body = Data<PayoutApplied>),
        (status = 400, description = "Bad input, or nothing to pay out (`nothing_to_pay_out`)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 402, description = "The band is blocked (`wallet_blocked`)", body = ErrorBody),
        (status = 403, description = "The terminal may not pay out", body = ErrorBody),
        (status = 404, description = "No wallet for the wristband", body = ErrorBody),
        (status = 409, description = "The key was used for another request, or a payout run holds the band", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn post_payout(
    State(state): State<AppState>,
    Path((event_id, token_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let terminal = authenticate(&state, &event_id, &headers).await?;
    let body = read_body(body)?;
    let request: CreatePayout = parse_json(&body, "payout")?;
    let token = parse_token(&token_id)?;
    let store = state.store.clone();
    let outcome = blocking(move || store.till_payout(&terminal, &token, &request)).await?;
    let status = match outcome.applied {
        Applied::Created => StatusCode::OK,
        Applied::Replayed => StatusCode::ACCEPTED,
    };
    let mut response = (status, Json(Data::new(outcome.answer))).into_response();
    ledger_headers(
        response.headers_mut(),
        &outcome.transaction_id,
        outcome.cursor,
    );
    Ok(response)
}

/// The transaction's id and feed cursor, which a terminal keeping a ledger
/// records beside the server's answer.
fn ledger_headers(headers: &mut HeaderMap, transaction_id: &str, cursor: i64) {
    if let Ok(value) = axum::http::HeaderValue::from_str(transaction_id) {
        headers.insert(tapster_api::TRANSACTION_ID_HEADER, value);
    }
    headers.insert(
        tapster_api::CURSOR_HEADER,
        axum::http::HeaderValue::from(cursor),
    );
}
