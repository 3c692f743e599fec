//! The manager API under `/api/v1/events/{event_id}/manage/`, with the
//! event's admin token. Handlers parse, call [`crate::manage`], map errors.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
#[allow(unused_imports)]
use tapster_api::{Data, ErrorBody, WalletResource};
use tapster_ledger::model::{Category, EventSettings, Product};
use tapster_ledger::payout_request::PayoutSettings;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::{CategoryId, Cents, ProductId, StaffId, TokenId};

use crate::audit::AuditFilter;
use crate::error::ServerError;
use crate::http::{bearer, blocking, read_body, AppState};
#[allow(unused_imports)]
use crate::manage::{
    CategoryOrder, Conflicts, ManagerIdentity, NewStaffMember, NewTerminal, PairWallet,
    RecordFilter, SalesRecord, StaffBadge, StaffMember, Summary, TerminalCreated, TerminalStatus,
    TerminalUpdate, TopUpRecord,
};
#[allow(unused_imports)]
use crate::payout_run::{NewPayoutRun, PayoutRun, RunFile, UnclaimedBalances};
use crate::stock_admin::download;
use tapster_api::audit::{AuditRecord, AuditVerification};
use tapster_api::payouts::{GuestCodes, GuestCodesRequest};
use tapster_api::walletapp::{ImportPasses, ManagedPass, NewPassBatch, PassBatch, RedemptionRow};
use tapster_ledger::rules::Action;

pub fn routes() -> Router<AppState> {
    let m = |path: &str| format!("/api/v1/events/{{event_id}}/manage/{path}");
    Router::new()
        .route(&m("settings"), get(get_settings).put(put_settings))
        .route(&m("categories"), get(list_categories).post(save_category))
        .route(&m("categories/{category_id}"), delete(remove_category))
        .route(&m("category-order"), put(reorder_categories))
        .route(&m("products"), get(list_products).post(create_product))
        .route(
            &m("products/{product_id}"),
            put(update_product)
                .delete(archive_product)
                .patch(restore_product),
        )
        .route(&m("terminals"), get(list_terminals).post(create_terminal))
        .route(
            &m("terminals/{terminal_id}"),
            put(update_terminal)
                .delete(archive_terminal)
                .patch(restore_terminal),
        )
        .route(&m("terminals/{terminal_id}/token"), post(roll_token))
        .route(&m("staff"), get(list_staff).post(save_staff))
        .route(&m("staff/{staff_id}/badge"), put(set_staff_badge))
        .route(&m("wallets"), post(pair_wallet))
        .route(&m("wallets/token/{token_id}"), get(get_wallet))
        .route(
            &m("wallets/token/{token_id}/block"),
            post(block_wallet).delete(unblock_wallet),
        )
        .route(&m("wallets/token/{token_id}/move"), post(move_wallet))
        .route(&m("guest-codes"), post(guest_codes))
        .route(&m("guest-security"), get(guest_security))
        .route(&m("fiscal"), get(get_fiscal).put(put_fiscal))
        .route(&m("fiscal/dsfinvk.zip"), get(dsfinvk_export))
        .route(
            &m("payout-settings"),
            get(get_payout_settings).put(put_payout_settings),
        )
        .route(&m("wallets/token/{token_id}/payout"), post(payout))
        .route(
            &m("payout-runs"),
            get(list_payout_runs).post(create_payout_run),
        )
        .route(&m("payout-runs/{run_id}"), get(get_payout_run))
        .route(&m("payout-runs/{run_id}/sepa.xml"), get(payout_run_sepa))
        .route(&m("payout-runs/{run_id}/bands.csv"), get(payout_run_csv))
        .route(&m("payout-runs/{run_id}/done"), post(finish_payout_run))
        .route(&m("payout-runs/{run_id}/revoke"), post(revoke_payout_run))
        .route(&m("payouts/unclaimed"), get(unclaimed_balances))
        .route(&m("payouts/unclaimed/settle"), post(settle_unclaimed))
        .route(&m("reports/sales"), get(sales_report))
        .route(&m("reports/topups"), get(top_up_report))
        .route(&m("reports/summary"), get(summary))
        .route(&m("conflicts"), get(conflicts))
        .route(&m("band-keys/rotate"), post(rotate_band_keys))
        .route(
            &m("integrations"),
            get(list_integrations).post(create_integration),
        )
        .route(&m("integrations/{app}"), delete(revoke_integration))
        .route(&m("passes"), get(list_passes).post(create_passes))
        .route(&m("passes.csv"), get(export_passes))
        .route(&m("passes/import"), post(import_passes))
        .route(&m("passes/sheet.pdf"), get(pass_sheet))
        .route(&m("passes/{code}/qr.png"), get(pass_qr))
        .route(
            &m("passes/{code}/block"),
            post(block_pass).delete(unblock_pass),
        )
        .route(&m("reports/passes"), get(pass_report))
        .route(&m("audit"), get(audit_trail))
        .route(&m("audit.csv"), get(audit_csv))
        .route(&m("audit/verify"), get(verify_audit))
}

/// Refuses unless the bearer token is this event's admin token, or a
/// staff session whose role (as it is now) allows `action`.
pub(crate) async fn authorize(
    state: &AppState,
    event: &str,
    headers: &HeaderMap,
    action: Action,
) -> Result<ManagerIdentity, ServerError> {
    let token = bearer(headers).ok_or(ServerError::Unauthenticated)?;
    let store = state.store.clone();
    let event = event.to_string();
    let identity = blocking(move || store.authenticate_manager(&event, &token))
        .await?
        .ok_or(ServerError::Unauthenticated)?;
    identity.check(action)?;
    Ok(identity)
}

pub(crate) fn json<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ServerError> {
    let body = read_body(body)?;
    serde_json::from_slice(&body).map_err(|e| ServerError::invalid("body", e.to_string()))
}

/// The query's parameters, or a 400 in the API's error shape (axum's own
/// rejection is plain text).
pub(crate) fn query_params<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ServerError> {
    query
        .map(|Query(query)| query)
        .map_err(|e| ServerError::invalid("query", e.body_text()))
}

pub(crate) fn ok<T: Serialize>(value: T) -> Response {
    Json(Data::new(value)).into_response()
}

fn product_id(id: &str) -> Result<ProductId, ServerError> {
    ProductId::new(id).map_err(|e| ServerError::invalid("product_id", e.reason))
}

fn token_id(id: &str) -> Result<TokenId, ServerError> {
    TokenId::parse(id).map_err(|e| ServerError::invalid("token_id", e.to_string()))
}

/// Runs a manager action: checks the token allows `action`, then `work`
/// off the async threads.
macro_rules! managed {
    ($state:expr, $event:expr, $headers:expr, $action:expr, $work:expr) => {{
        let actor = authorize(&$state, &$event, &$headers, $action)
            .await?
            .actor();
        let store = $state.store.clone();
        let event = $event.clone();
        let work = $work;
        blocking(move || crate::audit::acting_as(actor, || work(&store, &event))).await
    }};
}

type Store = std::sync::Arc<crate::store::ServerStore>;

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/settings", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The event settings", body = Data<EventSettings>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn get_settings(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ChangeSettings, |st: &Store, ev: &str| st
        .settings(ev))
    .map(ok)
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/settings", tag = "manage",
    params(("event_id" = String, Path)), request_body = EventSettings, security(("admin_token" = [])),
    responses((status = 200, description = "The settings now in force", body = Data<EventSettings>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn put_settings(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let settings: EventSettings = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.update_settings(ev, settings)
    )
    .map(ok)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct RotateQuery {
    /// Rotate only if this is the current version (409 otherwise): a
    /// repeated request does not rotate twice.
    expected_version: Option<u8>,
}

/// A new master key version for the event's bands (after a till was
/// lost); only the versions are answered, never a key.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/band-keys/rotate", tag = "manage",
    params(("event_id" = String, Path), RotateQuery), security(("admin_token" = [])),
    responses((status = 200, description = "The key versions now in use", body = Data<RotatedKeys>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 409, description = "`expected_version` is not the current version; nothing was rotated", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn rotate_band_keys(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<RotateQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    let query = query_params(query)?;
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.rotate_band_keys(ev, query.expected_version)
    )
    .map(|keys| {
        ok(RotatedKeys {
            key_version: keys.current.version,
            previous_version: keys.previous.map(|p| p.version),
        })
    })
}

/// The band key versions in use after a rotation (never the keys).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RotatedKeys {
    /// The version new bands are written with.
    key_version: u8,
    /// The version still accepted (bands not yet rewritten).
    previous_version: Option<u8>,
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/categories", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<Category>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn list_categories(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ManageCatalogue, |st: &Store, ev: &str| st
        .categories(ev))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/categories", tag = "manage",
    params(("event_id" = String, Path)), request_body = Category, security(("admin_token" = [])),
    responses((status = 200, description = "Created or changed", body = Data<Category>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn save_category(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let category: Category = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.save_category(ev, category)
    )
    .map(ok)
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/categories/{category_id}", tag = "manage",
    params(("event_id" = String, Path), ("category_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Removed: the categories left, in order", body = Data<Vec<Category>>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, description = "No such category (`unknown_category`)", body = ErrorBody),
        (status = 409, description = "Products (archived ones too) are still filed under it (`category_not_empty`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn remove_category(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let id = CategoryId::new(id).map_err(|e| ServerError::invalid("category_id", e.reason))?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.remove_category(ev, id)
    )
    .map(ok)
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/category-order", tag = "manage",
    params(("event_id" = String, Path)), request_body = CategoryOrder, security(("admin_token" = [])),
    responses((status = 200, description = "The categories in their new order", body = Data<Vec<Category>>),
        (status = 400, description = "Not every category exactly once", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, description = "An id that is no category (`unknown_category`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn reorder_categories(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let CategoryOrder { order } = json(body)?;
    let order = order
        .into_iter()
        .map(CategoryId::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServerError::invalid("order", e.reason))?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.reorder_categories(ev, order)
    )
    .map(ok)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    archived: bool,
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/products", tag = "manage",
    params(("event_id" = String, Path), ("archived" = Option<bool>, Query)), security(("admin_token" = [])),
    responses((status = 200, description = "Products (seed 004)", body = Data<Vec<Product>>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn list_products(
    State(s): State<AppState>,
    Path(e): Path<String>,
    query: Result<Query<ListQuery>, QueryRejection>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let query = query_params(query)?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.products(ev, query.archived)
    )
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/products", tag = "manage",
    params(("event_id" = String, Path)), request_body = Product, security(("admin_token" = [])),
    responses((status = 201, body = Data<Product>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 409, description = "A product with this id exists", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn create_product(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let product: Product = json(body)?;
    let response = managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.save_product(ev, product, true)
    )?;
    Ok((StatusCode::CREATED, Json(Data::new(response))).into_response())
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/products/{product_id}", tag = "manage",
    params(("event_id" = String, Path), ("product_id" = String, Path)), request_body = Product, security(("admin_token" = [])),
    responses((status = 200, body = Data<Product>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn update_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let product: Product = json(body)?;
    if product.id != product_id(&id)? {
        return Err(ServerError::invalid("id", "differs from the path"));
    }
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.save_product(ev, product, false)
    )
    .map(ok)
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/products/{product_id}", tag = "manage",
    params(("event_id" = String, Path), ("product_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Archived: tills stop selling it", body = Data<Product>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn archive_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let id = product_id(&id)?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.set_product_archived(ev, &id, true)
    )
    .map(ok)
}

#[utoipa::path(patch, path = "/api/v1/events/{event_id}/manage/products/{product_id}", tag = "manage",
    params(("event_id" = String, Path), ("product_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "On sale again", body = Data<Product>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn restore_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let id = product_id(&id)?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str| st.set_product_archived(ev, &id, false)
    )
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/terminals", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<TerminalStatus>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn list_terminals(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewReports, |st: &Store, ev: &str| st
        .terminals(ev))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/terminals", tag = "manage",
    params(("event_id" = String, Path)), request_body = NewTerminal, security(("admin_token" = [])),
    responses((status = 201, body = Data<TerminalCreated>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn create_terminal(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let new: NewTerminal = json(body)?;
    let (id, api_token) = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.create_terminal(ev, &new.friendly_name, new.permission)
    )?;
    Ok((
        StatusCode::CREATED,
        Json(Data::new(crate::manage::TerminalCreated { id, api_token })),
    )
        .into_response())
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/terminals/{terminal_id}", tag = "manage",
    params(("event_id" = String, Path), ("terminal_id" = String, Path)), request_body = TerminalUpdate, security(("admin_token" = [])),
    responses((status = 200, body = Data<TerminalStatus>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn update_terminal(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let update: TerminalUpdate = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.update_terminal(ev, &id, update)
    )
    .map(ok)
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/terminals/{terminal_id}", tag = "manage",
    params(("event_id" = String, Path), ("terminal_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<TerminalStatus>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn archive_terminal(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.set_terminal_archived(ev, &id, true)
    )
    .map(ok)
}

#[utoipa::path(patch, path = "/api/v1/events/{event_id}/manage/terminals/{terminal_id}", tag = "manage",
    params(("event_id" = String, Path), ("terminal_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<TerminalStatus>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn restore_terminal(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.set_terminal_archived(ev, &id, false)
    )
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/terminals/{terminal_id}/token", tag = "manage",
    params(("event_id" = String, Path), ("terminal_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<TerminalCreated>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn roll_token(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.roll_terminal_token(ev, &id)
    )
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/staff", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<StaffMember>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn list_staff(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ManageStaff, |st: &Store, ev: &str| st
        .staff(ev))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/staff", tag = "manage",
    params(("event_id" = String, Path)), request_body = NewStaffMember, security(("admin_token" = [])),
    responses((status = 200, body = Data<StaffMember>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 409, description = "`create` for an id that exists with another name, role, active flag or PIN (`conflict`); nothing was changed", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn save_staff(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let member: NewStaffMember = json(body)?;
    managed!(s, e, h, Action::ManageStaff, move |st: &Store, ev: &str| st
        .save_staff(ev, member, PinHashCost::Production))
    .map(ok)
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/staff/{staff_id}/badge", tag = "manage",
    params(("event_id" = String, Path), ("staff_id" = String, Path)), request_body = StaffBadge, security(("admin_token" = [])),
    responses((status = 200, description = "The member with their badge (masked)", body = Data<StaffMember>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, description = "No such staff member (`unknown_staff`)", body = ErrorBody),
        (status = 409, description = "Another member's badge (`badge_in_use`) or a guest's wristband (`badge_is_guest_band`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn set_staff_badge(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let StaffBadge { badge } = json(body)?;
    let id = StaffId::new(id).map_err(|e| ServerError::invalid("staff_id", e.reason))?;
    let badge = badge.as_deref().map(token_id).transpose()?;
    managed!(s, e, h, Action::ManageStaff, move |st: &Store, ev: &str| st
        .set_staff_badge(ev, id, badge))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/wallets", tag = "manage",
    params(("event_id" = String, Path)), request_body = PairWallet, security(("admin_token" = [])),
    responses((status = 201, body = Data<WalletResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn pair_wallet(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let pair: PairWallet = json(body)?;
    let token = token_id(&pair.token_id)?;
    if pair.balance < 0 {
        return Err(ServerError::invalid("balance", "must not be negative"));
    }
    // A starting credit is money no drawer took in: a manager's decision.
    let action = if pair.balance > 0 {
        Action::Adjust
    } else {
        Action::ManageWallets
    };
    let wallet = managed!(s, e, h, action, move |st: &Store, ev: &str| st
        .create_wallet(ev, &token, Cents(pair.balance), pair.paired_user.as_deref()))?;
    Ok((StatusCode::CREATED, Json(Data::new(wallet))).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/wallets/token/{token_id}", tag = "manage",
    params(("event_id" = String, Path), ("token_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<WalletResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn get_wallet(
    State(s): State<AppState>,
    Path((e, t)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let token = token_id(&t)?;
    let (wallet, transactions) = managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| {
            let wallet = st.wallet(ev, &token)?.ok_or_else(|| {
                ServerError::NotFound("this token is not paired to a wallet".into())
            })?;
            Ok((wallet, st.transactions(ev, &token, 100)?))
        }
    )?;
    let mut wallet = wallet;
    wallet.transactions = Some(transactions);
    Ok(ok(wallet))
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/wallets/token/{token_id}/block", tag = "manage",
    params(("event_id" = String, Path), ("token_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 204),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn block_wallet(
    State(s): State<AppState>,
    Path((e, t)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let token = token_id(&t)?;
    managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.set_wallet_blocked(ev, &token, true)
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/wallets/token/{token_id}/block", tag = "manage",
    params(("event_id" = String, Path), ("token_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 204),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn unblock_wallet(
    State(s): State<AppState>,
    Path((e, t)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let token = token_id(&t)?;
    managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.set_wallet_blocked(ev, &token, false)
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveRequest {
    to_token_id: String,
}

/// The balance moved to the new wristband, in cents.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Moved {
    balance: i64,
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/wallets/token/{token_id}/move", tag = "manage",
    params(("event_id" = String, Path), ("token_id" = String, Path)), request_body = MoveRequest, security(("admin_token" = [])),
    responses((status = 200, description = "The new wristband's balance", body = Data<Moved>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn move_wallet(
    State(s): State<AppState>,
    Path((e, t)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let from = token_id(&t)?;
    let request: MoveRequest = json(body)?;
    let to = token_id(&request.to_token_id)?;
    let balance = managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.move_wallet(ev, &from, &to)
    )?;
    Ok(ok(Moved { balance }))
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/guest-codes", tag = "manage",
    params(("event_id" = String, Path)), request_body = GuestCodesRequest, security(("admin_token" = [])),
    responses((status = 200, description = "The codes for the guest pages, shown only now", body = Data<GuestCodes>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn guest_codes(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let request: GuestCodesRequest = json(body)?;
    let tokens = request
        .token_ids
        .iter()
        .map(|t| token_id(t))
        .collect::<Result<Vec<_>, _>>()?;
    let codes = managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.issue_guest_codes(ev, &tokens)
    )?;
    Ok(ok(GuestCodes { codes }))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/guest-security", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Wrong codes on the guest pages this hour, and the hours past the budget", body = Data<crate::guest::GuestSecurity>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn guest_security(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ManageWallets, |st: &Store, ev: &str| st
        .guest_security(ev))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/fiscal", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The fiscal device, whether it can sign now, and the outages per till since it was set up", body = Data<tapster_api::fiscal::FiscalStatus>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn get_fiscal(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewReports, |st: &Store, ev: &str| st
        .fiscal_status(ev))
    .map(ok)
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/fiscal", tag = "manage",
    params(("event_id" = String, Path)), request_body = tapster_api::fiscal::FiscalSetup, security(("admin_token" = [])),
    responses((status = 200, description = "The device now signing (its secret is never answered)", body = Data<tapster_api::fiscal::FiscalStatus>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn put_fiscal(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let setup: tapster_api::fiscal::FiscalSetup = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.set_fiscal_device(ev, setup)
    )
    .map(ok)
}

/// Business days, both included: `2026-07-17`.
#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct DayRange {
    from: Option<String>,
    to: Option<String>,
}

fn business_day(
    value: Option<&str>,
    field: &str,
) -> Result<Option<jiff::civil::Date>, ServerError> {
    value
        .map(|day| {
            day.parse::<jiff::civil::Date>()
                .map_err(|_| ServerError::invalid(field, "must be a date like 2026-07-17"))
        })
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/fiscal/dsfinvk.zip", tag = "manage",
    params(("event_id" = String, Path), DayRange), security(("admin_token" = [])),
    responses((status = 200, description = "The tax auditors' DSFinV-K 2.3 export: a ZIP of the 20 CSV files, index.xml and the GDPdU DTD; one closing per till per business day (06:00 to 06:00)", content_type = "application/zip"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn dsfinvk_export(
    State(s): State<AppState>,
    Path(e): Path<String>,
    Query(range): Query<DayRange>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let from = business_day(range.from.as_deref(), "from")?;
    let to = business_day(range.to.as_deref(), "to")?;
    let name = format!(
        "dsfinvk-{}{}{}.zip",
        file_name_part(&e),
        from.map(|d| format!("-{d}")).unwrap_or_default(),
        to.map(|d| format!("-{d}")).unwrap_or_default()
    );
    let zip = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.dsfinvk_export(ev, from, to)
    )?;
    Ok(download("application/zip", name, zip))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/payout-settings", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The settings for payouts asked for on the guest pages", body = Data<PayoutSettings>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn get_payout_settings(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ChangeSettings, |st: &Store, ev: &str| st
        .payout_settings(ev))
    .map(ok)
}

#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/payout-settings", tag = "manage",
    params(("event_id" = String, Path)), request_body = PayoutSettings, security(("admin_token" = [])),
    responses((status = 200, description = "The settings now in force", body = Data<PayoutSettings>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn put_payout_settings(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let settings: PayoutSettings = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.save_payout_settings(ev, &settings)
    )
    .map(ok)
}

/// Cents paid out in cash.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PaidOut {
    amount: i64,
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/wallets/token/{token_id}/payout", tag = "manage",
    params(("event_id" = String, Path), ("token_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The amount paid out in cash (promo credit stays)", body = Data<PaidOut>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn payout(
    State(s): State<AppState>,
    Path((e, t)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let token = token_id(&t)?;
    let amount = managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.payout(ev, &token)
    )?;
    Ok(ok(PaidOut { amount }))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/payout-runs", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The event's payout runs, newest first", body = Data<Vec<PayoutRun>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn list_payout_runs(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::RunPayouts, |st: &Store, ev: &str| st
        .payout_runs(ev))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/payout-runs", tag = "manage",
    params(("event_id" = String, Path)), request_body = NewPayoutRun, security(("admin_token" = [])),
    responses((status = 201, description = "The run: its wallets are frozen until it is done or revoked", body = Data<PayoutRun>),
        (status = 400, description = "A limit or date is wrong, the organiser's account is not set, or the event is not in euros", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Tills have unsent sales or the request window is open (run with `accept_warnings`), or no request can be paid", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn create_payout_run(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let asked: NewPayoutRun = json(body)?;
    let run = managed!(s, e, h, Action::RunPayouts, move |st: &Store, ev: &str| st
        .create_payout_run(ev, &asked))?;
    Ok((StatusCode::CREATED, Json(Data::new(run))).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/payout-runs/{run_id}", tag = "manage",
    params(("event_id" = String, Path), ("run_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<PayoutRun>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn get_payout_run(
    State(s): State<AppState>,
    Path((e, run)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::RunPayouts, move |st: &Store, ev: &str| st
        .payout_run(ev, &run))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/payout-runs/{run_id}/sepa.xml", tag = "manage",
    params(("event_id" = String, Path), ("run_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The SEPA credit transfer file (pain.001.001.09) for the bank; a pending run becomes exported", content_type = "application/xml", body = String),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The run is done or revoked, or has no transfers", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn payout_run_sepa(
    State(s): State<AppState>,
    Path((e, run)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let name = format!("tapster-{}.xml", file_name_part(&run));
    let xml = managed!(s, e, h, Action::RunPayouts, move |st: &Store, ev: &str| st
        .payout_run_file(ev, &run, RunFile::Sepa))?;
    Ok(download(
        "application/xml; charset=utf-8",
        name,
        xml.into_bytes(),
    ))
}

/// `style`: `semicolon` (German spreadsheets, the default) or `comma`.
#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct CsvQuery {
    #[serde(default)]
    #[param(value_type = Option<String>)]
    style: tapster_print::csv::CsvStyle,
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/payout-runs/{run_id}/bands.csv", tag = "manage",
    params(("event_id" = String, Path), ("run_id" = String, Path), CsvQuery), security(("admin_token" = [])),
    responses((status = 200, description = "Every band of the run: transfer, fee, donation", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn payout_run_csv(
    State(s): State<AppState>,
    Path((e, run)): Path<(String, String)>,
    h: HeaderMap,
    query: Result<Query<CsvQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    let style = query_params(query)?.style;
    let name = format!("tapster-{}.csv", file_name_part(&run));
    let csv = managed!(s, e, h, Action::RunPayouts, move |st: &Store, ev: &str| st
        .payout_run_file(ev, &run, RunFile::Csv(style)))?;
    Ok(download("text/csv; charset=utf-8", name, csv.into_bytes()))
}

/// A run id as part of a file name: letters and digits only.
fn file_name_part(run: &str) -> String {
    run.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect()
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/payout-runs/{run_id}/done", tag = "manage",
    params(("event_id" = String, Path), ("run_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Booked: every band's transfer, fee and donation", body = Data<PayoutRun>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The SEPA file was not downloaded yet, or the run is already done or revoked", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn finish_payout_run(
    State(s): State<AppState>,
    Path((e, run)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::RunPayouts, move |st: &Store, ev: &str| st
        .finish_payout_run(ev, &run))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/payout-runs/{run_id}/revoke", tag = "manage",
    params(("event_id" = String, Path), ("run_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Called off: the wallets as they were, the requests waiting again", body = Data<PayoutRun>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The run is already done or revoked", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn revoke_payout_run(
    State(s): State<AppState>,
    Path((e, run)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::RunPayouts, move |st: &Store, ev: &str| st
        .revoke_payout_run(ev, &run))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/payouts/unclaimed", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Bands with paid money left that no run is paying out", body = Data<UnclaimedBalances>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn unclaimed_balances(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::RunPayouts, |st: &Store, ev: &str| st
        .unclaimed_balances(ev))
    .map(ok)
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/payouts/unclaimed/settle", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Unclaimed paid money booked as retained or donated (the settings' `unclaimed`), once per band", body = Data<tapster_api::payouts::UnclaimedSettled>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The request window has not closed yet", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn settle_unclaimed(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::RunPayouts, |st: &Store, ev: &str| st
        .settle_unclaimed(ev))
    .map(ok)
}

/// Parses seed 000's filters from the raw query string, where
/// `terminal_timestamp` may appear twice (`gte:` and `lte:`).
fn record_filter(query: Option<&str>) -> Result<RecordFilter, ServerError> {
    let mut filter = RecordFilter {
        limit: 1000,
        ..RecordFilter::default()
    };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "terminal_timestamp" => {
                let (op, time) = value.split_once(':').ok_or_else(|| {
                    ServerError::invalid("terminal_timestamp", "must be gte:TIME or lte:TIME")
                })?;
                let millis = parse_time(time)?;
                match op {
                    "gte" => filter.from_millis = Some(millis),
                    "lte" => filter.until_millis = Some(millis),
                    _ => {
                        return Err(ServerError::invalid(
                            "terminal_timestamp",
                            "the operator must be gte or lte",
                        ))
                    }
                }
            }
            "sort" => match value.as_str() {
                "terminal_timestamp:desc" => filter.descending = true,
                "terminal_timestamp:asc" | "terminal_timestamp" => filter.descending = false,
                _ => {
                    return Err(ServerError::invalid(
                        "sort",
                        "must be terminal_timestamp:asc or :desc",
                    ))
                }
            },
            "limit" => {
                filter.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=10_000).contains(l))
                    .ok_or_else(|| ServerError::invalid("limit", "must be 1 to 10000"))?
            }
            "terminal_id" => filter.terminal = Some(value),
            other => {
                return Err(ServerError::invalid(
                    other.to_string(),
                    "is not a known filter",
                ))
            }
        }
    }
    Ok(filter)
}

pub(crate) fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Milliseconds, or an ISO 8601 UTC time like `2026-07-17T18:00:00Z`.
pub(crate) fn parse_time(value: &str) -> Result<i64, ServerError> {
    if let Ok(millis) = value.parse::<i64>() {
        return Ok(millis);
    }
    let bad = || {
        ServerError::invalid(
            "terminal_timestamp",
            "must be milliseconds or YYYY-MM-DDTHH:MM:SSZ",
        )
    };
    let v = value.trim_end_matches('Z');
    let (date, time) = v.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let t: Vec<f64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3 || t.len() != 3 || !(1..=12).contains(&d[1]) || !(1..=31).contains(&d[2]) {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant), the inverse of tapster_api's formatting.
    let (y, m, day) = (if d[1] <= 2 { d[0] - 1 } else { d[0] }, d[1], d[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + t[0] as i64 * 3600 + t[1] as i64 * 60;
    Ok(secs * 1000 + (t[2] * 1000.0).round() as i64)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/reports/sales", tag = "manage",
    params(("event_id" = String, Path), ("terminal_timestamp" = Option<String>, Query, description = "gte:TIME or lte:TIME, may repeat"), ("sort" = Option<String>, Query, description = "terminal_timestamp:asc or :desc"), ("limit" = Option<u32>, Query), ("terminal_id" = Option<String>, Query)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<SalesRecord>>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn sales_report(
    State(s): State<AppState>,
    Path(e): Path<String>,
    uri: axum::http::Uri,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let filter = record_filter(uri.query())?;
    managed!(s, e, h, Action::ViewReports, move |st: &Store, ev: &str| st
        .sales_records(ev, &filter))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/reports/topups", tag = "manage",
    params(("event_id" = String, Path), ("terminal_timestamp" = Option<String>, Query, description = "gte:TIME or lte:TIME, may repeat"), ("sort" = Option<String>, Query, description = "terminal_timestamp:asc or :desc"), ("limit" = Option<u32>, Query), ("terminal_id" = Option<String>, Query)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<TopUpRecord>>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn top_up_report(
    State(s): State<AppState>,
    Path(e): Path<String>,
    uri: axum::http::Uri,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let filter = record_filter(uri.query())?;
    managed!(s, e, h, Action::ViewReports, move |st: &Store, ev: &str| st
        .top_up_records(ev, &filter))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/reports/summary", tag = "manage",
    params(("event_id" = String, Path), ("terminal_timestamp" = Option<String>, Query, description = "gte:TIME or lte:TIME, may repeat"), ("sort" = Option<String>, Query, description = "terminal_timestamp:asc or :desc"), ("limit" = Option<u32>, Query), ("terminal_id" = Option<String>, Query)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Summary>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn summary(
    State(s): State<AppState>,
    Path(e): Path<String>,
    uri: axum::http::Uri,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let filter = record_filter(uri.query())?;
    managed!(s, e, h, Action::ViewReports, move |st: &Store, ev: &str| st
        .summary(ev, &filter))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/conflicts", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Conflicts>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A staff session whose role may not do this", body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
async fn conflicts(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewReports, |st: &Store, ev: &str| st
        .conflicts(ev))
    .map(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_and_filters_parse() {
        assert_eq!(
            parse_time("2021-10-31T20:45:20Z").unwrap(),
            1_635_713_120_000
        );
        assert_eq!(parse_time("1635713120000").unwrap(), 1_635_713_120_000);
        assert!(parse_time("yesterday").is_err());
        let f = record_filter(Some(
            "terminal_timestamp=gte%3A2021-10-31T20%3A00%3A00Z&terminal_timestamp=lte:2021-10-31T21:00:00Z&sort=terminal_timestamp%3Adesc&limit=5",
        ))
        .unwrap();
        assert_eq!(f.from_millis, Some(1_635_710_400_000));
        assert_eq!(f.until_millis, Some(1_635_714_000_000));
        assert!(f.descending);
        assert_eq!(f.limit, 5);
        assert!(record_filter(Some("limit=0")).is_err());
        assert!(record_filter(Some("colour=red")).is_err());
        assert!(record_filter(Some("terminal_timestamp=eq:5")).is_err());
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct BatchQuery {
    /// Only this batch.
    batch: Option<String>,
}

fn managed_pass(stored: crate::passes::StoredPass) -> ManagedPass {
    ManagedPass {
        info: stored.info(),
        redeemed: stored.redeemed_total,
        batch: stored.batch,
    }
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/integrations", tag = "manage",
    params(("event_id" = String, Path)), request_body = tapster_api::winston::NewIntegration, security(("admin_token" = [])),
    responses((status = 201, description = "The integration with its key, shown this once (`Authorization: Token <app>@<key>` on /api/v2); an earlier key of the app is revoked", body = Data<tapster_api::winston::Integration>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn create_integration(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let new: tapster_api::winston::NewIntegration = json(body)?;
    let made = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.create_integration(ev, &new)
    )?;
    Ok((StatusCode::CREATED, Json(Data::new(made))).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/integrations", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Every key made, revoked ones with the time (never the keys)", body = Data<Vec<tapster_api::winston::Integration>>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn list_integrations(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ChangeSettings, |st: &Store, ev: &str| st
        .integrations(ev))
    .map(ok)
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/integrations/{app}", tag = "manage",
    params(("event_id" = String, Path), ("app" = String, Path)), security(("admin_token" = [])),
    responses((status = 204, description = "Revoked: its key answers 401 from now on"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "The app has no key", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn revoke_integration(
    State(s): State<AppState>,
    Path((e, app)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.revoke_integration(ev, &app)
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/passes", tag = "manage",
    params(("event_id" = String, Path)), request_body = NewPassBatch, security(("admin_token" = [])),
    responses((status = 201, description = "The batch and its codes (128 random bits each)", body = Data<PassBatch>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Conflict", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn create_passes(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let batch: NewPassBatch = json(body)?;
    let made = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.create_passes(ev, batch)
    )?;
    Ok((StatusCode::CREATED, Json(Data::new(made))).into_response())
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/passes/import", tag = "manage",
    params(("event_id" = String, Path)), request_body = ImportPasses, security(("admin_token" = [])),
    responses((status = 201, body = Data<PassBatch>),
        (status = 400, description = "a bad line (its number is said) or a code twice", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "a code exists already; nothing was imported", body = ErrorBody),
        (status = 413, description = "The body is larger than the server takes (`body_too_large`)", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn import_passes(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let import: ImportPasses = json(body)?;
    let codes = crate::passes::parse_import(&import.csv)?;
    let template = NewPassBatch {
        count: 0,
        title: import.title,
        subtitle: import.subtitle,
        benefit: import.benefit,
        valid_from: import.valid_from,
        valid_until: import.valid_until,
        max_redemptions: import.max_redemptions,
        idempotency_key: None,
    };
    let made = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.import_passes(ev, template, codes)
    )?;
    Ok((StatusCode::CREATED, Json(Data::new(made))).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/passes", tag = "manage",
    params(("event_id" = String, Path), BatchQuery), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<ManagedPass>>),
        (status = 400, description = "Bad input: the body, a parameter or a rule it breaks (`invalid_parameters`, `invalid_body`, or the ledger's code)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn list_passes(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<BatchQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    let query = query_params(query)?;
    managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.passes(ev, query.batch.as_deref())
    )
    .map(|passes| ok(passes.into_iter().map(managed_pass).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/passes.csv", tag = "manage",
    params(("event_id" = String, Path), BatchQuery), security(("admin_token" = [])),
    responses((status = 200, description = "One row per pass: code, type, title, window, limit, redeemed, blocked, reference, batch", content_type = "text/csv", body = String),
        (status = 400, description = "Bad input: the body, a parameter or a rule it breaks (`invalid_parameters`, `invalid_body`, or the ledger's code)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn export_passes(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<BatchQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    let query = query_params(query)?;
    let csv = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| st.passes_csv(ev, query.batch.as_deref())
    )?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/passes/{code}/block", tag = "manage",
    params(("event_id" = String, Path), ("code" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<ManagedPass>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn block_pass(
    State(s): State<AppState>,
    Path((e, code)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.set_pass_blocked(ev, &code, true)
    )
    .map(|p| ok(managed_pass(p)))
}

#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/passes/{code}/block", tag = "manage",
    params(("event_id" = String, Path), ("code" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<ManagedPass>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn unblock_pass(
    State(s): State<AppState>,
    Path((e, code)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ManageWallets,
        move |st: &Store, ev: &str| st.set_pass_blocked(ev, &code, false)
    )
    .map(|p| ok(managed_pass(p)))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/reports/passes", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Redemptions by pass type, location and device", body = Data<Vec<RedemptionRow>>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn pass_report(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewReports, |st: &Store, ev: &str| st
        .redemption_report(ev))
    .map(ok)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct SheetQuery {
    /// Only this batch.
    batch: Option<String>,
    /// `de` (default) or `en`.
    language: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/passes/sheet.pdf", tag = "manage",
    params(("event_id" = String, Path), SheetQuery), security(("admin_token" = [])),
    responses((status = 200, description = "A4 sheets of pass cards to cut out: QR code, code, title, subtitle, what it gives and its window", content_type = "application/pdf", body = tapster_api::Binary),
        (status = 400, description = "No passes (in the batch), more than one sheet holds (10 000: print batch by batch), or a language other than de and en", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn pass_sheet(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<SheetQuery>, QueryRejection>,
) -> Result<Response, ServerError> {
    let query = query_params(query)?;
    let language = match query.language.as_deref() {
        None => tapster_print::Language::De,
        Some(code) => tapster_print::Language::parse(code)
            .ok_or_else(|| ServerError::invalid("language", "must be de or en"))?,
    };
    let pdf = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| {
            crate::passes::sheet(st, ev, query.batch.as_deref(), language)
        }
    )?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/passes/{code}/qr.png", tag = "manage",
    params(("event_id" = String, Path), ("code" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "The pass's QR code alone (for a mail or an app)", content_type = "image/png", body = tapster_api::Binary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody)))]
pub(crate) async fn pass_qr(
    State(s): State<AppState>,
    Path((e, code)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let png = managed!(
        s,
        e,
        h,
        Action::ChangeSettings,
        move |st: &Store, ev: &str| {
            let stored = st.pass(ev, &code)?;
            tapster_print::pass_png(stored.pass.code.as_str(), 8)
                .map_err(|e| ServerError::Internal(e.to_string()))
        }
    )?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/png")], png).into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/audit", tag = "manage",
    params(("event_id" = String, Path), AuditFilter), security(("admin_token" = [])),
    responses((status = 200, description = "The audit records that match, oldest first (at most `limit`, 1,000 by default; `after` pages on)", body = Data<Vec<AuditRecord>>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Only a manager reads the audit trail", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn audit_trail(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<AuditFilter>, QueryRejection>,
) -> Result<Response, ServerError> {
    let filter = query_params(query)?;
    managed!(
        s,
        e,
        h,
        Action::ViewAuditTrail,
        move |st: &Store, ev: &str| st.audit_records(ev, &filter)
    )
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/audit.csv", tag = "manage",
    params(("event_id" = String, Path), AuditFilter), security(("admin_token" = [])),
    responses((status = 200, description = "The same records as CSV: seq, time (UTC), actor, terminal, action, wallet, subject, detail (JSON), hash", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Only a manager reads the audit trail", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn audit_csv(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    query: Result<Query<AuditFilter>, QueryRejection>,
) -> Result<Response, ServerError> {
    let filter = query_params(query)?;
    let csv = managed!(
        s,
        e,
        h,
        Action::ViewAuditTrail,
        move |st: &Store, ev: &str| st.audit_csv(ev, &filter)
    )?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/audit/verify", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "Whether the whole trail is intact: every record's hash and chain link recomputed", body = Data<AuditVerification>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Only a manager reads the audit trail", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = ErrorBody)))]
pub(crate) async fn verify_audit(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewAuditTrail, |st: &Store, ev: &str| st
        .verify_audit(ev))
    .map(ok)
}
