//! The server's SQLite store: events, terminals, catalogue, staff, wallets
//! and their transactions. One writer connection behind a mutex; every
//! operation is one transaction. The rules (pricing, funds, permissions)
//! come from `tapster-ledger`; this module only keeps the books.
//!
//! The store is the narrow interface a PostgreSQL backend would implement
//! for events that outgrow one machine.

use std::path::Path;
use std::sync::Arc;

use crate::db::{params, Connection, OptionalExtension};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};
use tapster_api::{
    api_timestamp, api_timestamp_in, CreateTransaction, ProductResource, TerminalRef,
    TerminalResource, TransactionResource, WalletResource,
};
use tapster_ledger::model::{
    Category, EntryKind, EventSettings, OfflineLimits, Permission, Product, Role, Tender,
};
use tapster_ledger::passes::{apply_pass, PassCode};
use tapster_ledger::pin::{hash_pin, Pin, PinHashCost};
use tapster_ledger::pricing::{price_cart, Cart};
use tapster_ledger::promo::{promo_after, PromoMove};
use tapster_ledger::rules::{
    authorize_debit, check_max_balance, check_terminal_permission, Authority, WalletPosition,
};
use tapster_ledger::store::migrate::{self, Migration};
use tapster_ledger::{
    demo, Cents, Clock, IdempotencyKey, ProductId, TerminalId, Timestamp, TokenId,
};

use crate::db::{Engine, Migration as PgMigration, PgDatabase, WriteMode};
use crate::error::ServerError;
use crate::writer::{configure, Readers, Writer};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "server",
        sql: include_str!("../../../migrations/server/0001_server.sql"),
    },
    Migration {
        version: 2,
        name: "staff sessions",
        sql: include_str!("../../../migrations/server/0002_staff_sessions.sql"),
    },
    Migration {
        version: 3,
        name: "band keys",
        sql: include_str!("../../../migrations/server/0003_band_keys.sql"),
    },
    Migration {
        version: 4,
        name: "devices and passes",
        sql: include_str!("../../../migrations/server/0004_devices_passes.sql"),
    },
    Migration {
        version: 5,
        name: "promo credit",
        sql: include_str!("../../../migrations/server/0005_promo_credit.sql"),
    },
    Migration {
        version: 6,
        name: "pass conflicts",
        sql: include_str!("../../../migrations/server/0006_pass_conflicts.sql"),
    },
    Migration {
        version: 7,
        name: "integrations",
        sql: include_str!("../../../migrations/server/0007_integrations.sql"),
    },
    Migration {
        version: 8,
        name: "back_office",
        sql: include_str!("../../../migrations/server/0008_back_office.sql"),
    },
    Migration {
        version: 9,
        name: "guest_pages",
        sql: include_str!("../../../migrations/server/0009_guest_pages.sql"),
    },
    Migration {
        version: 10,
        name: "payout_requests",
        sql: include_str!("../../../migrations/server/0010_payout_requests.sql"),
    },
    Migration {
        version: 11,
        name: "payout_runs",
        sql: include_str!("../../../migrations/server/0011_payout_runs.sql"),
    },
    Migration {
        version: 12,
        name: "guest_alarms",
        sql: include_str!("../../../migrations/server/0012_guest_alarms.sql"),
    },
    Migration {
        version: 13,
        name: "fiscal",
        sql: include_str!("../../../migrations/server/0013_fiscal.sql"),
    },
    Migration {
        version: 14,
        name: "pin_lookup",
        sql: include_str!("../../../migrations/server/0014_pin_lookup.sql"),
    },
    Migration {
        version: 15,
        name: "audit",
        sql: include_str!("../../../migrations/server/0015_audit.sql"),
    },
    Migration {
        version: 16,
        name: "categories_badges",
        sql: include_str!("../../../migrations/server/0016_categories_badges.sql"),
    },
];

/// PostgreSQL's schema, step by step with the same versions as SQLite's.
pub const PG_MIGRATIONS: &[PgMigration] = &[
    PgMigration {
        version: 1,
        name: "server",
        sql: include_str!("../../../migrations/server-pg/0001_server.sql"),
    },
    PgMigration {
        version: 2,
        name: "staff sessions",
        sql: include_str!("../../../migrations/server-pg/0002_staff_sessions.sql"),
    },
    PgMigration {
        version: 3,
        name: "band keys",
        sql: include_str!("../../../migrations/server-pg/0003_band_keys.sql"),
    },
    PgMigration {
        version: 4,
        name: "devices and passes",
        sql: include_str!("../../../migrations/server-pg/0004_devices_passes.sql"),
    },
    PgMigration {
        version: 5,
        name: "promo credit",
        sql: include_str!("../../../migrations/server-pg/0005_promo_credit.sql"),
    },
    PgMigration {
        version: 6,
        name: "pass conflicts",
        sql: include_str!("../../../migrations/server-pg/0006_pass_conflicts.sql"),
    },
    PgMigration {
        version: 7,
        name: "integrations",
        sql: include_str!("../../../migrations/server-pg/0007_integrations.sql"),
    },
    PgMigration {
        version: 8,
        name: "back_office",
        sql: include_str!("../../../migrations/server-pg/0008_back_office.sql"),
    },
    PgMigration {
        version: 9,
        name: "guest_pages",
        sql: include_str!("../../../migrations/server-pg/0009_guest_pages.sql"),
    },
    PgMigration {
        version: 10,
        name: "payout_requests",
        sql: include_str!("../../../migrations/server-pg/0010_payout_requests.sql"),
    },
    PgMigration {
        version: 11,
        name: "payout_runs",
        sql: include_str!("../../../migrations/server-pg/0011_payout_runs.sql"),
    },
    PgMigration {
        version: 12,
        name: "guest_alarms",
        sql: include_str!("../../../migrations/server-pg/0012_guest_alarms.sql"),
    },
    PgMigration {
        version: 13,
        name: "fiscal",
        sql: include_str!("../../../migrations/server-pg/0013_fiscal.sql"),
    },
    PgMigration {
        version: 14,
        name: "pin_lookup",
        sql: include_str!("../../../migrations/server-pg/0014_pin_lookup.sql"),
    },
    PgMigration {
        version: 15,
        name: "audit",
        sql: include_str!("../../../migrations/server-pg/0015_audit.sql"),
    },
    PgMigration {
        version: 16,
        name: "categories_badges",
        sql: include_str!("../../../migrations/server-pg/0016_categories_badges.sql"),
    },
];

/// Where the server's database is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl DatabaseLocation {
    pub fn parse(location: &str) -> DatabaseLocation {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            DatabaseLocation::Postgres(location.to_string())
        } else {
            let path = location
                .strip_prefix("sqlite://")
                .or_else(|| location.strip_prefix("sqlite:"));
            DatabaseLocation::Sqlite(path.unwrap_or(location).into())
        }
    }

    /// As it may be printed or logged: a URL's password masked.
    pub fn shown(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(path) => path.display().to_string(),
            DatabaseLocation::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let authority = rest.split(['/', '?']).next().unwrap_or(rest);
                match authority.rsplit_once('@') {
                    Some((userinfo, _)) => match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            format!("{scheme}://{user}:***@{}", &rest[userinfo.len() + 1..])
                        }
                        None => url.clone(),
                    },
                    None => url.clone(),
                }
            }
        }
    }
}

/// A terminal that presented a valid token.
#[derive(Clone, Debug)]
pub struct AuthenticatedTerminal {
    pub event_id: String,
    pub id: String,
    pub friendly_name: String,
    pub permission: Permission,
    /// A seed-003 scanner: it may scan passes, nothing of the POS API.
    pub scanner: bool,
}

/// Whether a request applied something new or repeated an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Created,
    Replayed,
}

/// The answer to a transaction request: the wallet after it, and (for
/// terminals that keep a ledger) the transaction's id and feed cursor.
#[derive(Clone, Debug)]
pub struct TransactionOutcome {
    pub applied: Applied,
    pub wallet: WalletResource,
    pub transaction_id: String,
    pub cursor: i64,
    /// The wallet's promo credit after it; `None` for a replayed answer.
    pub promo: Option<i64>,
}

/// The server's store. See the module documentation.
pub struct ServerStore {
    storage: Storage,
    pub(crate) clock: Arc<dyn Clock>,
    /// Each event's fiscal device, opened on first use.
    pub(crate) fiscal_devices: crate::fiscal::Devices,
}

enum Storage {
    Sqlite { writer: Writer, readers: Readers },
    Postgres(PgDatabase),
}

/// A long random secret (api and admin tokens), 40 characters.
pub(crate) fn random_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// `prefix` and 16 random characters, as seed 001's `wal_…` and `txn_…`.
pub(crate) fn random_id(prefix: &str) -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    format!("{prefix}{tail}")
}

/// A terminal's (or device's) name as shown in lists: 1 to 60 characters,
/// trimmed.
pub(crate) fn terminal_name(name: &str, field: &str) -> Result<String, ServerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ServerError::invalid(field, "must be 1 to 60 characters"));
    }
    Ok(name.to_string())
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn request_hash(value: &impl serde::Serialize) -> Result<String, ServerError> {
    let body = serde_json::to_vec(value).map_err(|e| ServerError::Internal(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(&body)))
}

impl ServerStore {
    /// Opens (and migrates) the SQLite database file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<ServerStore, ServerError> {
        let mut conn = rusqlite::Connection::open(path)?;
        configure(&conn)?;
        migrate::apply(&mut conn, MIGRATIONS, MIGRATIONS.len() as i64)?;
        Ok(ServerStore {
            storage: Storage::Sqlite {
                writer: Writer::start(conn)?,
                readers: Readers::open(path)?,
            },
            clock,
            fiscal_devices: Default::default(),
        })
    }

    /// Opens the database `location` names: a `postgres://` (or
    /// `postgresql://`) URL, `sqlite:` and a path, or a bare path (SQLite).
    pub fn connect(location: &str, clock: Arc<dyn Clock>) -> Result<ServerStore, ServerError> {
        match DatabaseLocation::parse(location) {
            DatabaseLocation::Sqlite(path) => Self::open(&path, clock),
            DatabaseLocation::Postgres(url) => {
                let database = PgDatabase::connect(&url)?;
                database.migrate(PG_MIGRATIONS)?;
                Ok(ServerStore {
                    storage: Storage::Postgres(database),
                    clock,
                    fiscal_devices: Default::default(),
                })
            }
        }
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        match self.storage {
            Storage::Sqlite { .. } => Engine::Sqlite,
            Storage::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs `work` as one durable write that no other write overlaps (see
    /// [`crate::writer`] and [`crate::db`]).
    pub(crate) fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        self.write_as(WriteMode::Exclusive, work)
    }

    /// Runs `work` as one durable write beside other shared writes. On
    /// PostgreSQL `work` must lock what it reads to change: the request's
    /// idempotency key ([`lock_key`]), then its wallet
    /// ([`Self::wallet_row_locked`]), then shared rows (a product's
    /// stock), and the event's feed cursor last, in the statement that
    /// commits ([`insert_transaction_then_commit`]). On SQLite it is
    /// [`Self::write`].
    pub(crate) fn write_shared<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        self.write_as(WriteMode::Shared, work)
    }

    fn write_as<T: Send + 'static>(
        &self,
        mode: WriteMode,
        work: impl FnOnce(&Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        // The write may run on the writer thread: it takes along who asked
        // for it, for the audit records it makes.
        let actor = crate::audit::current_actor();
        match &self.storage {
            // SQLite's single writer is alone either way.
            Storage::Sqlite { writer, .. } => writer.write(move |conn| {
                crate::audit::acting_as(actor, || work(&Connection::sqlite(conn)))
            }),
            Storage::Postgres(database) => {
                database.write(mode, |conn| crate::audit::acting_as(actor, || work(conn)))
            }
        }
    }

    /// A connection for reading.
    pub(crate) fn reader(&self) -> Result<Connection<'_>, ServerError> {
        match &self.storage {
            Storage::Sqlite { readers, .. } => Ok(Connection::sqlite_reader(readers.get())),
            Storage::Postgres(database) => Ok(database.connection()?),
        }
    }

    pub fn create_event(&self, name: &str) -> Result<String, ServerError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(ServerError::invalid("name", "must be 1 to 200 characters"));
        }
        let id = random_id("evt_").to_lowercase();
        let settings = EventSettings {
            name: name.to_string(),
            mode: tapster_ledger::model::EventMode::Connected,
            ..EventSettings::default()
        };
        let settings =
            serde_json::to_string(&settings).map_err(|e| ServerError::Internal(e.to_string()))?;
        let (name, now) = (name.to_string(), self.clock.now());
        let id = self.write(move |conn| {
            conn.execute(
                "INSERT INTO events (id, name, settings, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, settings, now.0],
            )?;
            // The event's master key for genuine bands, made with it.
            crate::bands::create_first_keys(conn, &id, now.0)?;
            Ok(id)
        })?;
        tracing::info!(event = %id, "event created");
        Ok(id)
    }

    pub(crate) fn ensure_event(
        conn: &Connection,
        event: &str,
    ) -> Result<EventSettings, ServerError> {
        let settings: Option<String> = conn
            .prepare_cached("SELECT settings FROM events WHERE id = ?1")?
            .query_row([event], |r| r.get(0))
            .optional()?;
        let settings = settings.ok_or_else(|| ServerError::NotFound(format!("event '{event}'")))?;
        serde_json::from_str(&settings).map_err(|e| ServerError::Internal(e.to_string()))
    }

    /// Creates a terminal and returns its id and api token (shown once).
    pub fn create_terminal(
        &self,
        event: &str,
        friendly_name: &str,
        permission: Permission,
    ) -> Result<(String, String), ServerError> {
        let (event, friendly_name, now) = (
            event.to_string(),
            terminal_name(friendly_name, "name")?,
            self.clock.now(),
        );
        let (id, token) = self.write(move |tx| {
            Self::ensure_event(tx, &event)?;
            Self::insert_terminal(tx, &event, &friendly_name, permission, now)
        })?;
        tracing::info!(terminal = %id, "terminal created");
        Ok((id, token))
    }

    /// Adds a terminal (a till or a seed-003 device) in the transaction
    /// `tx`: an id from its name, a uuid, a token (returned, shown once),
    /// the whole catalogue on its grid.
    pub(crate) fn insert_terminal(
        tx: &Connection,
        event: &str,
        friendly_name: &str,
        permission: Permission,
        now: Timestamp,
    ) -> Result<(String, String), ServerError> {
        let base = slug(friendly_name);
        let mut id = base.clone();
        let mut n = 1;
        while tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM terminals WHERE event_id = ?1 AND id = ?2)",
            params![event, id],
            |r| r.get::<_, bool>(0),
        )? {
            n += 1;
            id = format!("{base}-{n}");
        }
        let token = random_token();
        let layout: Vec<String> = tx
            .prepare("SELECT id FROM products WHERE event_id = ?1 ORDER BY id")?
            .query_map([event], |r| r.get(0))?
            .collect::<crate::db::Result<_>>()?;
        tx.execute(
            "INSERT INTO terminals (event_id, id, friendly_name, permission, token_hash, layout, created_at, identifier)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                event,
                id,
                friendly_name,
                permission.as_str(),
                token_hash(&token),
                serde_json::to_string(&layout).unwrap_or_else(|_| "[]".into()),
                now.0,
                uuid::Uuid::new_v4().to_string(),
            ],
        )?;
        let audit = crate::audit::Audit::new(
            tapster_api::audit::AuditAction::TerminalCreated,
            serde_json::json!({ "friendly_name": friendly_name, "permission": permission.as_str() }),
        );
        crate::audit::record(tx, event, now.0, audit.subject(id.as_str()))?;
        Ok((id, token))
    }

    pub fn create_admin_token(&self, event: &str) -> Result<String, ServerError> {
        let (event, now) = (event.to_string(), self.clock.now());
        self.write(move |conn| {
            Self::ensure_event(conn, &event)?;
            let token = random_token();
            conn.execute(
                "INSERT INTO admin_tokens (token_hash, event_id, created_at) VALUES (?1, ?2, ?3)",
                params![token_hash(&token), event, now.0],
            )?;
            Ok(token)
        })
    }

    /// The terminal whose api token this is, if it belongs to `event`.
    pub fn authenticate_terminal(
        &self,
        event: &str,
        token: &str,
    ) -> Result<Option<AuthenticatedTerminal>, ServerError> {
        let conn = self.reader()?;
        let found = conn
            .prepare_cached(
                "SELECT event_id, id, friendly_name, permission, kind FROM terminals
                 WHERE token_hash = ?1 AND archived = 0",
            )?
            .query_row([token_hash(token)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()?;
        Ok(match found {
            Some((event_id, id, friendly_name, permission, kind)) if event_id == event => {
                Some(AuthenticatedTerminal {
                    event_id,
                    id,
                    friendly_name,
                    permission: permission
                        .parse()
                        .map_err(|_| ServerError::Internal("bad permission".into()))?,
                    scanner: kind == "scanner",
                })
            }
            _ => None,
        })
    }

    pub(crate) fn product_of(
        conn: &Connection,
        event: &str,
        id: &ProductId,
    ) -> Result<Option<Product>, ServerError> {
        let data: Option<String> = conn
            .prepare_cached("SELECT data FROM products WHERE event_id = ?1 AND id = ?2")?
            .query_row(params![event, id.as_str()], |r| r.get(0))
            .optional()?;
        data.map(|d| serde_json::from_str(&d).map_err(|e| ServerError::Internal(e.to_string())))
            .transpose()
    }

    pub fn terminal_resource(
        &self,
        terminal: &AuthenticatedTerminal,
    ) -> Result<TerminalResource, ServerError> {
        let conn = self.reader()?;
        let layout: String = conn.query_row(
            "SELECT layout FROM terminals WHERE event_id = ?1 AND id = ?2",
            params![terminal.event_id, terminal.id],
            |r| r.get(0),
        )?;
        let layout: Vec<String> = serde_json::from_str(&layout).unwrap_or_default();
        let mut products = Vec::new();
        for id in layout {
            let Ok(product_id) = ProductId::new(id) else {
                continue;
            };
            if let Some(product) = Self::product_of(&conn, &terminal.event_id, &product_id)? {
                if !product.archived {
                    products.push(ProductResource {
                        id: tapster_api::ServerProductId::Text(product.id.to_string()),
                        friendly_name: product.name.clone(),
                        price: product.effective_price().0,
                    });
                }
            }
        }
        Ok(TerminalResource {
            id: terminal.id.clone(),
            friendly_name: terminal.friendly_name.clone(),
            permission: terminal.permission,
            products,
            api_token: None,
            capabilities: [
                tapster_api::capability::IDEMPOTENCY_HEADER,
                tapster_api::capability::TRANSACTIONS_BATCH,
                tapster_api::capability::WALLET_FEED,
                tapster_api::capability::HEARTBEAT,
                tapster_api::capability::CATALOG,
                tapster_api::capability::PASS_FEED,
                tapster_api::capability::SHIFT_CLOSES,
            ]
            .map(String::from)
            .to_vec(),
        })
    }

    pub(crate) fn wallet_row(
        conn: &Connection,
        event: &str,
        token: &TokenId,
    ) -> Result<Option<WalletRow>, ServerError> {
        Self::wallet_row_with(conn, event, token, "")
    }

    /// [`Self::wallet_row`], locked until the transaction ends (on
    /// PostgreSQL; SQLite's writer is alone anyway).
    pub(crate) fn wallet_row_locked(
        conn: &Connection,
        event: &str,
        token: &TokenId,
    ) -> Result<Option<WalletRow>, ServerError> {
        let lock = match conn.engine() {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE",
        };
        Self::wallet_row_with(conn, event, token, lock)
    }

    fn wallet_row_with(
        conn: &Connection,
        event: &str,
        token: &TokenId,
        lock: &str,
    ) -> Result<Option<WalletRow>, ServerError> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT id, token_id, created_at, balance, blocked, paired_user, promo_balance
                 FROM wallets WHERE event_id = ?1 AND token_id = ?2{lock}"
            ))?
            .query_row(params![event, token.as_str()], |r| {
                Ok(WalletRow {
                    id: r.get(0)?,
                    token_id: r.get(1)?,
                    created_at: r.get(2)?,
                    balance: r.get(3)?,
                    blocked: r.get(4)?,
                    paired_user: r.get(5)?,
                    promo_balance: r.get(6)?,
                })
            })
            .optional()?)
    }

    pub fn wallet(
        &self,
        event: &str,
        token: &TokenId,
    ) -> Result<Option<WalletResource>, ServerError> {
        let conn = self.reader()?;
        Ok(Self::wallet_row(&conn, event, token)?.map(|w| w.resource()))
    }

    /// Creates a wallet for a wristband (pairing it), with a starting
    /// credit booked as a manual transaction.
    /// Pairs a wristband with a new wallet, with a starting credit and the
    /// guest's account it belongs to (seed 001's `paired_user`).
    pub fn create_wallet(
        &self,
        event: &str,
        token: &TokenId,
        credit: Cents,
        paired_user: Option<&str>,
    ) -> Result<WalletResource, ServerError> {
        let paired_user = paired_user.map(str::trim).filter(|u| !u.is_empty());
        if paired_user.is_some_and(|u| u.chars().count() > 100 || u.chars().any(char::is_control)) {
            return Err(ServerError::invalid(
                "paired_user",
                "must be at most 100 characters, without control characters",
            ));
        }
        let paired_user = paired_user.map(str::to_string);
        let (event, token, now) = (event.to_string(), token.clone(), self.clock.now());
        self.write(move |tx| {
            let (event, token) = (event.as_str(), &token);
            let settings = Self::ensure_event(tx, event)?;
            check_max_balance(Cents::ZERO, credit, settings.max_wallet_balance)?;
            check_not_a_badge(tx, event, token)?;
            if Self::wallet_row(tx, event, token)?.is_some() {
                return Err(ServerError::Conflict(
                    "this wristband already has a wallet".into(),
                ));
            }
            let cursor = next_cursor(tx, event)?;
            let wallet_id = random_id("wal_");
            tx.execute(
            "INSERT INTO wallets (event_id, id, token_id, created_at, balance, cursor, paired_user)
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
            params![event, wallet_id, token.as_str(), now.0, cursor, paired_user],
        )?;
            if credit.is_positive() {
                insert_transaction(
                    tx,
                    &NewTransaction {
                        event,
                        wallet_id: Some(&wallet_id),
                        terminal_id: None,
                        kind: EntryKind::TopUp,
                        tender: Tender::Cash,
                        amount: credit,
                        description: Some("Manuelle Aufladung"),
                        tag: None,
                        lines: "[]",
                        now,
                        key: None,
                        request_hash: None,
                        response: None,
                        origin: None,
                        cursor: None,
                        voucher: false,
                    },
                )?;
            }
            let audit = crate::audit::Audit::new(
                tapster_api::audit::AuditAction::WalletPaired,
                serde_json::json!({ "starting_credit": credit.0, "paired_user": paired_user }),
            );
            crate::audit::record(tx, event, now.0, audit.wallet(token.as_str()))?;
            let row = Self::wallet_row(tx, event, token)?
                .ok_or_else(|| ServerError::Internal("wallet vanished".into()))?;
            Ok(row.resource())
        })
    }

    /// `POST pos/wallets/token/{token}/transactions`: prices the products,
    /// checks permission and funds, debits the wallet, once per idempotency
    /// key. A repeated key with the same request returns the first answer;
    /// with another request it is a conflict and changes nothing.
    pub fn create_transaction(
        &self,
        terminal: &AuthenticatedTerminal,
        token: &TokenId,
        request: &CreateTransaction,
        key: Option<&IdempotencyKey>,
    ) -> Result<TransactionOutcome, ServerError> {
        // The key itself is not part of the request: it may come in the body
        // one time and in a header the next.
        // Without a pass, hashed as before passes existed (a retry across
        // an upgrade stays the same request).
        let extended =
            !request.returns.is_empty() || request.tip_cents.is_some() || request.bill.is_some();
        let hash = match (&request.pass, extended) {
            (None, false) => request_hash(&(
                token.as_str(),
                &request.products,
                &request.description,
                &request.tag,
            ))?,
            (Some(pass), false) => request_hash(&(
                token.as_str(),
                &request.products,
                &request.description,
                &request.tag,
                pass,
            ))?,
            (pass, true) => request_hash(&(
                token.as_str(),
                &request.products,
                &request.description,
                &request.tag,
                pass,
                (&request.returns, request.tip_cents, &request.bill),
            ))?,
        };
        let (terminal, token, request, key, now) = (
            terminal.clone(),
            token.clone(),
            request.clone(),
            key.cloned(),
            self.clock.now(),
        );
        // A plain debit runs beside other plain debits (on PostgreSQL): it
        // locks what it changes. A pass or a bill payment changes rows
        // other wallets' sales change too: those run alone.
        let alone = request.pass.is_some() || request.bill.is_some();
        let work = move |tx: &Connection<'_>| -> Result<TransactionOutcome, ServerError> {
            let (terminal, token, request, key) = (&terminal, &token, &request, key.as_ref());
            let event = terminal.event_id.as_str();
            if let Some(key) = key {
                // One request per key at a time, across server processes: a
                // retry waits for the first and then finds its answer.
                lock_key(tx, event, key.as_str())?;
                // Refused before, or booked before: one round trip.
                let (refused, earlier): (bool, Option<BookedBefore>) = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM rejected_entries WHERE event_id = ?1 AND idempotency_key = ?2),
                                t.request_hash, t.response, t.id, t.cursor
                         FROM (SELECT 1 AS one) AS lookup
                         LEFT JOIN transactions t ON t.event_id = ?1 AND t.idempotency_key = ?2",
                    )?
                    .query_row(params![event, key.as_str()], |r| {
                        let booked = match r.get::<_, Option<String>>(3)? {
                            Some(id) => Some((r.get(1)?, r.get(2)?, id, r.get(4)?)),
                            None => None,
                        };
                        Ok((r.get(0)?, booked))
                    })?;
                if refused {
                    // The server's decision about a key is final.
                    return Err(ServerError::IdempotencyConflict(key.to_string()));
                }
                if let Some((stored, response, transaction_id, cursor)) = earlier {
                    if stored.as_deref() != Some(hash.as_str()) {
                        return Err(ServerError::IdempotencyConflict(key.to_string()));
                    }
                    let response = response
                        .ok_or_else(|| ServerError::Internal("no stored response".into()))?;
                    let wallet: WalletResource = serde_json::from_str(&response)
                        .map_err(|e| ServerError::Internal(e.to_string()))?;
                    return Ok(TransactionOutcome {
                        applied: Applied::Replayed,
                        wallet,
                        transaction_id,
                        cursor,
                        promo: None,
                    });
                }
            }
            Self::ensure_event(tx, event)?;
            let products: Vec<ProductId> = request
                .products
                .iter()
                .map(|p| {
                    ProductId::new(p.as_str())
                        .map_err(|e| ServerError::invalid("products", e.reason))
                })
                .collect::<Result<_, _>>()?;
            let mut cart = Cart::from_product_list(&products);
            cart.returns = Cart::from_product_list(
                &request
                    .returns
                    .iter()
                    .map(|p| {
                        ProductId::new(p.as_str())
                            .map_err(|e| ServerError::invalid("returns", e.reason))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
            .lines;
            // The till's bar, read once for the sold-out flags and the goods;
            // the products pricing read, so booking the goods need not read
            // them again.
            let mut goods = crate::backoffice::GoodsCache::default();
            let location = goods.place(tx, event, &terminal.id)?.0.clone();
            let priced_products = std::cell::RefCell::new(std::collections::BTreeMap::new());
            let priced = match &request.bill {
                // A payment towards a till's open bill: one bill line.
                Some(payment) => {
                    if !products.is_empty()
                        || !cart.returns.is_empty()
                        || request.pass.is_some()
                        || request.tip_cents.is_some()
                    {
                        return Err(ServerError::invalid(
                            "bill",
                            "a bill payment carries no products, returns, pass or tip",
                        ));
                    }
                    let bill: tapster_ledger::BillId = payment
                        .bill_id
                        .parse()
                        .map_err(|_| ServerError::invalid("bill_id", "must be a UUID"))?;
                    if payment.amount <= 0 {
                        return Err(ServerError::invalid("amount", "must be more than zero"));
                    }
                    let line = tapster_ledger::bills::bill_line(bill, Cents(payment.amount));
                    tapster_ledger::pricing::PricedCart {
                        total: Cents(payment.amount),
                        lines: vec![line],
                        stock_needed: Vec::new(),
                    }
                }
                None => price_cart(
                    &cart,
                    |id| {
                        let sold_out = crate::backoffice::sold_out_at(tx, event, &location, id);
                        let product = Self::product_of(tx, event, id)
                            .and_then(|p| {
                                p.map(|mut p| {
                                    p.sold_out = sold_out?;
                                    Ok(p)
                                })
                                .transpose()
                            })
                            .map_err(|e| tapster_ledger::LedgerError::Corrupt(e.to_string()))?;
                        if let Some(p) = &product {
                            priced_products.borrow_mut().insert(id.clone(), p.clone());
                        }
                        Ok(product)
                    },
                    now,
                )?,
            };
            // A pass is redeemed in the same write as the debit: both or neither.
            let (priced, pass) = match &request.pass {
                Some(code) => {
                    let code = PassCode::parse(code)
                        .map_err(|e| ServerError::invalid("pass", e.reason))?;
                    let stored = crate::passes::load(tx, event, code.as_str(), now)?
                        .ok_or_else(|| ServerError::NotFound("this pass".into()))?;
                    stored
                        .pass
                        .check_redeemable(now, stored.counted)
                        .map_err(tapster_ledger::LedgerError::PassRefused)?;
                    let priced = apply_pass(priced, &stored.pass)
                        .map_err(tapster_ledger::LedgerError::PassNotApplicable)?;
                    (priced, Some(code))
                }
                None => (priced, None),
            };
            let priced = match request.tip_cents {
                Some(cents) => tapster_ledger::bills::add_tip(
                    priced,
                    Some(tapster_ledger::bills::Tip::Amount(Cents(cents))),
                )?,
                None => priced,
            };
            let amount = priced
                .total
                .checked_neg()
                .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
            check_terminal_permission(terminal.permission, EntryKind::Sale, amount)?;
            // Locked from here to the commit: funds are checked on the balance
            // no other debit can change meanwhile.
            let wallet = Self::wallet_row_locked(tx, event, token)?.ok_or_else(|| {
                ServerError::NotFound("this token is not paired to a wallet".into())
            })?;
            // Cups brought back: at most the cups this wallet has out.
            for (cup, name, count) in tapster_ledger::pricing::cups_returned(&priced.lines) {
                let outstanding: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(SUM(count), 0) FROM wallet_deposits WHERE wallet_id = ?1 AND product_id = ?2",
                )?
                .query_row(params![wallet.id, cup.as_str()], |r| r.get(0))?;
                tapster_ledger::rules::check_deposit_return(&name, outstanding, count)?;
            }
            wallet.authorize_debit(token, priced.total, now)?;
            let description = request
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty());
            if description.is_some_and(|d| d.chars().count() > 200)
                || request.tag.as_ref().is_some_and(|t| t.chars().count() > 60)
            {
                return Err(ServerError::invalid(
                    "description",
                    "must be at most 200 characters (tag 60)",
                ));
            }
            let lines = serde_json::to_string(&priced.lines)
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            // The answer is the wallet after this transaction; it is stored with
            // the transaction so a retry gets exactly the same one.
            let mut after = wallet.clone();
            after.balance = after
                .balance
                .checked_add(amount.0)
                .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
            let response = serde_json::to_string(&after.resource())
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            // Everything else first: the transaction's own row, which
            // takes the event's feed cursor, is the last statement.
            let transaction_id = random_id("txn_");
            if let Some(code) = &pass {
                crate::passes::record_redemption(
                    tx,
                    event,
                    code.as_str(),
                    &terminal.id,
                    key.map(|k| k.as_str()),
                    Some(&transaction_id),
                    now,
                )?;
            }
            add_deposits(tx, &wallet.id, &priced.lines)?;
            for (product_id, quantity) in &priced.stock_needed {
                adjust_stock(tx, event, product_id, -quantity, now.0)?;
            }
            goods.add_products(priced_products.into_inner());
            crate::backoffice::book_goods(
                tx,
                event,
                &terminal.id,
                &transaction_id,
                EntryKind::Sale,
                &priced.lines,
                &mut goods,
                now.0,
            )?;
            let (cursor, promo) = insert_transaction_then_commit(
                tx,
                &NewTransaction {
                    event,
                    wallet_id: Some(&wallet.id),
                    terminal_id: Some(&terminal.id),
                    kind: EntryKind::Sale,
                    tender: Tender::Wallet,
                    amount,
                    description,
                    tag: request.tag.as_deref(),
                    lines: &lines,
                    now,
                    key: key.map(|k| k.as_str()),
                    request_hash: Some(&hash),
                    response: Some(&response),
                    origin: None,
                    cursor: None,
                    voucher: false,
                },
                &transaction_id,
                &wallet,
            )?;
            tracing::info!(event, terminal = %terminal.id, wallet = %wallet.id, amount = %amount, "transaction");
            Ok(TransactionOutcome {
                applied: Applied::Created,
                wallet: after.resource(),
                transaction_id,
                cursor,
                promo: Some(promo),
            })
        };
        if alone {
            self.write(work)
        } else {
            self.write_shared(work)
        }
    }

    /// The wallet's transactions, latest first (for the wallet history).
    pub fn transactions(
        &self,
        event: &str,
        token: &TokenId,
        limit: u32,
    ) -> Result<Vec<TransactionResource>, ServerError> {
        let conn = self.reader()?;
        let Some(wallet) = Self::wallet_row(&conn, event, token)? else {
            return Ok(Vec::new());
        };
        // Readable times in the event's time zone (seed 001's form).
        let zone = Self::ensure_event(&conn, event)?.zone();
        let mut stmt = conn.prepare_cached(
            "SELECT t.id, t.amount, t.description, t.tag, t.created_at, tm.id, tm.friendly_name, tm.permission
             FROM transactions t LEFT JOIN terminals tm ON tm.event_id = t.event_id AND tm.id = t.terminal_id
             WHERE t.wallet_id = ?1 ORDER BY t.seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![wallet.id, limit], |r| {
            let terminal = match r.get::<_, Option<String>>(5)? {
                Some(id) => Some(TerminalRef {
                    id,
                    friendly_name: r.get(6)?,
                    permission: r.get::<_, String>(7)?.parse().unwrap_or(Permission::Debit),
                }),
                None => None,
            };
            Ok(TransactionResource {
                id: r.get(0)?,
                amount: r.get(1)?,
                description: r.get(2)?,
                tag: r.get(3)?,
                terminal,
                timestamp: api_timestamp_in(r.get(4)?, &zone),
            })
        })?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    /// Fills an event with the demo bar: catalogue, every product on each
    /// new terminal's grid, staff with the demo PINs, and `wallets` funded
    /// wristbands (with `balance` each, or 10.00 to 50.00).
    pub fn seed_demo(
        &self,
        event: &str,
        wallets: u32,
        balance: Option<Cents>,
        pin_cost: PinHashCost,
    ) -> Result<(), ServerError> {
        {
            let key = self.pin_lookup_key(event, pin_cost)?;
            let mut pins = Vec::new();
            for member in demo::STAFF {
                let pin = Pin::new(member.pin).map_err(|e| ServerError::Internal(e.to_string()))?;
                pins.push((member, hash_pin(&pin, pin_cost)?, key.tag(&pin)?));
            }
            let event = event.to_string();
            let now = self.now().0;
            self.write(move |tx| {
            let event = event.as_str();
            Self::ensure_event(tx, event)?;
            for Category { id, name, position } in demo::categories() {
                tx.execute(
                    "INSERT INTO categories (event_id, id, name, position) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (event_id, id) DO UPDATE SET name = excluded.name, position = excluded.position, removed = 0",
                    params![event, id.as_str(), name, position],
                )?;
            }
            for product in demo::products() {
                save_product(tx, event, &product, now)?;
            }
            for (member, hash, tag) in &pins {
                tx.execute(
                    "INSERT INTO staff (event_id, id, name, role, pin_hash, active, pin_tag) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                     ON CONFLICT (event_id, id) DO UPDATE SET name = excluded.name, role = excluded.role,
                         pin_hash = excluded.pin_hash, active = excluded.active, badge = NULL,
                         pin_tag = excluded.pin_tag, failed_logins = 0, locked_until = NULL",
                    params![event, member.id, member.name, Role::as_str(member.role), hash, tag.as_str()],
                )?;
            }
            let layout: Vec<String> = demo::products()
                .iter()
                .filter(|p| !p.returnable)
                .map(|p| p.id.to_string())
                .collect();
            tx.execute(
                "UPDATE terminals SET layout = ?2 WHERE event_id = ?1",
                params![event, serde_json::to_string(&layout).unwrap_or_default()],
            )?;
            Ok(())
            })?;
        }
        // The demo's wristbands are plain UIDs: the demo event takes bands
        // by their UID.
        let mut settings = self.settings(event)?;
        settings.band_policy = tapster_ledger::model::BandPolicy::UidOnly;
        if let Some(balance) = balance {
            // A demo asked for richer wallets than the event allows: the
            // demo event allows them.
            settings.max_wallet_balance = settings.max_wallet_balance.max(balance);
        }
        self.update_settings(event, settings)?;
        for n in 1..=wallets {
            let token = demo::wristband(n);
            if self.wallet(event, &token)?.is_none() {
                let credit = balance.unwrap_or(Cents(i64::from(n % 5 + 1) * 10_00));
                self.create_wallet(event, &token, credit, None)?;
            }
        }
        Ok(())
    }

    /// Every wallet whose balance differs from the sum of its transactions.
    pub fn check(&self) -> Result<Vec<String>, ServerError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare(
            "SELECT w.event_id, w.token_id, w.balance, COALESCE(SUM(t.amount), 0) FROM wallets w
             LEFT JOIN transactions t ON t.wallet_id = w.id
             GROUP BY w.event_id, w.token_id HAVING w.balance <> COALESCE(SUM(t.amount), 0)",
        )?;
        let rows = stmt.query_map((), |r| {
            Ok(format!(
                "event {} wristband {}: balance {} but transactions sum to {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?
            ))
        })?;
        let mut problems: Vec<String> = rows.collect::<crate::db::Result<_>>()?;
        // Promo credit: what its moves add up to, never more than the wallet holds.
        let mut stmt = conn.prepare(
            "SELECT w.event_id, w.token_id, w.promo_balance, COALESCE(SUM(t.promo_delta), 0), w.balance
             FROM wallets w LEFT JOIN transactions t ON t.wallet_id = w.id
             GROUP BY w.event_id, w.token_id
             HAVING w.promo_balance <> COALESCE(SUM(t.promo_delta), 0)
                 OR w.promo_balance > CASE WHEN w.balance > 0 THEN w.balance ELSE 0 END",
        )?;
        let promo = stmt.query_map((), |r| {
            Ok(format!(
                "event {} wristband {}: promo credit {} but its moves sum to {} (balance {})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?
            ))
        })?;
        problems.extend(promo.collect::<crate::db::Result<Vec<_>>>()?);
        // Every event's audit trail, whole and unedited.
        let events: Vec<String> = conn
            .prepare("SELECT id FROM events ORDER BY id")?
            .query_map((), |r| r.get(0))?
            .collect::<crate::db::Result<_>>()?;
        for event in events {
            let verified = self.verify_audit(&event)?;
            if let Some(seq) = verified.first_broken {
                problems.push(format!(
                    "event {event}: the audit trail is broken at record {seq} (edited, removed or reordered)"
                ));
            }
        }
        Ok(problems)
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct WalletRow {
    pub id: String,
    pub token_id: String,
    pub created_at: i64,
    pub balance: i64,
    pub blocked: bool,
    pub paired_user: Option<String>,
    /// How much of `balance` is promo credit.
    pub promo_balance: i64,
}

impl WalletRow {
    /// Whether the server may debit `amount` (positive) now: the ledger's
    /// rule with the server as the authority, whose balance is exact.
    pub(crate) fn authorize_debit(
        &self,
        token: &TokenId,
        amount: Cents,
        now: Timestamp,
    ) -> Result<(), tapster_ledger::LedgerError> {
        authorize_debit(
            &WalletPosition {
                token: token.clone(),
                blocked: self.blocked,
                balance_known: true,
                confirmed_at: Some(now),
                available: Cents(self.balance),
                offline_exposure: Cents::ZERO,
            },
            amount,
            Authority::Ledger,
            // Offline limits apply to terminals, never to the server.
            &OfflineLimits::default(),
            Cents::ZERO,
            now,
        )
    }
}

impl WalletRow {
    pub(crate) fn resource(&self) -> WalletResource {
        WalletResource {
            id: self.id.clone(),
            token_id: self.token_id.clone(),
            created_at: api_timestamp(self.created_at).raw,
            balance: self.balance,
            paired_user: self.paired_user.clone(),
            transactions: None,
        }
    }
}

/// Holds the idempotency key `key` of `event` until the transaction ends
/// (PostgreSQL; SQLite's writer is alone anyway): a second request with it,
/// in any server process, waits and then sees the first one's answer.
pub(crate) fn lock_key(conn: &Connection, event: &str, key: &str) -> Result<(), ServerError> {
    if conn.engine() == Engine::Postgres {
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))",
            params![format!("{event}/{key}")],
        )?;
    }
    Ok(())
}

/// The event's next feed position. The event's row stays locked until the
/// transaction commits, so positions become visible in the order they
/// were handed out: a reader following the feed never skips one. Every
/// wallet change takes it: in a write that runs beside others, take it in
/// the last statement ([`insert_transaction_then_commit`]).
/// The event's tills whose last heartbeat reported sales not yet sent,
/// by name, with how many.
pub(crate) fn unsynced_tills(
    conn: &Connection,
    event: &str,
) -> Result<Vec<(String, i64)>, ServerError> {
    Ok(conn
        .prepare_cached(
            "SELECT friendly_name, pending FROM terminals
             WHERE event_id = ?1 AND archived = 0 AND pending > 0 ORDER BY friendly_name",
        )?
        .query_map(params![event], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::db::Result<Vec<_>>>()?)
}

pub(crate) fn next_cursor(conn: &Connection, event: &str) -> Result<i64, ServerError> {
    Ok(conn
        .prepare_cached("UPDATE events SET cursor = cursor + 1 WHERE id = ?1 RETURNING cursor")?
        .query_row([event], |r| r.get(0))?)
}

/// Moves a stock-tracked product's stock by `delta` (sold units are
/// negative). Offline sales may sell more than the server thought was
/// there: stock stops at zero rather than refusing what was served.
pub(crate) fn adjust_stock(
    conn: &Connection,
    event: &str,
    product_id: &ProductId,
    delta: i64,
    now: i64,
) -> Result<(), ServerError> {
    if let Some(mut product) = ServerStore::product_of(conn, event, product_id)? {
        if product.use_stock && delta != 0 {
            product.stock = product.stock.saturating_add(delta).max(0);
            save_product(conn, event, &product, now)?;
        }
    }
    Ok(())
}

/// Keeps the wallet's outstanding cups in step with deposit lines.
pub(crate) fn add_deposits(
    conn: &Connection,
    wallet_id: &str,
    lines: &[tapster_ledger::model::Line],
) -> Result<(), ServerError> {
    for line in lines.iter().filter(|l| l.deposit) {
        conn.prepare_cached(
            "INSERT INTO wallet_deposits (wallet_id, product_id, count) VALUES (?1, ?2, ?3)
             ON CONFLICT (wallet_id, product_id) DO UPDATE SET count = wallet_deposits.count + excluded.count",
        )?
        .execute(params![wallet_id, line.product.as_str(), line.quantity])?;
    }
    Ok(())
}

/// Stores the event's product; `created_at` stays from the first save.
pub(crate) fn save_product(
    conn: &Connection,
    event: &str,
    product: &Product,
    now: i64,
) -> Result<(), ServerError> {
    let data = serde_json::to_string(product).map_err(|e| ServerError::Internal(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO products (event_id, id, data, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (event_id, id) DO UPDATE SET data = excluded.data,
             updated_at = excluded.updated_at, created_at = COALESCE(products.created_at, excluded.created_at)",
    )?
    .execute(params![event, product.id.as_str(), data, now])?;
    Ok(())
}

/// Refuses to make a staff member's badge a guest's wallet (the ledger's
/// rule, as a till applies it).
pub(crate) fn check_not_a_badge(
    conn: &Connection,
    event: &str,
    token: &TokenId,
) -> Result<(), ServerError> {
    let is_badge: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff WHERE event_id = ?1 AND badge = ?2)",
        params![event, token.as_str()],
        |r| r.get(0),
    )?;
    Ok(tapster_ledger::rules::check_not_a_badge(is_badge)?)
}

pub(crate) struct NewTransaction<'a> {
    pub event: &'a str,
    pub wallet_id: Option<&'a str>,
    pub terminal_id: Option<&'a str>,
    pub kind: EntryKind,
    pub tender: Tender,
    pub amount: Cents,
    pub description: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub lines: &'a str,
    pub now: Timestamp,
    pub key: Option<&'a str>,
    pub request_hash: Option<&'a str>,
    pub response: Option<&'a str>,
    pub origin: Option<Origin<'a>>,
    /// The feed cursor to use, when the caller hands them out itself (a
    /// batch takes them in order and stores the last once).
    pub cursor: Option<i64>,
    /// A voucher redeemed: the amount is promo credit, not paid money.
    pub voucher: bool,
}

/// Where a transaction from a terminal's ledger came from.
pub(crate) struct Origin<'a> {
    pub entry_id: String,
    pub sequence: i64,
    pub terminal_time: i64,
    pub staff_id: &'a str,
    pub offline: bool,
    pub reverses: Option<String>,
}

/// A transaction booked earlier under a request's key: its request hash,
/// stored answer, id and feed cursor.
type BookedBefore = (Option<String>, Option<String>, String, i64);

/// Appends a transaction; with a wallet, moves its balance and takes the
/// next feed cursor. Returns the transaction id and the cursor.
pub(crate) fn insert_transaction(
    conn: &Connection,
    t: &NewTransaction<'_>,
) -> Result<(String, i64), ServerError> {
    let cursor = match (t.wallet_id, t.cursor) {
        (_, Some(cursor)) => cursor,
        (Some(_), None) => next_cursor(conn, t.event)?,
        (None, None) => conn
            .prepare_cached("SELECT cursor FROM events WHERE id = ?1")?
            .query_row([t.event], |r| r.get(0))?,
    };
    let promo_delta = match t.wallet_id {
        Some(wallet_id) => move_promo(conn, wallet_id, t, None)?,
        None => 0,
    };
    let id = random_id("txn_");
    let mut values = transaction_values(t, &id, promo_delta);
    values.push(crate::db::Value::Integer(cursor));
    conn.prepare_cached(&INSERT_TRANSACTION)?.execute(&values)?;
    if let Some(wallet_id) = t.wallet_id {
        conn.prepare_cached(
            "UPDATE wallets SET balance = balance + ?2, promo_balance = promo_balance + ?4, cursor = ?3
             WHERE id = ?1",
        )?
        .execute(params![wallet_id, t.amount.0, cursor, promo_delta])?;
    }
    Ok((id, cursor))
}

/// A wallet's transaction as the write's last statement
/// ([`Connection::query_row_then_commit`]): the feed cursor taken, the
/// transaction `id` appended, the wallet (locked by the caller, its
/// balances `locked`) moved. The event's feed-cursor row, which every
/// sale updates, is then locked only while the database runs this one
/// statement and commits. Returns the cursor and the wallet's promo
/// credit after it.
pub(crate) fn insert_transaction_then_commit(
    conn: &Connection,
    t: &NewTransaction<'_>,
    id: &str,
    locked: &WalletRow,
) -> Result<(i64, i64), ServerError> {
    debug_assert_eq!(t.wallet_id, Some(locked.id.as_str()));
    debug_assert!(t.cursor.is_none());
    let promo_delta = move_promo(
        conn,
        &locked.id,
        t,
        Some((locked.balance, locked.promo_balance)),
    )?;
    let mut values = transaction_values(t, id, promo_delta);
    let booked = |r: &crate::db::Row<'_>| Ok((r.get(0)?, r.get(1)?));
    Ok(match conn.engine() {
        // One statement: PostgreSQL's data-modifying WITH.
        Engine::Postgres => conn.query_row_then_commit(&BOOK_TRANSACTION_PG, &values, booked)?,
        Engine::Sqlite => {
            let cursor = next_cursor(conn, t.event)?;
            values.push(crate::db::Value::Integer(cursor));
            conn.prepare_cached(&INSERT_TRANSACTION)?.execute(&values)?;
            conn.query_row_then_commit(
                "UPDATE wallets SET balance = balance + ?2, promo_balance = promo_balance + ?4, cursor = ?3
                 WHERE id = ?1 RETURNING cursor, promo_balance",
                params![locked.id, t.amount.0, cursor, promo_delta],
                booked,
            )?
        }
    })
}

/// A transaction row's columns: those of [`transaction_values`], then the
/// feed cursor.
const TRANSACTION_COLUMNS: &str = "event_id, id, wallet_id, terminal_id, kind, tender, amount, \
    description, tag, lines, created_at, idempotency_key, request_hash, response, entry_id, \
    sequence, terminal_time, staff_id, offline, reverses, promo_delta, cursor";

/// `?1` … `?n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

static INSERT_TRANSACTION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO transactions ({TRANSACTION_COLUMNS}) VALUES ({})",
        placeholders(22)
    )
});

/// [`insert_transaction_then_commit`] on PostgreSQL (`?1` the event, `?3`
/// the wallet, `?7` the amount, `?21` the promo credit's move).
static BOOK_TRANSACTION_PG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH feed AS (UPDATE events SET cursor = cursor + 1 WHERE id = ?1 RETURNING cursor),
         booked AS (INSERT INTO transactions ({TRANSACTION_COLUMNS})
                    VALUES ({}, (SELECT cursor FROM feed))),
         moved AS (UPDATE wallets SET balance = balance + ?7, promo_balance = promo_balance + ?21,
                          cursor = (SELECT cursor FROM feed)
                   WHERE id = ?3 RETURNING promo_balance)
         SELECT (SELECT cursor FROM feed), (SELECT promo_balance FROM moved)",
        placeholders(21)
    )
});

/// A transaction row's values but its cursor (see [`TRANSACTION_COLUMNS`]).
fn transaction_values(t: &NewTransaction<'_>, id: &str, promo_delta: i64) -> Vec<crate::db::Value> {
    use crate::db::ToValue;
    vec![
        t.event.to_value(),
        id.to_value(),
        t.wallet_id.to_value(),
        t.terminal_id.to_value(),
        t.kind.as_str().to_value(),
        t.tender.as_str().to_value(),
        t.amount.0.to_value(),
        t.description.to_value(),
        t.tag.to_value(),
        t.lines.to_value(),
        t.now.0.to_value(),
        t.key.to_value(),
        t.request_hash.to_value(),
        t.response.to_value(),
        t.origin.as_ref().map(|o| o.entry_id.as_str()).to_value(),
        t.origin.as_ref().map(|o| o.sequence).to_value(),
        t.origin.as_ref().map(|o| o.terminal_time).to_value(),
        t.origin.as_ref().map(|o| o.staff_id).to_value(),
        t.origin.as_ref().is_some_and(|o| o.offline).to_value(),
        t.origin
            .as_ref()
            .and_then(|o| o.reverses.as_deref())
            .to_value(),
        promo_delta.to_value(),
    ]
}

/// How a transaction moves its wallet's promo credit (the ledger's rule),
/// as the change to store with it.
fn move_promo(
    conn: &Connection,
    wallet_id: &str,
    t: &NewTransaction<'_>,
    known: Option<(i64, i64)>,
) -> Result<i64, ServerError> {
    let (balance, promo): (i64, i64) = match known {
        Some(balances) => balances,
        None => conn
            .prepare_cached("SELECT balance, promo_balance FROM wallets WHERE id = ?1")?
            .query_row([wallet_id], |r| Ok((r.get(0)?, r.get(1)?)))?,
    };
    let reversed = t.origin.as_ref().and_then(|o| o.reverses.as_deref());
    let movement = match (t.voucher, t.kind, reversed) {
        (true, _, _) => PromoMove::Voucher,
        (false, EntryKind::Cancel, Some(entry_id)) => {
            // The entry reversed is a transaction of its own (sent in a
            // batch) or one the server approved online first.
            let spent: Option<i64> = conn
                .prepare_cached(
                    "SELECT promo_delta FROM transactions WHERE entry_id = ?1
                     UNION ALL
                     SELECT t.promo_delta FROM transaction_entries e
                     JOIN transactions t ON t.id = e.transaction_id WHERE e.entry_id = ?1
                     LIMIT 1",
                )?
                .query_row([entry_id], |r| r.get(0))
                .optional()?;
            PromoMove::Reversal {
                promo_used: Cents(spent.unwrap_or(0).saturating_neg()),
            }
        }
        (false, kind, _) => PromoMove::Ordinary(kind),
    };
    let balance_after = balance
        .checked_add(t.amount.0)
        .ok_or(tapster_ledger::LedgerError::AmountOverflow)?;
    let after = promo_after(movement, t.amount, Cents(promo), Cents(balance_after))?;
    Ok(after.0 - promo)
}

/// A terminal id from its name: `Bar Nord 2` → `bar-nord-2`.
fn slug(name: &str) -> String {
    let out = tapster_ledger::ids::slug(name, 48);
    if out.is_empty() {
        "terminal".into()
    } else {
        TerminalId::new(out.clone()).map_or_else(|_| "terminal".into(), |_| out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let shown = |url: &str| DatabaseLocation::parse(url).shown();
        assert_eq!(
            shown("postgres://tapster:s3cr@t@db.example:5432/fest?sslmode=require"),
            "postgres://tapster:***@db.example:5432/fest?sslmode=require"
        );
        assert_eq!(
            shown("postgres://postgres@/fest?host=/run/postgresql"),
            "postgres://postgres@/fest?host=/run/postgresql"
        );
        assert_eq!(shown("sqlite:event.sqlite"), "event.sqlite");
        assert!(!shown("postgresql://u:pw@h/db").contains("pw"));
    }

    /// A store on a new database: a SQLite file in `dir`, or a database
    /// of the cluster the suite's PostgreSQL pass runs
    /// (`TAPSTER_TEST_PG_HOST`, `TAPSTER_TEST_PG_PORT`).
    fn fresh_store(dir: &Path) -> ServerStore {
        let location = match (
            std::env::var("TAPSTER_TEST_PG_HOST"),
            std::env::var("TAPSTER_TEST_PG_PORT"),
        ) {
            (Ok(host), Ok(port)) => {
                let name = format!("u_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
                let created = std::process::Command::new("psql")
                    .arg(format!(
                        "postgres://postgres@/postgres?host={host}&port={port}"
                    ))
                    .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
                    .status()
                    .unwrap();
                assert!(created.success());
                format!("postgres://postgres@/{name}?host={host}&port={port}")
            }
            _ => dir.join("server.sqlite").to_str().unwrap().to_string(),
        };
        ServerStore::connect(&location, Arc::new(tapster_ledger::clock::SystemClock)).unwrap()
    }

    fn event_count(store: &ServerStore) -> i64 {
        store
            .reader()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM events", (), |r| r.get(0usize))
            .unwrap()
    }

    #[test]
    fn a_writes_last_statement_commits_it_and_nothing_may_follow() {
        let dir = tempfile::tempdir().unwrap();
        let store = fresh_store(dir.path());
        let insert = |id: &'static str| {
            move |tx: &Connection| -> Result<String, ServerError> {
                tx.execute(
                    "INSERT INTO events (id, name, settings, created_at) VALUES (?1, 'a', '{}', 0)",
                    params![format!("{id}-first")],
                )?;
                Ok(tx.query_row_then_commit(
                    "INSERT INTO events (id, name, settings, created_at) VALUES (?1, 'b', '{}', 0) RETURNING id",
                    params![id],
                    |r| r.get(0usize),
                )?)
            }
        };
        // Both statements are there after the write.
        assert_eq!(store.write_shared(insert("evt_one")).unwrap(), "evt_one");
        assert_eq!(event_count(&store), 2);

        // A last statement that fails leaves nothing of the write behind,
        // and the next write runs as usual (on PostgreSQL: on a connection
        // that is not left inside a transaction).
        let fails_last = |n: usize| {
            move |tx: &Connection| -> Result<String, ServerError> {
                tx.execute(
                    "INSERT INTO events (id, name, settings, created_at) VALUES (?1, 'a', '{}', 0)",
                    params![format!("evt_failed-{n}")],
                )?;
                // The id is taken.
                Ok(tx.query_row_then_commit(
                    "INSERT INTO events (id, name, settings, created_at) VALUES ('evt_one', 'b', '{}', 0) RETURNING id",
                    (),
                    |r| r.get(0usize),
                )?)
            }
        };
        for n in 0..20 {
            store.write_shared(fails_last(n)).unwrap_err();
        }
        assert_eq!(event_count(&store), 2);
        assert_eq!(store.write(insert("evt_four")).unwrap(), "evt_four");
        assert_eq!(event_count(&store), 4);

        // A statement after the last one is refused, not run outside the
        // transaction.
        let after = store.write(|tx: &Connection| -> Result<(), ServerError> {
            tx.query_row_then_commit("SELECT 1", (), |r| r.get::<_, i64>(0usize))?;
            tx.execute(
                "INSERT INTO events (id, name, settings, created_at) VALUES ('evt_five', 'a', '{}', 0)",
                (),
            )?;
            Ok(())
        });
        assert!(
            matches!(&after, Err(ServerError::Internal(m)) if m.contains("after its transaction's last")),
            "{after:?}"
        );
        assert_eq!(event_count(&store), 4);
    }

    #[test]
    fn slugs_are_valid_terminal_ids() {
        assert_eq!(slug("Bar Nord 2"), "bar-nord-2");
        assert_eq!(slug("  Kaffeemaschine!! "), "kaffeemaschine");
        assert_eq!(slug("Über Bühne"), "uber-buhne");
        assert_eq!(slug("!!!"), "terminal");
    }

    #[test]
    fn tokens_are_long_and_hashed() {
        let token = random_token();
        assert_eq!(token.len(), 40);
        assert_eq!(token_hash(&token).len(), 64);
        assert_ne!(token_hash(&token), token);
        assert!(random_id("wal_").starts_with("wal_"));
    }
}
