//! Seed 004's (walletapp's) products under `/api/v1/events/{event_id}/products`:
//! list, store, fetch one, update (partial: fields not sent are kept),
//! archive (DELETE) and restore (PATCH), with the seed's field names and
//! types. They are the event's products — the same ones the tills sell —
//! checked by the ledger's product rules. Prices are decimal numbers read
//! exactly to cents. A manager's token has the abilities
//! `products.get/store/update/delete`; a device token gets 403.

use crate::db::{params, OptionalExtension};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tapster_api::walletapp::{Decimal, Envelope, Organization, ProductChanges, ShopProduct};
#[allow(unused_imports)]
use tapster_api::ErrorBody;
use tapster_ledger::model::{Colour, Product};
use tapster_ledger::rules::Action;
use tapster_ledger::{CategoryId, Cents, ProductId, Timestamp, VatRate, VendorId};

use crate::error::ServerError;
use crate::http::{bearer, blocking, read_body, AppState};
use crate::store::ServerStore;

pub fn routes() -> Router<AppState> {
    let e = |path: &str| format!("/api/v1/events/{{event_id}}/{path}");
    Router::new()
        .route(&e("products"), get(list_products).post(store_product))
        .route(
            &e("products/{identifier}"),
            get(fetch_product)
                .put(update_product)
                .delete(archive_product)
                .patch(restore_product),
        )
}

/// The caller's token must be a manager's allowed `action`; a device
/// token (a till or scanner) has no `products.*` ability.
async fn authorize(
    state: &AppState,
    event: &str,
    headers: &HeaderMap,
    action: Action,
) -> Result<crate::audit::Actor, ServerError> {
    let token = bearer(headers).ok_or(ServerError::Unauthenticated)?;
    let (store, event) = (state.store.clone(), event.to_string());
    let identity = blocking(move || {
        if store.authenticate_terminal(&event, &token)?.is_some() {
            return Err(ServerError::Forbidden(
                "a device token has no products.* abilities".into(),
            ));
        }
        store.authenticate_manager(&event, &token)
    })
    .await?
    .ok_or(ServerError::Unauthenticated)?;
    identity.check(action)?;
    Ok(identity.actor())
}

fn timestamp(millis: Option<i64>) -> Option<String> {
    millis.map(|m| tapster_api::api_timestamp(m).raw)
}

/// `2026-08-01` (midnight UTC) or the API's timestamps.
fn parse_date(field: &str, text: &str) -> Result<Timestamp, ServerError> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    crate::admin::parse_time(&full)
        .map(Timestamp)
        .map_err(|_| ServerError::invalid(field, "must be a date like 2026-08-01 or a timestamp"))
}

fn colour(field: &str, text: &str) -> Result<Colour, ServerError> {
    Colour::new(text).map_err(|e| ServerError::invalid(field, e.reason))
}

fn text(value: Option<String>) -> Option<String> {
    value
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Applies what a request sent to a product; what it did not send stays.
fn apply(
    product: &mut Product,
    flags: &mut (bool, bool),
    c: ProductChanges,
) -> Result<(), ServerError> {
    if let Some(title) = c.title {
        product.name = title.trim().to_string();
    }
    if let Some(subtitle) = c.subtitle {
        product.subtitle = text(subtitle);
    }
    if let Some(description) = c.description {
        product.description = text(description);
    }
    if let Some(url) = c.thumbnail_url {
        product.thumbnail_url = text(url);
    }
    if let Some(show) = c.show_title {
        flags.0 = show;
    }
    if let Some(show) = c.show_subtitle {
        flags.1 = show;
    }
    if let Some(Decimal(price)) = c.price {
        product.price = price;
    }
    if let Some(points) = c.points {
        product.points = points;
    }
    if let Some(use_stock) = c.use_stock {
        product.use_stock = use_stock;
    }
    if let Some(stock) = c.stock {
        product.stock = stock;
    }
    if let Some(sale) = c.sale {
        product.on_sale = sale;
    }
    if let Some(price) = c.sale_price {
        product.sale_price = price.map(|Decimal(p)| p);
    }
    if let Some(points) = c.sale_points {
        product.sale_points = points;
    }
    if let Some(sale_text) = c.sale_text {
        product.sale_text = text(sale_text);
    }
    if let Some(start) = c.start_date {
        product.available_from = start.map(|s| parse_date("start_date", &s)).transpose()?;
    }
    if let Some(end) = c.end_date {
        product.available_until = end.map(|s| parse_date("end_date", &s)).transpose()?;
    }
    // Tapster keeps the window in its two dates; switching it off clears them.
    if c.use_start_and_end == Some(false) {
        product.available_from = None;
        product.available_until = None;
    }
    if let Some(c) = c.primary_color {
        product.background = colour("primary_color", &c)?;
    }
    if let Some(c) = c.text_color {
        product.text_colour = colour("text_color", &c)?;
    }
    if let Some(ribbon) = c.ribbon_color {
        product.ribbon_colour = ribbon.map(|c| colour("ribbon_color", &c)).transpose()?;
    }
    if let Some(category) = c.category_id {
        product.category =
            CategoryId::new(category).map_err(|e| ServerError::invalid("category_id", e.reason))?;
    }
    if let Some(vat) = c.vat_bp {
        product.vat_rate = VatRate(vat);
    }
    if let Some(vendor) = c.vendor_id {
        product.vendor = vendor
            .map(VendorId::new)
            .transpose()
            .map_err(|e| ServerError::invalid("vendor_id", e.reason))?;
    }
    if let Some(recipe) = c.consumes {
        product.consumes = recipe;
    }
    Ok(())
}

impl ServerStore {
    fn shop_product_of(
        &self,
        event: &str,
        organization: &Organization,
        product: Product,
    ) -> Result<ShopProduct, ServerError> {
        let (created, updated, show_title, show_subtitle) = self
            .reader()?
            .prepare_cached(
                "SELECT created_at, updated_at, show_title, show_subtitle FROM products
                 WHERE event_id = ?1 AND id = ?2",
            )?
            .query_row(params![event, product.id.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        Ok(ShopProduct {
            identifier: product.id.to_string(),
            title: product.name,
            subtitle: product.subtitle,
            description: product.description,
            organization: organization.clone(),
            price: Decimal(product.price),
            points: product.points,
            show_title,
            show_subtitle,
            primary_color: product.background.as_str().to_string(),
            text_color: product.text_colour.as_str().to_string(),
            ribbon_color: product.ribbon_colour.map(|c| c.as_str().to_string()),
            thumbnail_url: product.thumbnail_url,
            start_date: timestamp(product.available_from.map(|t| t.0)),
            end_date: timestamp(product.available_until.map(|t| t.0)),
            use_start_and_end: product.available_from.is_some()
                || product.available_until.is_some(),
            sale: product.on_sale,
            sale_points: product.sale_points,
            sale_price: product.sale_price.map(Decimal),
            sale_text: product.sale_text,
            stock: product.stock,
            use_stock: product.use_stock,
            archived: product.archived,
            created_at: timestamp(created),
            updated_at: timestamp(updated),
            category_id: product.category.to_string(),
            vat_bp: product.vat_rate.0,
            vendor_id: product.vendor.map(|v| v.to_string()),
            deposit_product: product.deposit_product.map(|p| p.to_string()),
            returnable: product.returnable,
            consumes: product.consumes,
        })
    }

    fn organization(&self, event: &str) -> Result<Organization, ServerError> {
        Ok(Organization {
            identifier: event.to_string(),
            name: self.settings(event)?.name,
        })
    }

    pub fn shop_products(&self, event: &str) -> Result<Vec<ShopProduct>, ServerError> {
        let organization = self.organization(event)?;
        self.products(event, true)?
            .into_iter()
            .map(|p| self.shop_product_of(event, &organization, p))
            .collect()
    }

    pub fn shop_product(&self, event: &str, id: &str) -> Result<ShopProduct, ServerError> {
        let organization = self.organization(event)?;
        let product = ProductId::new(id)
            .ok()
            .map(|id| Self::product_of(&self.reader()?, event, &id))
            .transpose()?
            .flatten()
            .ok_or_else(|| ServerError::NotFound(format!("product '{id}'")))?;
        self.shop_product_of(event, &organization, product)
    }

    fn set_show_flags(
        &self,
        event: &str,
        id: &ProductId,
        flags: (bool, bool),
    ) -> Result<(), ServerError> {
        let (event, id) = (event.to_string(), id.clone());
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE products SET show_title = ?3, show_subtitle = ?4 WHERE event_id = ?1 AND id = ?2",
            )?
            .execute(params![event, id.as_str(), flags.0, flags.1])?;
            Ok(())
        })
    }

    fn check_organization(&self, event: &str, c: &ProductChanges) -> Result<(), ServerError> {
        match &c.organization_id {
            Some(id) if id != event => Err(ServerError::invalid(
                "organization_id",
                "must be this event's id",
            )),
            _ => Ok(()),
        }
    }

    /// `POST products`: a new product from the seed's fields.
    pub fn store_shop_product(
        &self,
        event: &str,
        changes: ProductChanges,
    ) -> Result<ShopProduct, ServerError> {
        self.check_organization(event, &changes)?;
        let title = changes
            .title
            .clone()
            .ok_or_else(|| ServerError::invalid("title", "is required"))?;
        let id = match &changes.identifier {
            Some(id) => ProductId::new(id.as_str())
                .map_err(|e| ServerError::invalid("identifier", e.reason))?,
            None => self.free_product_id(event, &title)?,
        };
        let category = match &changes.category_id {
            Some(c) => CategoryId::new(c.as_str())
                .map_err(|e| ServerError::invalid("category_id", e.reason))?,
            None => self
                .categories(event)?
                .into_iter()
                .next()
                .map(|c| c.id)
                .ok_or_else(|| {
                    ServerError::invalid("category_id", "the event has no category yet; make one")
                })?,
        };
        let mut product = Product::new(id, &title, category, Cents::ZERO, VatRate(1900));
        let mut flags = (true, true);
        apply(&mut product, &mut flags, changes)?;
        let saved = self.save_product(event, product, true)?;
        self.set_show_flags(event, &saved.id, flags)?;
        self.shop_product(event, saved.id.as_str())
    }

    /// `PUT products/{identifier}`: changes what was sent, keeps the rest.
    pub fn update_shop_product(
        &self,
        event: &str,
        id: &str,
        changes: ProductChanges,
    ) -> Result<ShopProduct, ServerError> {
        self.check_organization(event, &changes)?;
        if changes.identifier.as_deref().is_some_and(|i| i != id) {
            return Err(ServerError::invalid(
                "identifier",
                "a product's identifier cannot change",
            ));
        }
        let current = self.shop_product(event, id)?;
        let id = ProductId::new(id).map_err(|e| ServerError::invalid("identifier", e.reason))?;
        let mut product = Self::product_of(&self.reader()?, event, &id)?
            .ok_or_else(|| ServerError::NotFound(format!("product '{id}'")))?;
        let mut flags = (current.show_title, current.show_subtitle);
        apply(&mut product, &mut flags, changes)?;
        let saved = self.save_product(event, product, false)?;
        self.set_show_flags(event, &saved.id, flags)?;
        self.shop_product(event, saved.id.as_str())
    }

    /// A product id from the title that no product has yet.
    fn free_product_id(&self, event: &str, title: &str) -> Result<ProductId, ServerError> {
        let base = tapster_ledger::ids::slug(title, 56);
        let base = if base.is_empty() {
            "product".to_string()
        } else {
            base
        };
        let conn = self.reader()?;
        for n in 1..1000 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let Ok(id) = ProductId::new(candidate) else {
                continue;
            };
            if tapster_ledger::bills::RESERVED_PRODUCT_IDS.contains(&id.as_str()) {
                continue;
            }
            let taken: Option<i64> = conn
                .prepare_cached("SELECT 1 FROM products WHERE event_id = ?1 AND id = ?2")?
                .query_row(params![event, id.as_str()], |r| r.get(0))
                .optional()?;
            if taken.is_none() {
                return Ok(id);
            }
        }
        Err(ServerError::invalid(
            "identifier",
            "give the product an identifier",
        ))
    }
}

fn ok<T: serde::Serialize>(value: T) -> Response {
    Json(Envelope::ok(value)).into_response()
}

fn changes(body: Result<Bytes, BytesRejection>) -> Result<ProductChanges, ServerError> {
    let body = read_body(body)?;
    serde_json::from_slice(&body).map_err(|e| ServerError::invalid("body", e.to_string()))
}

type Store = std::sync::Arc<ServerStore>;

macro_rules! with_ability {
    ($state:expr, $event:expr, $headers:expr, $action:expr, $work:expr) => {{
        let actor = authorize(&$state, &$event, &$headers, $action).await?;
        with_ability!(checked actor, $state, $event, $work)
    }};
    (checked $actor:expr, $state:expr, $event:expr, $work:expr) => {{
        let store = $state.store.clone();
        let event = $event.clone();
        let (actor, work) = ($actor, $work);
        blocking(move || crate::audit::acting_as(actor, || work(&store, &event))).await
    }};
}

const READ: Action = Action::ViewReports;
const WRITE: Action = Action::ManageCatalogue;

/// Every product of the event, archived ones included (`archived: true`).
#[utoipa::path(get, path = "/api/v1/events/{event_id}/products", tag = "products",
    params(("event_id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Envelope<Vec<ShopProduct>>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "a device token, or a role without products.get", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn list_products(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    with_ability!(s, e, h, READ, |st: &Store, ev: &str| st.shop_products(ev)).map(ok)
}

/// Creates a product (ability `products.store`).
#[utoipa::path(post, path = "/api/v1/events/{event_id}/products", tag = "products",
    params(("event_id" = String, Path)), request_body = ProductChanges, security(("admin_token" = [])),
    responses((status = 201, body = Envelope<ShopProduct>),
        (status = 400, description = "a missing title, a price with more than two decimals, a rule of the product broken", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the identifier is taken", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn store_product(
    State(s): State<AppState>,
    Path(e): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let actor = authorize(&s, &e, &h, WRITE).await?;
    let changes = changes(body)?;
    let product = with_ability!(checked actor, s, e, move |st: &Store, ev: &str| st
        .store_shop_product(ev, changes))?;
    Ok((StatusCode::CREATED, Json(Envelope::ok(product))).into_response())
}

/// One product (ability `products.get`).
#[utoipa::path(get, path = "/api/v1/events/{event_id}/products/{identifier}", tag = "products",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Envelope<ShopProduct>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn fetch_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    with_ability!(s, e, h, READ, move |st: &Store, ev: &str| st
        .shop_product(ev, &id))
    .map(ok)
}

/// Changes the fields sent and keeps the others (ability `products.update`).
#[utoipa::path(put, path = "/api/v1/events/{event_id}/products/{identifier}", tag = "products",
    params(("event_id" = String, Path), ("identifier" = String, Path)), request_body = ProductChanges,
    security(("admin_token" = [])),
    responses((status = 200, body = Envelope<ShopProduct>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn update_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let actor = authorize(&s, &e, &h, WRITE).await?;
    let changes = changes(body)?;
    with_ability!(checked actor, s, e, move |st: &Store, ev: &str| st
        .update_shop_product(ev, &id, changes))
    .map(ok)
}

/// Archives a product: tills stop selling it, its history stays
/// (ability `products.delete`). Answers `{"message", "data": "Product archived"}`.
#[utoipa::path(delete, path = "/api/v1/events/{event_id}/products/{identifier}", tag = "products",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Envelope<String>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn archive_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    set_archived(s, e, id, h, true).await?;
    Ok(ok("Product archived"))
}

/// Restores an archived product (ability `products.delete`). Answers
/// `{"message", "data": "Product restored"}`.
#[utoipa::path(patch, path = "/api/v1/events/{event_id}/products/{identifier}", tag = "products",
    params(("event_id" = String, Path), ("identifier" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = Envelope<String>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn restore_product(
    State(s): State<AppState>,
    Path((e, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<Response, ServerError> {
    set_archived(s, e, id, h, false).await?;
    Ok(ok("Product restored"))
}

async fn set_archived(
    s: AppState,
    e: String,
    id: String,
    h: HeaderMap,
    archived: bool,
) -> Result<(), ServerError> {
    let product_id = ProductId::new(id).map_err(|e| ServerError::NotFound(e.reason))?;
    with_ability!(s, e, h, WRITE, move |st: &Store, ev: &str| st
        .set_product_archived(ev, &product_id, archived)
        .map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_change_keeps_what_was_not_sent() {
        let mut product = Product::new(
            ProductId::new("beer").unwrap(),
            "Beer",
            CategoryId::new("drinks").unwrap(),
            Cents(450),
            VatRate(1900),
        );
        product.sale_text = Some("Happy hour".into());
        let mut flags = (true, false);
        let changes: ProductChanges =
            serde_json::from_str(r#"{"price": 4.8, "sale_price": null}"#).unwrap();
        apply(&mut product, &mut flags, changes).unwrap();
        assert_eq!(product.price, Cents(480));
        assert_eq!(product.name, "Beer");
        assert_eq!(product.sale_text.as_deref(), Some("Happy hour"));
        assert_eq!(flags, (true, false));
    }

    #[test]
    fn prices_with_more_than_two_decimals_or_as_text_are_refused() {
        for body in [
            r#"{"price": 4.505}"#,
            r#"{"price": "4.50"}"#,
            r#"{"price": 1e2}"#,
        ] {
            assert!(
                serde_json::from_str::<ProductChanges>(body).is_err(),
                "{body}"
            );
        }
    }
}
