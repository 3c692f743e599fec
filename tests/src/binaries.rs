//! The parts' programs, built by cargo like any test's (a no-op when they
//! are up to date; `cargo test --workspace` has just built them anyway).

use std::path::PathBuf;
use std::sync::OnceLock;

pub use crate::server::server_binary as server;

/// The desktop app, `tapster-app`.
pub fn app() -> PathBuf {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| crate::server::built_binary("tapster-app", "tapster-app"))
        .clone()
}

/// The headless till process of the sync tests, `tapster-sync` (`drive`,
/// `sync`): a ledger and its sync task, without the app.
pub fn till() -> PathBuf {
    static TILL: OnceLock<PathBuf> = OnceLock::new();
    TILL.get_or_init(|| crate::server::built_binary("tapster-sync", "tapster-sync"))
        .clone()
}
