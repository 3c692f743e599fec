//! One SQL interface over the server's two engines: SQLite (embedded, the
//! default) and PostgreSQL (several server processes on one database).
//!
//! The store's code is written once against [`Connection`], whose shape
//! follows rusqlite's (`execute`, `query_row`, `prepare_cached`, rows read
//! with `get`), and most statements are one SQL text that both engines
//! run: placeholders are written `?1`, `?2` … and become `$1`, `$2` … on
//! PostgreSQL. Where the dialects differ, the code asks
//! [`Connection::engine`] and writes each variant out.
//!
//! Values cross as [`Value`]s, SQLite's five storage classes. On
//! PostgreSQL a parameter takes the type the server inferred for its
//! placeholder, and a column of any integer, text, bytea, boolean or
//! numeric type reads back as the matching [`Value`]; so the schemas use
//! BIGINT wherever SQLite has INTEGER and both engines answer alike.

mod postgres;
mod sqlite;

use std::cell::Cell;
use std::sync::MutexGuard;

pub(crate) use postgres::WRITE_LOCK;
pub use postgres::{Migration, PgDatabase, WriteMode};
pub(crate) use sqlite::column as sqlite_column;

/// Which engine a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A value of a parameter or column: SQLite's storage classes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the query returned no row")]
    NoRows,
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", with_causes(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("column {index}: {message}")]
    Conversion { index: usize, message: String },
    #[error("no database connection: {0}")]
    Unavailable(String),
    #[error("a statement after its transaction's last one: {0}")]
    AfterCommit(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and what caused it, as one line: a failed TLS handshake says
/// which certificate check failed.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

impl Error {
    /// The SQLSTATE of a PostgreSQL error, if it is one.
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            Error::Postgres(error) => error.code().map(|code| code.code()),
            _ => None,
        }
    }

    /// A unique index refused the write (either engine).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(error) => matches!(
                error,
                rusqlite::Error::SqliteFailure(e, _)
                    if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            ),
            _ => self.sql_state() == Some("23505"),
        }
    }
}

/// `query_row(…).optional()`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(Error::NoRows) | Err(Error::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

/// A statement parameter: something both engines can bind.
pub trait Param: Sync {
    fn value(&self) -> Value;
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
}

/// Turns a Rust value into a [`Value`]; the types the store binds.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl<T: ToValue + rusqlite::ToSql + Sync> Param for T {
    fn value(&self) -> Value {
        self.to_value()
    }
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
}

macro_rules! integer_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(*self as i64)
            }
        }
    )*};
}
integer_values!(i64, i32, i16, i8, u32, u16, u8, isize);

impl ToValue for u64 {
    fn to_value(&self) -> Value {
        // Out of range fails on SQLite's side alike (rusqlite refuses it).
        i64::try_from(*self).map_or(Value::Null, Value::Integer)
    }
}
impl ToValue for usize {
    fn to_value(&self) -> Value {
        i64::try_from(*self).map_or(Value::Null, Value::Integer)
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// Parameters as the store passes them: `params![a, b]`, `[a]`, `()`.
pub trait Params {
    fn list(&self) -> Vec<&dyn Param>;
}

impl Params for &[&dyn Param] {
    fn list(&self) -> Vec<&dyn Param> {
        self.to_vec()
    }
}
impl<T: Param, const N: usize> Params for [T; N] {
    fn list(&self) -> Vec<&dyn Param> {
        self.iter().map(|p| p as &dyn Param).collect()
    }
}
impl Params for () {
    fn list(&self) -> Vec<&dyn Param> {
        Vec::new()
    }
}
impl<T: Param> Params for &Vec<T> {
    fn list(&self) -> Vec<&dyn Param> {
        self.iter().map(|p| p as &dyn Param).collect()
    }
}

/// `params![a, b, …]` as rusqlite's, for both engines.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::Param]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::db::Param),+] as &[&dyn $crate::db::Param]
    };
}
pub(crate) use params;

/// A column's value as a Rust type.
pub trait FromColumn: Sized {
    fn from_value(value: Value) -> Result<Self, String>;
}

fn mismatch<T>(value: &Value, wanted: &str) -> Result<T, String> {
    Err(format!("cannot read {value:?} as {wanted}"))
}

macro_rules! integer_columns {
    ($($t:ty),*) => {$(
        impl FromColumn for $t {
            fn from_value(value: Value) -> Result<Self, String> {
                match value {
                    Value::Integer(i) => <$t>::try_from(i).map_err(|e| e.to_string()),
                    other => mismatch(&other, stringify!($t)),
                }
            }
        }
    )*};
}
integer_columns!(i64, i32, i16, u64, u32, u16, u8, usize);

impl FromColumn for bool {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Integer(i) => Ok(i != 0),
            other => mismatch(&other, "bool"),
        }
    }
}
impl FromColumn for f64 {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Real(r) => Ok(r),
            Value::Integer(i) => Ok(i as f64),
            other => mismatch(&other, "f64"),
        }
    }
}
impl FromColumn for String {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(t) => Ok(t),
            other => mismatch(&other, "text"),
        }
    }
}
impl FromColumn for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b),
            other => mismatch(&other, "blob"),
        }
    }
}
impl FromColumn for Value {
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(value)
    }
}
impl<T: FromColumn> FromColumn for Option<T> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Which column: its position from 0.
pub trait ColumnIndex {
    fn position(self) -> usize;
}

impl ColumnIndex for usize {
    fn position(self) -> usize {
        self
    }
}

/// One row of a result.
pub struct Row<'r> {
    inner: RowInner<'r>,
}

enum RowInner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0) as `T`.
    pub fn get<I: ColumnIndex, T: FromColumn>(&self, index: I) -> Result<T> {
        let index = index.position();
        let value = match &self.inner {
            RowInner::Sqlite(row) => sqlite::column(row, index)?,
            RowInner::Postgres(row) => postgres::column(row, index)?,
        };
        T::from_value(value).map_err(|message| Error::Conversion { index, message })
    }
}

/// A connection (or, for writes, the open transaction) of either engine.
pub struct Connection<'c> {
    inner: Inner<'c>,
    changes: Cell<u64>,
    /// The work's last statement has run ([`Connection::query_row_then_commit`]).
    finished: Cell<bool>,
}

enum Inner<'c> {
    Sqlite(&'c rusqlite::Connection),
    SqliteReader(MutexGuard<'c, rusqlite::Connection>),
    Postgres(Box<postgres::Session>),
}

impl<'c> Connection<'c> {
    pub(crate) fn sqlite(conn: &'c rusqlite::Connection) -> Connection<'c> {
        Connection {
            inner: Inner::Sqlite(conn),
            changes: Cell::new(0),
            finished: Cell::new(false),
        }
    }

    pub(crate) fn sqlite_reader(conn: MutexGuard<'c, rusqlite::Connection>) -> Connection<'c> {
        Connection {
            inner: Inner::SqliteReader(conn),
            changes: Cell::new(0),
            finished: Cell::new(false),
        }
    }

    fn postgres(session: postgres::Session) -> Connection<'c> {
        Connection {
            inner: Inner::Postgres(Box::new(session)),
            changes: Cell::new(0),
            finished: Cell::new(false),
        }
    }

    fn lite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(conn) => Some(conn),
            Inner::SqliteReader(conn) => Some(conn),
            Inner::Postgres(_) => None,
        }
    }

    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Postgres(_) => Engine::Postgres,
            _ => Engine::Sqlite,
        }
    }

    /// Runs one statement; returns the number of rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Runs statements without parameters (`BEGIN`, `SAVEPOINT` …).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Postgres(session) => session.batch(sql),
            _ => Ok(self.lite().expect("sqlite").execute_batch(sql)?),
        }
    }

    /// The first row of a query, mapped; [`Error::NoRows`] when there is none.
    pub fn query_row<T, P: Params, F>(&self, sql: &str, params: P, map: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, map)
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// A statement, kept prepared per connection.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        if self.finished.get() {
            return Err(Error::AfterCommit(sql.to_string()));
        }
        Ok(Statement {
            inner: match &self.inner {
                Inner::Postgres(session) => StatementInner::Postgres {
                    session,
                    statement: session.prepare(sql)?,
                },
                _ => StatementInner::Sqlite(self.lite().expect("sqlite").prepare_cached(sql)?),
            },
            changes: &self.changes,
        })
    }

    /// The write transaction's last statement, its first row mapped. On
    /// PostgreSQL it goes out together with the `COMMIT` (one round trip),
    /// so the row locks it takes are held only while the database runs it
    /// and flushes the commit, never across a round trip to this process:
    /// the place for the statement that locks a row every sale updates.
    /// On SQLite it runs as any other; the writer commits after the work.
    /// Either way no statement may follow it ([`Error::AfterCommit`]).
    pub fn query_row_then_commit<T, P: Params, F>(&self, sql: &str, params: P, map: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut statement = self.prepare_cached(sql)?;
        self.finished.set(true);
        match &mut statement.inner {
            StatementInner::Postgres { session, statement } => {
                match session
                    .query_then_commit(statement, &params.list())?
                    .first()
                {
                    Some(row) => map(&Row {
                        inner: RowInner::Postgres(row),
                    }),
                    None => Err(Error::NoRows),
                }
            }
            StatementInner::Sqlite(_) => statement.query_row(params, map),
        }
    }

    /// Whether the work's last statement has run (and, on PostgreSQL,
    /// the transaction has ended with it).
    pub(crate) fn finished(&self) -> bool {
        self.finished.get()
    }

    /// Rows changed by the last `execute`.
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// Reads that see one consistent state of the database until the
    /// returned guard is dropped (a read transaction).
    pub fn unchecked_transaction(&self) -> Result<Snapshot<'_, 'c>> {
        self.execute_batch(match self.engine() {
            Engine::Sqlite => "BEGIN DEFERRED",
            Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })?;
        Ok(Snapshot { conn: self })
    }
}

/// A read transaction; ends (without writing anything) when dropped.
pub struct Snapshot<'s, 'c> {
    conn: &'s Connection<'c>,
}

impl<'c> std::ops::Deref for Snapshot<'_, 'c> {
    type Target = Connection<'c>;
    fn deref(&self) -> &Connection<'c> {
        self.conn
    }
}

impl Drop for Snapshot<'_, '_> {
    fn drop(&mut self) {
        if let Err(error) = self.conn.execute_batch("ROLLBACK") {
            tracing::warn!(%error, "cannot end a read transaction");
        }
    }
}

/// A prepared statement.
pub struct Statement<'c> {
    inner: StatementInner<'c>,
    changes: &'c Cell<u64>,
}

enum StatementInner<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres {
        session: &'c postgres::Session,
        statement: tokio_postgres::Statement,
    },
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let params = params.list();
        let changed = match &mut self.inner {
            StatementInner::Sqlite(statement) => statement.execute(rusqlite::params_from_iter(
                params.iter().map(|p| p.sqlite()),
            ))?,
            StatementInner::Postgres { session, statement } => {
                session.execute(statement, &params)? as usize
            }
        };
        self.changes.set(changed as u64);
        Ok(changed)
    }

    /// All rows, each mapped.
    pub fn query_map<T, P: Params, F>(
        &mut self,
        params: P,
        mut map: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let params = params.list();
        let mut out = Vec::new();
        match &mut self.inner {
            StatementInner::Sqlite(statement) => {
                let mut rows = statement.query(rusqlite::params_from_iter(
                    params.iter().map(|p| p.sqlite()),
                ))?;
                while let Some(row) = rows.next()? {
                    out.push(map(&Row {
                        inner: RowInner::Sqlite(row),
                    }));
                }
            }
            StatementInner::Postgres { session, statement } => {
                for row in session.query(statement, &params)? {
                    out.push(map(&Row {
                        inner: RowInner::Postgres(&row),
                    }));
                }
            }
        }
        Ok(out.into_iter())
    }

    /// The first row, mapped; [`Error::NoRows`] when there is none.
    pub fn query_row<T, P: Params, F>(&mut self, params: P, map: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let params = params.list();
        match &mut self.inner {
            StatementInner::Sqlite(statement) => {
                let mut rows = statement.query(rusqlite::params_from_iter(
                    params.iter().map(|p| p.sqlite()),
                ))?;
                match rows.next()? {
                    Some(row) => map(&Row {
                        inner: RowInner::Sqlite(row),
                    }),
                    None => Err(Error::NoRows),
                }
            }
            StatementInner::Postgres { session, statement } => {
                match session.query(statement, &params)?.first() {
                    Some(row) => map(&Row {
                        inner: RowInner::Postgres(row),
                    }),
                    None => Err(Error::NoRows),
                }
            }
        }
    }

    /// Whether the query returns any row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        self.query_row(params, |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
    }
}

/// `?1` → `$1` outside quoted text: SQLite's numbered placeholders as
/// PostgreSQL writes them.
pub(crate) fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes_only() {
        assert_eq!(
            postgres_placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12"
        );
    }

    #[test]
    fn libpq_parameters_tokio_postgres_lacks_are_taken_out_of_the_url() {
        assert_eq!(
            postgres::take_parameter(
                "postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem",
                "sslrootcert"
            ),
            (
                "postgres://u@h/db?sslmode=require".to_string(),
                Some("/ca.pem".to_string())
            )
        );
        assert_eq!(
            postgres::take_parameter("postgres://u@h/db?sslrootcert=/ca.pem", "sslrootcert"),
            ("postgres://u@h/db".to_string(), Some("/ca.pem".to_string()))
        );
        assert_eq!(
            postgres::take_parameter("postgres://u@h/db", "sslrootcert"),
            ("postgres://u@h/db".to_string(), None)
        );
    }

    #[test]
    fn optional_turns_no_row_into_none_only() {
        assert_eq!(Err::<i64, _>(Error::NoRows).optional().unwrap(), None);
        assert!(Err::<i64, _>(Error::Unavailable("x".into()))
            .optional()
            .is_err());
    }
}
