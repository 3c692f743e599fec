//! The manager's back-office routes under `manage/`: vendors and their
//! settlement (JSON, CSV, PDF), inventory items, deliveries, transfers,
//! waste, corrections, counts, live stock, and sold-out flags per
//! location. Handlers parse, call [`crate::backoffice`], map errors.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tapster_api::backoffice::{
    InventoryCount, InventoryItemResource, InventoryTransaction, NewCount, NewMovement,
    SaveInventoryItem, SaveVendor, SettlementReport, SoldOutChanged, StockOverview, VendorResource,
};
#[allow(unused_imports)]
use tapster_api::{Data, ErrorBody};
use tapster_ledger::rules::Action;
use tapster_ledger::settlement::{Settlement, VatTotal, VendorLine};
use tapster_ledger::{Cents, ProductId, Timestamp, VatRate};
use tapster_print::csv::CsvStyle;
use tapster_print::pdf::ReportHeading;
use tapster_print::Language;

use crate::backoffice::{actor, Period};
use crate::error::ServerError;
use crate::http::{blocking, AppState};

pub fn routes() -> Router<AppState> {
    let m = |path: &str| format!("/api/v1/events/{{event_id}}/manage/{path}");
    Router::new()
        .route(&m("vendors"), get(list_vendors))
        .route(&m("vendors/{vendor_id}"), put(save_vendor).get(get_vendor))
        .route(&m("vendors/{vendor_id}/settlement"), get(settlement))
        .route(
            &m("vendors/{vendor_id}/settlement.csv"),
            get(settlement_csv),
        )
        .route(
            &m("vendors/{vendor_id}/settlement.pdf"),
            get(settlement_pdf),
        )
        .route(&m("inventory/items"), get(list_items))
        .route(&m("inventory/items/{item_id}"), put(save_item))
        .route(&m("inventory/movements"), post(book_movement))
        .route(&m("inventory/counts"), post(record_count))
        .route(&m("inventory/stock"), get(stock))
        .route(
            &m("locations/{location_id}/sold-out/{product_id}"),
            put(mark_sold_out).delete(unmark_sold_out),
        )
}

use crate::admin::{authorize, json, ok};

type Store = std::sync::Arc<crate::store::ServerStore>;

macro_rules! managed {
    ($state:expr, $event:expr, $headers:expr, $action:expr, $work:expr) => {{
        let identity = authorize(&$state, &$event, &$headers, $action).await?;
        let store = $state.store.clone();
        let event = $event.clone();
        let work = $work;
        let actor = identity.actor();
        blocking(move || crate::audit::acting_as(actor, || work(&store, &event, identity))).await
    }};
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/vendors", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<VendorResource>>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn list_vendors(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewReports, |st: &Store, ev: &str, _| st
        .vendors(ev))
    .map(ok)
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/vendors/{vendor_id}", tag = "manage",
    params(("event_id" = String, Path), ("vendor_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<VendorResource>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn get_vendor(
    State(s): State<AppState>,
    Path((e, vendor)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(
        s,
        e,
        h,
        Action::ViewReports,
        move |st: &Store, ev: &str, _| st.vendor(ev, &vendor)
    )
    .map(ok)
}

/// Creates or replaces a vendor: name, commission, fixed fee, locations.
#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/vendors/{vendor_id}", tag = "manage",
    params(("event_id" = String, Path), ("vendor_id" = String, Path)), request_body = SaveVendor,
    security(("admin_token" = [])),
    responses((status = 200, body = Data<VendorResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn save_vendor(
    State(s): State<AppState>,
    Path((e, vendor)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let body: SaveVendor = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ManageVendors,
        move |st: &Store, ev: &str, _| st.save_vendor(ev, &vendor, body)
    )
    .map(ok)
}

/// `from`/`until` (the API's timestamps), `language` (`de`, `en`).
struct SettlementQuery {
    period: Period,
    language: Language,
}

fn settlement_query(uri: &Uri) -> Result<SettlementQuery, ServerError> {
    let mut q = SettlementQuery {
        period: Period::default(),
        language: Language::De,
    };
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = crate::admin::percent_decode(value);
        match key {
            "from" => q.period.from = Some(crate::admin::parse_time(&value)?),
            "until" => q.period.until = Some(crate::admin::parse_time(&value)?),
            "language" => {
                q.language = match value.as_str() {
                    "de" => Language::De,
                    "en" => Language::En,
                    _ => return Err(ServerError::invalid("language", "must be de or en")),
                }
            }
            other => {
                return Err(ServerError::invalid(
                    other,
                    "is not a parameter; use from, until, language",
                ))
            }
        }
    }
    Ok(q)
}

const PERIOD_PARAMS: &str = "a time of the API's form, 2026-08-01T00:00:00.000000Z";

/// A vendor's settlement for a period: gross, VAT by rate, cancellations,
/// the organiser's commission and fee, the amount payable, every line.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/vendors/{vendor_id}/settlement", tag = "manage",
    params(("event_id" = String, Path), ("vendor_id" = String, Path),
        ("from" = Option<String>, Query, description = PERIOD_PARAMS),
        ("until" = Option<String>, Query, description = PERIOD_PARAMS)),
    security(("admin_token" = [])),
    responses((status = 200, body = Data<SettlementReport>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn settlement(
    State(s): State<AppState>,
    Path((e, vendor)): Path<(String, String)>,
    uri: Uri,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let q = settlement_query(&uri)?;
    managed!(
        s,
        e,
        h,
        Action::ViewReports,
        move |st: &Store, ev: &str, _| st.settlement(ev, &vendor, q.period)
    )
    .map(ok)
}

/// The report back in the ledger's terms, for the PDF and CSV writers.
fn ledger_terms(report: &SettlementReport) -> (Settlement, Vec<VendorLine>) {
    let settlement = Settlement {
        sales: Cents(report.sales),
        cancellations: Cents(report.cancellations),
        gross: Cents(report.gross),
        vat: report
            .vat
            .iter()
            .map(|v| VatTotal {
                rate: VatRate(v.rate_bp),
                gross: Cents(v.gross),
                net: Cents(v.net),
                vat: Cents(v.vat),
            })
            .collect(),
        commission_rate_bp: report.commission_bp,
        commission: Cents(report.commission),
        fixed_fee: Cents(report.fixed_fee),
        payable: Cents(report.payable),
        line_count: report.lines.len(),
    };
    let lines = report
        .lines
        .iter()
        .map(|l| VendorLine {
            transaction_id: l.transaction_id.clone(),
            at: crate::admin::parse_time(&l.timestamp).unwrap_or_default(),
            terminal_id: l.terminal_id.clone(),
            product_id: l.product_id.clone(),
            name: l.name.clone(),
            quantity: l.quantity,
            unit_price: Cents(l.unit_price),
            vat_rate: VatRate(l.vat_bp),
            cancellation: l.cancellation,
        })
        .collect();
    (settlement, lines)
}

/// A file to save: its type, and the name the browser or app offers.
pub(crate) fn download(content_type: &'static str, name: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The settlement as CSV (`;`, decimal comma, for German spreadsheets).
#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/vendors/{vendor_id}/settlement.csv", tag = "manage",
    params(("event_id" = String, Path), ("vendor_id" = String, Path),
        ("from" = Option<String>, Query, description = PERIOD_PARAMS),
        ("until" = Option<String>, Query, description = PERIOD_PARAMS),
        ("language" = Option<String>, Query, description = "de (default) or en")),
    security(("admin_token" = [])),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn settlement_csv(
    State(s): State<AppState>,
    Path((e, vendor)): Path<(String, String)>,
    uri: Uri,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let q = settlement_query(&uri)?;
    let (csv, name) = managed!(
        s,
        e,
        h,
        Action::ViewReports,
        move |st: &Store, ev: &str, _| {
            let report = st.settlement(ev, &vendor, q.period)?;
            let zone = st.settings(ev)?.zone();
            let (settlement, lines) = ledger_terms(&report);
            let csv = tapster_print::csv::settlement_csv(
                &report.vendor_name,
                &settlement,
                &lines,
                q.language,
                CsvStyle::Semicolon,
                &report.currency,
                &zone,
            )?;
            Ok::<_, ServerError>((csv, format!("settlement-{}.csv", report.vendor_id)))
        }
    )?;
    Ok(download("text/csv; charset=utf-8", name, csv.into_bytes()))
}

/// The settlement as an A4 PDF.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/vendors/{vendor_id}/settlement.pdf", tag = "manage",
    params(("event_id" = String, Path), ("vendor_id" = String, Path),
        ("from" = Option<String>, Query, description = PERIOD_PARAMS),
        ("until" = Option<String>, Query, description = PERIOD_PARAMS),
        ("language" = Option<String>, Query, description = "de (default) or en")),
    security(("admin_token" = [])),
    responses((status = 200, content_type = "application/pdf", body = tapster_api::Binary),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn settlement_pdf(
    State(s): State<AppState>,
    Path((e, vendor)): Path<(String, String)>,
    uri: Uri,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    let q = settlement_query(&uri)?;
    let (pdf, name) = managed!(
        s,
        e,
        h,
        Action::ViewReports,
        move |st: &Store, ev: &str, _| {
            let report = st.settlement(ev, &vendor, q.period)?;
            let (settlement, lines) = ledger_terms(&report);
            let settings = st.settings(ev)?;
            let heading = ReportHeading {
                time_zone: settings.zone(),
                event_name: settings.name,
                currency: report.currency.clone(),
                generated_at: st.now(),
                filter: Vec::new(),
                language: q.language,
            };
            let pdf = tapster_print::pdf::settlement_pdf(
                &report.vendor_name,
                (q.period.from.map(Timestamp), q.period.until.map(Timestamp)),
                &settlement,
                &lines,
                heading,
            )
            .map_err(|e| ServerError::Internal(e.to_string()))?;
            Ok::<_, ServerError>((pdf, format!("settlement-{}.pdf", report.vendor_id)))
        }
    )?;
    Ok(download("application/pdf", name, pdf))
}

#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/inventory/items", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<Vec<InventoryItemResource>>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn list_items(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::ViewReports, |st: &Store, ev: &str, _| st
        .inventory_items(ev))
    .map(ok)
}

/// Creates or replaces an inventory item (a keg, a crate, cups).
#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/inventory/items/{item_id}", tag = "manage",
    params(("event_id" = String, Path), ("item_id" = String, Path)), request_body = SaveInventoryItem,
    security(("admin_token" = [])),
    responses((status = 200, body = Data<InventoryItemResource>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn save_item(
    State(s): State<AppState>,
    Path((e, item)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let body: SaveInventoryItem = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::ManageCatalogue,
        move |st: &Store, ev: &str, _| st.save_inventory_item(ev, &item, body)
    )
    .map(ok)
}

/// Books a delivery, transfer, waste (a bar lead) or correction (a
/// manager).
#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/inventory/movements", tag = "manage",
    params(("event_id" = String, Path)), request_body = NewMovement, security(("admin_token" = [])),
    responses((status = 200, description = "the rows booked (two for a transfer)", body = Data<Vec<InventoryTransaction>>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn book_movement(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let body: NewMovement = json(body)?;
    let action = if body.kind == "correction" {
        Action::ManageVendors
    } else {
        Action::BookStock
    };
    managed!(s, e, h, action, move |st: &Store, ev: &str, who| st
        .book_movement(ev, body, actor(&who)))
    .map(ok)
}

/// A physical count at a location: the stock becomes what was counted.
#[utoipa::path(post, path = "/api/v1/events/{event_id}/manage/inventory/counts", tag = "manage",
    params(("event_id" = String, Path)), request_body = NewCount, security(("admin_token" = [])),
    responses((status = 200, body = Data<InventoryCount>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn record_count(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let body: NewCount = json(body)?;
    managed!(
        s,
        e,
        h,
        Action::BookStock,
        move |st: &Store, ev: &str, who| st.record_count(ev, body, actor(&who))
    )
    .map(ok)
}

/// Live stock of every item at every location, and the sold-out flags.
#[utoipa::path(get, path = "/api/v1/events/{event_id}/manage/inventory/stock", tag = "manage",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Data<StockOverview>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn stock(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    managed!(s, e, h, Action::BookStock, |st: &Store, ev: &str, _| st
        .stock(ev))
    .map(ok)
}

async fn sold_out(
    s: AppState,
    e: String,
    location: String,
    product: String,
    h: HeaderMap,
    flag: bool,
) -> Result<Response, ServerError> {
    let product_id =
        ProductId::new(product).map_err(|e| ServerError::invalid("product_id", e.reason))?;
    managed!(
        s,
        e,
        h,
        Action::BookStock,
        move |st: &Store, ev: &str, who| {
            st.set_sold_out(ev, &location, &product_id, flag, actor(&who))?;
            Ok::<_, ServerError>(SoldOutChanged {
                location_id: location,
                product_id: product_id.to_string(),
                sold_out: flag,
            })
        }
    )
    .map(ok)
}

/// Marks a product sold out at one location: its tills refuse it.
#[utoipa::path(put, path = "/api/v1/events/{event_id}/manage/locations/{location_id}/sold-out/{product_id}", tag = "manage",
    params(("event_id" = String, Path), ("location_id" = String, Path), ("product_id" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Data<SoldOutChanged>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn mark_sold_out(
    State(s): State<AppState>,
    Path((e, location, product)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    sold_out(s, e, location, product, h, true).await
}

/// On sale at the location again.
#[utoipa::path(delete, path = "/api/v1/events/{event_id}/manage/locations/{location_id}/sold-out/{product_id}", tag = "manage",
    params(("event_id" = String, Path), ("location_id" = String, Path), ("product_id" = String, Path)),
    security(("admin_token" = [])),
    responses((status = 200, body = Data<SoldOutChanged>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn unmark_sold_out(
    State(s): State<AppState>,
    Path((e, location, product)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    sold_out(s, e, location, product, h, false).await
}
