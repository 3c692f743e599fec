//! The hash chain finds edited, removed and re-linked rows, even when an
//! attacker with the file drops the append-only triggers first.

mod common;

use common::{band, cart, Bar};
use tapster_ledger::chain::ChainProblem;

const DROP_TRIGGERS: &str = "
    DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;
";

fn bar_with_sales() -> Bar {
    let bar = Bar::new();
    bar.open_shift("anna");
    let guest = band(1);
    bar.top_up("anna", &guest, 100_00);
    for _ in 0..4 {
        bar.sell("anna", cart(&[("beer", 1), ("fries", 1)]), Some(&guest))
            .unwrap();
    }
    assert!(bar.ledger.verify_chain().unwrap().is_empty());
    bar
}

fn tamper(bar: &Bar, sql: &str) -> Vec<ChainProblem> {
    let conn = rusqlite::Connection::open(bar.ledger.path()).unwrap();
    conn.execute_batch(DROP_TRIGGERS).unwrap();
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    conn.execute_batch(sql).unwrap();
    bar.ledger.reader().unwrap().verify_chain().unwrap()
}

#[test]
fn an_edited_amount_is_found() {
    let bar = bar_with_sales();
    let problems = tamper(&bar, "UPDATE entries SET amount = -1 WHERE sequence = 3");
    assert!(
        problems.contains(&ChainProblem::ContentChanged {
            terminal: "bar-1".into(),
            sequence: 3
        }),
        "{problems:?}"
    );
}

#[test]
fn an_edited_line_or_posting_is_found() {
    let bar = bar_with_sales();
    let problems = tamper(
        &bar,
        "UPDATE entries SET lines = json_set(lines, '$[0].u', 1) WHERE sequence = 2",
    );
    assert_eq!(
        problems,
        vec![ChainProblem::ContentChanged {
            terminal: "bar-1".into(),
            sequence: 2
        }]
    );
    let bar = bar_with_sales();
    let problems = tamper(&bar, "UPDATE entries SET postings = json_set(postings, '$[0].a', 'wallet:04D30000000002') WHERE sequence = 4");
    assert_eq!(
        problems,
        vec![ChainProblem::ContentChanged {
            terminal: "bar-1".into(),
            sequence: 4
        }]
    );
}

#[test]
fn a_removed_entry_is_found() {
    let bar = bar_with_sales();
    let problems = tamper(
        &bar,
        "DELETE FROM entry_sync WHERE entry_sequence = 3; DELETE FROM entries WHERE sequence = 3;",
    );
    assert_eq!(
        problems,
        vec![ChainProblem::Gap {
            terminal: "bar-1".into(),
            expected: 3,
            found: 4
        }]
    );
}

#[test]
fn a_removed_last_entry_with_renumbering_breaks_a_link() {
    let bar = bar_with_sales();
    // Remove entry 3 and shift 4 and 5 down so no sequence gap shows.
    let problems = tamper(
        &bar,
        "DELETE FROM entry_sync WHERE entry_sequence = 3; DELETE FROM entries WHERE sequence = 3;
         UPDATE entries SET sequence = sequence - 1 WHERE sequence > 3;",
    );
    assert!(
        problems.contains(&ChainProblem::BrokenLink {
            terminal: "bar-1".into(),
            sequence: 3
        }),
        "{problems:?}"
    );
}
