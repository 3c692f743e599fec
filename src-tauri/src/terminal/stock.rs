//! The manager's stock screen on a connected till: live stock per bar,
//! deliveries, transfers, waste, corrections and counts, products sold
//! out at one bar, inventory items and vendors with their settlement.
//! All of it lives on the event's server; the till asks through the
//! manager's staff session. Quantities are parsed by the ledger's rule
//! (`inventory::Quantity`), never as floats.

use tapster_api::backoffice::{NewCount, NewMovement, SaveInventoryItem, SaveVendor};
use tapster_ledger::inventory::Quantity;
use tapster_ledger::rules::Action;
use tapster_ledger::VendorId;

use super::remote::server_error;
use super::Terminal;
use crate::error::{AppError, ErrorCode};
use crate::view;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

/// A quantity as typed, with a decimal comma or point.
fn quantity(text: &str) -> Result<Quantity, AppError> {
    Quantity::parse(&text.trim().replace(',', "."))
        .map_err(|e| invalid(format!("{} {}", e.field, e.reason)))
}

fn shown(thousandths: i64) -> String {
    Quantity(thousandths).to_string()
}

/// An id from a name (`Bierfass 50 l` → `bierfass-50-l`).
fn id_from_name(name: &str, fallback: &str) -> String {
    let slug = tapster_ledger::ids::slug(name, 48);
    if slug.is_empty() {
        fallback.to_string()
    } else {
        slug
    }
}

impl Terminal {
    /// Everything the stock screen shows.
    pub async fn stock_on_server(&self) -> Result<view::StockView, AppError> {
        let session = self.require_server_session(Action::BookStock)?;
        let stock = session.stock().await.map_err(server_error)?;
        let items = session.inventory_items().await.map_err(server_error)?;
        let vendors = session.vendors().await.map_err(server_error)?;
        let products = self.reader().products(false)?;
        Ok(view::StockView {
            locations: stock
                .locations
                .iter()
                .map(|l| view::StockLocation {
                    id: l.identifier.clone(),
                    name: l.address.clone(),
                })
                .collect(),
            items: items
                .into_iter()
                .filter(|i| !i.archived)
                .map(|i| view::InventoryItemView {
                    id: i.id,
                    name: i.name,
                    unit: i.unit,
                    low_stock: shown(i.low_stock),
                    on_hand: shown(i.on_hand),
                    vendor_id: i.vendor_id,
                })
                .collect(),
            rows: stock
                .rows
                .into_iter()
                .map(|r| view::StockRowView {
                    item_id: r.item_id,
                    item_name: r.item_name,
                    unit: r.unit,
                    location_id: r.location_id,
                    location_name: r.location_name,
                    on_hand: shown(r.on_hand),
                    low_stock: shown(r.low_stock),
                    level: r.level,
                })
                .collect(),
            sold_out: stock
                .sold_out
                .into_iter()
                .map(|s| view::SoldOutView {
                    location_id: s.location_id,
                    product_id: s.product_id,
                })
                .collect(),
            vendors: vendors
                .into_iter()
                .map(|v| view::VendorView {
                    id: v.id,
                    name: v.name,
                    commission_bp: v.commission_bp,
                    fixed_fee_cents: v.fixed_fee,
                    locations: v.locations,
                })
                .collect(),
            products: products
                .into_iter()
                .filter(|p| !p.returnable)
                .map(|p| view::ProductName {
                    id: p.id.to_string(),
                    name: p.name,
                })
                .collect(),
        })
    }

    /// Books a delivery, transfer, waste or correction.
    pub async fn book_stock_movement(
        &self,
        form: &view::MovementForm,
    ) -> Result<view::StockView, AppError> {
        let action = if form.kind == "correction" {
            Action::ManageVendors
        } else {
            Action::BookStock
        };
        let session = self.require_server_session(action)?;
        let amount = quantity(&form.quantity)?;
        let transfer = form.kind == "transfer";
        let movement = NewMovement {
            kind: form.kind.clone(),
            item_id: form.item_id.clone(),
            location_id: (!transfer).then(|| form.location_id.clone()),
            from: transfer.then(|| form.location_id.clone()),
            to: if transfer {
                Some(
                    form.to_location_id
                        .clone()
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| invalid("choose where the transfer goes"))?,
                )
            } else {
                None
            },
            quantity: amount.0,
            note: form.note.clone().filter(|n| !n.trim().is_empty()),
        };
        session
            .book_movement(&movement)
            .await
            .map_err(server_error)?;
        tracing::info!(kind = %form.kind, item = %form.item_id, quantity = %amount, "stock movement booked");
        self.stock_on_server().await
    }

    /// A physical count: the bar's stock becomes what was counted.
    pub async fn record_stock_count(
        &self,
        form: &view::CountForm,
    ) -> Result<view::StockView, AppError> {
        let session = self.require_server_session(Action::BookStock)?;
        let counted = quantity(&form.counted)?;
        let count = NewCount {
            item_id: form.item_id.clone(),
            location_id: form.location_id.clone(),
            counted: counted.0,
            note: form.note.clone().filter(|n| !n.trim().is_empty()),
        };
        let result = session.record_count(&count).await.map_err(server_error)?;
        tracing::info!(item = %form.item_id, difference = result.difference, "stock counted");
        self.stock_on_server().await
    }

    /// Marks a product sold out at one bar, or on sale there again.
    pub async fn set_sold_out_on_server(
        &self,
        location: &str,
        product: &str,
        sold_out: bool,
    ) -> Result<view::StockView, AppError> {
        let session = self.require_server_session(Action::BookStock)?;
        session
            .set_sold_out(location, product, sold_out)
            .await
            .map_err(server_error)?;
        self.stock_on_server().await
    }

    pub async fn save_inventory_item(
        &self,
        form: &view::InventoryItemForm,
    ) -> Result<view::StockView, AppError> {
        let session = self.require_server_session(Action::ManageCatalogue)?;
        let id = match &form.id {
            Some(id) if !id.is_empty() => id.clone(),
            _ => id_from_name(&form.name, "item"),
        };
        let item = SaveInventoryItem {
            name: form.name.trim().to_string(),
            unit: form.unit.trim().to_string(),
            low_stock: quantity(&form.low_stock)?.0,
            vendor_id: None,
            archived: false,
        };
        session
            .save_inventory_item(&id, &item)
            .await
            .map_err(server_error)?;
        self.stock_on_server().await
    }

    pub async fn save_vendor(&self, form: &view::VendorForm) -> Result<view::StockView, AppError> {
        let session = self.require_server_session(Action::ManageVendors)?;
        let id = match &form.id {
            Some(id) if !id.is_empty() => id.clone(),
            _ => id_from_name(&form.name, "vendor"),
        };
        VendorId::new(id.as_str()).map_err(|e| invalid(e.to_string()))?;
        let vendor = SaveVendor {
            name: form.name.trim().to_string(),
            commission_bp: form.commission_bp,
            fixed_fee: form.fixed_fee_cents,
            locations: form.locations.clone(),
        };
        session
            .save_vendor(&id, &vendor)
            .await
            .map_err(server_error)?;
        self.stock_on_server().await
    }

    /// Saves a vendor's settlement (PDF or CSV) for a period where the
    /// save dialog chose.
    pub async fn save_settlement(
        &self,
        vendor: &str,
        from_ms: Option<i64>,
        until_ms: Option<i64>,
        format: view::ExportFormat,
        path: &std::path::Path,
    ) -> Result<view::Exported, AppError> {
        let session = self.require_server_session(Action::ViewReports)?;
        let language = match self.options.language {
            view::Language::De => "de",
            view::Language::En => "en",
        };
        let extension = match format {
            view::ExportFormat::Pdf => "pdf",
            view::ExportFormat::Csv => "csv",
            view::ExportFormat::Xml | view::ExportFormat::Zip => {
                return Err(invalid("a settlement is saved as PDF or CSV"));
            }
        };
        let time = |ms: Option<i64>| ms.map(|m| tapster_api::api_timestamp(m).raw);
        let bytes = session
            .settlement_file(
                vendor,
                extension,
                time(from_ms).as_deref(),
                time(until_ms).as_deref(),
                language,
            )
            .await
            .map_err(server_error)?;
        self.save_export(&bytes, format, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_take_a_decimal_comma_and_never_a_float() {
        assert_eq!(quantity("0,5").unwrap(), Quantity(500));
        assert_eq!(quantity(" 30 ").unwrap(), Quantity(30_000));
        assert!(quantity("0,0001").is_err());
        assert_eq!(shown(12_500), "12.5");
        assert_eq!(id_from_name("Bierfass 50 l", "item"), "bierfass-50-l");
        assert_eq!(id_from_name("!!!", "item"), "item");
    }
}
