//! Seed 000's (WristCoin's) eight objects, read-only, under
//! `/api/v1/events/{event_id}/backoffice/`: menu items, staff, vendors,
//! inventory items, the inventory transaction and count reports, the sales
//! and top-ups reports. Each is a view of Tapster's own model.
//!
//! Query conventions, as the seed spells them: `sort=name:desc,item_id:asc`
//! (several keys, each with a direction; an unknown key is a 400),
//! filters by field (`role=cashier`, or `timestamp=gte:…` / `lte:` / `gt:`
//! / `lt:` to compare), paging with `limit` (1–1000, default 100) and
//! `offset`. Errors are `{"error_code": 0, "error_message": …}` with a
//! numeric code; the rate limit answers 429 in the same shape.

use std::cmp::Ordering;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use tapster_api::backoffice::{
    InventoryCount, InventoryItemRecord, InventoryTransaction, MenuItem, NumericErrorBody, Page,
    StaffRecord, VendorRecord,
};
use tapster_api::manage::{SalesRecord, TopUpRecord};
use tapster_ledger::rules::Action;

use crate::backoffice::Period;
use crate::error::ServerError;
use crate::http::{bearer, blocking, AppState};
use crate::manage::RecordFilter;
use crate::store::ServerStore;

/// Where the seed-000 objects live; the rate limiter answers in their
/// error shape under it.
pub const PREFIX: &str = "/backoffice/";

pub fn routes() -> Router<AppState> {
    let b = |path: &str| format!("/api/v1/events/{{event_id}}/backoffice/{path}");
    Router::new()
        .route(&b("menu_items"), get(menu_items))
        .route(&b("staff"), get(staff))
        .route(&b("vendors"), get(vendors))
        .route(&b("inventory_items"), get(inventory_items))
        .route(&b("inventory_transactions"), get(inventory_transactions))
        .route(&b("inventory_counts"), get(inventory_counts))
        .route(&b("sales"), get(sales))
        .route(&b("topups"), get(topups))
}

/// A refusal in seed 000's shape.
#[derive(Debug)]
pub struct SeedError(pub StatusCode, pub String);

impl IntoResponse for SeedError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(NumericErrorBody {
                error_code: 0,
                error_message: self.1,
            }),
        )
            .into_response()
    }
}

impl From<ServerError> for SeedError {
    fn from(error: ServerError) -> Self {
        let status = error.status();
        let message = match status {
            StatusCode::UNAUTHORIZED => "A valid authorization was not present".to_string(),
            s if s.is_server_error() => {
                tracing::error!(%error, "back office API");
                "internal error; see the server log".to_string()
            }
            _ => error.to_string(),
        };
        SeedError(status, message)
    }
}

fn bad(message: impl Into<String>) -> SeedError {
    SeedError(StatusCode::BAD_REQUEST, message.into())
}

/// Sorting, filtering and paging of a list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuery {
    pub sort: Vec<(String, bool)>,
    pub filters: Vec<(String, Filter)>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Equals(String),
    Compare(Ordering, bool, String),
}

use crate::admin::percent_decode;

impl ListQuery {
    /// Parses a query against the fields the object has.
    pub fn parse(query: Option<&str>, fields: &[&str]) -> Result<ListQuery, SeedError> {
        let mut parsed = ListQuery {
            limit: 100,
            ..ListQuery::default()
        };
        let known = |key: &str| -> Result<String, SeedError> {
            if fields.contains(&key) {
                Ok(key.to_string())
            } else {
                Err(bad(format!(
                    "'{key}' is not a field of this object; use one of: {}",
                    fields.join(", ")
                )))
            }
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = (percent_decode(key), percent_decode(value));
            match key.as_str() {
                "sort" => {
                    for part in value.split(',').filter(|p| !p.trim().is_empty()) {
                        let (field, direction) =
                            part.trim().split_once(':').unwrap_or((part, "asc"));
                        let descending = match direction {
                            "asc" => false,
                            "desc" => true,
                            other => {
                                return Err(bad(format!(
                                    "sort direction '{other}' must be asc or desc"
                                )))
                            }
                        };
                        parsed.sort.push((known(field.trim())?, descending));
                    }
                }
                "limit" => {
                    parsed.limit = value
                        .parse()
                        .ok()
                        .filter(|l| (1..=1000).contains(l))
                        .ok_or_else(|| bad("limit must be 1 to 1000"))?;
                }
                "offset" => {
                    parsed.offset = value
                        .parse()
                        .map_err(|_| bad("offset must be a whole number, 0 or more"))?;
                }
                field => {
                    let field = known(field)?;
                    let filter = match value.split_once(':') {
                        Some((op, operand)) if ["gte", "lte", "gt", "lt"].contains(&op) => {
                            let (ordering, or_equal) = match op {
                                "gte" => (Ordering::Greater, true),
                                "lte" => (Ordering::Less, true),
                                "gt" => (Ordering::Greater, false),
                                _ => (Ordering::Less, false),
                            };
                            Filter::Compare(ordering, or_equal, operand.to_string())
                        }
                        _ => Filter::Equals(value),
                    };
                    parsed.filters.push((field, filter));
                }
            }
        }
        Ok(parsed)
    }

    /// Filters, sorts and pages rows.
    pub fn apply<T: Serialize>(&self, rows: Vec<T>) -> Result<Page<Value>, SeedError> {
        let mut values: Vec<Value> = rows
            .into_iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()
            .map_err(|e| SeedError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        values.retain(|row| {
            self.filters.iter().all(|(field, filter)| {
                let value = &row[field.as_str()];
                match filter {
                    Filter::Equals(wanted) => text_of(value) == *wanted,
                    Filter::Compare(ordering, or_equal, operand) => {
                        let found = compare_with(value, operand);
                        found == Some(*ordering) || (*or_equal && found == Some(Ordering::Equal))
                    }
                }
            })
        });
        values.sort_by(|a, b| {
            self.sort
                .iter()
                .map(|(field, descending)| {
                    let order = compare(&a[field.as_str()], &b[field.as_str()]);
                    if *descending {
                        order.reverse()
                    } else {
                        order
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let total = values.len();
        let data = values
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        Ok(Page {
            data,
            total,
            limit: self.limit,
            offset: self.offset,
        })
    }

    /// A time range from `field=gte:…`/`lte:…` filters, to narrow what the
    /// store reads before the general filter runs.
    fn period(&self, field: &str) -> Result<Period, SeedError> {
        let mut period = Period::default();
        for (name, filter) in &self.filters {
            if let (true, Filter::Compare(ordering, _, operand)) = (name == field, filter) {
                let millis = crate::admin::parse_time(operand).map_err(SeedError::from)?;
                match ordering {
                    Ordering::Greater => period.from = Some(millis),
                    _ => period.until = Some(millis),
                }
            }
        }
        Ok(period)
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.to_string().cmp(&y.to_string()),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (x, y) => text_of(x).cmp(&text_of(y)),
    }
}

fn compare_with(value: &Value, operand: &str) -> Option<Ordering> {
    match value {
        Value::Number(n) => Some(n.as_i64()?.cmp(&operand.parse::<i64>().ok()?)),
        Value::String(s) => Some(s.as_str().cmp(operand)),
        _ => None,
    }
}

/// The caller must be a manager (token or staff session allowed to view
/// reports).
async fn authorize(state: &AppState, event: &str, headers: &HeaderMap) -> Result<(), SeedError> {
    let token = bearer(headers).ok_or(ServerError::Unauthenticated)?;
    let (store, event) = (state.store.clone(), event.to_string());
    let identity = blocking(move || store.authenticate_manager(&event, &token))
        .await?
        .ok_or(ServerError::Unauthenticated)?;
    identity.check(Action::ViewReports)?;
    Ok(())
}

type Store = std::sync::Arc<ServerStore>;

async fn list<T, F>(
    state: AppState,
    event: String,
    headers: HeaderMap,
    uri: Uri,
    fields: &'static [&'static str],
    read: F,
) -> Result<Response, SeedError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&Store, &str, &ListQuery) -> Result<Vec<T>, SeedError> + Send + 'static,
{
    let query = ListQuery::parse(uri.query(), fields)?;
    authorize(&state, &event, &headers).await?;
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || {
        let rows = read(&store, &event, &query)?;
        query.apply(rows)
    })
    .await
    .map_err(|e| SeedError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(page).into_response())
}

macro_rules! seed_list {
    ($name:ident, $path:literal, $row:ty, $fields:expr, $read:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = concat!("/api/v1/events/{event_id}/backoffice/", $path), tag = "backoffice",
            params(("event_id" = String, Path),
                ("sort" = Option<String>, Query, description = "fields with directions: name:desc,item_id:asc"),
                ("limit" = Option<u32>, Query, description = "1 to 1000, default 100"),
                ("offset" = Option<u32>, Query, description = "rows to skip")),
            security(("admin_token" = [])),
            responses((status = 200, body = Page<$row>),
                (status = 400, description = "an unknown field, sort key or bad value", body = NumericErrorBody),
                (status = 401, description = "A valid authorization was not present", body = NumericErrorBody),
                (status = 403, description = "the staff member's role may not view reports", body = NumericErrorBody),
                (status = 404, description = "no such event", body = NumericErrorBody),
                (status = 429, description = "too many requests, please wait", body = NumericErrorBody)))]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            Path(event): Path<String>,
            headers: HeaderMap,
            uri: Uri,
        ) -> Result<Response, SeedError> {
            list::<$row, _>(state, event, headers, uri, $fields, $read).await
        }
    };
}

seed_list!(
    menu_items,
    "menu_items",
    MenuItem,
    &[
        "item_id",
        "name",
        "category_id",
        "price",
        "vat_bp",
        "location_id",
        "location_name",
        "vendor_id",
        "sold_out",
        "archived"
    ],
    |st: &Store, ev: &str, _: &ListQuery| Ok(st.menu_items(ev)?),
    "Menu items: the products on each location's menu, with their price there."
);

seed_list!(
    staff,
    "staff",
    StaffRecord,
    &["staff_id", "name", "role", "active", "pin_set", "badge"],
    |st: &Store, ev: &str, _: &ListQuery| Ok(st.staff_records(ev)?),
    "Staff with role and PIN state."
);

seed_list!(
    vendors,
    "vendors",
    VendorRecord,
    &[
        "vendor_id",
        "name",
        "commission_bp",
        "fixed_fee",
        "created_at",
        "updated_at"
    ],
    |st: &Store, ev: &str, _: &ListQuery| Ok(st
        .vendors(ev)?
        .into_iter()
        .map(|v| VendorRecord {
            vendor_id: v.id,
            name: v.name,
            commission_bp: v.commission_bp,
            fixed_fee: v.fixed_fee,
            locations: v.locations,
            products: v.products,
            created_at: v.created_at,
            updated_at: v.updated_at,
        })
        .collect()),
    "Vendors with their commission, locations and products."
);

seed_list!(
    inventory_items,
    "inventory_items",
    InventoryItemRecord,
    &[
        "item_id",
        "name",
        "unit",
        "low_stock",
        "on_hand",
        "vendor_id",
        "archived",
        "created_at",
        "updated_at"
    ],
    |st: &Store, ev: &str, _: &ListQuery| Ok(st
        .inventory_items(ev)?
        .into_iter()
        .map(|i| InventoryItemRecord {
            item_id: i.id,
            name: i.name,
            unit: i.unit,
            low_stock: i.low_stock,
            on_hand: i.on_hand,
            vendor_id: i.vendor_id,
            archived: i.archived,
            created_at: i.created_at,
            updated_at: i.updated_at,
        })
        .collect()),
    "Inventory items with their stock over all locations (thousandths of the unit)."
);

seed_list!(
    inventory_transactions,
    "inventory_transactions",
    InventoryTransaction,
    &[
        "transaction_id",
        "item_id",
        "item_name",
        "unit",
        "location_id",
        "location_name",
        "kind",
        "quantity",
        "sale_transaction_id",
        "actor",
        "timestamp"
    ],
    |st: &Store, ev: &str, q: &ListQuery| Ok(st.inventory_transactions(ev, q.period("timestamp")?)?),
    "The inventory transaction report: deliveries, transfers, waste, corrections, sales, counts."
);

seed_list!(
    inventory_counts,
    "inventory_counts",
    InventoryCount,
    &[
        "count_id",
        "item_id",
        "item_name",
        "unit",
        "location_id",
        "location_name",
        "expected",
        "counted",
        "difference",
        "actor",
        "timestamp"
    ],
    |st: &Store, ev: &str, q: &ListQuery| Ok(st.inventory_counts(ev, q.period("timestamp")?)?),
    "The inventory count report: expected, counted and the difference."
);

fn record_filter(q: &ListQuery) -> Result<RecordFilter, SeedError> {
    let period = q.period("terminal_timestamp")?;
    Ok(RecordFilter {
        from_millis: period.from,
        until_millis: period.until,
        descending: false,
        limit: u32::MAX,
        terminal: None,
    })
}

seed_list!(
    sales,
    "sales",
    SalesRecord,
    &[
        "terminal_timestamp",
        "line_item_id",
        "purchase_id",
        "item_id",
        "item_name",
        "quantity",
        "item_price",
        "staff_id",
        "staff_name",
        "terminal_id",
        "terminal_name"
    ],
    |st: &Store, ev: &str, q: &ListQuery| Ok(st.sales_records(ev, &record_filter(q)?)?),
    "The sales report: one record per line sold (negative quantity: cancelled)."
);

seed_list!(
    topups,
    "topups",
    TopUpRecord,
    &[
        "terminal_timestamp",
        "topup_id",
        "amount",
        "tender",
        "staff_id",
        "staff_name",
        "terminal_id",
        "terminal_name"
    ],
    |st: &Store, ev: &str, q: &ListQuery| Ok(st.top_up_records(ev, &record_filter(q)?)?),
    "The top-ups report."
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[&str] = &["name", "item_id", "price"];

    #[test]
    fn sorts_by_two_keys_each_with_its_direction() {
        let q = ListQuery::parse(Some("sort=name%3Adesc%2Citem_id%3Aasc"), FIELDS).unwrap();
        assert_eq!(
            q.sort,
            vec![("name".to_string(), true), ("item_id".to_string(), false)]
        );
        let rows = vec![
            json!({"name": "Beer", "item_id": "b2", "price": 450}),
            json!({"name": "Water", "item_id": "w1", "price": 200}),
            json!({"name": "Beer", "item_id": "b1", "price": 450}),
        ];
        let page = q.apply(rows).unwrap();
        let ids: Vec<&str> = page
            .data
            .iter()
            .map(|r| r["item_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["w1", "b1", "b2"]);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        for query in [
            "sort=colour:asc",
            "sort=name:sideways",
            "colour=red",
            "limit=0",
            "limit=1001",
            "offset=-1",
        ] {
            let refused = ListQuery::parse(Some(query), FIELDS).unwrap_err();
            assert_eq!(refused.0, StatusCode::BAD_REQUEST, "{query}");
        }
    }

    #[test]
    fn filters_compare_and_pages_count_the_whole() {
        let q =
            ListQuery::parse(Some("price=gte:300&limit=1&offset=1&sort=price"), FIELDS).unwrap();
        let rows: Vec<Value> = (1..=5)
            .map(|i| json!({"name": "x", "item_id": format!("i{i}"), "price": i * 100}))
            .collect();
        let page = q.apply(rows).unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(page.data.len(), 1);
        assert_eq!(page.data[0]["price"], 400);
        let exact = ListQuery::parse(Some("name=Beer+Keg"), FIELDS).unwrap();
        assert_eq!(
            exact.filters,
            vec![("name".to_string(), Filter::Equals("Beer Keg".into()))]
        );
    }
}
