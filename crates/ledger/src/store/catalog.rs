//! Event settings, categories, products, terminals and staff.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{Ledger, LedgerReader};
use crate::clock::Timestamp;
use crate::error::{InputError, LedgerError, Result};
use crate::ids::{CategoryId, ProductId, StaffId, TerminalId, TokenId};
use crate::model::{
    Category, EventSettings, OfflineLimits, Permission, Product, Role, Staff, Terminal,
};
use crate::money::{Cents, VatRate};
use crate::pin::{hash_pin, verify_pin, Pin, PinLookupKey, PinTag};
use crate::rules::{check_role, Action};

pub(super) fn insert_default_settings(conn: &Connection) -> Result<()> {
    let exists: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM event_settings)", [], |r| {
        r.get(0)
    })?;
    if !exists {
        write_settings(conn, &EventSettings::default())?;
    }
    Ok(())
}

fn write_settings(conn: &Connection, s: &EventSettings) -> Result<()> {
    conn.execute(
        "INSERT INTO event_settings (id, name, currency, receipt_header, receipt_footer,
             max_wallet_balance, offline_wallet_cap, offline_max_balance_age_secs,
             offline_terminal_cap, offline_per_sale_limit, mode, max_failed_logins, login_lockout_secs,
             band_policy, offline_pass_cap, time_zone, fiscal_signing)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency,
             receipt_header = excluded.receipt_header, receipt_footer = excluded.receipt_footer,
             max_wallet_balance = excluded.max_wallet_balance,
             offline_wallet_cap = excluded.offline_wallet_cap,
             offline_max_balance_age_secs = excluded.offline_max_balance_age_secs,
             offline_terminal_cap = excluded.offline_terminal_cap,
             offline_per_sale_limit = excluded.offline_per_sale_limit, mode = excluded.mode,
             max_failed_logins = excluded.max_failed_logins,
             login_lockout_secs = excluded.login_lockout_secs,
             band_policy = excluded.band_policy, offline_pass_cap = excluded.offline_pass_cap,
             time_zone = excluded.time_zone, fiscal_signing = excluded.fiscal_signing",
        params![
            s.name,
            s.currency,
            s.receipt_header,
            s.receipt_footer,
            s.max_wallet_balance.0,
            s.offline.wallet_cap.0,
            s.offline.max_balance_age_secs,
            s.offline.terminal_cap.0,
            s.offline.per_sale_limit.0,
            s.mode.as_str(),
            s.max_failed_logins,
            s.login_lockout_secs,
            s.band_policy.as_str(),
            s.offline.pass_cap.0,
            s.time_zone,
            s.fiscal_signing.as_str(),
        ],
    )?;
    Ok(())
}

pub(super) fn read_settings(conn: &Connection) -> Result<EventSettings> {
    conn.prepare_cached(
        "SELECT name, currency, receipt_header, receipt_footer, max_wallet_balance,
                offline_wallet_cap, offline_max_balance_age_secs, offline_terminal_cap,
                offline_per_sale_limit, mode, max_failed_logins, login_lockout_secs, band_policy,
                offline_pass_cap, time_zone, fiscal_signing
         FROM event_settings WHERE id = 1",
    )?
    .query_row([], |row| {
        Ok(EventSettings {
            name: row.get(0)?,
            currency: row.get(1)?,
            receipt_header: row.get(2)?,
            receipt_footer: row.get(3)?,
            max_wallet_balance: Cents(row.get(4)?),
            offline: OfflineLimits {
                wallet_cap: Cents(row.get(5)?),
                max_balance_age_secs: row.get(6)?,
                terminal_cap: Cents(row.get(7)?),
                per_sale_limit: Cents(row.get(8)?),
                pass_cap: Cents(row.get(13)?),
            },
            mode: parse_column(row, 9)?,
            max_failed_logins: row.get(10)?,
            login_lockout_secs: row.get(11)?,
            band_policy: parse_column(row, 12)?,
            time_zone: row.get(14)?,
            fiscal_signing: parse_column(row, 15)?,
        })
    })
    .map_err(Into::into)
}

/// Reads a column stored as text and parsed with `FromStr`.
pub(super) fn parse_column<T: std::str::FromStr>(row: &Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(index)?;
    text.parse::<T>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Reads an optional column stored as text and parsed with `FromStr`.
pub(super) fn parse_optional<T: std::str::FromStr>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: Option<String> = row.get(index)?;
    text.map(|t| {
        t.parse::<T>().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    })
    .transpose()
}

const PRODUCT_COLUMNS: &str =
    "id, name, subtitle, category_id, price, vat_bp, background, text_colour,
     sale_price, on_sale, use_stock, stock, available_from, available_until, archived,
     deposit_product_id, returnable, description, thumbnail_url, ribbon_colour, sale_text,
     points, sale_points, vendor_id, consumes, sold_out";

fn product_from_row(row: &Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        id: parse_column(row, 0)?,
        name: row.get(1)?,
        subtitle: row.get(2)?,
        category: parse_column(row, 3)?,
        price: Cents(row.get(4)?),
        vat_rate: VatRate(row.get(5)?),
        background: parse_column(row, 6)?,
        text_colour: parse_column(row, 7)?,
        sale_price: row.get::<_, Option<i64>>(8)?.map(Cents),
        on_sale: row.get(9)?,
        use_stock: row.get(10)?,
        stock: row.get(11)?,
        available_from: row.get::<_, Option<i64>>(12)?.map(Timestamp),
        available_until: row.get::<_, Option<i64>>(13)?.map(Timestamp),
        archived: row.get(14)?,
        deposit_product: parse_optional(row, 15)?,
        returnable: row.get(16)?,
        description: row.get(17)?,
        thumbnail_url: row.get(18)?,
        ribbon_colour: parse_optional(row, 19)?,
        sale_text: row.get(20)?,
        points: row.get(21)?,
        sale_points: row.get(22)?,
        vendor: parse_optional(row, 23)?,
        consumes: serde_json::from_str(&row.get::<_, String>(24)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(24, rusqlite::types::Type::Text, Box::new(e))
        })?,
        sold_out: row.get(25)?,
    })
}

pub(super) fn product(conn: &Connection, id: &ProductId) -> Result<Option<Product>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?1"
    ))?;
    Ok(stmt.query_row([id.as_str()], product_from_row).optional()?)
}

fn products(conn: &Connection, include_archived: bool) -> Result<Vec<Product>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p
         WHERE ?1 OR archived = 0
         ORDER BY (SELECT position FROM categories c WHERE c.id = p.category_id), name"
    ))?;
    let rows = stmt.query_map([include_archived], product_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Only the terminal's permission: what every operation checks.
pub(super) fn terminal_permission(conn: &Connection, id: &TerminalId) -> Result<Permission> {
    conn.prepare_cached("SELECT permission FROM terminals WHERE id = ?1")?
        .query_row([id.as_str()], |row| parse_column::<Permission>(row, 0))
        .optional()?
        .ok_or_else(|| LedgerError::Corrupt(format!("terminal '{id}' is missing")))
}

pub(super) fn terminal(conn: &Connection, id: &TerminalId) -> Result<Terminal> {
    let (friendly_name, permission) = conn
        .query_row(
            "SELECT friendly_name, permission FROM terminals WHERE id = ?1",
            [id.as_str()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    parse_column::<Permission>(row, 1)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| LedgerError::Corrupt(format!("terminal '{id}' is missing")))?;
    let mut stmt = conn.prepare_cached(
        "SELECT product_id FROM terminal_layouts WHERE terminal_id = ?1 ORDER BY position",
    )?;
    let layout = stmt
        .query_map([id.as_str()], |row| parse_column::<ProductId>(row, 0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Terminal {
        id: id.clone(),
        friendly_name,
        permission,
        layout,
    })
}

const STAFF_COLUMNS: &str = "id, name, role, badge, active";

pub(super) fn staff_from_row(row: &Row<'_>) -> rusqlite::Result<Staff> {
    Ok(Staff {
        id: parse_column(row, 0)?,
        name: row.get(1)?,
        role: parse_column(row, 2)?,
        badge: parse_optional(row, 3)?,
        active: row.get(4)?,
    })
}

/// The staff member `id`, refused when unknown or deactivated.
pub(super) fn active_staff(conn: &Connection, id: &StaffId) -> Result<Staff> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1"))?;
    let staff = stmt
        .query_row([id.as_str()], staff_from_row)
        .optional()?
        .ok_or_else(|| LedgerError::UnknownStaff(id.clone()))?;
    if !staff.active {
        return Err(LedgerError::StaffInactive(id.clone()));
    }
    Ok(staff)
}

fn validate_text(field: &'static str, value: &str, max_chars: usize) -> Result<(), InputError> {
    if value.trim().is_empty() || value.chars().count() > max_chars {
        return Err(InputError::new(
            field,
            format!("must be 1 to {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(InputError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A new staff member, as a manager enters them.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    pub pin: Pin,
    pub badge: Option<TokenId>,
}

impl Ledger {
    pub fn settings(&self) -> Result<EventSettings> {
        read_settings(&self.lock())
    }

    pub fn update_settings(&self, settings: &EventSettings) -> Result<()> {
        settings.validate()?;
        let conn = self.lock();
        self.forget_rules();
        write_settings(&conn, settings)
    }

    pub fn upsert_category(&self, category: &Category) -> Result<()> {
        validate_text("category name", &category.name, 60)?;
        self.lock().execute(
            "INSERT INTO categories (id, name, position) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, position = excluded.position, removed = 0",
            params![category.id.as_str(), category.name, category.position],
        )?;
        Ok(())
    }

    /// Removes a category that holds no product (archived ones count). Its
    /// row stays, hidden, so past sales keep its name in reports.
    pub fn remove_category(&self, id: &CategoryId) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let name: String = tx
            .query_row(
                "SELECT name FROM categories WHERE id = ?1 AND removed = 0",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| LedgerError::UnknownCategory(id.clone()))?;
        let products: i64 = tx.query_row(
            "SELECT COUNT(*) FROM products WHERE category_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )?;
        crate::rules::check_category_empty(&name, products)?;
        tx.execute(
            "UPDATE categories SET removed = 1 WHERE id = ?1",
            [id.as_str()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Puts the categories in `order` (each of them once), first to last.
    pub fn reorder_categories(&self, order: &[CategoryId]) -> Result<Vec<Category>> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Vec<CategoryId> = categories(&tx)?.into_iter().map(|c| c.id).collect();
        crate::rules::check_category_order(&current, order)?;
        for (position, id) in (1_i64..).zip(order) {
            tx.execute(
                "UPDATE categories SET position = ?2 WHERE id = ?1",
                params![id.as_str(), position],
            )?;
        }
        let reordered = categories(&tx)?;
        tx.commit()?;
        Ok(reordered)
    }

    /// Gives staff member `id` the badge `badge` (or takes theirs away):
    /// a badge belongs to one member and is no guest's wristband.
    pub fn set_staff_badge(&self, id: &StaffId, badge: Option<&TokenId>) -> Result<Staff> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(badge) = badge {
            let holder: Option<(StaffId, String)> = tx
                .query_row(
                    "SELECT id, name FROM staff WHERE badge = ?1",
                    [badge.as_str()],
                    |r| Ok((parse_column::<StaffId>(r, 0)?, r.get(1)?)),
                )
                .optional()?;
            let guest_band: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM wallets WHERE token_id = ?1)",
                [badge.as_str()],
                |r| r.get(0),
            )?;
            crate::rules::check_badge(
                id,
                holder.as_ref().map(|(h, name)| (h, name.as_str())),
                guest_band,
            )?;
        }
        let changed = tx.execute(
            "UPDATE staff SET badge = ?2 WHERE id = ?1",
            params![id.as_str(), badge.map(|b| b.as_str())],
        )?;
        if changed == 0 {
            return Err(LedgerError::UnknownStaff(id.clone()));
        }
        let member = tx.query_row(
            &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1"),
            [id.as_str()],
            staff_from_row,
        )?;
        tx.commit()?;
        Ok(member)
    }

    /// Creates or replaces a product. Its category and deposit product must
    /// exist, and a deposit product must be returnable.
    pub fn upsert_product(&self, product: &Product) -> Result<()> {
        product.validate()?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let category_exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM categories WHERE id = ?1 AND removed = 0)",
            [product.category.as_str()],
            |r| r.get(0),
        )?;
        if !category_exists {
            return Err(InputError::new(
                "category",
                format!("'{}' does not exist", product.category),
            )
            .into());
        }
        if let Some(deposit_id) = &product.deposit_product {
            match self::product(&tx, deposit_id)? {
                Some(deposit) if deposit.returnable => {}
                Some(_) => {
                    return Err(InputError::new(
                        "deposit product",
                        format!("'{deposit_id}' is not returnable"),
                    )
                    .into())
                }
                None => {
                    return Err(InputError::new(
                        "deposit product",
                        format!("'{deposit_id}' does not exist"),
                    )
                    .into())
                }
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO products ({PRODUCT_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, subtitle = excluded.subtitle,
                     category_id = excluded.category_id, price = excluded.price, vat_bp = excluded.vat_bp,
                     background = excluded.background, text_colour = excluded.text_colour,
                     sale_price = excluded.sale_price, on_sale = excluded.on_sale,
                     use_stock = excluded.use_stock, stock = excluded.stock,
                     available_from = excluded.available_from, available_until = excluded.available_until,
                     archived = excluded.archived, deposit_product_id = excluded.deposit_product_id,
                     returnable = excluded.returnable, description = excluded.description,
                     thumbnail_url = excluded.thumbnail_url, ribbon_colour = excluded.ribbon_colour,
                     sale_text = excluded.sale_text, points = excluded.points,
                     sale_points = excluded.sale_points, vendor_id = excluded.vendor_id,
                     consumes = excluded.consumes, sold_out = excluded.sold_out"
            ),
            params![
                product.id.as_str(),
                product.name,
                product.subtitle,
                product.category.as_str(),
                product.price.0,
                product.vat_rate.0,
                product.background.as_str(),
                product.text_colour.as_str(),
                product.sale_price.map(|c| c.0),
                product.on_sale,
                product.use_stock,
                product.stock,
                product.available_from.map(|t| t.0),
                product.available_until.map(|t| t.0),
                product.archived,
                product.deposit_product.as_ref().map(|p| p.as_str()),
                product.returnable,
                product.description,
                product.thumbnail_url,
                product.ribbon_colour.as_ref().map(|c| c.as_str()),
                product.sale_text,
                product.points,
                product.sale_points,
                product.vendor.as_ref().map(|v| v.as_str()),
                serde_json::to_string(&product.consumes).map_err(|e| LedgerError::Corrupt(e.to_string()))?,
                product.sold_out,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Takes in the server's low-stock warnings for this till's bar,
    /// replacing the last ones.
    pub fn replace_stock_warnings(
        &self,
        warnings: &[crate::inventory::StockWarning],
    ) -> Result<()> {
        use crate::inventory::StockLevel;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM stock_warnings", [])?;
        for w in warnings {
            let level = match w.level {
                StockLevel::Ok => continue,
                StockLevel::Low => "low",
                StockLevel::Out => "out",
            };
            tx.execute(
                "INSERT OR REPLACE INTO stock_warnings (item_id, name, unit, on_hand, low_stock, level)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![w.item.as_str(), w.name, w.unit, w.on_hand.0, w.low_stock.0, level],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Archives (`true`) or restores (`false`) a product. Products are never
    /// deleted: sold lines keep referring to them.
    pub fn set_product_archived(&self, id: &ProductId, archived: bool) -> Result<()> {
        let changed = self.lock().execute(
            "UPDATE products SET archived = ?2 WHERE id = ?1",
            params![id.as_str(), archived],
        )?;
        if changed == 0 {
            return Err(LedgerError::UnknownProduct(id.clone()));
        }
        Ok(())
    }

    pub fn product(&self, id: &ProductId) -> Result<Option<Product>> {
        product(&self.lock(), id)
    }

    /// The server's last low-stock warnings for this till's bar.
    pub fn stock_warnings(&self) -> Result<Vec<crate::inventory::StockWarning>> {
        stock_warnings(&self.lock())
    }

    pub fn upsert_terminal(&self, terminal: &Terminal) -> Result<()> {
        validate_text("terminal name", &terminal.friendly_name, 60)?;
        let mut conn = self.lock();
        self.forget_rules();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO terminals (id, friendly_name, permission) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET friendly_name = excluded.friendly_name,
                 permission = excluded.permission",
            params![
                terminal.id.as_str(),
                terminal.friendly_name,
                terminal.permission.as_str()
            ],
        )?;
        tx.execute(
            "DELETE FROM terminal_layouts WHERE terminal_id = ?1",
            [terminal.id.as_str()],
        )?;
        for (position, product_id) in terminal.layout.iter().enumerate() {
            let position = i64::try_from(position).map_err(|_| LedgerError::AmountOverflow)?;
            tx.execute(
                "INSERT INTO terminal_layouts (terminal_id, position, product_id) VALUES (?1, ?2, ?3)",
                params![terminal.id.as_str(), position, product_id.as_str()],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => LedgerError::InvalidInput(InputError::new(
                    "layout",
                    format!("'{product_id}' is unknown or listed twice"),
                )),
                _ => e.into(),
            })?;
        }
        tx.commit()?;
        Ok(())
    }

    /// This ledger's own terminal.
    pub fn terminal(&self) -> Result<Terminal> {
        terminal(&self.lock(), &self.options.terminal)
    }

    /// Adds a staff member with a hashed PIN. PINs must be unique, since a
    /// PIN alone logs in.
    pub fn add_staff(&self, new: &NewStaff) -> Result<Staff> {
        validate_text("staff name", &new.name, 60)?;
        let hash = hash_pin(&new.pin, self.options.pin_cost)?;
        let (key, tag) = self.tag_pin(&new.pin)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::auth::ensure_same_key(&tx, &key)?;
        ensure_pin_unused(&tx, &new.pin, &tag, None)?;
        tx.execute(
            "INSERT INTO staff (id, name, role, pin_hash, badge, active, pin_tag) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
            params![
                new.id.as_str(),
                new.name,
                new.role.as_str(),
                hash,
                new.badge.as_ref().map(|b| b.as_str()),
                tag.as_str()
            ],
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                LedgerError::InvalidInput(InputError::new("staff", "id or badge is already in use"))
            }
            _ => e.into(),
        })?;
        tx.commit()?;
        Ok(Staff {
            id: new.id.clone(),
            name: new.name.clone(),
            role: new.role,
            badge: new.badge.clone(),
            active: true,
        })
    }

    /// The ledger's PIN lookup key and `pin`'s tag under it, computed
    /// without holding the writer (it is one Argon2id).
    fn tag_pin(&self, pin: &Pin) -> Result<(PinLookupKey, PinTag)> {
        let key = super::auth::pin_lookup_key(&self.reader()?.conn)?;
        let tag = key.tag(pin)?;
        Ok((key, tag))
    }

    /// Takes the server's key for finding staff by PIN. A different key
    /// than this ledger's drops every tag made with the old one; the
    /// server's staff records bring theirs.
    pub fn adopt_pin_lookup_key(&self, key: &PinLookupKey) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if super::auth::pin_lookup_key(&tx).ok().as_ref() == Some(key) {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO pin_lookup_key (id, key) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET key = excluded.key",
            [key.expose()],
        )?;
        tx.execute("UPDATE staff SET pin_tag = NULL", [])?;
        tx.commit()?;
        tracing::info!("PIN lookup key taken from the server");
        Ok(())
    }

    /// Creates or updates a staff member from the server, with the PIN hash
    /// the server holds (the PIN itself never leaves the server's hands)
    /// and its tag under the server's key, when the server has one. A
    /// record without a tag keeps the tag this till found at a login, as
    /// long as the PIN did not change.
    pub fn upsert_staff_hashed(
        &self,
        staff: &Staff,
        pin_hash: &str,
        pin_tag: Option<&PinTag>,
    ) -> Result<()> {
        validate_text("staff name", &staff.name, 60)?;
        if !pin_hash.starts_with("$argon2") {
            return Err(InputError::new("PIN hash", "is not an Argon2 hash").into());
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The server moved the badge: whoever had it here loses it first.
        if let Some(badge) = &staff.badge {
            tx.execute(
                "UPDATE staff SET badge = NULL WHERE badge = ?1 AND id <> ?2",
                params![badge.as_str(), staff.id.as_str()],
            )?;
        }
        tx.execute(
            "INSERT INTO staff (id, name, role, pin_hash, badge, active, pin_tag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
                 pin_hash = excluded.pin_hash, badge = excluded.badge, active = excluded.active,
                 pin_tag = CASE
                     WHEN excluded.pin_tag IS NOT NULL THEN excluded.pin_tag
                     WHEN staff.pin_hash = excluded.pin_hash THEN staff.pin_tag
                 END",
            params![
                staff.id.as_str(),
                staff.name,
                staff.role.as_str(),
                pin_hash,
                staff.badge.as_ref().map(|b| b.as_str()),
                staff.active,
                pin_tag.map(PinTag::as_str)
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a new PIN and clears the staff member's lockout.
    pub fn set_staff_pin(&self, id: &StaffId, pin: &Pin) -> Result<()> {
        let hash = hash_pin(pin, self.options.pin_cost)?;
        let (key, tag) = self.tag_pin(pin)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::auth::ensure_same_key(&tx, &key)?;
        ensure_pin_unused(&tx, pin, &tag, Some(id))?;
        let changed = tx.execute(
            "UPDATE staff SET pin_hash = ?2, pin_tag = ?3, failed_logins = 0, locked_until = NULL WHERE id = ?1",
            params![id.as_str(), hash, tag.as_str()],
        )?;
        if changed == 0 {
            return Err(LedgerError::UnknownStaff(id.clone()));
        }
        tx.commit()?;
        Ok(())
    }

    /// Changes a staff member's name, role and whether they may log in.
    /// The event always keeps one active manager: the last one can be
    /// neither demoted nor deactivated.
    pub fn update_staff(
        &self,
        id: &StaffId,
        name: &str,
        role: Role,
        active: bool,
    ) -> Result<Staff> {
        validate_text("staff name", name, 60)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE staff SET name = ?2, role = ?3, active = ?4 WHERE id = ?1",
            params![id.as_str(), name, role.as_str(), active],
        )?;
        if changed == 0 {
            return Err(LedgerError::UnknownStaff(id.clone()));
        }
        let managers: i64 = tx.query_row(
            "SELECT COUNT(*) FROM staff WHERE active = 1 AND role = ?1",
            [Role::Manager.as_str()],
            |r| r.get(0),
        )?;
        crate::rules::check_managers_left(managers)?;
        let badge: Option<String> = tx.query_row(
            "SELECT badge FROM staff WHERE id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(Staff {
            id: id.clone(),
            name: name.to_string(),
            role,
            badge: badge
                .map(|b| TokenId::parse(&b))
                .transpose()
                .map_err(|e| InputError::new("badge", e.to_string()))?,
            active,
        })
    }

    pub fn set_staff_active(&self, id: &StaffId, active: bool) -> Result<()> {
        let changed = self.lock().execute(
            "UPDATE staff SET active = ?2 WHERE id = ?1",
            params![id.as_str(), active],
        )?;
        if changed == 0 {
            return Err(LedgerError::UnknownStaff(id.clone()));
        }
        Ok(())
    }

    /// Refuses unless staff member `id` is active and their role allows `action`.
    pub fn check_staff_may(&self, id: &StaffId, action: Action) -> Result<Staff> {
        let staff = active_staff(&self.lock(), id)?;
        check_role(staff.role, action)?;
        Ok(staff)
    }
}

/// The categories not removed, in their order.
fn categories(conn: &Connection) -> Result<Vec<Category>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, position FROM categories WHERE removed = 0 ORDER BY position, name",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(Category {
            id: parse_column::<CategoryId>(row, 0)?,
            name: row.get(1)?,
            position: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn stock_warnings(conn: &Connection) -> Result<Vec<crate::inventory::StockWarning>> {
    use crate::inventory::{Quantity, StockLevel, StockWarning};
    let mut stmt = conn.prepare(
        "SELECT item_id, name, unit, on_hand, low_stock, level FROM stock_warnings
         ORDER BY level DESC, name",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(StockWarning {
            item: parse_column(row, 0)?,
            name: row.get(1)?,
            unit: row.get(2)?,
            on_hand: Quantity(row.get(3)?),
            low_stock: Quantity(row.get(4)?),
            level: if row.get::<_, String>(5)? == "out" {
                StockLevel::Out
            } else {
                StockLevel::Low
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn ensure_pin_unused(
    conn: &Connection,
    pin: &Pin,
    tag: &PinTag,
    except: Option<&StaffId>,
) -> Result<()> {
    for (member, hash) in super::auth::pin_candidates(conn, tag)? {
        if except.is_some_and(|e| *e == member.id) {
            continue;
        }
        if verify_pin(pin, &hash)? {
            return Err(LedgerError::PinInUse);
        }
    }
    Ok(())
}

impl LedgerReader {
    pub fn settings(&self) -> Result<EventSettings> {
        read_settings(&self.conn)
    }

    pub fn categories(&self) -> Result<Vec<Category>> {
        categories(&self.conn)
    }

    /// Every category's name by id, removed ones too: what was sold under
    /// a category keeps its name in reports.
    pub fn category_names(&self) -> Result<std::collections::BTreeMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name FROM categories")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn products(&self, include_archived: bool) -> Result<Vec<Product>> {
        products(&self.conn, include_archived)
    }

    pub fn product(&self, id: &ProductId) -> Result<Option<Product>> {
        product(&self.conn, id)
    }

    pub fn staff(&self) -> Result<Vec<Staff>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY name"))?;
        let rows = stmt.query_map([], staff_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn terminal(&self, id: &TerminalId) -> Result<Terminal> {
        terminal(&self.conn, id)
    }
}
