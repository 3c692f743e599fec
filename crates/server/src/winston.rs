//! The integration API in the shape of the Winston POS API (seed 002), for
//! accounting and a venue's back office: `POST /api/v2/bills`, `payments`,
//! `products` and `users`, the query in the JSON body, authenticated with
//! `Authorization: Token <app>@<key>` (a manager's integration key of one
//! event); errors are a status with a plain text body, as the seed shows.
//!
//! Bills are built from the event's transactions: a sale paid at once is a
//! bill with one payment; a split bill's payments and the sale that settled
//! it share the bill's id (see `tapster_ledger::bills`); a cancellation
//! marks its bill cancelled.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::db::{params, Connection, OptionalExtension};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use tapster_api::api_timestamp;
use tapster_api::winston::{
    Bill, BillLine, Filter, Integration, NewIntegration, Payment, Product, Query, SortOrder,
    TerminalRef, User, UserRef, VatLine, DEFAULT_LIMIT, MAX_LIMIT,
};
use tapster_ledger::bills::{payment_reference, tip_total};
use tapster_ledger::model::Line;
use tapster_ledger::pricing::{lines_total, vat_breakdown};
use tapster_ledger::TokenId;

use crate::error::ServerError;
use crate::http::{blocking, AppState};
use crate::store::{random_token, token_hash, ServerStore};

/// An integration that presented a valid key: its event and app.
#[derive(Clone, Debug)]
pub struct AuthenticatedIntegration {
    pub event_id: String,
    pub app: String,
    pub can_write: bool,
}

/// A refusal in Winston's words: a status and a plain text body.
#[derive(Debug)]
pub struct PlainError(StatusCode, String);

impl IntoResponse for PlainError {
    fn into_response(self) -> Response {
        (
            self.0,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.1,
        )
            .into_response()
    }
}

impl From<ServerError> for PlainError {
    fn from(error: ServerError) -> Self {
        let status = error.status();
        let reason = status.canonical_reason().unwrap_or("Error");
        // Internal details stay in the log.
        let detail = if status.is_server_error() {
            tracing::error!(%error, "integration API");
            "the server failed; try again later".to_string()
        } else {
            error.to_string()
        };
        PlainError(status, format!("{reason}: {detail}"))
    }
}

fn unauthorized(why: &str) -> PlainError {
    PlainError(StatusCode::UNAUTHORIZED, format!("Unauthorized: {why}"))
}

fn bad_request(why: impl Into<String>) -> PlainError {
    PlainError(
        StatusCode::BAD_REQUEST,
        format!("Bad Request: {}", why.into()),
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/bills", post(bills))
        .route("/api/v2/payments", post(payments))
        .route("/api/v2/products", post(products))
        .route("/api/v2/users", post(users))
}

/// `Token <app>@<key>` from the request, checked against the event's keys.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<AuthenticatedIntegration, PlainError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("missing Authorization: Token <app name>@<api key>"))?;
    let (scheme, credentials) = value
        .split_once(' ')
        .ok_or_else(|| unauthorized("invalid authorization header"))?;
    if !scheme.eq_ignore_ascii_case("token") {
        return Err(unauthorized("invalid authorization scheme, expected Token"));
    }
    let (app, key) = credentials
        .trim()
        .split_once('@')
        .ok_or_else(|| unauthorized("invalid token value, expected <app name>@<api key>"))?;
    let (app, key) = (app.to_string(), key.to_string());
    let store = state.store.clone();
    let found = blocking(move || store.authenticate_integration(&key))
        .await
        .map_err(PlainError::from)?;
    match found {
        None => Err(unauthorized("invalid api key")),
        Some(found) if found.app != app => Err(unauthorized("the api key is not for this app")),
        Some(found) => Ok(found),
    }
}

/// The query in the body: `{}` when there is none. A body too large or
/// unreadable is refused in plain text too.
fn query(body: Result<Bytes, BytesRejection>) -> Result<Query, PlainError> {
    let body = crate::http::read_body(body)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Query::default());
    }
    serde_json::from_slice(&body).map_err(|e| bad_request(format!("the query is not valid: {e}")))
}

/// A sort key a collection offers, and how it orders two documents.
type SortKey<T> = (&'static str, fn(&T, &T) -> Ordering);

/// A collection's documents: filtered, sorted by the query's keys (then
/// by id, so pages are stable), skipped and limited.
fn page<T>(
    mut documents: Vec<T>,
    query: &Query,
    keys: &[SortKey<T>],
    id: fn(&T) -> &str,
) -> Result<Vec<T>, PlainError> {
    let mut order = Vec::new();
    for (name, direction) in &query.sort.0 {
        let compare = keys
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, compare)| *compare)
            .ok_or_else(|| {
                let known: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
                bad_request(format!(
                    "cannot sort by '{name}'; sort by {}",
                    known.join(", ")
                ))
            })?;
        order.push((compare, *direction));
    }
    documents.sort_by(|a, b| {
        order
            .iter()
            .map(|(compare, direction)| match direction {
                SortOrder::Ascending => compare(a, b),
                SortOrder::Descending => compare(b, a),
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| id(a).cmp(id(b)))
    });
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad_request(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let skip = query.skip.unwrap_or(0) as usize;
    Ok(documents
        .into_iter()
        .skip(skip)
        .take(limit as usize)
        .collect())
}

/// The query's time window in milliseconds (`from` inclusive, `until`
/// exclusive).
fn window(filter: &Filter) -> Result<(Option<i64>, Option<i64>), PlainError> {
    let time = |value: &Option<String>, field: &str| {
        value
            .as_deref()
            .map(|v| {
                crate::admin::parse_time(v)
                    .map_err(|_| bad_request(format!("{field} must be like 2026-07-17T18:00:00Z")))
            })
            .transpose()
    };
    Ok((time(&filter.from, "from")?, time(&filter.until, "until")?))
}

fn one_of(value: &Option<String>, field: &str, allowed: &[&str]) -> Result<(), PlainError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(bad_request(format!(
            "{field} must be one of {}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

#[utoipa::path(post, path = "/api/v2/bills", tag = "integrations",
    params(("Authorization" = String, Header, description = "`Token <app>@<key>`: a manager's integration key (POST manage/integrations)")),
    request_body(content = Query, description = "The query: sort (keys in order, 1 or -1), limit (1 to 1000, default 50), skip, filter"),
    responses((status = 200, description = "Bills: a sale paid at once, or a split bill with its payments; with lines, VAT per rate, status", body = Vec<Bill>),
        (status = 400, description = "A query that is not valid, an unknown sort key or filter value (plain text)", content_type = "text/plain", body = String),
        (status = 401, description = "No, a malformed, an unknown or a revoked key, or a key of another app (plain text)", content_type = "text/plain", body = String),
        (status = 413, description = "The body is larger than the server takes (plain text)", content_type = "text/plain", body = String),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = tapster_api::ErrorBody)))]
pub(crate) async fn bills(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(async {
        let who = authenticate(&state, &headers).await?;
        let query = query(body)?;
        one_of(
            &query.filter.status,
            "status",
            &["open", "settled", "cancelled"],
        )?;
        let time = window(&query.filter)?;
        let store = state.store.clone();
        let filter = query.filter.clone();
        let bills = blocking(move || store.bills(&who.event_id, &filter, time)).await?;
        page(
            bills,
            &query,
            &[
                ("createdAt", |a: &Bill, b: &Bill| {
                    a.created_at.cmp(&b.created_at)
                }),
                ("total", |a, b| a.total.cmp(&b.total)),
                ("status", |a, b| a.status.cmp(&b.status)),
                ("id", |a, b| a.id.cmp(&b.id)),
            ],
            |bill| &bill.id,
        )
    })
    .await
}

#[utoipa::path(post, path = "/api/v2/payments", tag = "integrations",
    params(("Authorization" = String, Header, description = "`Token <app>@<key>`: a manager's integration key (POST manage/integrations)")),
    request_body(content = Query, description = "The query: sort (keys in order, 1 or -1), limit (1 to 1000, default 50), skip, filter"),
    responses((status = 200, description = "The bills' payments", body = Vec<Payment>),
        (status = 400, description = "A query that is not valid, an unknown sort key or filter value (plain text)", content_type = "text/plain", body = String),
        (status = 401, description = "No, a malformed, an unknown or a revoked key, or a key of another app (plain text)", content_type = "text/plain", body = String),
        (status = 413, description = "The body is larger than the server takes (plain text)", content_type = "text/plain", body = String),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = tapster_api::ErrorBody)))]
pub(crate) async fn payments(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(async {
        let who = authenticate(&state, &headers).await?;
        let query = query(body)?;
        one_of(&query.filter.method, "method", &["wallet", "cash", "card"])?;
        let time = window(&query.filter)?;
        let store = state.store.clone();
        let filter = query.filter.clone();
        let bills = blocking(move || store.bills(&who.event_id, &Filter::default(), time)).await?;
        let payments: Vec<Payment> = bills
            .into_iter()
            .flat_map(|bill| bill.payments)
            .filter(|p| filter.method.as_ref().is_none_or(|m| &p.method == m))
            .filter(|p| in_place(&p.terminal, &filter))
            .collect();
        page(
            payments,
            &query,
            &[
                ("createdAt", |a: &Payment, b: &Payment| {
                    a.created_at.cmp(&b.created_at)
                }),
                ("amount", |a, b| a.amount.cmp(&b.amount)),
                ("method", |a, b| a.method.cmp(&b.method)),
                ("id", |a, b| a.id.cmp(&b.id)),
            ],
            |payment| &payment.id,
        )
    })
    .await
}

#[utoipa::path(post, path = "/api/v2/products", tag = "integrations",
    params(("Authorization" = String, Header, description = "`Token <app>@<key>`: a manager's integration key (POST manage/integrations)")),
    request_body(content = Query, description = "The query: sort (keys in order, 1 or -1), limit (1 to 1000, default 50), skip, filter"),
    responses((status = 200, description = "The catalogue, archived products too", body = Vec<Product>),
        (status = 400, description = "A query that is not valid, an unknown sort key or filter value (plain text)", content_type = "text/plain", body = String),
        (status = 401, description = "No, a malformed, an unknown or a revoked key, or a key of another app (plain text)", content_type = "text/plain", body = String),
        (status = 413, description = "The body is larger than the server takes (plain text)", content_type = "text/plain", body = String),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = tapster_api::ErrorBody)))]
pub(crate) async fn products(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(async {
        let who = authenticate(&state, &headers).await?;
        let query = query(body)?;
        let store = state.store.clone();
        let products = blocking(move || store.products(&who.event_id, true)).await?;
        let products = products
            .into_iter()
            .map(|p| Product {
                id: p.id.to_string(),
                title: p.name,
                subtitle: p.subtitle,
                category: p.category.to_string(),
                price: p.price.0,
                sale_price: p.sale_price.map(|c| c.0),
                on_sale: p.on_sale,
                vat_rate: p.vat_rate.0,
                deposit_product: p.deposit_product.map(|d| d.to_string()),
                returnable: p.returnable,
                use_stock: p.use_stock,
                stock: p.stock,
                archived: p.archived,
            })
            .collect();
        page(
            products,
            &query,
            &[
                ("title", |a: &Product, b: &Product| a.title.cmp(&b.title)),
                ("price", |a, b| a.price.cmp(&b.price)),
                ("category", |a, b| a.category.cmp(&b.category)),
                ("id", |a, b| a.id.cmp(&b.id)),
            ],
            |product| &product.id,
        )
    })
    .await
}

#[utoipa::path(post, path = "/api/v2/users", tag = "integrations",
    params(("Authorization" = String, Header, description = "`Token <app>@<key>`: a manager's integration key (POST manage/integrations)")),
    request_body(content = Query, description = "The query: sort (keys in order, 1 or -1), limit (1 to 1000, default 50), skip, filter"),
    responses((status = 200, description = "Staff: id, name, role, active (never PINs)", body = Vec<User>),
        (status = 400, description = "A query that is not valid, an unknown sort key or filter value (plain text)", content_type = "text/plain", body = String),
        (status = 401, description = "No, a malformed, an unknown or a revoked key, or a key of another app (plain text)", content_type = "text/plain", body = String),
        (status = 413, description = "The body is larger than the server takes (plain text)", content_type = "text/plain", body = String),
        (status = 429, description = "Rate limited: ask again after `Retry-After` seconds", body = tapster_api::ErrorBody)))]
pub(crate) async fn users(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(async {
        let who = authenticate(&state, &headers).await?;
        let query = query(body)?;
        one_of(
            &query.filter.role,
            "role",
            &["cashier", "supervisor", "manager"],
        )?;
        let store = state.store.clone();
        let staff = blocking(move || store.staff(&who.event_id)).await?;
        let users = staff
            .into_iter()
            .map(|s| User {
                id: s.id,
                name: s.name,
                role: s.role.to_string(),
                active: s.active,
            })
            .filter(|u| query.filter.role.as_ref().is_none_or(|r| &u.role == r))
            .collect();
        page(
            users,
            &query,
            &[
                ("name", |a: &User, b: &User| a.name.cmp(&b.name)),
                ("role", |a, b| a.role.cmp(&b.role)),
                ("id", |a, b| a.id.cmp(&b.id)),
            ],
            |user| &user.id,
        )
    })
    .await
}

/// A page as JSON, or the refusal as plain text.
async fn respond<T: serde::Serialize>(
    work: impl std::future::Future<Output = Result<Vec<T>, PlainError>>,
) -> Response {
    match work.await {
        Ok(documents) => Json(documents).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

fn in_place(terminal: &Option<TerminalRef>, filter: &Filter) -> bool {
    filter
        .terminal
        .as_ref()
        .is_none_or(|id| terminal.as_ref().is_some_and(|t| &t.id == id))
        && filter.location.as_ref().is_none_or(|location| {
            terminal
                .as_ref()
                .is_some_and(|t| t.location.as_ref() == Some(location))
        })
}

/// One sale or cancellation as the bills are built from it.
struct Row {
    id: String,
    entry_id: Option<String>,
    kind: String,
    reverses: Option<String>,
    tender: String,
    amount: i64,
    lines: Vec<Line>,
    at: i64,
    token: Option<String>,
    terminal: Option<TerminalRef>,
    user: Option<UserRef>,
}

/// A bill's payments made before its sale, which settles it, arrive
/// within this long of each other: a window widened by it finds them.
const BILL_SPAN_MS: i64 = 3_600_000;

fn line_kind(line: &Line) -> &'static str {
    if line.tip {
        "tip"
    } else if line.pass.is_some() {
        "discount"
    } else if line.deposit {
        "deposit"
    } else {
        "product"
    }
}

impl ServerStore {
    /// The key's integration, if it is valid and not revoked.
    pub fn authenticate_integration(
        &self,
        key: &str,
    ) -> Result<Option<AuthenticatedIntegration>, ServerError> {
        let conn = self.reader()?;
        let found = conn
            .prepare_cached(
                "SELECT event_id, app, can_write FROM integration_keys
                 WHERE key_hash = ?1 AND revoked_at IS NULL",
            )?
            .query_row([token_hash(key)], |r| {
                Ok(AuthenticatedIntegration {
                    event_id: r.get(0)?,
                    app: r.get(1)?,
                    can_write: r.get(2)?,
                })
            })
            .optional()?;
        Ok(found)
    }

    /// Makes a key for `app` (revoking its earlier one); the key is in the
    /// answer only.
    pub fn create_integration(
        &self,
        event: &str,
        new: &NewIntegration,
    ) -> Result<Integration, ServerError> {
        let app = new.app.trim().to_string();
        let valid = (2..=40).contains(&app.len())
            && app
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid {
            return Err(ServerError::invalid(
                "app",
                "must be 2 to 40 of a-z, 0-9, _ and -",
            ));
        }
        let key = random_token();
        let (event, can_write, now) = (event.to_string(), new.can_write, self.now().0);
        let hash = token_hash(&key);
        self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            tx.execute(
                "UPDATE integration_keys SET revoked_at = ?3 WHERE event_id = ?1 AND app = ?2 AND revoked_at IS NULL",
                params![event, app, now],
            )?;
            tx.execute(
                "INSERT INTO integration_keys (event_id, app, key_hash, can_write, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![event, app, hash, can_write, now],
            )?;
            tracing::info!(event, app, can_write, "integration key made");
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::IntegrationCreated,
                serde_json::json!({ "can_write": can_write }),
            );
            crate::audit::record(tx, &event, now, audit.subject(app.as_str()))?;
            Ok(Integration {
                app,
                can_write,
                created_at: now,
                revoked_at: None,
                key: Some(key),
            })
        })
    }

    /// Revokes an app's key; 404 when it has none.
    pub fn revoke_integration(&self, event: &str, app: &str) -> Result<(), ServerError> {
        let (event, app, now) = (event.to_string(), app.to_string(), self.now().0);
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE integration_keys SET revoked_at = ?3 WHERE event_id = ?1 AND app = ?2 AND revoked_at IS NULL",
                params![event, app, now],
            )?;
            if changed == 0 {
                return Err(ServerError::NotFound(format!("a key of integration '{app}'")));
            }
            tracing::info!(event, app, "integration key revoked");
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::IntegrationRevoked,
                serde_json::json!({}),
            );
            crate::audit::record(tx, &event, now, audit.subject(app.as_str()))?;
            Ok(())
        })
    }

    /// The event's integrations, newest key of each app first.
    pub fn integrations(&self, event: &str) -> Result<Vec<Integration>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let rows = conn
            .prepare_cached(
                "SELECT app, can_write, created_at, revoked_at FROM integration_keys
                 WHERE event_id = ?1 ORDER BY app, created_at DESC",
            )?
            .query_map([event], |r| {
                Ok(Integration {
                    app: r.get(0)?,
                    can_write: r.get(1)?,
                    created_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                    key: None,
                })
            })?
            .collect::<crate::db::Result<_>>()?;
        Ok(rows)
    }

    /// The event's bills made in `time` (all when open-ended), with the
    /// filter's terminal, location and status.
    pub fn bills(
        &self,
        event: &str,
        filter: &Filter,
        time: (Option<i64>, Option<i64>),
    ) -> Result<Vec<Bill>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let rows = bill_rows(&conn, event, time)?;
        Ok(assemble(rows)?
            .into_iter()
            .filter(|(at, bill)| {
                time.0.is_none_or(|from| *at >= from)
                    && time.1.is_none_or(|until| *at < until)
                    && filter.status.as_ref().is_none_or(|s| &bill.status == s)
                    && in_place(&bill.terminal, filter)
            })
            .map(|(_, bill)| bill)
            .collect())
    }
}

fn bill_rows(
    conn: &Connection,
    event: &str,
    (from, until): (Option<i64>, Option<i64>),
) -> Result<Vec<Row>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.entry_id, t.kind, t.reverses, t.tender, t.amount, t.lines,
                COALESCE(t.terminal_time, t.created_at), w.token_id,
                t.terminal_id, tm.friendly_name, tm.location_id, t.staff_id, s.name
         FROM transactions t
         LEFT JOIN wallets w ON w.id = t.wallet_id
         LEFT JOIN terminals tm ON tm.event_id = t.event_id AND tm.id = t.terminal_id
         LEFT JOIN staff s ON s.event_id = t.event_id AND s.id = t.staff_id
         WHERE t.event_id = ?1 AND t.kind IN ('sale', 'cancel')
           AND (CAST(?2 AS BIGINT) IS NULL OR COALESCE(t.terminal_time, t.created_at) >= ?2)
           AND (CAST(?3 AS BIGINT) IS NULL OR COALESCE(t.terminal_time, t.created_at) < ?3)
         ORDER BY t.seq",
    )?;
    let rows = stmt.query_map(
        params![
            event,
            from.map(|f| f - BILL_SPAN_MS),
            until.map(|u| u + BILL_SPAN_MS)
        ],
        |r| {
            let lines: String = r.get(6)?;
            let terminal: Option<String> = r.get(9)?;
            let staff: Option<String> = r.get(12)?;
            Ok((
                Row {
                    id: r.get(0)?,
                    entry_id: r.get(1)?,
                    kind: r.get(2)?,
                    reverses: r.get(3)?,
                    tender: r.get(4)?,
                    amount: r.get(5)?,
                    lines: Vec::new(),
                    at: r.get(7)?,
                    token: r.get(8)?,
                    terminal: terminal.map(|id| TerminalRef {
                        name: r
                            .get::<_, Option<String>>(10)
                            .ok()
                            .flatten()
                            .unwrap_or_else(|| id.clone()),
                        location: r.get(11).ok().flatten(),
                        id,
                    }),
                    user: staff.map(|id| UserRef {
                        name: r
                            .get::<_, Option<String>>(13)
                            .ok()
                            .flatten()
                            .unwrap_or_else(|| id.clone()),
                        id,
                    }),
                },
                lines,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (mut row, lines) = row?;
        row.lines = serde_json::from_str(&lines)
            .map_err(|e| ServerError::Internal(format!("transaction lines: {e}")))?;
        out.push(row);
    }
    Ok(out)
}

/// Bills from sales and cancellations, in the order they were made, each
/// with when it was made (milliseconds).
fn assemble(rows: Vec<Row>) -> Result<Vec<(i64, Bill)>, ServerError> {
    // A cancellation names the entry (or transaction) it reverses.
    let mut reversed: std::collections::HashSet<String> = Default::default();
    for row in rows.iter().filter(|r| r.kind == "cancel") {
        if let Some(original) = &row.reverses {
            reversed.insert(original.clone());
        }
    }
    let is_reversed = |row: &Row| {
        reversed.contains(&row.id) || row.entry_id.as_ref().is_some_and(|e| reversed.contains(e))
    };
    let mut bills: BTreeMap<String, Bill> = BTreeMap::new();
    let mut order: Vec<(String, i64)> = Vec::new();
    for row in rows.iter().filter(|r| r.kind == "sale") {
        let bill_line = row.lines.iter().find(|l| l.bill.is_some());
        let id = bill_line
            .and_then(|l| l.bill)
            .map_or_else(|| row.id.clone(), |bill| bill.to_string());
        let bill = bills.entry(id.clone()).or_insert_with(|| {
            order.push((id.clone(), row.at));
            Bill {
                id: id.clone(),
                created_at: api_timestamp(row.at).raw,
                status: "open".into(),
                lines: Vec::new(),
                total: 0,
                tip: 0,
                vat: Vec::new(),
                payments: Vec::new(),
                paid: 0,
                terminal: row.terminal.clone(),
                user: row.user.clone(),
            }
        });
        let cancelled = is_reversed(row);
        let pays = bill_line.is_none_or(|l| l.unit_price.is_positive());
        if pays && row.amount != 0 {
            let amount = row.amount.saturating_neg();
            bill.payments.push(Payment {
                id: row.id.clone(),
                bill: id.clone(),
                created_at: api_timestamp(row.at).raw,
                method: row.tender.clone(),
                amount,
                wristband: row
                    .token
                    .as_deref()
                    .and_then(|t| TokenId::parse(t).ok())
                    .map(|t| t.masked()),
                reference: bill_line.and_then(payment_reference).map(str::to_string),
                cancelled,
                terminal: row.terminal.clone(),
                user: row.user.clone(),
            });
            if !cancelled {
                bill.paid = bill.paid.saturating_add(amount);
            }
        }
        let order_lines: Vec<Line> = row
            .lines
            .iter()
            .filter(|l| l.bill.is_none())
            .cloned()
            .collect();
        if !order_lines.is_empty() {
            // The order: a sale paid at once, or the sale that settled.
            bill.total = lines_total(&order_lines)?.0;
            bill.tip = tip_total(&order_lines).0;
            bill.vat = vat_breakdown(&order_lines)?
                .into_iter()
                .map(|split| VatLine {
                    rate: split.rate.0,
                    net: split.net.0,
                    vat: split.vat.0,
                    gross: split.gross.0,
                })
                .collect();
            bill.lines = order_lines
                .iter()
                .map(|l| BillLine {
                    product: l.product.to_string(),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price.0,
                    total: l.total().map_or(0, |t| t.0),
                    vat_rate: l.vat_rate.0,
                    kind: line_kind(l).into(),
                })
                .collect();
            bill.status = "settled".into();
        }
        if cancelled {
            bill.status = "cancelled".into();
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|(id, at)| bills.remove(&id).map(|bill| (at, bill)))
        .collect())
}
