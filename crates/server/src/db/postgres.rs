//! PostgreSQL's side of [`super::Connection`]: `tokio-postgres` over a
//! `deadpool-postgres` pool, statements prepared once per connection
//! (binary protocol).
//!
//! The store is synchronous (SQLite's writer thread, handlers in blocking
//! tasks), so the pool's connections live on a small runtime of their own
//! and each call waits for its answer with a plain executor: a store call
//! works the same from a handler, a blocking task or the command line.
//!
//! Writes: each is one transaction at READ COMMITTED that first takes the
//! cluster-wide write lock (a transaction-scoped advisory lock), shared or
//! exclusive. Exclusive writes run one at a time across every server
//! process on the database, as SQLite's single writer does; shared writes
//! (the hot paths: debits and batches) run side by side and protect what
//! they change with row locks taken in a fixed order (the request's key,
//! its wallet, then the event's feed cursor in the statement sent with the
//! `COMMIT`: [`Connection::query_row_then_commit`]).

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_executor::block_on;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use super::{postgres_placeholders, Connection, Error, Param, Result, Value};
use crate::error::ServerError;

/// The advisory lock every write transaction takes, shared or exclusive.
pub(crate) const WRITE_LOCK: i64 = 0x7461_7073_7465_7201;
/// The advisory lock that lets one process at a time migrate the schema.
const MIGRATE_LOCK: i64 = 0x7461_7073_7465_7202;
/// Connections per server process.
const POOL_SIZE: usize = 16;

/// How a write shares the database with the other writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Alone: no other write of any process runs at the same time.
    Exclusive,
    /// Beside other shared writes; the work locks the rows it changes.
    Shared,
}

/// A PostgreSQL database: its connection pool and the runtime it runs on.
pub struct PgDatabase {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
}

impl PgDatabase {
    /// Connects to `url` (`postgres://user@host/db`, or a Unix socket as
    /// `postgres://user@/db?host=/run/postgresql`). Over TCP the connection
    /// is TLS whenever the server offers it (`sslmode=require`: always),
    /// its certificate validated against the system's authorities and
    /// `sslrootcert=FILE` (PEM) if given; never unencrypted after a failed
    /// check.
    pub fn connect(url: &str) -> Result<PgDatabase> {
        let (url, root_file) = take_parameter(url, "sslrootcert");
        let config = tokio_postgres::Config::from_str(&url)?;
        let tls = tls_connector(root_file.as_deref())?;
        if config.get_ssl_mode() != tokio_postgres::config::SslMode::Require
            && config.get_hosts().iter().any(|host| match host {
                tokio_postgres::config::Host::Tcp(name) => {
                    !matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
                }
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(_) => false,
            })
        {
            tracing::warn!(
                "PostgreSQL over the network without sslmode=require: the connection is encrypted only if the server offers TLS"
            );
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(|e| Error::Unavailable(format!("cannot start a runtime: {e}")))?;
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        let database = PgDatabase {
            pool,
            runtime: Some(runtime),
        };
        // Fail at start, not at the first request, when the URL is wrong.
        database.connection()?;
        Ok(database)
    }

    /// A connection of the pool, outside any transaction.
    pub fn connection(&self) -> Result<Connection<'static>> {
        let _context = self.runtime.as_ref().map(|runtime| runtime.enter());
        let client = block_on(self.pool.get()).map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(error) => Error::Postgres(error),
            other => Error::Unavailable(other.to_string()),
        })?;
        Ok(Connection::postgres(Session {
            client: Some(client),
            broken: std::cell::Cell::new(false),
        }))
    }

    /// Runs `work` in one transaction and commits it (see the module
    /// documentation for `mode`).
    pub(crate) fn write<T>(
        &self,
        mode: WriteMode,
        work: impl FnOnce(&Connection) -> Result<T, ServerError>,
    ) -> Result<T, ServerError> {
        let conn = self.connection()?;
        conn.execute_batch(&match mode {
            WriteMode::Exclusive => format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"),
            WriteMode::Shared => {
                format!("BEGIN; SELECT pg_advisory_xact_lock_shared({WRITE_LOCK})")
            }
        })?;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&conn)));
        match outcome {
            // Committed with the work's last statement.
            Ok(Ok(value)) if conn.finished() => Ok(value),
            Ok(Ok(value)) => match conn.execute_batch("COMMIT") {
                Ok(()) => Ok(value),
                Err(error) => {
                    conn.discard();
                    tracing::error!(%error, "commit failed");
                    Err(error.into())
                }
            },
            // After the last statement the transaction has ended either way.
            Ok(Err(error)) if conn.finished() => Err(error),
            Ok(Err(error)) => {
                conn.rollback();
                Err(error)
            }
            Err(panic) => {
                conn.rollback();
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Applies the migrations this database has not seen, in one
    /// transaction, one process at a time.
    pub(crate) fn migrate(&self, migrations: &[Migration]) -> Result<(), ServerError> {
        let conn = self.connection()?;
        conn.execute_batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MIGRATE_LOCK});
             SET LOCAL client_min_messages = warning;
             CREATE TABLE IF NOT EXISTS tapster_migrations (
                 version    BIGINT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )"
        ))?;
        let result = (|| {
            let current: i64 = conn.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM tapster_migrations",
                (),
                |r| r.get(0usize),
            )?;
            let newest = migrations.last().map_or(0, |m| m.version);
            if current > newest {
                return Err(ServerError::Internal(format!(
                    "the database has schema version {current}, newer than this server's {newest}: \
                     run a newer tapster-server"
                )));
            }
            for migration in migrations.iter().filter(|m| m.version > current) {
                conn.execute_batch(migration.sql)?;
                conn.execute(
                    "INSERT INTO tapster_migrations (version, name) VALUES (?1, ?2)",
                    super::params![migration.version, migration.name],
                )?;
                tracing::info!(
                    version = migration.version,
                    name = migration.name,
                    "migrated"
                );
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(conn.execute_batch("COMMIT")?),
            Err(error) => {
                conn.rollback();
                Err(error)
            }
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.pool.close();
        // Dropping a runtime inside another one's task would panic.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// `url` without its query parameter `name`, and that parameter's value
/// (for the parameters libpq knows and `tokio-postgres` does not).
pub(super) fn take_parameter(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((key, found)) if key == name => {
                value = Some(found.to_string());
                false
            }
            _ => true,
        })
        .collect();
    if kept.is_empty() {
        (base.to_string(), value)
    } else {
        (format!("{base}?{}", kept.join("&")), value)
    }
}

/// TLS for connections over TCP: rustls on ring (as everywhere in
/// Tapster), the system's authorities and the PEM file `root_file`.
fn tls_connector(root_file: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    if let Some(file) = root_file {
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
            .and_then(|found| found.collect::<Result<_, _>>())
            .map_err(|e| Error::Unavailable(format!("cannot read sslrootcert {file}: {e}")))?;
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| Error::Unavailable(format!("sslrootcert {file}: {e}")))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(tapster_tls::client::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Unavailable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// One PostgreSQL schema step, with the same version as SQLite's.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Connection<'_> {
    fn rollback(&self) {
        if self.execute_batch("ROLLBACK").is_err() {
            self.discard();
        }
    }

    /// Keeps a connection in an unknown state out of the pool.
    fn discard(&self) {
        if let super::Inner::Postgres(session) = &self.inner {
            session.broken.set(true);
        }
    }
}

/// A pooled connection.
pub(super) struct Session {
    client: Option<Object>,
    broken: std::cell::Cell<bool>,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(client) = self.client.take().filter(|_| self.broken.get()) {
            // Closed instead of returned to the pool.
            drop(Object::take(client));
        }
    }
}

impl Session {
    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("a session has its client until dropped")
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        Ok(block_on(self.client().batch_execute(sql))?)
    }

    pub(super) fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        Ok(block_on(
            self.client().prepare_cached(&postgres_placeholders(sql)),
        )?)
    }

    pub(super) fn execute(
        &self,
        statement: &tokio_postgres::Statement,
        params: &[&dyn Param],
    ) -> Result<u64> {
        let values = binds(params);
        let refs = as_sql(&values);
        Ok(block_on(self.client().execute(statement, &refs))?)
    }

    /// `statement` and `COMMIT` in one round trip (pipelined). When the
    /// statement fails, PostgreSQL ends the transaction at the `COMMIT`
    /// with a rollback; when the commit itself fails, the connection's
    /// state is unknown and it leaves the pool.
    pub(super) fn query_then_commit(
        &self,
        statement: &tokio_postgres::Statement,
        params: &[&dyn Param],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let values = binds(params);
        let refs = as_sql(&values);
        let client = self.client();
        // Sent in the order first polled: the statement, then the commit.
        let (rows, committed) = block_on(futures_util::future::join(
            client.query(statement, &refs),
            client.batch_execute("COMMIT"),
        ));
        if let Err(error) = &committed {
            self.broken.set(true);
            tracing::error!(%error, "commit failed");
        }
        // The statement's own error first: it is why nothing was committed.
        let rows = rows?;
        committed?;
        Ok(rows)
    }

    pub(super) fn query(
        &self,
        statement: &tokio_postgres::Statement,
        params: &[&dyn Param],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let values = binds(params);
        let refs = as_sql(&values);
        Ok(block_on(self.client().query(statement, &refs))?)
    }
}

/// The parameters as PostgreSQL binds them.
fn binds(params: &[&dyn Param]) -> Vec<Bind> {
    params.iter().map(|p| Bind(p.value())).collect()
}

fn as_sql(values: &[Bind]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// A parameter bound as the type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
struct Bind(Value);

impl ToSql for Bind {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (&self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Integer(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Integer(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Integer(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Integer(i), &Type::NUMERIC) => numeric_to_sql(*i, out),
            (Value::Integer(i), t) if is_text(t) => i.to_string().to_sql(&Type::TEXT, out),
            (Value::Real(r), &Type::FLOAT8) => r.to_sql(ty, out),
            (Value::Real(r), &Type::FLOAT4) => (*r as f32).to_sql(ty, out),
            (Value::Text(t), ty) if is_text(ty) => t.as_str().to_sql(&Type::TEXT, out),
            (Value::Text(t), &Type::JSON | &Type::JSONB) => {
                serde_json::from_str::<serde_json::Value>(t)?.to_sql(ty, out)
            }
            (Value::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (value, ty) => Err(format!("cannot bind {value:?} as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// An integer in NUMERIC's binary form (base 10000 digits).
fn numeric_to_sql(
    value: i64,
    out: &mut bytes::BytesMut,
) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    use bytes::BufMut;
    let mut rest = value.unsigned_abs();
    let mut digits = Vec::new();
    while rest > 0 {
        digits.push((rest % 10_000) as i16);
        rest /= 10_000;
    }
    digits.reverse();
    out.put_i16(digits.len() as i16);
    out.put_i16(digits.len().saturating_sub(1) as i16);
    out.put_u16(if value < 0 { 0x4000 } else { 0 });
    out.put_u16(0);
    for digit in digits {
        out.put_i16(digit);
    }
    Ok(IsNull::No)
}

/// A column of any type the store reads, as a [`Value`].
struct Column(Value);

impl<'a> FromSql<'a> for Column {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Column(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric_from_sql(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::JSON | Type::JSONB => {
                Value::Text(serde_json::Value::from_sql(ty, raw)?.to_string())
            }
            ref ty if is_text(ty) => Value::Text(String::from_sql(&Type::TEXT, raw)?),
            ref ty => return Err(format!("cannot read a column of type {ty}").into()),
        }))
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Column(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// NUMERIC (what `SUM` of BIGINT gives): an integer when it is whole and
/// fits, else a real.
fn numeric_from_sql(
    raw: &[u8],
) -> std::result::Result<Value, Box<dyn std::error::Error + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<u16, Box<dyn std::error::Error + Sync + Send>> {
        raw.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short numeric".into())
    };
    let count = word(0)? as usize;
    let weight = word(2)? as i16 as i32;
    let sign = word(4)?;
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut whole: i128 = 0;
    let mut fraction = 0.0f64;
    for i in 0..count {
        let digit = word(8 + 2 * i)? as i128;
        let power = weight - i as i32;
        if power >= 0 {
            whole = 10_000i128
                .checked_pow(power as u32)
                .and_then(|scale| digit.checked_mul(scale))
                .and_then(|d| whole.checked_add(d))
                .ok_or("numeric out of range")?;
        } else {
            fraction += digit as f64 * 10_000f64.powi(power);
        }
    }
    let negative = sign == 0x4000;
    if fraction == 0.0 {
        if let Ok(value) = i64::try_from(if negative { -whole } else { whole }) {
            return Ok(Value::Integer(value));
        }
    }
    let real = whole as f64 + fraction;
    Ok(Value::Real(if negative { -real } else { real }))
}

/// Column `index` of a PostgreSQL row as a [`Value`].
pub(super) fn column(row: &tokio_postgres::Row, index: usize) -> Result<Value> {
    Ok(row.try_get::<_, Column>(index)?.0)
}
