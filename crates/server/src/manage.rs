//! What event managers do through the admin API: the catalogue (seed 004:
//! archive with DELETE, restore with PATCH), terminals (seed 003's devices:
//! the token is shown once, rolled on demand), staff, wallets (pair, block,
//! move to a new wristband, pay out), reports in seed 000's record shapes,
//! and the conflicts that offline selling leaves behind.

use crate::db::{params, OptionalExtension};
use tapster_ledger::model::{Category, EntryKind, EventSettings, Product, Role, Tender};
use tapster_ledger::pin::{hash_pin, Pin, PinHashCost, PinLookupKey, PinTag};
use tapster_ledger::promo::payable;
use tapster_ledger::{CategoryId, Cents, ProductId, StaffId, TokenId, VatRate};

use crate::audit::{self, Audit};
use crate::error::ServerError;
use crate::store::{
    insert_transaction, random_token, token_hash, AuthenticatedTerminal, NewTransaction,
    ServerStore,
};
use serde_json::json;
use tapster_api::audit::AuditAction;
use tapster_ledger::rules::{check_role, Action, LoginAttempts};
use tapster_ledger::LedgerError;

pub use tapster_api::manage::*;

/// How long a staff session on the manager API lasts: one working night.
pub const STAFF_SESSION_MILLIS: i64 = 12 * 3600 * 1000;

/// Who calls the manager API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagerIdentity {
    /// The event's admin token: everything.
    Admin,
    /// A staff member's session: what their role allows.
    Staff {
        id: String,
        role: Role,
        /// The terminal the session was opened on.
        terminal: String,
    },
}

impl ManagerIdentity {
    pub fn check(&self, action: Action) -> Result<(), ServerError> {
        match self {
            ManagerIdentity::Admin => Ok(()),
            ManagerIdentity::Staff { role, .. } => Ok(check_role(*role, action)?),
        }
    }

    /// Who the audit trail names for what this identity does.
    pub fn actor(&self) -> crate::audit::Actor {
        match self {
            ManagerIdentity::Admin => crate::audit::Actor::Admin,
            ManagerIdentity::Staff { id, terminal, .. } => crate::audit::Actor::Staff {
                id: id.clone(),
                terminal: Some(terminal.clone()),
            },
        }
    }
}

/// Filters of the report endpoints, seed 000 style:
/// `terminal_timestamp=gte:…&terminal_timestamp=lte:…&sort=terminal_timestamp:desc&limit=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordFilter {
    pub from_millis: Option<i64>,
    pub until_millis: Option<i64>,
    pub descending: bool,
    pub limit: u32,
    pub terminal: Option<String>,
}

impl RecordFilter {
    fn direction(&self) -> &'static str {
        if self.descending {
            "DESC"
        } else {
            "ASC"
        }
    }
}

/// Five-minute buckets folded into the event's local hours (the ledger's
/// `local_hour_start`, as the tills' own reports): keyed by the instant
/// the local hour began, `2026-07-04T19:30:00Z` in a zone half an hour
/// off UTC; the night the clocks go back has its repeated hour twice.
fn local_hours(
    buckets: Vec<SummaryRow>,
    zone: &jiff::tz::TimeZone,
) -> Result<Vec<SummaryRow>, ServerError> {
    let mut hours: std::collections::BTreeMap<i64, SummaryRow> = Default::default();
    for bucket in buckets {
        let index: i64 = bucket
            .key
            .trim()
            .parse()
            .map_err(|_| ServerError::Internal(format!("bad bucket {}", bucket.key)))?;
        let start = tapster_ledger::local_hour_start(
            tapster_ledger::Timestamp(index.saturating_mul(300_000)),
            zone,
        );
        let hour = hours.entry(start.0).or_insert_with(|| SummaryRow {
            key: jiff::Timestamp::from_millisecond(start.0)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default(),
            quantity: 0,
            amount: 0,
            sales: 0,
        });
        let overflow = || ServerError::Ledger(tapster_ledger::LedgerError::AmountOverflow);
        hour.quantity = hour
            .quantity
            .checked_add(bucket.quantity)
            .ok_or_else(overflow)?;
        hour.amount = hour
            .amount
            .checked_add(bucket.amount)
            .ok_or_else(overflow)?;
        hour.sales = hour.sales.checked_add(bucket.sales).ok_or_else(overflow)?;
    }
    Ok(hours.into_values().collect())
}

fn json_err(e: serde_json::Error) -> ServerError {
    ServerError::Internal(e.to_string())
}

/// The names seed 000's records show beside the ids, joined to `t`.
const RECORD_NAMES: &str =
    "LEFT JOIN terminals tm ON tm.event_id = t.event_id AND tm.id = t.terminal_id
     LEFT JOIN staff st ON st.event_id = t.event_id AND st.id = t.staff_id";

/// A record filter's time range (?2, ?3) and terminal (?4) on the transactions `t`.
/// A sale's lines as rows `l` (`l.value` one line's JSON), in each
/// engine's words.
struct LinesSql {
    join: &'static str,
    /// The line's position in its sale, from 0.
    index: &'static str,
    /// The sale's five-minute bucket (ms since the epoch / 300,000), as
    /// the group key: folded into the event's local hours afterwards
    /// ([`local_hours`]).
    bucket: &'static str,
    engine: crate::db::Engine,
}

impl LinesSql {
    fn of(conn: &crate::db::Connection) -> LinesSql {
        match conn.engine() {
            crate::db::Engine::Sqlite => LinesSql {
                join: "JOIN json_each(t.lines) l",
                index: "l.key",
                bucket: "CAST(COALESCE(t.terminal_time, t.created_at) / 300000 AS TEXT)",
                engine: crate::db::Engine::Sqlite,
            },
            crate::db::Engine::Postgres => LinesSql {
                join: "CROSS JOIN LATERAL jsonb_array_elements(CAST(t.lines AS JSONB)) WITH ORDINALITY AS l(value, ordinal)",
                index: "(l.ordinal - 1)",
                bucket: "CAST(COALESCE(t.terminal_time, t.created_at) / 300000 AS TEXT)",
                engine: crate::db::Engine::Postgres,
            },
        }
    }

    /// The line's boolean `field` is true (JSON `true`).
    fn flag_true(&self, field: &str) -> String {
        match self.engine {
            crate::db::Engine::Sqlite => format!("(l.value ->> '{field}') = 1"),
            crate::db::Engine::Postgres => format!("(l.value ->> '{field}') = 'true'"),
        }
    }

    /// The line's boolean `field` is false (JSON `false`).
    fn flag_false(&self, field: &str) -> String {
        match self.engine {
            crate::db::Engine::Sqlite => format!("(l.value ->> '{field}') = 0"),
            crate::db::Engine::Postgres => format!("(l.value ->> '{field}') = 'false'"),
        }
    }
}

const RECORD_FILTER: &str =
    "(CAST(?2 AS BIGINT) IS NULL OR COALESCE(t.terminal_time, t.created_at) >= ?2)
     AND (CAST(?3 AS BIGINT) IS NULL OR COALESCE(t.terminal_time, t.created_at) <= ?3)
     AND (CAST(?4 AS TEXT) IS NULL OR t.terminal_id = ?4)";

impl ServerStore {
    /// The event whose admin token this is.
    pub fn authenticate_admin(&self, event: &str, token: &str) -> Result<bool, ServerError> {
        let conn = self.reader()?;
        let found: Option<String> = conn
            .prepare_cached("SELECT event_id FROM admin_tokens WHERE token_hash = ?1")?
            .query_row([token_hash(token)], |r| r.get(0))
            .optional()?;
        Ok(found.as_deref() == Some(event))
    }

    pub fn settings(&self, event: &str) -> Result<EventSettings, ServerError> {
        Self::ensure_event(&self.reader()?, event)
    }

    pub fn update_settings(
        &self,
        event: &str,
        settings: EventSettings,
    ) -> Result<EventSettings, ServerError> {
        settings
            .validate()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let (event, now) = (event.to_string(), self.now().0);
        self.write(move |conn| {
            // Whether tills sign follows the fiscal device (manage/fiscal),
            // not this form.
            let mut settings = settings;
            let before = Self::ensure_event(conn, &event)?;
            settings.fiscal_signing = before.fiscal_signing;
            let changed = crate::audit::changed_fields(&before, &settings);
            audit::record(
                conn,
                &event,
                now,
                Audit::new(AuditAction::SettingsChanged, changed),
            )?;
            conn.execute(
                "UPDATE events SET settings = ?2, name = ?3 WHERE id = ?1",
                params![
                    event,
                    serde_json::to_string(&settings).map_err(json_err)?,
                    settings.name
                ],
            )?;
            Ok(settings)
        })
    }

    pub fn products(
        &self,
        event: &str,
        include_archived: bool,
    ) -> Result<Vec<Product>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        products_of(&conn, event, include_archived)
    }

    /// Creates (`create`) or replaces a product, checked by the ledger's
    /// product rules; its category and deposit product must exist.
    pub fn save_product(
        &self,
        event: &str,
        product: Product,
        create: bool,
    ) -> Result<Product, ServerError> {
        // Sold out is per location (`backoffice`), never the event's product.
        let product = Product {
            sold_out: false,
            ..product
        };
        product
            .validate()
            .map_err(|e| ServerError::invalid(e.field, e.reason))?;
        let event = event.to_string();
        let now = self.now().0;
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            crate::backoffice::check_product_refs(conn, &event, &product)?;
            let before = Self::product_of(conn, &event, &product.id)?;
            match (create, &before) {
                // The same create again (its answer was lost): made once,
                // answered as made.
                (true, Some(made)) if made == &product => return Ok(product),
                (true, Some(_)) => {
                    return Err(ServerError::Conflict(format!(
                        "product '{}' already exists",
                        product.id
                    )))
                }
                (false, None) => {
                    return Err(ServerError::NotFound(format!("product '{}'", product.id)))
                }
                _ => {}
            }
            let category: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM categories WHERE event_id = ?1 AND id = ?2 AND removed = 0)",
                params![event, product.category.as_str()],
                |r| r.get(0),
            )?;
            if !category {
                return Err(ServerError::invalid(
                    "category",
                    format!("'{}' does not exist", product.category),
                ));
            }
            if let Some(deposit) = &product.deposit_product {
                match Self::product_of(conn, &event, deposit)? {
                    Some(cup) if cup.returnable => {}
                    _ => {
                        return Err(ServerError::invalid(
                            "deposit_product",
                            format!("'{deposit}' is not a returnable product"),
                        ))
                    }
                }
            }
            crate::store::save_product(conn, &event, &product, now)?;
            let audit = match &before {
                None => Audit::new(AuditAction::ProductCreated, json!(product)),
                Some(before) => Audit::new(
                    AuditAction::ProductChanged,
                    crate::audit::changed_fields(before, &product),
                ),
            };
            audit::record(conn, &event, now, audit.subject(product.id.as_str()))?;
            Ok(product)
        })
    }

    /// Archives (`true`, seed 004's DELETE) or restores (PATCH) a product.
    pub fn set_product_archived(
        &self,
        event: &str,
        id: &ProductId,
        archived: bool,
    ) -> Result<Product, ServerError> {
        let (event, id) = (event.to_string(), id.clone());
        let now = self.now().0;
        self.write(move |conn| {
            let mut product = Self::product_of(conn, &event, &id)?
                .ok_or_else(|| ServerError::NotFound(format!("product '{id}'")))?;
            product.archived = archived;
            crate::store::save_product(conn, &event, &product, now)?;
            let action = if archived {
                AuditAction::ProductArchived
            } else {
                AuditAction::ProductRestored
            };
            let audit = Audit::new(action, json!({ "name": product.name }));
            audit::record(conn, &event, now, audit.subject(product.id.as_str()))?;
            Ok(product)
        })
    }

    pub fn categories(&self, event: &str) -> Result<Vec<Category>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, position FROM categories WHERE event_id = ?1 AND removed = 0 ORDER BY position, name",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, position) = row?;
            out.push(Category {
                id: id.parse().map_err(|e: tapster_ledger::error::InputError| {
                    ServerError::Internal(e.to_string())
                })?,
                name,
                position,
            });
        }
        Ok(out)
    }

    pub fn save_category(&self, event: &str, category: Category) -> Result<Category, ServerError> {
        let name = category.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(ServerError::invalid("name", "must be 1 to 60 characters"));
        }
        let (event, now) = (event.to_string(), self.now().0);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let audit = Audit::new(
                AuditAction::CategorySaved,
                json!({ "name": category.name, "position": category.position }),
            );
            audit::record(conn, &event, now, audit.subject(category.id.as_str()))?;
            conn.execute(
                "INSERT INTO categories (event_id, id, name, position) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (event_id, id) DO UPDATE SET name = excluded.name, position = excluded.position, removed = 0",
                params![event, category.id.as_str(), category.name, category.position],
            )?;
            Ok(category)
        })
    }

    /// Removes a category no product is filed under (archived ones count).
    /// Its row stays, hidden, so what was sold under it keeps its name.
    pub fn remove_category(
        &self,
        event: &str,
        id: CategoryId,
    ) -> Result<Vec<Category>, ServerError> {
        let (owned, now) = (event.to_string(), self.now().0);
        self.write(move |conn| {
            let event = owned;
            Self::ensure_event(conn, &event)?;
            let name: String = conn
                .query_row(
                    "SELECT name FROM categories WHERE event_id = ?1 AND id = ?2 AND removed = 0",
                    params![event, id.as_str()],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| LedgerError::UnknownCategory(id.clone()))?;
            let filed = products_of(conn, &event, true)?
                .iter()
                .filter(|p| p.category == id)
                .count();
            tapster_ledger::rules::check_category_empty(&name, filed as i64)?;
            conn.execute(
                "UPDATE categories SET removed = 1 WHERE event_id = ?1 AND id = ?2",
                params![event, id.as_str()],
            )?;
            let audit = Audit::new(AuditAction::CategoryRemoved, json!({ "name": name }));
            audit::record(conn, &event, now, audit.subject(id.as_str()))?;
            Ok(())
        })?;
        self.categories(event)
    }

    /// Puts the event's categories in `order`: each of them once.
    pub fn reorder_categories(
        &self,
        event: &str,
        order: Vec<CategoryId>,
    ) -> Result<Vec<Category>, ServerError> {
        let (owned, now) = (event.to_string(), self.now().0);
        self.write(move |conn| {
            let event = owned;
            Self::ensure_event(conn, &event)?;
            // Checked where it is written: a category made or removed
            // meanwhile makes the order incomplete.
            let mut stmt = conn
                .prepare_cached("SELECT id FROM categories WHERE event_id = ?1 AND removed = 0")?;
            let ids: Vec<String> = stmt
                .query_map([&event], |r| r.get(0))?
                .collect::<crate::db::Result<_>>()?;
            drop(stmt);
            let now_current: Vec<CategoryId> = ids
                .iter()
                .filter_map(|id| CategoryId::new(id.as_str()).ok())
                .collect();
            tapster_ledger::rules::check_category_order(&now_current, &order)?;
            for (position, id) in (1_i64..).zip(&order) {
                conn.execute(
                    "UPDATE categories SET position = ?3 WHERE event_id = ?1 AND id = ?2",
                    params![event, id.as_str(), position],
                )?;
            }
            let names: Vec<&str> = order.iter().map(CategoryId::as_str).collect();
            let audit = Audit::new(AuditAction::CategoriesReordered, json!({ "order": names }));
            audit::record(conn, &event, now, audit)?;
            Ok(())
        })?;
        self.categories(event)
    }

    pub fn terminals(&self, event: &str) -> Result<Vec<TerminalStatus>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, friendly_name, permission, layout, archived, last_seen, app_version, pending, last_sequence
             FROM terminals WHERE event_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                friendly_name,
                permission,
                layout,
                archived,
                last_seen,
                app_version,
                pending,
                last_sequence,
            ) = row?;
            out.push(TerminalStatus {
                id,
                friendly_name,
                permission: permission
                    .parse()
                    .map_err(|_| ServerError::Internal("bad permission".into()))?,
                layout: serde_json::from_str(&layout).unwrap_or_default(),
                archived,
                last_seen,
                app_version,
                pending,
                last_sequence,
            });
        }
        Ok(out)
    }

    pub fn update_terminal(
        &self,
        event: &str,
        id: &str,
        update: TerminalUpdate,
    ) -> Result<TerminalStatus, ServerError> {
        let name = crate::store::terminal_name(&update.friendly_name, "friendly_name")?;
        let (event, id) = (event.to_string(), id.to_string());
        let id_for_lookup = id.clone();
        let event_for_lookup = event.clone();
        let now = self.now().0;
        self.write(move |conn| {
            for product in &update.layout {
                let product_id = ProductId::new(product.as_str()).map_err(|e| ServerError::invalid("layout", e.reason))?;
                if Self::product_of(conn, &event, &product_id)?.is_none() {
                    return Err(ServerError::invalid("layout", format!("product '{product}' does not exist")));
                }
            }
            let changed = conn.execute(
                "UPDATE terminals SET friendly_name = ?3, permission = ?4, layout = ?5 WHERE event_id = ?1 AND id = ?2",
                params![event, id, name, update.permission.as_str(), serde_json::to_string(&update.layout).map_err(json_err)?],
            )?;
            if changed == 0 {
                return Err(ServerError::NotFound(format!("terminal '{id}'")));
            }
            let audit = Audit::new(AuditAction::TerminalChanged, json!({
                "friendly_name": name,
                "permission": update.permission.as_str(),
                "layout": update.layout,
            }));
            audit::record(conn, &event, now, audit.subject(id))?;
            Ok(())
        })?;
        self.terminal_status(&event_for_lookup, &id_for_lookup)
    }

    fn terminal_status(&self, event: &str, id: &str) -> Result<TerminalStatus, ServerError> {
        self.terminals(event)?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| ServerError::NotFound(format!("terminal '{id}'")))
    }

    /// Archives (seed 003's DELETE: its token stops working) or restores
    /// (PATCH) a terminal.
    pub fn set_terminal_archived(
        &self,
        event: &str,
        id: &str,
        archived: bool,
    ) -> Result<TerminalStatus, ServerError> {
        let (e, i, now) = (event.to_string(), id.to_string(), self.now().0);
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE terminals SET archived = ?3 WHERE event_id = ?1 AND id = ?2",
                params![e, i, archived],
            )?;
            if changed == 0 {
                return Err(ServerError::NotFound(format!("terminal '{i}'")));
            }
            end_terminal_sessions(conn, &e, &i)?;
            let action = if archived {
                AuditAction::TerminalArchived
            } else {
                AuditAction::TerminalRestored
            };
            audit::record(conn, &e, now, Audit::new(action, json!({})).subject(i))?;
            Ok(())
        })?;
        self.terminal_status(event, id)
    }

    /// A new api token for a terminal; the old one stops working at once.
    pub fn roll_terminal_token(
        &self,
        event: &str,
        id: &str,
    ) -> Result<TerminalCreated, ServerError> {
        let (event, id, now) = (event.to_string(), id.to_string(), self.now().0);
        self.write(move |conn| {
            let token = random_token();
            let changed = conn.execute(
                "UPDATE terminals SET token_hash = ?3 WHERE event_id = ?1 AND id = ?2",
                params![event, id, token_hash(&token)],
            )?;
            if changed == 0 {
                return Err(ServerError::NotFound(format!("terminal '{id}'")));
            }
            // A lost till's staff sessions end with its token.
            end_terminal_sessions(conn, &event, &id)?;
            let audit = Audit::new(AuditAction::TerminalTokenRolled, json!({}));
            audit::record(conn, &event, now, audit.subject(id.as_str()))?;
            tracing::info!(event, terminal = %id, "terminal token rolled");
            Ok(TerminalCreated {
                id,
                api_token: token,
            })
        })
    }

    /// What a terminal needs to sell and decide offline (`GET pos/catalog`).
    /// The catalogue for one till: products sold out at its location are
    /// marked so, and the items running low there listed.
    pub fn catalog(
        &self,
        event: &str,
        terminal_id: &str,
    ) -> Result<tapster_api::Catalog, ServerError> {
        let settings = self.settings(event)?;
        let categories = self.categories(event)?;
        let mut products = self.products(event, true)?;
        let conn = self.reader()?;
        let (sold_out, stock_warnings) = Self::till_stock(&conn, event, terminal_id)?;
        for product in &mut products {
            product.sold_out = sold_out.iter().any(|id| id == product.id.as_str());
        }
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, role, pin_hash, badge, active, pin_tag FROM staff WHERE event_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ),
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut staff = Vec::new();
        for row in rows {
            let ((id, name, role), pin_hash, badge, active, pin_tag) = row?;
            staff.push(tapster_api::CatalogStaff {
                id,
                name,
                role: role
                    .parse()
                    .map_err(|_| ServerError::Internal("bad role".into()))?,
                pin_hash,
                pin_tag,
                badge,
                active,
            });
        }
        let pin_lookup_key = Self::read_pin_lookup_key(&conn, event)?;
        Ok(tapster_api::Catalog {
            settings,
            categories,
            products,
            staff,
            pin_lookup_key,
            stock_warnings,
        })
    }

    pub fn staff(&self, event: &str) -> Result<Vec<StaffMember>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, role, active, badge FROM staff WHERE event_id = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([event], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, role, active, badge) = row?;
            out.push(StaffMember {
                id,
                name,
                role: role
                    .parse()
                    .map_err(|_| ServerError::Internal("bad role".into()))?,
                active,
                badge_masked: masked_badge(badge.as_deref()),
            });
        }
        Ok(out)
    }

    /// Gives staff member `id` the badge `badge`, or takes theirs away. A
    /// badge belongs to one member and is no guest's wristband (the rule
    /// tills apply too). Tills learn it with their next catalogue pull.
    pub fn set_staff_badge(
        &self,
        event: &str,
        id: StaffId,
        badge: Option<TokenId>,
    ) -> Result<StaffMember, ServerError> {
        let (event, now) = (event.to_string(), self.now().0);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let before: Option<String> = conn
                .query_row(
                    "SELECT badge FROM staff WHERE event_id = ?1 AND id = ?2",
                    params![event, id.as_str()],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| LedgerError::UnknownStaff(id.clone()))?;
            if let Some(badge) = &badge {
                let holder: Option<(String, String)> = conn
                    .query_row(
                        "SELECT id, name FROM staff WHERE event_id = ?1 AND badge = ?2",
                        params![event, badge.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let holder = holder
                    .map(|(h, name)| StaffId::new(h).map(|h| (h, name)))
                    .transpose()
                    .map_err(|e| ServerError::Internal(e.to_string()))?;
                let guest_band: bool = conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM wallets WHERE event_id = ?1 AND token_id = ?2)",
                    params![event, badge.as_str()],
                    |r| r.get(0),
                )?;
                tapster_ledger::rules::check_badge(
                    &id,
                    holder.as_ref().map(|(h, name)| (h, name.as_str())),
                    guest_band,
                )?;
            }
            conn.execute(
                "UPDATE staff SET badge = ?3 WHERE event_id = ?1 AND id = ?2",
                params![event, id.as_str(), badge.as_ref().map(TokenId::as_str)],
            )
            .map_err(|e| {
                if e.is_unique_violation() {
                    ServerError::Ledger(LedgerError::BadgeInUse {
                        holder: "another staff member".into(),
                    })
                } else {
                    e.into()
                }
            })?;
            let after = badge.as_ref().map(TokenId::masked);
            let before = masked_badge(before.as_deref());
            if before != after {
                let audit = Audit::new(
                    AuditAction::StaffChanged,
                    json!({ "badge": [before, after] }),
                );
                audit::record(conn, &event, now, audit.subject(id.as_str()))?;
            }
            staff_member(conn, &event, &id)
        })
    }

    /// Adds a staff member or changes one (name, role, active, a new PIN);
    /// PINs are stored hashed, and a new member needs one.
    pub fn save_staff(
        &self,
        event: &str,
        member: NewStaffMember,
        cost: PinHashCost,
    ) -> Result<StaffMember, ServerError> {
        let id =
            StaffId::new(member.id.as_str()).map_err(|e| ServerError::invalid("id", e.reason))?;
        let name = member.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(ServerError::invalid("name", "must be 1 to 60 characters"));
        }
        if member.create {
            if let Some(made) = self.made_before(event, &id, &name, &member)? {
                // The same create again (its answer was lost): made once,
                // answered as made, recorded once.
                return Ok(made);
            }
        }
        let hash = match &member.pin {
            Some(pin) => {
                let pin = Pin::new(pin).map_err(|e| ServerError::invalid("pin", e.reason))?;
                let tag = self.pin_lookup_key(event, cost)?.tag(&pin)?;
                self.ensure_pin_unused(event, &pin, &tag, &id)?;
                Some((hash_pin(&pin, cost)?, tag))
            }
            None => None,
        };
        let (event, now) = (event.to_string(), self.now().0);
        let (role, active) = (member.role, member.active);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let before = conn
                .query_row(
                    "SELECT name, role, active FROM staff WHERE event_id = ?1 AND id = ?2",
                    params![event, id.as_str()],
                    |r| {
                        Ok(json!({
                            "name": r.get::<_, String>(0)?,
                            "role": r.get::<_, String>(1)?,
                            "active": r.get::<_, bool>(2)?,
                        }))
                    },
                )
                .optional()?;
            // The unique index on active members' tags refuses a taken PIN
            // even when two saves race or a member is made active again.
            let pin_in_use = |error: crate::db::Error| {
                if error.is_unique_violation() {
                    ServerError::Ledger(LedgerError::PinInUse)
                } else {
                    error.into()
                }
            };
            let changed = match &hash {
                Some((hash, tag)) => conn.execute(
                    "INSERT INTO staff (event_id, id, name, role, pin_hash, active, pin_tag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (event_id, id) DO UPDATE SET name = excluded.name, role = excluded.role,
                         pin_hash = excluded.pin_hash, active = excluded.active, pin_tag = excluded.pin_tag,
                         failed_logins = 0, locked_until = NULL",
                    params![event, id.as_str(), name, role.as_str(), hash, active, tag.as_str()],
                ).map_err(pin_in_use)?,
                None => conn.execute(
                    "UPDATE staff SET name = ?3, role = ?4, active = ?5 WHERE event_id = ?1 AND id = ?2",
                    params![event, id.as_str(), name, role.as_str(), active],
                ).map_err(pin_in_use)?,
            };
            if changed == 0 {
                return Err(ServerError::invalid("pin", "a new staff member needs a PIN"));
            }
            let managers: i64 = conn.query_row(
                "SELECT COUNT(*) FROM staff WHERE event_id = ?1 AND active = 1 AND role = 'manager'",
                [&event],
                |r| r.get(0),
            )?;
            tapster_ledger::rules::check_managers_left(managers)?;
            // A new PIN or a deactivation ends the member's sessions.
            if !active || hash.is_some() {
                conn.execute(
                    "DELETE FROM staff_sessions WHERE event_id = ?1 AND staff_id = ?2",
                    params![event, id.as_str()],
                )?;
            }
            // Never the PIN, nor its hash or tag: only that it changed.
            let after = json!({ "name": name, "role": role.as_str(), "active": active });
            let audit = match &before {
                None => Audit::new(AuditAction::StaffCreated, after),
                Some(before) => {
                    let mut changed = crate::audit::changed_fields(before, &after);
                    if let (Some(fields), true) = (changed.as_object_mut(), hash.is_some()) {
                        fields.insert("pin_changed".into(), json!(true));
                    }
                    Audit::new(AuditAction::StaffChanged, changed)
                }
            };
            audit::record(conn, &event, now, audit.subject(id.as_str()))?;
            staff_member(conn, &event, &id)
        })
    }

    /// The member as made by an earlier create with the same name, role,
    /// state and PIN; `409` if another member has the id; `None` if none.
    fn made_before(
        &self,
        event: &str,
        id: &StaffId,
        name: &str,
        member: &NewStaffMember,
    ) -> Result<Option<StaffMember>, ServerError> {
        let stored = self
            .reader()?
            .query_row(
                "SELECT name, role, active, pin_hash, badge FROM staff WHERE event_id = ?1 AND id = ?2",
                params![event, id.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((stored_name, role, active, hash, badge)) = stored else {
            return Ok(None);
        };
        let same_pin = match member.pin.as_deref().map(Pin::new) {
            Some(Ok(pin)) => tapster_ledger::pin::verify_pin(&pin, &hash)?,
            _ => false,
        };
        if stored_name != name
            || role != member.role.as_str()
            || active != member.active
            || !same_pin
        {
            return Err(ServerError::Conflict(format!(
                "staff member '{id}' already exists"
            )));
        }
        Ok(Some(StaffMember {
            id: id.to_string(),
            name: stored_name,
            role: member.role,
            active,
            badge_masked: masked_badge(badge.as_deref()),
        }))
    }

    /// A PIN alone logs in on a till, so no two active members of an
    /// event may share one (as a till's own ledger also refuses). Members
    /// with a tag are compared by tag (the unique index decides at the
    /// write); those from before tags, by their hash.
    fn ensure_pin_unused(
        &self,
        event: &str,
        pin: &Pin,
        tag: &PinTag,
        except: &StaffId,
    ) -> Result<(), ServerError> {
        let hashes: Vec<String> = {
            let conn = self.reader()?;
            let mut stmt = conn.prepare_cached(
                "SELECT pin_hash FROM staff WHERE event_id = ?1 AND active = 1 AND id != ?2
                     AND (pin_tag IS NULL OR pin_tag = ?3)",
            )?;
            let rows =
                stmt.query_map(params![event, except.as_str(), tag.as_str()], |r| r.get(0))?;
            rows.collect::<crate::db::Result<_>>()?
        };
        for hash in hashes {
            if tapster_ledger::pin::verify_pin(pin, &hash)? {
                return Err(LedgerError::PinInUse.into());
            }
        }
        Ok(())
    }

    /// The event's key for its staff's PIN tags, made (at `cost`) when
    /// the event's first PIN is set.
    pub(crate) fn pin_lookup_key(
        &self,
        event: &str,
        cost: PinHashCost,
    ) -> Result<PinLookupKey, ServerError> {
        if let Some(key) = Self::read_pin_lookup_key(&self.reader()?, event)? {
            return Ok(key);
        }
        let fresh = PinLookupKey::generate(cost);
        let (event, now) = (event.to_string(), self.now().0);
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            conn.execute(
                "INSERT INTO pin_lookup_keys (event_id, key, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (event_id) DO NOTHING",
                params![event, fresh.expose(), now],
            )?;
            Self::read_pin_lookup_key(conn, &event)?
                .ok_or_else(|| ServerError::Internal("the PIN lookup key was not stored".into()))
        })
    }

    fn read_pin_lookup_key(
        conn: &crate::db::Connection,
        event: &str,
    ) -> Result<Option<PinLookupKey>, ServerError> {
        let text: Option<String> = conn
            .query_row(
                "SELECT key FROM pin_lookup_keys WHERE event_id = ?1",
                [event],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|text: String| {
            PinLookupKey::parse(&text).map_err(|_| {
                ServerError::Internal("the event's PIN lookup key is unreadable".into())
            })
        })
        .transpose()
    }

    /// Checks a staff member's PIN (with the tills' lockout rule) and opens
    /// a session on the manager API for what their role allows.
    pub fn open_staff_session(
        &self,
        terminal: &AuthenticatedTerminal,
        request: &StaffSessionRequest,
    ) -> Result<StaffSession, ServerError> {
        let staff = StaffId::new(request.staff_id.as_str())
            .map_err(|e| ServerError::invalid("staff_id", e.reason))?;
        let pin = Pin::new(&request.pin).map_err(|e| ServerError::invalid("pin", e.reason))?;
        let event = terminal.event_id.clone();
        let now = self.now();
        let (role, hash, active, attempts) = {
            let conn = self.reader()?;
            Self::ensure_event(&conn, &event)?;
            let found = conn
                .prepare_cached(
                    "SELECT role, pin_hash, active, failed_logins, locked_until FROM staff
                 WHERE event_id = ?1 AND id = ?2",
                )?
                .query_row(params![event, staff.as_str()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                        LoginAttempts {
                            failed: r.get(3)?,
                            locked_until: r.get(4)?,
                        },
                    ))
                })
                .optional()?;
            found.ok_or(ServerError::Ledger(LedgerError::UnknownStaff(
                staff.clone(),
            )))?
        };
        attempts.check_not_locked(now)?;
        if !active {
            return Err(LedgerError::StaffInactive(staff).into());
        }
        let role: Role = role
            .parse()
            .map_err(|_| ServerError::Internal("bad role".into()))?;
        // The slow hash is checked outside the writer; the outcome is
        // written with the counters as they are then.
        let correct = tapster_ledger::pin::verify_pin(&pin, &hash)?;
        let token = random_token();
        let session = StaffSession {
            token: token.clone(),
            staff_id: staff.to_string(),
            role,
            expires_at: now.0.saturating_add(STAFF_SESSION_MILLIS),
        };
        let terminal_id = terminal.id.clone();
        let outcome = self.write(move |conn| {
            let settings = Self::ensure_event(conn, &event)?;
            // Counted again here, where writes are one at a time: a lock set
            // by a parallel request while this PIN was being checked holds.
            let current: LoginAttempts = conn.query_row(
                "SELECT failed_logins, locked_until FROM staff WHERE event_id = ?1 AND id = ?2",
                params![event, staff.as_str()],
                |r| Ok(LoginAttempts { failed: r.get(0)?, locked_until: r.get(1)? }),
            )?;
            if let Err(locked) = current.check_not_locked(now) {
                return Ok(Some(locked));
            }
            if correct {
                conn.execute(
                    "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE event_id = ?1 AND id = ?2",
                    params![event, staff.as_str()],
                )?;
                conn.execute(
                    "DELETE FROM staff_sessions WHERE expires_at <= ?1",
                    [now.0],
                )?;
                conn.execute(
                    "INSERT INTO staff_sessions (token_hash, event_id, staff_id, terminal_id, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![token_hash(&token), event, staff.as_str(), terminal_id, now.0, now.0.saturating_add(STAFF_SESSION_MILLIS)],
                )?;
                return Ok(None);
            }
            let (next, error) = current.fail(&settings, now);
            conn.execute(
                "UPDATE staff SET failed_logins = ?3, locked_until = ?4 WHERE event_id = ?1 AND id = ?2",
                params![event, staff.as_str(), next.failed, next.locked_until],
            )?;
            Ok(Some(error))
        })?;
        match outcome {
            None => {
                tracing::info!(staff = %session.staff_id, terminal = %terminal.id, "staff session opened");
                Ok(session)
            }
            Some(error) => {
                tracing::warn!(staff = %request.staff_id, terminal = %terminal.id, "wrong PIN for a staff session");
                Err(error.into())
            }
        }
    }

    /// Who a manager API token belongs to: the event's admin, or a staff
    /// member's open session (with their role as it is now).
    pub fn authenticate_manager(
        &self,
        event: &str,
        token: &str,
    ) -> Result<Option<ManagerIdentity>, ServerError> {
        if self.authenticate_admin(event, token)? {
            return Ok(Some(ManagerIdentity::Admin));
        }
        let conn = self.reader()?;
        let found = conn
            .prepare_cached(
                "SELECT ss.staff_id, st.role, ss.terminal_id FROM staff_sessions ss
                 JOIN staff st ON st.event_id = ss.event_id AND st.id = ss.staff_id
                 JOIN terminals tm ON tm.event_id = ss.event_id AND tm.id = ss.terminal_id
                   AND tm.archived = 0
                 WHERE ss.token_hash = ?1 AND ss.event_id = ?2 AND ss.expires_at > ?3
                   AND st.active = 1",
            )?
            .query_row(params![token_hash(token), event, self.now().0], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        match found {
            Some((staff, role, terminal)) => Ok(Some(ManagerIdentity::Staff {
                id: staff,
                terminal,
                role: role
                    .parse()
                    .map_err(|_| ServerError::Internal("bad role".into()))?,
            })),
            None => Ok(None),
        }
    }

    pub fn set_wallet_blocked(
        &self,
        event: &str,
        token: &TokenId,
        blocked: bool,
    ) -> Result<(), ServerError> {
        let (event, token, now) = (event.to_string(), token.clone(), self.now().0);
        self.write(move |conn| {
            if blocked {
                crate::payout_run::keep_blocked(conn, &event, token.as_str())?;
            } else {
                // A band a payout run froze stays blocked until the run ends.
                crate::payout_run::refuse_if_frozen(conn, &event, token.as_str())?;
            }
            let cursor = crate::store::next_cursor(conn, &event)?;
            let changed = conn.execute(
                "UPDATE wallets SET blocked = ?3, cursor = ?4 WHERE event_id = ?1 AND token_id = ?2",
                params![event, token.as_str(), blocked, cursor],
            )?;
            if changed == 0 {
                return Err(ServerError::NotFound("this token is not paired to a wallet".into()));
            }
            let action = if blocked {
                AuditAction::WalletBlocked
            } else {
                AuditAction::WalletUnblocked
            };
            audit::record(conn, &event, now, Audit::new(action, json!({})).wallet(token.as_str()))?;
            Ok(())
        })
    }

    /// A lost wristband: its balance and cups move to a new one, and the old
    /// one is blocked. Returns the new wallet's balance.
    pub fn move_wallet(
        &self,
        event: &str,
        from: &TokenId,
        to: &TokenId,
    ) -> Result<i64, ServerError> {
        if from == to {
            return Err(ServerError::invalid("to_token_id", "is the same wristband"));
        }
        let (event, from, to, now) = (event.to_string(), from.clone(), to.clone(), self.now());
        self.write(move |conn| {
            let old = Self::wallet_row(conn, &event, &from)?.ok_or_else(|| ServerError::NotFound("this token is not paired to a wallet".into()))?;
            crate::payout_run::refuse_if_frozen(conn, &event, from.as_str())?;
            if Self::wallet_row(conn, &event, &to)?.is_some() {
                return Err(ServerError::Conflict("the new wristband already has a wallet".into()));
            }
            crate::store::check_not_a_badge(conn, &event, &to)?;
            let cursor = crate::store::next_cursor(conn, &event)?;
            let new_id = crate::store::random_id("wal_");
            conn.execute(
                "INSERT INTO wallets (event_id, id, token_id, created_at, balance, paired_user, cursor)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                params![event, new_id, to.as_str(), now.0, old.paired_user, cursor],
            )?;
            for (wallet, amount, description) in [
                (&old.id, -old.balance, "Umbuchung auf neues Armband"),
                (&new_id, old.balance, "Umbuchung von altem Armband"),
            ] {
                if amount != 0 {
                    insert_transaction(conn, &manual(&event, wallet, EntryKind::Adjustment, Tender::Wallet, Cents(amount), description, now))?;
                }
            }
            conn.execute(
                "UPDATE wallet_deposits SET wallet_id = ?2 WHERE wallet_id = ?1",
                params![old.id, new_id],
            )?;
            let cursor = crate::store::next_cursor(conn, &event)?;
            conn.execute("UPDATE wallets SET blocked = 1, cursor = ?2 WHERE id = ?1", params![old.id, cursor])?;
            let audit = Audit::new(AuditAction::BalanceMoved, json!({ "to": to.as_str(), "amount": old.balance }));
            audit::record(conn, &event, now.0, audit.wallet(from.as_str()))?;
            Ok(old.balance)
        })
    }

    /// The band's wallet and what a payout gives now: its paid money (promo
    /// credit stays), never while a payout run holds it, never nothing.
    /// One rule for the manager's payout and a till's.
    pub(crate) fn payable_wallet(
        conn: &crate::db::Connection,
        event: &str,
        token: &TokenId,
    ) -> Result<(crate::store::WalletRow, Cents), ServerError> {
        let wallet = Self::wallet_row(conn, event, token)?
            .ok_or_else(|| ServerError::NotFound("this token is not paired to a wallet".into()))?;
        // A payout run pays this balance by bank: never twice.
        crate::payout_run::refuse_if_frozen(conn, event, token.as_str())?;
        // Promo credit from vouchers stays on the wallet: never paid out.
        let paid = payable(Cents(wallet.balance), Cents(wallet.promo_balance));
        if !paid.is_positive() {
            return Err(ServerError::Ledger(LedgerError::NothingToPayOut));
        }
        Ok((wallet, paid))
    }

    /// Pays out a wallet's whole balance in cash.
    pub fn payout(&self, event: &str, token: &TokenId) -> Result<i64, ServerError> {
        let (event, token, now) = (event.to_string(), token.clone(), self.now());
        self.write(move |conn| {
            let (wallet, payable) = Self::payable_wallet(conn, &event, &token)?;
            insert_transaction(
                conn,
                &manual(
                    &event,
                    &wallet.id,
                    EntryKind::Payout,
                    Tender::Cash,
                    Cents(-payable.0),
                    "Auszahlung",
                    now,
                ),
            )?;
            let audit = Audit::new(
                AuditAction::Payout,
                json!({ "amount": payable.0, "tender": "cash" }),
            );
            audit::record(conn, &event, now.0, audit.wallet(token.as_str()))?;
            Ok(payable.0)
        })
    }

    /// Sale lines in seed 000's record shape.
    pub fn sales_records(
        &self,
        event: &str,
        filter: &RecordFilter,
    ) -> Result<Vec<SalesRecord>, ServerError> {
        use tapster_ledger::bills::{BILL_PRODUCT, TIP_PRODUCT};
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let lines = LinesSql::of(&conn);
        let sql = format!(
            "SELECT COALESCE(t.terminal_time, t.created_at), t.id, {index}, l.value ->> 'product', l.value ->> 'name',
                    CAST(l.value ->> 'quantity' AS BIGINT), CAST(l.value ->> 'unit_price' AS BIGINT),
                    t.staff_id, t.terminal_id, tm.friendly_name, st.name
             FROM transactions t {join} {RECORD_NAMES}
             WHERE t.event_id = ?1 AND t.kind IN ('sale', 'cancel') AND {not_deposit}
               AND (l.value ->> 'product') NOT IN ('{BILL_PRODUCT}', '{TIP_PRODUCT}')
               AND {RECORD_FILTER}
             ORDER BY COALESCE(t.terminal_time, t.created_at) {}, t.seq, {index}
             LIMIT ?5",
            filter.direction(),
            index = lines.index,
            join = lines.join,
            not_deposit = lines.flag_false("deposit"),
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                event,
                filter.from_millis,
                filter.until_millis,
                filter.terminal,
                filter.limit
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (
                time,
                purchase,
                line,
                item,
                name,
                quantity,
                price,
                staff,
                terminal,
                terminal_name,
                staff_name,
            ) = row?;
            out.push(SalesRecord {
                terminal_timestamp: tapster_api::api_timestamp(time).raw,
                line_item_id: format!("{purchase}-{line}"),
                purchase_id: purchase,
                item_id: item,
                item_name: name,
                quantity,
                item_price: price,
                staff_name,
                staff_id: staff,
                terminal_id: terminal,
                terminal_name,
            });
        }
        Ok(out)
    }

    /// Top-ups in seed 000's record shape (cancelled ones with a negative amount).
    pub fn top_up_records(
        &self,
        event: &str,
        filter: &RecordFilter,
    ) -> Result<Vec<TopUpRecord>, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let sql = format!(
            "SELECT COALESCE(t.terminal_time, t.created_at), t.id, t.amount, t.tender, t.staff_id, t.terminal_id,
                    tm.friendly_name, st.name
             FROM transactions t {RECORD_NAMES}
             LEFT JOIN transactions r ON r.entry_id = t.reverses
             WHERE t.event_id = ?1 AND (t.kind = 'top_up' OR (t.kind = 'cancel' AND r.kind = 'top_up'))
               AND {RECORD_FILTER}
             ORDER BY COALESCE(t.terminal_time, t.created_at) {}, t.seq
             LIMIT ?5",
            filter.direction()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                event,
                filter.from_millis,
                filter.until_millis,
                filter.terminal,
                filter.limit
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (time, id, amount, tender, staff, terminal, terminal_name, staff_name) = row?;
            out.push(TopUpRecord {
                terminal_timestamp: tapster_api::api_timestamp(time).raw,
                topup_id: id,
                amount,
                tender,
                staff_name,
                staff_id: staff,
                terminal_id: terminal,
                terminal_name,
            });
        }
        Ok(out)
    }

    /// Revenue of a time range by product, category, VAT rate, hour,
    /// terminal and cashier (net of cancellations, deposits excluded), and
    /// top-ups by tender.
    pub fn summary(&self, event: &str, filter: &RecordFilter) -> Result<Summary, ServerError> {
        use tapster_ledger::bills::{BILL_PRODUCT, TIP_PRODUCT};
        let conn = self.reader()?;
        let zone = Self::ensure_event(&conn, event)?.zone();
        let lines = LinesSql::of(&conn);
        let group = |expression: &str| -> Result<Vec<SummaryRow>, ServerError> {
            let sql = format!(
                // Not `key`: json_each has a column of that name, which
                // GROUP BY would take instead of the alias (the line's
                // position in its sale).
                "SELECT {expression} AS group_key, SUM(CAST(l.value ->> 'quantity' AS BIGINT)),
                        SUM(CAST(l.value ->> 'quantity' AS BIGINT) * CAST(l.value ->> 'unit_price' AS BIGINT)),
                        COUNT(DISTINCT t.id) FILTER (WHERE t.kind = 'sale')
                 FROM transactions t {join}
                 WHERE t.event_id = ?1 AND t.kind IN ('sale', 'cancel') AND {not_deposit}
                   AND (l.value ->> 'product') NOT IN ('{BILL_PRODUCT}', '{TIP_PRODUCT}')
                   AND {RECORD_FILTER}
                 GROUP BY group_key ORDER BY group_key",
                join = lines.join,
                not_deposit = lines.flag_false("deposit"),
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    event,
                    filter.from_millis,
                    filter.until_millis,
                    filter.terminal
                ],
                |r| {
                    Ok(SummaryRow {
                        key: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                        quantity: r.get(1)?,
                        amount: r.get(2)?,
                        sales: r.get(3)?,
                    })
                },
            )?;
            Ok(rows.collect::<crate::db::Result<_>>()?)
        };
        let sales_count: i64 = conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM transactions t
                 WHERE t.event_id = ?1 AND t.kind = 'sale' AND {RECORD_FILTER}"
            ))?
            .query_row(
                params![
                    event,
                    filter.from_millis,
                    filter.until_millis,
                    filter.terminal
                ],
                |r| r.get(0),
            )?;
        let by_product = group("l.value ->> 'product'")?;
        let by_category = group("l.value ->> 'category'")?;
        let by_hour = local_hours(group(lines.bucket)?, &zone)?;
        let by_terminal = group("t.terminal_id")?;
        let by_cashier = group("t.staff_id")?;
        let by_location = group(
            "(SELECT loc.address FROM terminals tm
              JOIN locations loc ON loc.event_id = tm.event_id AND loc.identifier = tm.location_id
              WHERE tm.event_id = t.event_id AND tm.id = t.terminal_id)",
        )?;
        let by_vat_rate = group("CAST(l.value ->> 'vat_rate' AS TEXT)")?
            .into_iter()
            .map(|row| {
                // VAT is split by the ledger's one rule, per rate on the sum.
                let rate = VatRate(row.key.parse().unwrap_or(0));
                let split = rate.split_gross(Cents(row.amount));
                VatSummary {
                    rate,
                    gross: split.gross.0,
                    net: split.net.0,
                    vat: split.vat.0,
                }
            })
            .collect::<Vec<_>>();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT t.tender, COUNT(*), SUM(t.amount) FROM transactions t
             WHERE t.event_id = ?1 AND t.kind = 'top_up'
               AND {RECORD_FILTER}
             GROUP BY t.tender ORDER BY t.tender"
        ))?;
        let top_ups_by_tender = stmt
            .query_map(
                params![
                    event,
                    filter.from_millis,
                    filter.until_millis,
                    filter.terminal
                ],
                |r| {
                    Ok(SummaryRow {
                        key: r.get(0)?,
                        quantity: r.get(1)?,
                        amount: r.get(2)?,
                        sales: 0,
                    })
                },
            )?
            .collect::<crate::db::Result<_>>()?;
        let (vouchers_redeemed, credited, spent) = conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FILTER (WHERE t.tag = 'voucher' AND t.promo_delta > 0),
                        COALESCE(SUM(t.promo_delta) FILTER (WHERE t.tag = 'voucher'), 0),
                        COALESCE(-SUM(t.promo_delta) FILTER (WHERE t.kind IN ('sale', 'cancel')), 0)
                 FROM transactions t
                 WHERE t.event_id = ?1 AND t.promo_delta <> 0 AND {RECORD_FILTER}"
            ))?
            .query_row(
                params![
                    event,
                    filter.from_millis,
                    filter.until_millis,
                    filter.terminal
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
        let outstanding: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(promo_balance), 0) FROM wallets WHERE event_id = ?1",
            )?
            .query_row([event], |r| r.get(0))?;
        // Tips are the staff's: beside revenue, never in it.
        let tips: i64 = conn
            .prepare_cached(&format!(
                "SELECT COALESCE(SUM(CAST(l.value ->> 'quantity' AS BIGINT) * CAST(l.value ->> 'unit_price' AS BIGINT)), 0)
                 FROM transactions t {join}
                 WHERE t.event_id = ?1 AND t.kind IN ('sale', 'cancel') AND {tip}
                   AND {RECORD_FILTER}",
                join = lines.join,
                tip = lines.flag_true("tip"),
            ))?
            .query_row(
                params![
                    event,
                    filter.from_millis,
                    filter.until_millis,
                    filter.terminal
                ],
                |r| r.get(0),
            )?;
        Ok(Summary {
            promo: PromoSummary {
                vouchers_redeemed,
                credited,
                spent,
                outstanding,
            },
            revenue: by_vat_rate.iter().map(|r| r.gross).sum(),
            sales_count,
            by_product,
            by_category,
            by_vat_rate,
            by_hour,
            by_terminal,
            by_cashier,
            top_ups_by_tender,
            by_location,
            tips,
        })
    }

    pub fn conflicts(&self, event: &str) -> Result<Conflicts, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event(&conn, event)?;
        let overdrawn_wallets = conn
            .prepare_cached("SELECT token_id, id, balance FROM wallets WHERE event_id = ?1 AND balance < 0 ORDER BY balance")?
            .query_map([event], |r| Ok(OverdrawnWallet { token_id: r.get(0)?, wallet_id: r.get(1)?, balance: r.get(2)? }))?
            .collect::<crate::db::Result<_>>()?;
        let rejected_entries = conn
            .prepare_cached("SELECT terminal_id, idempotency_key, reason, at FROM rejected_entries WHERE event_id = ?1 ORDER BY at DESC LIMIT 1000")?
            .query_map([event], |r| Ok(RejectedEntry { terminal_id: r.get(0)?, idempotency_key: r.get(1)?, reason: r.get(2)?, at: r.get(3)? }))?
            .collect::<crate::db::Result<_>>()?;
        let terminal_problems = conn
            .prepare_cached("SELECT terminal_id, problem, sequence, detail FROM terminal_problems WHERE event_id = ?1 ORDER BY at DESC LIMIT 1000")?
            .query_map([event], |r| Ok(TerminalProblem { terminal_id: r.get(0)?, problem: r.get(1)?, sequence: r.get(2)?, detail: r.get(3)? }))?
            .collect::<crate::db::Result<_>>()?;
        let pass_conflicts = conn
            .prepare_cached(
                "SELECT c.code, p.title, c.terminal_id, c.idempotency_key, c.transaction_id, c.value, c.reason, c.at
                 FROM pass_conflicts c JOIN passes p ON p.event_id = c.event_id AND p.code = c.code
                 WHERE c.event_id = ?1 ORDER BY c.at DESC LIMIT 1000",
            )?
            .query_map([event], |r| {
                Ok(PassConflict {
                    code: r.get(0)?,
                    pass_title: r.get(1)?,
                    terminal_id: r.get(2)?,
                    idempotency_key: r.get(3)?,
                    transaction_id: r.get(4)?,
                    value: r.get(5)?,
                    reason: r.get(6)?,
                    at: r.get(7)?,
                })
            })?
            .collect::<crate::db::Result<_>>()?;
        Ok(Conflicts {
            overdrawn_wallets,
            rejected_entries,
            terminal_problems,
            pass_conflicts,
        })
    }
}

/// A manual transaction (no terminal): manager actions.
/// Ends the staff sessions opened on a terminal (archived, token rolled).
fn end_terminal_sessions(
    conn: &crate::db::Connection,
    event: &str,
    terminal: &str,
) -> Result<(), ServerError> {
    conn.execute(
        "DELETE FROM staff_sessions WHERE event_id = ?1 AND terminal_id = ?2",
        params![event, terminal],
    )?;
    Ok(())
}

pub(crate) fn manual<'a>(
    event: &'a str,
    wallet_id: &'a str,
    kind: EntryKind,
    tender: Tender,
    amount: Cents,
    description: &'a str,
    now: tapster_ledger::Timestamp,
) -> NewTransaction<'a> {
    NewTransaction {
        event,
        wallet_id: Some(wallet_id),
        terminal_id: None,
        kind,
        tender,
        amount,
        description: Some(description),
        tag: None,
        lines: "[]",
        now,
        key: None,
        request_hash: None,
        response: None,
        origin: None,
        cursor: None,
        voucher: false,
    }
}

/// Staff member `id` as the manager API shows them (badge masked).
fn staff_member(
    conn: &crate::db::Connection<'_>,
    event: &str,
    id: &StaffId,
) -> Result<StaffMember, ServerError> {
    let (name, role, active, badge) = conn.query_row(
        "SELECT name, role, active, badge FROM staff WHERE event_id = ?1 AND id = ?2",
        params![event, id.as_str()],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        },
    )?;
    Ok(StaffMember {
        id: id.to_string(),
        name,
        role: role
            .parse()
            .map_err(|_| ServerError::Internal("bad role".into()))?,
        active,
        badge_masked: masked_badge(badge.as_deref()),
    })
}

/// A stored badge as the manager screens show it (never the whole UID).
fn masked_badge(badge: Option<&str>) -> Option<String> {
    badge.map(|b| match TokenId::parse(b) {
        Ok(token) => token.masked(),
        Err(_) => "••••".to_string(),
    })
}

/// The event's products by id, archived ones too if asked.
fn products_of(
    conn: &crate::db::Connection<'_>,
    event: &str,
    include_archived: bool,
) -> Result<Vec<Product>, ServerError> {
    let mut stmt =
        conn.prepare_cached("SELECT data FROM products WHERE event_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([event], |r| r.get::<_, String>(0))?;
    let mut products = Vec::new();
    for row in rows {
        let product: Product = serde_json::from_str(&row?).map_err(json_err)?;
        if include_archived || !product.archived {
            products.push(product);
        }
    }
    Ok(products)
}
