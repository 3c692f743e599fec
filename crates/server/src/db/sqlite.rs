//! SQLite's side of [`super::Connection`]: rusqlite, as before.

use rusqlite::types::ValueRef;

use super::{Result, Value};

/// Column `index` of a SQLite row as a [`Value`].
pub(crate) fn column(row: &rusqlite::Row<'_>, index: usize) -> Result<Value> {
    Ok(match row.get_ref(index)? {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}
