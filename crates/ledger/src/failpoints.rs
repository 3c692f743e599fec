//! Failpoints for tests (feature `failpoints`, the `fail` crate): a named
//! step of a sale or a sync round fails as storage does — `full`
//! (SQLITE_FULL), `busy` (SQLITE_BUSY), `io` (an I/O error). Without the
//! feature they compile to nothing.

use crate::error::LedgerError;

/// The error a failpoint's action names.
pub fn error(action: Option<String>) -> LedgerError {
    let code = match action.as_deref() {
        Some("busy") => rusqlite::ffi::SQLITE_BUSY,
        Some("io") => rusqlite::ffi::SQLITE_IOERR,
        _ => rusqlite::ffi::SQLITE_FULL,
    };
    LedgerError::from(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        Some(format!(
            "failpoint ({})",
            action.as_deref().unwrap_or("full")
        )),
    ))
}

/// Fails the enclosing function with [`error`] when the failpoint `name` is
/// set (`fail::cfg(name, "return(full)")`).
#[macro_export]
#[doc(hidden)]
macro_rules! failpoint {
    ($name:expr) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!(
            $name,
            |action| Err($crate::failpoints::error(action).into())
        );
    };
}
