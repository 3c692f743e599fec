//! What the parts keep, read side by side: a till's ledger file and the
//! server's database, each through its own files (the server's as its
//! `check` and reports see it).

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

fn read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ids(connection: &Connection, sql: &str, parameter: &str) -> Vec<String> {
    let mut statement = connection.prepare(sql).unwrap();
    statement
        .query_map([parameter], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every entry id in a till's ledger file.
pub fn ledger_entries(ledger: &Path) -> BTreeSet<String> {
    let connection = read_only(ledger);
    let mut statement = connection.prepare("SELECT id FROM entries").unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The entry ids the server booked for `terminal`, each as often as it
/// holds it (a second copy would show as a repeat).
pub fn server_entries(server_db: &Path, terminal: &str) -> Vec<String> {
    ids(
        &read_only(server_db),
        // A batch's entries carry their id; an entry the server authorised
        // online first is linked to its transaction when it follows.
        "SELECT entry_id FROM transactions WHERE terminal_id = ?1 AND entry_id IS NOT NULL
         UNION ALL
         SELECT te.entry_id FROM transaction_entries te
         JOIN transactions t ON t.id = te.transaction_id
         WHERE t.terminal_id = ?1",
        terminal,
    )
}

/// The idempotency keys of what the server refused from `terminal`.
pub fn server_refused(server_db: &Path, terminal: &str) -> Vec<String> {
    ids(
        &read_only(server_db),
        "SELECT idempotency_key FROM rejected_entries WHERE terminal_id = ?1",
        terminal,
    )
}

/// Every entry of `terminal`'s ledger file reached the server exactly once:
/// booked, none twice, none the till does not have, none refused.
pub fn assert_booked_once(ledger: &Path, server_db: &Path, terminal: &str) {
    let on_till = ledger_entries(ledger);
    let on_server = server_entries(server_db, terminal);
    let booked: BTreeSet<String> = on_server.iter().cloned().collect();
    assert_eq!(
        booked.len(),
        on_server.len(),
        "{terminal}: an entry booked twice"
    );
    assert_eq!(
        booked, on_till,
        "{terminal}: the till's entries and the server's"
    );
    let refused = server_refused(server_db, terminal);
    assert!(refused.is_empty(), "{terminal}: refused {refused:?}");
}
