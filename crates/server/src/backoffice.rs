//! The back office in the books: vendors and their settlement, inventory
//! items, stock per location (movements, counts), products sold out at
//! one location. The rules are the ledger's ([`tapster_ledger::inventory`],
//! [`tapster_ledger::settlement`]); this module keeps their records.
//!
//! Every goods line is attributed to its vendor, and every recipe's
//! consumption booked at the till's location, in the same write as the
//! sale or cancellation that carries it ([`book_goods`]) — online sales
//! at once, offline sales when their batch arrives.

use std::collections::BTreeMap;

use crate::db::{params, Connection, OptionalExtension};
use tapster_api::api_timestamp;
use tapster_api::backoffice::{
    InventoryCount, InventoryItemResource, InventoryTransaction, MenuItem, NewCount, NewMovement,
    SaveInventoryItem, SaveVendor, SettlementLine, SettlementReport, SettlementVat, SoldOutRow,
    StaffRecord, StockOverview, StockRow, VendorResource,
};
use tapster_ledger::inventory::{
    consumption, stock_level, InventoryItem, ManualMovement, MovementKind, Quantity, StockLevel,
    StockWarning,
};
use tapster_ledger::model::{EntryKind, Line, Product};
use tapster_ledger::settlement::{attribute, settle, Commission, VendorLine};
use tapster_ledger::{Cents, ItemId, ProductId, VatRate, VendorId};

use crate::error::ServerError;
use crate::manage::ManagerIdentity;
use crate::store::{random_id, ServerStore};

fn vendor_id(id: &str) -> Result<VendorId, ServerError> {
    VendorId::new(id).map_err(|e| ServerError::invalid("vendor_id", e.reason))
}

fn item_id(id: &str) -> Result<ItemId, ServerError> {
    ItemId::new(id).map_err(|e| ServerError::invalid("item_id", e.reason))
}

/// Who booked a record, as the reports show it.
pub fn actor(identity: &ManagerIdentity) -> String {
    match identity {
        ManagerIdentity::Admin => "manager".to_string(),
        ManagerIdentity::Staff { id, .. } => format!("staff:{id}"),
    }
}

fn optional_note(note: Option<String>) -> Result<Option<String>, ServerError> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ServerError::invalid(
            "note",
            "must be at most 200 characters",
        ));
    }
    Ok(note)
}

/// What booking goods reads, kept for one write (a batch of a thousand
/// entries reads each product and the till's bar once, not per entry).
#[derive(Default)]
pub(crate) struct GoodsCache {
    products: BTreeMap<ProductId, Option<Product>>,
    /// A till's location and that location's vendor.
    places: BTreeMap<String, (String, Option<VendorId>)>,
}

impl GoodsCache {
    /// Adds the products a caller already read (pricing did).
    pub(crate) fn add_products(&mut self, products: BTreeMap<ProductId, Product>) {
        self.products
            .extend(products.into_iter().map(|(id, p)| (id, Some(p))));
    }

    /// The till's location (empty: none) and that location's vendor.
    pub(crate) fn place(
        &mut self,
        conn: &Connection,
        event: &str,
        terminal_id: &str,
    ) -> Result<&(String, Option<VendorId>), ServerError> {
        if !self.places.contains_key(terminal_id) {
            let (location, vendor): (String, Option<String>) = conn
                .prepare_cached(
                    "SELECT COALESCE(t.location_id, ''), l.vendor_id FROM terminals t
                     LEFT JOIN locations l ON l.event_id = t.event_id AND l.identifier = t.location_id
                     WHERE t.event_id = ?1 AND t.id = ?2",
                )?
                .query_row(params![event, terminal_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or_default();
            let vendor = vendor.and_then(|v| VendorId::new(v).ok());
            self.places
                .insert(terminal_id.to_string(), (location, vendor));
        }
        Ok(&self.places[terminal_id])
    }
}

/// Books what a sale or cancellation's goods lines mean beyond money:
/// each line's vendor, and each recipe's consumption at the till's
/// location. Other kinds of transactions carry no goods.
#[allow(clippy::too_many_arguments)]
pub(crate) fn book_goods(
    conn: &Connection,
    event: &str,
    terminal_id: &str,
    transaction_id: &str,
    kind: EntryKind,
    lines: &[Line],
    cache: &mut GoodsCache,
    at: i64,
) -> Result<(), ServerError> {
    if !matches!(kind, EntryKind::Sale | EntryKind::Cancel) || !lines.iter().any(Line::is_goods) {
        return Ok(());
    }
    cache.place(conn, event, terminal_id)?;
    let (location, location_vendor) = &cache.places[terminal_id];
    let products = &mut cache.products;
    for line in lines.iter().filter(|l| l.is_goods() && l.pass.is_none()) {
        if !products.contains_key(&line.product) {
            let product = ServerStore::product_of(conn, event, &line.product)?;
            products.insert(line.product.clone(), product);
        }
    }
    let product = |id: &ProductId| products.get(id).and_then(Option::as_ref);
    let cancellation = kind == EntryKind::Cancel;
    for (index, vendor) in attribute(lines, product, location_vendor.as_ref()) {
        // Only a vendor's lines are kept: a settlement is asked per vendor,
        // and the organiser's own sales are the transactions themselves
        // (an event without vendors pays nothing here per sale).
        let Some(vendor) = vendor else {
            continue;
        };
        let line = &lines[index];
        conn.prepare_cached(
            "INSERT INTO vendor_lines (event_id, vendor_id, transaction_id, line_no, terminal_id,
                 location_id, product_id, name, quantity, unit_price, vat_bp, cancellation, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            event,
            vendor.as_str(),
            transaction_id,
            index as i64,
            terminal_id,
            location,
            line.product.as_str(),
            line.name,
            line.quantity,
            line.unit_price.0,
            line.vat_rate.0,
            cancellation,
            at,
        ])?;
    }
    for (item, quantity) in consumption(lines, product)? {
        insert_movement(
            conn,
            event,
            &Movement {
                item: item.as_str(),
                location,
                kind: MovementKind::Sale,
                quantity,
                transaction_id: Some(transaction_id),
                group_id: None,
                actor: &format!("terminal:{terminal_id}"),
                note: None,
                at,
            },
        )?;
    }
    Ok(())
}

struct Movement<'a> {
    item: &'a str,
    location: &'a str,
    kind: MovementKind,
    quantity: Quantity,
    transaction_id: Option<&'a str>,
    group_id: Option<&'a str>,
    actor: &'a str,
    note: Option<&'a str>,
    at: i64,
}

fn insert_movement(
    conn: &Connection,
    event: &str,
    m: &Movement<'_>,
) -> Result<String, ServerError> {
    let id = random_id("inv_");
    conn.prepare_cached(
        "INSERT INTO stock_movements (event_id, id, item_id, location_id, kind, quantity,
             transaction_id, group_id, actor, note, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        event,
        id,
        m.item,
        m.location,
        m.kind.as_str(),
        m.quantity.0,
        m.transaction_id,
        m.group_id,
        m.actor,
        m.note,
        m.at
    ])?;
    Ok(id)
}

fn on_hand(conn: &Connection, event: &str, item: &str, location: &str) -> Result<i64, ServerError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(quantity), 0) FROM stock_movements
             WHERE event_id = ?1 AND item_id = ?2 AND location_id = ?3",
        )?
        .query_row(params![event, item, location], |r| r.get(0))?)
}

fn item_of(conn: &Connection, event: &str, id: &str) -> Result<Option<InventoryItem>, ServerError> {
    conn.prepare_cached(
        "SELECT id, name, unit, low_stock, vendor_id, archived FROM inventory_items
         WHERE event_id = ?1 AND id = ?2",
    )?
    .query_row(params![event, id], item_from_row)
    .optional()
    .map_err(Into::into)
}

fn item_from_row(r: &crate::db::Row<'_>) -> crate::db::Result<InventoryItem> {
    let bad = |i: usize, e: tapster_ledger::error::InputError| crate::db::Error::Conversion {
        index: i,
        message: e.to_string(),
    };
    Ok(InventoryItem {
        id: ItemId::new(r.get::<_, String>(0)?).map_err(|e| bad(0, e))?,
        name: r.get(1)?,
        unit: r.get(2)?,
        low_stock: Quantity(r.get(3)?),
        vendor: r
            .get::<_, Option<String>>(4)?
            .map(VendorId::new)
            .transpose()
            .map_err(|e| bad(4, e))?,
        archived: r.get(5)?,
    })
}

fn location_exists(conn: &Connection, event: &str, location: &str) -> Result<bool, ServerError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM locations WHERE event_id = ?1 AND identifier = ?2)",
        )?
        .query_row(params![event, location], |r| r.get(0))?)
}

fn vendor_exists(conn: &Connection, event: &str, vendor: &str) -> Result<bool, ServerError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM vendors WHERE event_id = ?1 AND id = ?2)")?
        .query_row(params![event, vendor], |r| r.get(0))?)
}

fn location_names(conn: &Connection, event: &str) -> Result<BTreeMap<String, String>, ServerError> {
    let mut stmt =
        conn.prepare_cached("SELECT identifier, address FROM locations WHERE event_id = ?1")?;
    let rows = stmt.query_map([event], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut names: BTreeMap<String, String> = rows.collect::<crate::db::Result<_>>()?;
    names.insert(String::new(), String::new());
    Ok(names)
}

/// Whether a product is sold out at the location of this till.
pub(crate) fn sold_out_at(
    conn: &Connection,
    event: &str,
    location: &str,
    product: &ProductId,
) -> Result<bool, ServerError> {
    if location.is_empty() {
        // A till at no location: nothing is sold out there.
        return Ok(false);
    }
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sold_out
             WHERE event_id = ?1 AND location_id = ?2 AND product_id = ?3)",
        )?
        .query_row(params![event, location, product.as_str()], |r| r.get(0))?)
}

/// Checks that a product's vendor and recipe items exist in the event.
pub(crate) fn check_product_refs(
    conn: &Connection,
    event: &str,
    product: &Product,
) -> Result<(), ServerError> {
    if let Some(vendor) = &product.vendor {
        if !vendor_exists(conn, event, vendor.as_str())? {
            return Err(ServerError::invalid(
                "vendor_id",
                format!("'{vendor}' is not a vendor of this event"),
            ));
        }
    }
    for part in &product.consumes {
        if item_of(conn, event, part.item.as_str())?.is_none() {
            return Err(ServerError::invalid(
                "consumes",
                format!("'{}' is not an inventory item of this event", part.item),
            ));
        }
    }
    Ok(())
}

/// A time range of a report, in ms, inclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<i64>,
    pub until: Option<i64>,
}

impl ServerStore {
    // ---- vendors -------------------------------------------------------

    pub fn vendors(&self, event: &str) -> Result<Vec<VendorResource>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, commission_bp, fixed_fee, created_at, updated_at FROM vendors
             WHERE event_id = ?1 ORDER BY name, id",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok(VendorResource {
                id: r.get(0)?,
                name: r.get(1)?,
                commission_bp: r.get(2)?,
                fixed_fee: r.get(3)?,
                locations: Vec::new(),
                products: Vec::new(),
                created_at: api_timestamp(r.get(4)?).raw,
                updated_at: api_timestamp(r.get(5)?).raw,
            })
        })?;
        let mut vendors: Vec<VendorResource> = rows.collect::<crate::db::Result<_>>()?;
        drop(stmt);
        let mut locations = conn.prepare_cached(
            "SELECT identifier FROM locations WHERE event_id = ?1 AND vendor_id = ?2 ORDER BY identifier",
        )?;
        for vendor in &mut vendors {
            vendor.locations = locations
                .query_map(params![event, vendor.id], |r| r.get(0))?
                .collect::<crate::db::Result<_>>()?;
        }
        drop(locations);
        let products = self.products(event, true)?;
        for vendor in &mut vendors {
            vendor.products = products
                .iter()
                .filter(|p| p.vendor.as_ref().is_some_and(|v| v.as_str() == vendor.id))
                .map(|p| p.id.to_string())
                .collect();
        }
        Ok(vendors)
    }

    pub fn vendor(&self, event: &str, id: &str) -> Result<VendorResource, ServerError> {
        self.vendors(event)?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| ServerError::NotFound(format!("vendor '{id}'")))
    }

    /// Creates or replaces a vendor and the locations it runs.
    pub fn save_vendor(
        &self,
        event: &str,
        id: &str,
        vendor: SaveVendor,
    ) -> Result<VendorResource, ServerError> {
        let id = vendor_id(id)?.to_string();
        let name = vendor.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(ServerError::invalid("name", "must be 1 to 80 characters"));
        }
        Commission {
            rate_bp: vendor.commission_bp,
            fixed_fee: Cents(vendor.fixed_fee),
        }
        .validate()
        .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let now = self.now().0;
        let (event_id, vendor_key) = (event.to_string(), id.clone());
        self.write(move |conn| {
            Self::ensure_event(conn, &event_id)?;
            for location in &vendor.locations {
                if !location_exists(conn, &event_id, location)? {
                    return Err(ServerError::invalid(
                        "locations",
                        format!("'{location}' is not a location of this event"),
                    ));
                }
            }
            conn.prepare_cached(
                "INSERT INTO vendors (event_id, id, name, commission_bp, fixed_fee, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (event_id, id) DO UPDATE SET name = excluded.name,
                     commission_bp = excluded.commission_bp, fixed_fee = excluded.fixed_fee,
                     updated_at = excluded.updated_at",
            )?
            .execute(params![
                event_id,
                vendor_key,
                name,
                vendor.commission_bp,
                vendor.fixed_fee,
                now
            ])?;
            conn.prepare_cached(
                "UPDATE locations SET vendor_id = NULL WHERE event_id = ?1 AND vendor_id = ?2",
            )?
            .execute(params![event_id, vendor_key])?;
            for location in &vendor.locations {
                conn.prepare_cached(
                    "UPDATE locations SET vendor_id = ?3 WHERE event_id = ?1 AND identifier = ?2",
                )?
                .execute(params![event_id, location, vendor_key])?;
            }
            Ok(())
        })?;
        self.vendor(event, &id)
    }

    /// A vendor's settlement for a period, from the lines attributed to it.
    pub fn settlement(
        &self,
        event: &str,
        vendor: &str,
        period: Period,
    ) -> Result<SettlementReport, ServerError> {
        let found = self.vendor(event, vendor)?;
        let currency = self.settings(event)?.currency;
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT transaction_id, at, terminal_id, product_id, name, quantity, unit_price, vat_bp,
                    cancellation
             FROM vendor_lines WHERE event_id = ?1 AND vendor_id = ?2
               AND at >= ?3 AND at <= ?4
             ORDER BY at, seq",
        )?;
        let rows = stmt.query_map(
            params![
                event,
                vendor,
                period.from.unwrap_or(i64::MIN),
                period.until.unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(VendorLine {
                    transaction_id: r.get(0)?,
                    at: r.get(1)?,
                    terminal_id: r.get(2)?,
                    product_id: r.get(3)?,
                    name: r.get(4)?,
                    quantity: r.get(5)?,
                    unit_price: Cents(r.get(6)?),
                    vat_rate: VatRate(r.get(7)?),
                    cancellation: r.get(8)?,
                })
            },
        )?;
        let lines: Vec<VendorLine> = rows.collect::<crate::db::Result<_>>()?;
        let s = settle(
            &lines,
            Commission {
                rate_bp: found.commission_bp,
                fixed_fee: Cents(found.fixed_fee),
            },
        )?;
        Ok(SettlementReport {
            vendor_id: found.id,
            vendor_name: found.name,
            currency,
            from: period.from.map(|t| api_timestamp(t).raw),
            until: period.until.map(|t| api_timestamp(t).raw),
            sales: s.sales.0,
            cancellations: s.cancellations.0,
            gross: s.gross.0,
            vat: s
                .vat
                .iter()
                .map(|v| SettlementVat {
                    rate_bp: v.rate.0,
                    gross: v.gross.0,
                    net: v.net.0,
                    vat: v.vat.0,
                })
                .collect(),
            commission_bp: s.commission_rate_bp,
            commission: s.commission.0,
            fixed_fee: s.fixed_fee.0,
            payable: s.payable.0,
            lines: lines
                .iter()
                .map(|l| {
                    Ok(SettlementLine {
                        timestamp: api_timestamp(l.at).raw,
                        transaction_id: l.transaction_id.clone(),
                        terminal_id: l.terminal_id.clone(),
                        product_id: l.product_id.clone(),
                        name: l.name.clone(),
                        quantity: l.quantity,
                        unit_price: l.unit_price.0,
                        vat_bp: l.vat_rate.0,
                        gross: l.gross()?.0,
                        cancellation: l.cancellation,
                    })
                })
                .collect::<Result<_, ServerError>>()?,
        })
    }

    // ---- inventory items -----------------------------------------------

    pub fn inventory_items(&self, event: &str) -> Result<Vec<InventoryItemResource>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT i.id, i.name, i.unit, i.low_stock, i.vendor_id, i.archived, i.created_at,
                    i.updated_at,
                    (SELECT COALESCE(SUM(m.quantity), 0) FROM stock_movements m
                     WHERE m.event_id = i.event_id AND m.item_id = i.id)
             FROM inventory_items i WHERE i.event_id = ?1 ORDER BY i.name, i.id",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok(InventoryItemResource {
                id: r.get(0)?,
                name: r.get(1)?,
                unit: r.get(2)?,
                low_stock: r.get(3)?,
                vendor_id: r.get(4)?,
                archived: r.get(5)?,
                created_at: api_timestamp(r.get(6)?).raw,
                updated_at: api_timestamp(r.get(7)?).raw,
                on_hand: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    pub fn save_inventory_item(
        &self,
        event: &str,
        id: &str,
        item: SaveInventoryItem,
    ) -> Result<InventoryItemResource, ServerError> {
        let record = InventoryItem {
            id: item_id(id)?,
            name: item.name.trim().to_string(),
            unit: item.unit.trim().to_string(),
            low_stock: Quantity(item.low_stock),
            vendor: item.vendor_id.as_deref().map(vendor_id).transpose()?,
            archived: item.archived,
        };
        record
            .validate()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let now = self.now().0;
        let event_id = event.to_string();
        let key = record.id.to_string();
        self.write(move |conn| {
            Self::ensure_event(conn, &event_id)?;
            if let Some(vendor) = &record.vendor {
                if !vendor_exists(conn, &event_id, vendor.as_str())? {
                    return Err(ServerError::invalid(
                        "vendor_id",
                        format!("'{vendor}' is not a vendor of this event"),
                    ));
                }
            }
            conn.prepare_cached(
                "INSERT INTO inventory_items (event_id, id, name, unit, low_stock, vendor_id, archived,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT (event_id, id) DO UPDATE SET name = excluded.name, unit = excluded.unit,
                     low_stock = excluded.low_stock, vendor_id = excluded.vendor_id,
                     archived = excluded.archived, updated_at = excluded.updated_at",
            )?
            .execute(params![
                event_id,
                record.id.as_str(),
                record.name,
                record.unit,
                record.low_stock.0,
                record.vendor.as_ref().map(VendorId::as_str),
                record.archived,
                now
            ])?;
            Ok(())
        })?;
        self.inventory_items(event)?
            .into_iter()
            .find(|i| i.id == key)
            .ok_or_else(|| ServerError::Internal("the item just saved is missing".into()))
    }

    // ---- movements and counts ------------------------------------------

    /// Books a delivery, transfer, waste or correction.
    pub fn book_movement(
        &self,
        event: &str,
        movement: NewMovement,
        actor: String,
    ) -> Result<Vec<InventoryTransaction>, ServerError> {
        let item = item_id(&movement.item_id)?;
        let location = || {
            movement
                .location_id
                .clone()
                .ok_or_else(|| ServerError::invalid("location_id", "is required"))
        };
        let quantity = Quantity(movement.quantity);
        let manual = match movement.kind.as_str() {
            "delivery" => ManualMovement::Delivery {
                item,
                location: location()?,
                quantity,
            },
            "waste" => ManualMovement::Waste {
                item,
                location: location()?,
                quantity,
            },
            "correction" => ManualMovement::Correction {
                item,
                location: location()?,
                quantity,
            },
            "transfer" => ManualMovement::Transfer {
                item,
                from: movement
                    .from
                    .clone()
                    .ok_or_else(|| ServerError::invalid("from", "is required for a transfer"))?,
                to: movement
                    .to
                    .clone()
                    .ok_or_else(|| ServerError::invalid("to", "is required for a transfer"))?,
                quantity,
            },
            other => {
                return Err(ServerError::invalid(
                    "kind",
                    format!("'{other}' is not delivery, transfer, waste or correction"),
                ))
            }
        };
        let changes = manual
            .changes()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let note = optional_note(movement.note)?;
        let now = self.now().0;
        let event_id = event.to_string();
        let ids = self.write(move |conn| {
            Self::ensure_event(conn, &event_id)?;
            let group = (changes.len() > 1).then(|| random_id("grp_"));
            let mut ids = Vec::new();
            for change in &changes {
                if item_of(conn, &event_id, change.item.as_str())?.is_none() {
                    return Err(ServerError::NotFound(format!(
                        "inventory item '{}'",
                        change.item
                    )));
                }
                if !location_exists(conn, &event_id, &change.location)? {
                    return Err(ServerError::NotFound(format!(
                        "location '{}'",
                        change.location
                    )));
                }
                ids.push(insert_movement(
                    conn,
                    &event_id,
                    &Movement {
                        item: change.item.as_str(),
                        location: &change.location,
                        kind: change.kind,
                        quantity: change.quantity,
                        transaction_id: None,
                        group_id: group.as_deref(),
                        actor: &actor,
                        note: note.as_deref(),
                        at: now,
                    },
                )?);
            }
            Ok(ids)
        })?;
        Ok(self
            .inventory_transactions(event, Period::default())?
            .into_iter()
            .filter(|t| ids.contains(&t.transaction_id))
            .collect())
    }

    /// A physical count: the location's stock becomes what was found; the
    /// difference is booked as a count movement.
    pub fn record_count(
        &self,
        event: &str,
        count: NewCount,
        actor: String,
    ) -> Result<InventoryCount, ServerError> {
        let item = item_id(&count.item_id)?;
        if count.counted < 0 {
            return Err(ServerError::invalid("counted", "must not be negative"));
        }
        let note = optional_note(count.note)?;
        let now = self.now().0;
        let event_id = event.to_string();
        let id = random_id("cnt_");
        let count_id = id.clone();
        self.write(move |conn| {
            Self::ensure_event(conn, &event_id)?;
            if item_of(conn, &event_id, item.as_str())?.is_none() {
                return Err(ServerError::NotFound(format!("inventory item '{item}'")));
            }
            if !location_exists(conn, &event_id, &count.location_id)? {
                return Err(ServerError::NotFound(format!(
                    "location '{}'",
                    count.location_id
                )));
            }
            let expected = on_hand(conn, &event_id, item.as_str(), &count.location_id)?;
            conn.prepare_cached(
                "INSERT INTO inventory_counts (event_id, id, item_id, location_id, expected, counted,
                     actor, note, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                event_id,
                count_id,
                item.as_str(),
                count.location_id,
                expected,
                count.counted,
                actor,
                note,
                now
            ])?;
            let difference = count
                .counted
                .checked_sub(expected)
                .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
            if difference != 0 {
                insert_movement(
                    conn,
                    &event_id,
                    &Movement {
                        item: item.as_str(),
                        location: &count.location_id,
                        kind: MovementKind::Count,
                        quantity: Quantity(difference),
                        transaction_id: None,
                        group_id: Some(&count_id),
                        actor: &actor,
                        note: note.as_deref(),
                        at: now,
                    },
                )?;
            }
            Ok(())
        })?;
        self.inventory_counts(event, Period::default())?
            .into_iter()
            .find(|c| c.count_id == id)
            .ok_or_else(|| ServerError::Internal("the count just made is missing".into()))
    }

    /// The inventory transaction report: every movement in a period.
    pub fn inventory_transactions(
        &self,
        event: &str,
        period: Period,
    ) -> Result<Vec<InventoryTransaction>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let names = location_names(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT m.id, m.item_id, COALESCE(i.name, m.item_id), COALESCE(i.unit, ''),
                    m.location_id, m.kind, m.quantity, m.transaction_id, m.actor, m.note, m.at
             FROM stock_movements m
             LEFT JOIN inventory_items i ON i.event_id = m.event_id AND i.id = m.item_id
             WHERE m.event_id = ?1 AND m.at >= ?2 AND m.at <= ?3
             ORDER BY m.at, m.seq",
        )?;
        let rows = stmt.query_map(
            params![
                event,
                period.from.unwrap_or(i64::MIN),
                period.until.unwrap_or(i64::MAX)
            ],
            |r| {
                let location: String = r.get(4)?;
                Ok(InventoryTransaction {
                    transaction_id: r.get(0)?,
                    item_id: r.get(1)?,
                    item_name: r.get(2)?,
                    unit: r.get(3)?,
                    location_name: names.get(&location).cloned().unwrap_or_default(),
                    location_id: location,
                    kind: r.get(5)?,
                    quantity: r.get(6)?,
                    sale_transaction_id: r.get(7)?,
                    actor: r.get(8)?,
                    note: r.get(9)?,
                    timestamp: api_timestamp(r.get(10)?).raw,
                })
            },
        )?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    /// The inventory count report: expected, counted and the difference.
    pub fn inventory_counts(
        &self,
        event: &str,
        period: Period,
    ) -> Result<Vec<InventoryCount>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let names = location_names(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.item_id, COALESCE(i.name, c.item_id), COALESCE(i.unit, ''),
                    c.location_id, c.expected, c.counted, c.actor, c.note, c.at
             FROM inventory_counts c
             LEFT JOIN inventory_items i ON i.event_id = c.event_id AND i.id = c.item_id
             WHERE c.event_id = ?1 AND c.at >= ?2 AND c.at <= ?3
             ORDER BY c.at, c.id",
        )?;
        let rows = stmt.query_map(
            params![
                event,
                period.from.unwrap_or(i64::MIN),
                period.until.unwrap_or(i64::MAX)
            ],
            |r| {
                let location: String = r.get(4)?;
                let expected: i64 = r.get(5)?;
                let counted: i64 = r.get(6)?;
                Ok(InventoryCount {
                    count_id: r.get(0)?,
                    item_id: r.get(1)?,
                    item_name: r.get(2)?,
                    unit: r.get(3)?,
                    location_name: names.get(&location).cloned().unwrap_or_default(),
                    location_id: location,
                    expected,
                    counted,
                    difference: counted.saturating_sub(expected),
                    actor: r.get(7)?,
                    note: r.get(8)?,
                    timestamp: api_timestamp(r.get(9)?).raw,
                })
            },
        )?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    // ---- seed 000's views of the model ---------------------------------

    /// Menu items: per location, the products on its tills' grids, with
    /// the price a guest pays there now.
    pub fn menu_items(&self, event: &str) -> Result<Vec<MenuItem>, ServerError> {
        let products: BTreeMap<String, Product> = self
            .products(event, true)?
            .into_iter()
            .map(|p| (p.id.to_string(), p))
            .collect();
        let conn = self.reader()?;
        let names = location_names(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(t.location_id, ''), t.layout, l.vendor_id FROM terminals t
             LEFT JOIN locations l ON l.event_id = t.event_id AND l.identifier = t.location_id
             WHERE t.event_id = ?1 AND t.archived = 0 AND t.kind = 'till'",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut menus: BTreeMap<String, (Option<String>, Vec<String>)> = BTreeMap::new();
        for row in rows {
            let (location, layout, vendor) = row?;
            let layout: Vec<String> = serde_json::from_str(&layout).unwrap_or_default();
            let menu = menus.entry(location).or_insert((vendor, Vec::new()));
            for id in layout {
                if !menu.1.contains(&id) {
                    menu.1.push(id);
                }
            }
        }
        drop(stmt);
        let mut items = Vec::new();
        for (location, (location_vendor, layout)) in menus {
            for id in layout {
                let Some(product) = products.get(&id) else {
                    continue;
                };
                let sold_out = conn
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM sold_out WHERE event_id = ?1 AND location_id = ?2 AND product_id = ?3)",
                    )?
                    .query_row(params![event, location, id], |r| r.get(0))?;
                items.push(MenuItem {
                    item_id: id.clone(),
                    name: product.name.clone(),
                    category_id: product.category.to_string(),
                    price: product.effective_price().0,
                    vat_bp: product.vat_rate.0,
                    location_name: names.get(&location).cloned().unwrap_or_default(),
                    location_id: location.clone(),
                    vendor_id: product
                        .vendor
                        .as_ref()
                        .map(|v| v.to_string())
                        .or_else(|| location_vendor.clone()),
                    sold_out,
                    archived: product.archived,
                });
            }
        }
        Ok(items)
    }

    /// Staff with role and PIN state.
    pub fn staff_records(&self, event: &str) -> Result<Vec<StaffRecord>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, role, active, pin_hash <> '', badge IS NOT NULL FROM staff
             WHERE event_id = ?1 ORDER BY name, id",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok(StaffRecord {
                staff_id: r.get(0)?,
                name: r.get(1)?,
                role: r.get(2)?,
                active: r.get(3)?,
                pin_set: r.get(4)?,
                badge: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    // ---- live stock and sold-out flags ---------------------------------

    /// Live stock: every active item at every location (and at "no
    /// location" where tills without one booked), with its level.
    pub fn stock(&self, event: &str) -> Result<StockOverview, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let names = location_names(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT i.id, i.name, i.unit, i.low_stock, l.location_id,
                    (SELECT COALESCE(SUM(m.quantity), 0) FROM stock_movements m
                     WHERE m.event_id = i.event_id AND m.item_id = i.id AND m.location_id = l.location_id)
             FROM inventory_items i
             CROSS JOIN (SELECT identifier AS location_id FROM locations WHERE event_id = ?1
                   UNION SELECT DISTINCT location_id FROM stock_movements WHERE event_id = ?1) l
             WHERE i.event_id = ?1 AND i.archived = 0
             ORDER BY i.name, i.id, l.location_id",
        )?;
        let rows = stmt.query_map([event], |r| {
            let location: String = r.get(4)?;
            let low: i64 = r.get(3)?;
            let on_hand: i64 = r.get(5)?;
            Ok(StockRow {
                item_id: r.get(0)?,
                item_name: r.get(1)?,
                unit: r.get(2)?,
                location_name: names.get(&location).cloned().unwrap_or_default(),
                location_id: location,
                on_hand,
                low_stock: low,
                level: match stock_level(Quantity(on_hand), Quantity(low)) {
                    StockLevel::Ok => "ok",
                    StockLevel::Low => "low",
                    StockLevel::Out => "out",
                }
                .to_string(),
            })
        })?;
        let rows: Vec<StockRow> = rows.collect::<crate::db::Result<_>>()?;
        drop(stmt);
        let mut stmt = conn.prepare_cached(
            "SELECT location_id, product_id, since, actor FROM sold_out WHERE event_id = ?1
             ORDER BY location_id, product_id",
        )?;
        let sold_out = stmt
            .query_map([event], |r| {
                Ok(SoldOutRow {
                    location_id: r.get(0)?,
                    product_id: r.get(1)?,
                    since: api_timestamp(r.get(2)?).raw,
                    actor: r.get(3)?,
                })
            })?
            .collect::<crate::db::Result<_>>()?;
        drop(stmt);
        drop(conn);
        Ok(StockOverview {
            rows,
            sold_out,
            locations: self.locations(event)?,
        })
    }

    /// Marks a product sold out at one location (or on sale there again).
    pub fn set_sold_out(
        &self,
        event: &str,
        location: &str,
        product: &ProductId,
        sold_out: bool,
        actor: String,
    ) -> Result<(), ServerError> {
        let now = self.now().0;
        let (event, location, product) = (event.to_string(), location.to_string(), product.clone());
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            if !location_exists(conn, &event, &location)? {
                return Err(ServerError::NotFound(format!("location '{location}'")));
            }
            if Self::product_of(conn, &event, &product)?.is_none() {
                return Err(ServerError::NotFound(format!("product '{product}'")));
            }
            if sold_out {
                conn.prepare_cached(
                    "INSERT INTO sold_out (event_id, location_id, product_id, since, actor)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![event, location, product.as_str(), now, actor])?;
            } else {
                conn.prepare_cached(
                    "DELETE FROM sold_out WHERE event_id = ?1 AND location_id = ?2 AND product_id = ?3",
                )?
                .execute(params![event, location, product.as_str()])?;
            }
            Ok(())
        })
    }

    /// For a till: the products sold out at its location, and the items
    /// running low or out there.
    pub(crate) fn till_stock(
        conn: &Connection,
        event: &str,
        terminal_id: &str,
    ) -> Result<(Vec<String>, Vec<StockWarning>), ServerError> {
        let location: Option<String> = conn
            .prepare_cached("SELECT location_id FROM terminals WHERE event_id = ?1 AND id = ?2")?
            .query_row(params![event, terminal_id], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(location) = location else {
            return Ok((Vec::new(), Vec::new()));
        };
        let sold_out = conn
            .prepare_cached(
                "SELECT product_id FROM sold_out WHERE event_id = ?1 AND location_id = ?2",
            )?
            .query_map(params![event, location], |r| r.get(0))?
            .collect::<crate::db::Result<_>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT i.id, i.name, i.unit, i.low_stock,
                    (SELECT COALESCE(SUM(m.quantity), 0) FROM stock_movements m
                     WHERE m.event_id = i.event_id AND m.item_id = i.id AND m.location_id = ?2),
                    EXISTS (SELECT 1 FROM stock_movements m
                     WHERE m.event_id = i.event_id AND m.item_id = i.id AND m.location_id = ?2)
             FROM inventory_items i WHERE i.event_id = ?1 AND i.archived = 0 ORDER BY i.name",
        )?;
        let rows = stmt.query_map(params![event, location], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut warnings = Vec::new();
        for row in rows {
            let (id, name, unit, low, on_hand, tracked) = row?;
            // An item never delivered to this bar is not kept here.
            if !tracked {
                continue;
            }
            let level = stock_level(Quantity(on_hand), Quantity(low));
            if level != StockLevel::Ok {
                warnings.push(StockWarning {
                    item: item_id(&id)?,
                    name,
                    unit,
                    on_hand: Quantity(on_hand),
                    low_stock: Quantity(low),
                    level,
                });
            }
        }
        Ok((sold_out, warnings))
    }
}
