//! Seed 003's routes under the event prefix: devices and locations (a
//! manager's token: the seed's `devices.*` abilities), and pass scans (a
//! device's token: `scanners.get`, `scanners.post`). Any other token is
//! refused with 403; no token, or an unknown one, with 401.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tapster_api::walletapp::{
    DeviceResource, DeviceToken, DeviceUpdate, Envelope, LocationResource, Message, NewDevice,
    NewLocation, PassInfo, RedeemVoucher, ScanConflict, ScanRequest, VoucherRedeemed,
};
#[allow(unused_imports)]
use tapster_api::{Data, ErrorBody, PassFeed};
use tapster_ledger::passes::{PassCode, PassRefusal};
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::rules::Action;
use tapster_ledger::IdempotencyKey;

use crate::admin::query_params;
use crate::error::ServerError;
use crate::http::{bearer, blocking, read_body, AppState};
use crate::manage::ManagerIdentity;
use crate::passes::Refused;
use crate::store::{AuthenticatedTerminal, ServerStore};

pub fn routes() -> Router<AppState> {
    let e = |path: &str| format!("/api/v1/events/{{event_id}}/{path}");
    Router::new()
        .route(&e("devices"), get(list_devices).post(store_device))
        .route(&e("devices/scan/info"), get(scan_info))
        .route(&e("devices/scan"), post(scan))
        .route(
            &e("devices/{identifier}"),
            get(fetch_device)
                .put(update_device)
                .delete(archive_device)
                .patch(restore_device),
        )
        .route(&e("devices/{identifier}/token"), post(device_token))
        .route(&e("locations"), get(list_locations).post(store_location))
        .route(
            &e("pos/wallets/token/{token_id}/vouchers"),
            post(redeem_voucher),
        )
        .route(&e("pos/passes"), get(pass_feed))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PassFeedQuery {
    /// The last version seen (default 0: everything).
    #[serde(default)]
    since: i64,
    /// At most this many passes (default 1000, at most 1000).
    #[serde(default = "thousand")]
    limit: u32,
}

fn thousand() -> u32 {
    1000
}

/// The discount and allowance passes changed after a version, for a
/// till's offline use: by the SHA-256 digest of the code (`tapster-pass-v1\n`
/// + code, hex), never the code itself.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/pos/passes", tag = "pos",
    params(("event_id" = String, Path), PassFeedQuery), security(("api_token" = [])),
    responses((status = 200, body = Data<PassFeed>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "a scanner's token", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn pass_feed(
    State(s): State<AppState>,
    Path(e): Path<String>,
    query: Result<Query<PassFeedQuery>, QueryRejection>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let Caller::Device(_) = caller(&s, &e, &h).await? else {
        return Err(ServerError::Forbidden("the pass feed is for tills".into()));
    };
    let query = query_params(query)?;
    let store = s.store.clone();
    let feed = blocking(move || store.pass_feed(&e, query.since, query.limit)).await?;
    Ok(Json(Data::new(feed)).into_response())
}

type Store = std::sync::Arc<ServerStore>;

/// Who is asking.
enum Caller {
    Manager(ManagerIdentity),
    Device(AuthenticatedTerminal),
}

async fn caller(state: &AppState, event: &str, headers: &HeaderMap) -> Result<Caller, ServerError> {
    let token = bearer(headers).ok_or(ServerError::Unauthenticated)?;
    let (store, event) = (state.store.clone(), event.to_string());
    blocking(move || {
        if let Some(device) = store.authenticate_terminal(&event, &token)? {
            return Ok(Caller::Device(device));
        }
        match store.authenticate_manager(&event, &token)? {
            Some(identity) => Ok(Caller::Manager(identity)),
            None => Err(ServerError::Unauthenticated),
        }
    })
    .await
}

/// `devices.*`: a manager's token (or a manager's staff session).
/// The manager behind the token, as the audit trail names them.
async fn manager(
    state: &AppState,
    event: &str,
    headers: &HeaderMap,
) -> Result<crate::audit::Actor, ServerError> {
    match caller(state, event, headers).await? {
        Caller::Manager(identity) => {
            identity.check(Action::ChangeSettings)?;
            Ok(identity.actor())
        }
        Caller::Device(_) => Err(ServerError::Forbidden(
            "a device token has the abilities scanners.get and scanners.post only".into(),
        )),
    }
}

/// `scanners.get` / `scanners.post`: a device's token.
async fn device(
    state: &AppState,
    event: &str,
    headers: &HeaderMap,
) -> Result<AuthenticatedTerminal, ServerError> {
    match caller(state, event, headers).await? {
        Caller::Device(device) => Ok(device),
        Caller::Manager(_) => Err(ServerError::Forbidden(
            "scans need a device token (abilities scanners.get, scanners.post)".into(),
        )),
    }
}

fn json<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ServerError> {
    let body = read_body(body)?;
    serde_json::from_slice(&body).map_err(|e| ServerError::invalid("body", e.to_string()))
}

fn ok<T: Serialize>(value: T) -> Response {
    Json(Envelope::ok(value)).into_response()
}

fn message(text: &str) -> Response {
    Json(Message {
        message: text.into(),
    })
    .into_response()
}

/// Checks the caller has `devices.*`, then runs `work` off the async
/// threads. Bodies are read only after the check: a caller without the
/// ability learns nothing about what a body should hold.
macro_rules! as_manager {
    ($state:expr, $event:expr, $headers:expr, $work:expr) => {{
        let actor = manager(&$state, &$event, &$headers).await?;
        as_manager!(checked actor, $state, $event, $work)
    }};
    (checked $actor:expr, $state:expr, $event:expr, $work:expr) => {{
        let store = $state.store.clone();
        let event = $event.clone();
        let (actor, work) = ($actor, $work);
        blocking(move || crate::audit::acting_as(actor, || work(&store, &event))).await
    }};
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/devices", tag = "devices",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "`{message, data: [device]}`; `pin` is always null (kept hashed)", body = Envelope<Vec<DeviceResource>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "a device token", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn list_devices(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    as_manager!(s, e, h, |st: &Store, ev: &str| st.devices(ev)).map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/devices", tag = "devices",
    params(("event_id" = String, Path)), request_body = NewDevice, security(("admin_token" = [])),
    responses((status = 201, body = Envelope<DeviceResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "the external_device_id is taken", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn store_device(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let actor = manager(&s, &e, &h).await?;
    let new: NewDevice = json(body)?;
    let device = as_manager!(checked actor, s, e, move |st: &Store, ev: &str| st.create_device(
        ev,
        new,
        PinHashCost::Production
    ))?;
    Ok((StatusCode::CREATED, Json(Envelope::ok(device))).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/devices/{identifier}", tag = "devices",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Envelope<DeviceResource>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn fetch_device(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    as_manager!(s, e, h, move |st: &Store, ev: &str| st.device(ev, &id)).map(ok)
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/devices/{identifier}", tag = "devices",
    params(("event_id" = String, Path), ("identifier" = String, Path)), request_body = DeviceUpdate, security(("admin_token" = [])),
    responses((status = 200, body = Envelope<DeviceResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the external_device_id belongs to another device", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn update_device(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let actor = manager(&s, &e, &h).await?;
    let update: DeviceUpdate = json(body)?;
    as_manager!(checked actor, s, e, move |st: &Store, ev: &str| st.update_device(
        ev,
        &id,
        update,
        PinHashCost::Production
    ))
    .map(ok)
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/devices/{identifier}", tag = "devices",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "`{\"message\": \"Device deleted\"}`: archived, its token stops working", body = Message),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn archive_device(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    as_manager!(s, e, h, move |st: &Store, ev: &str| {
        let terminal = st.device_terminal(ev, &id)?;
        st.set_terminal_archived(ev, &terminal, true)
    })?;
    Ok(message("Device deleted"))
}

#[utoipa::path(patch, path = "/api/v1/events/{event_id}/devices/{identifier}", tag = "devices",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "`{\"message\": \"Device restore\"}`", body = Message),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn restore_device(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    as_manager!(s, e, h, move |st: &Store, ev: &str| {
        let terminal = st.device_terminal(ev, &id)?;
        st.set_terminal_archived(ev, &terminal, false)
    })?;
    Ok(message("Device restore"))
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/devices/{identifier}/token", tag = "devices",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "A new device token, shown once; the old one stops working", body = Envelope<DeviceToken>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn device_token(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let identifier = id.clone();
    as_manager!(s, e, h, move |st: &Store, ev: &str| st
        .device_token(ev, &id))
    .map(|api_token| {
        ok(DeviceToken {
            identifier,
            api_token,
        })
    })
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/locations", tag = "devices",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Envelope<Vec<LocationResource>>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn list_locations(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    as_manager!(s, e, h, |st: &Store, ev: &str| st.locations(ev)).map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/locations", tag = "devices",
    params(("event_id" = String, Path)), request_body = NewLocation, security(("admin_token" = [])),
    responses((status = 201, body = Envelope<LocationResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn store_location(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let actor = manager(&s, &e, &h).await?;
    let new: NewLocation = json(body)?;
    let location = as_manager!(checked actor, s, e, move |st: &Store, ev: &str| st
        .create_location(ev, &new.address))?;
    Ok((StatusCode::CREATED, Json(Envelope::ok(location))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct CodeQuery {
    /// The text in the pass's QR code.
    code: Option<String>,
}

fn code(text: &str) -> Result<PassCode, ServerError> {
    PassCode::parse(text).map_err(|e| ServerError::invalid("code", e.reason))
}

/// A scan that did not redeem: 409 when used up (the seed's "Pass already
/// redeemed" / "Code already redeemed"), 422 when blocked or outside its
/// window; the pass's data either way.
fn refused(refused: Refused) -> Response {
    let status = match refused.refusal {
        PassRefusal::AlreadyRedeemed { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let message = match &refused.refusal {
        PassRefusal::AlreadyRedeemed { .. } => refused.refusal.to_string(),
        PassRefusal::Blocked => "Pass blocked".into(),
        PassRefusal::NotYetValid { .. } => "Pass not valid yet".into(),
        PassRefusal::Expired { .. } => "Pass expired".into(),
    };
    (
        status,
        Json(Envelope {
            message,
            data: refused.pass.info(),
        }),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/devices/scan/info", tag = "devices",
    params(("event_id" = String, Path), CodeQuery), security(("api_token" = [])),
    responses((status = 200, description = "The pass, redeemable now", body = PassInfo),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a device token", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`{\"message\": \"Pass already redeemed\" | \"Code already redeemed\", \"data\": pass}`", body = Envelope<PassInfo>),
        (status = 422, description = "`{\"message\": \"Pass blocked\" | \"Pass expired\" | \"Pass not valid yet\", \"data\": pass}`", body = Envelope<PassInfo>),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn scan_info(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<CodeQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    device(&s, &e, &h).await?;
    let query = query_params(query)?;
    let code = code(query.code.as_deref().unwrap_or(""))?;
    let store = s.store.clone();
    let stored = blocking(move || store.pass(&e, code.as_str())).await?;
    let now = s.store.clock.now();
    Ok(match stored.pass.check_redeemable(now, stored.counted) {
        Ok(()) => Json(stored.info()).into_response(),
        Err(refusal) => refused(Refused {
            refusal,
            pass: Box::new(stored),
        }),
    })
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/devices/scan", tag = "devices",
    params(("event_id" = String, Path), CodeQuery), request_body = ScanRequest, security(("api_token" = [])),
    responses((status = 200, description = "Redeemed at this device", body = PassInfo),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a device token", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`{\"message\": \"Pass already redeemed\" | \"Code already redeemed\", \"data\": pass}`, or the idempotency key was used for another scan (`idempotency_conflict`)", body = ScanConflict),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 422, description = "blocked, expired or not valid yet, with the pass", body = Envelope<PassInfo>),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn scan(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<CodeQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let device = device(&s, &e, &h).await?;
    let query = query_params(query)?;
    // The seed names `code` a query parameter and sends it in the body:
    // either works.
    let request: ScanRequest = match read_body(body)? {
        bytes if bytes.is_empty() => ScanRequest::default(),
        bytes => serde_json::from_slice(&bytes)
            .map_err(|e| ServerError::invalid("body", e.to_string()))?,
    };
    let code = code(request.code.or(query.code).as_deref().unwrap_or(""))?;
    let key = request
        .idempotency_key
        .map(IdempotencyKey::new)
        .transpose()
        .map_err(|e| ServerError::invalid("idempotency_key", e.reason))?;
    let store = s.store.clone();
    let outcome =
        blocking(move || store.redeem_pass(&e, code.as_str(), &device.id, key.as_ref())).await?;
    Ok(match outcome {
        Ok(stored) => Json(stored.info()).into_response(),
        Err(refusal) => refused(refusal),
    })
}

/// A till redeems a voucher onto a wristband as promo credit (spent before
/// paid money, never paid out). Tills only: a scanner's token gets 403 on
/// `pos/*`. Any till may, whatever its permission: the pass, not the till's
/// cash, is what is credited.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/pos/wallets/token/{token_id}/vouchers", tag = "pos",
    params(("event_id" = String, Path), ("token_id" = String, Path, description = "The wristband's NFC UID as hex")),
    request_body = RedeemVoucher, security(("api_token" = [])),
    responses((status = 200, description = "Credited", body = VoucherRedeemed),
        (status = 202, description = "Repeated key: the first answer", body = VoucherRedeemed),
        (status = 400, description = "not a voucher, the credit would pass the maximum balance, or bad input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 402, description = "the wristband is blocked", body = ErrorBody),
        (status = 403, description = "a scanner's token", body = ErrorBody),
        (status = 404, description = "no such pass, or no wallet for the wristband", body = ErrorBody),
        (status = 409, description = "`{\"message\": \"Pass already redeemed\" | \"Code already redeemed\", \"data\": pass}`, or the key was used for another request (`idempotency_conflict`)", body = ScanConflict),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 422, description = "blocked, expired or not valid yet, with the pass", body = Envelope<PassInfo>),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn redeem_voucher(
    State(s): State<AppState>,
    Path((e, token_id)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let Caller::Device(till) = caller(&s, &e, &h).await? else {
        return Err(ServerError::Forbidden(
            "vouchers are redeemed by a till".into(),
        ));
    };
    let request: RedeemVoucher = json(body)?;
    let code = code(&request.code)?;
    let key = IdempotencyKey::new(request.idempotency_key)
        .map_err(|e| ServerError::invalid("idempotency_key", e.reason))?;
    let token = tapster_ledger::TokenId::parse(&token_id)
        .map_err(|e| ServerError::invalid("token_id", e.to_string()))?;
    let store = s.store.clone();
    let outcome = blocking(move || store.redeem_voucher(&till, &token, &code, &key)).await?;
    Ok(match outcome {
        crate::vouchers::VoucherOutcome::Credited { answer, replayed } => {
            let status = if replayed {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            (status, Json::<VoucherRedeemed>(*answer)).into_response()
        }
        crate::vouchers::VoucherOutcome::Refused(refusal) => refused(refusal),
    })
}
