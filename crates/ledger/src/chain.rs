//! Tamper evidence: each entry's hash covers its canonical content and the
//! previous entry's hash, a hash chain per terminal. Editing or removing any
//! row breaks the chain from there on.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::Entry;
use crate::postings::Posting;

/// The `prev_hash` of a terminal's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"tapster-entry-v1\n";

/// Everything that makes an entry what it is, in a fixed field order.
#[derive(Serialize)]
struct Canonical<'a> {
    id: String,
    terminal: &'a str,
    sequence: i64,
    idempotency_key: &'a str,
    kind: &'a str,
    token: Option<&'a str>,
    tender: &'a str,
    amount: i64,
    staff: &'a str,
    shift: Option<String>,
    terminal_time: i64,
    reverses: Option<String>,
    offline: bool,
    balance_after: Option<i64>,
    lines: Vec<(&'a str, &'a str, &'a str, i64, i64, u32, bool)>,
    postings: Vec<(String, i64)>,
    /// The passes of discount lines, by line index; absent when none, so
    /// entries without passes hash as they always did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    passes: Vec<(usize, &'a str)>,
    /// Tip lines and bill lines by line index, absent when none (as passes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tips: Vec<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bills: Vec<(usize, String)>,
}

/// The hash of `entry` (its own `hash` field ignored) chained to
/// `entry.prev_hash`, as lowercase hex.
pub fn entry_hash(entry: &Entry, postings: &[Posting]) -> String {
    let canonical = Canonical {
        id: entry.id.to_string(),
        terminal: entry.terminal.as_str(),
        sequence: entry.sequence,
        idempotency_key: entry.idempotency_key.as_str(),
        kind: entry.kind.as_str(),
        token: entry.token.as_ref().map(|t| t.as_str()),
        tender: entry.tender.as_str(),
        amount: entry.amount.0,
        staff: entry.staff.as_str(),
        shift: entry.shift.map(|s| s.to_string()),
        terminal_time: entry.terminal_time.0,
        reverses: entry.reverses.map(|r| r.to_string()),
        offline: entry.offline,
        balance_after: entry.balance_after.map(|b| b.0),
        lines: entry
            .lines
            .iter()
            .map(|l| {
                (
                    l.product.as_str(),
                    l.name.as_str(),
                    l.category.as_str(),
                    l.quantity,
                    l.unit_price.0,
                    l.vat_rate.0,
                    l.deposit,
                )
            })
            .collect(),
        postings: postings
            .iter()
            .map(|p| (p.account.to_string(), p.amount.0))
            .collect(),
        passes: entry
            .lines
            .iter()
            .enumerate()
            .filter_map(|(index, l)| l.pass.as_ref().map(|code| (index, code.as_str())))
            .collect(),
        tips: entry
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.tip)
            .map(|(index, _)| index)
            .collect(),
        bills: entry
            .lines
            .iter()
            .enumerate()
            .filter_map(|(index, l)| l.bill.map(|bill| (index, bill.to_string())))
            .collect(),
    };
    // Serialising plain strings, integers and tuples cannot fail.
    let body = serde_json::to_vec(&canonical).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    hex::encode(hasher.finalize())
}

const AUDIT_DOMAIN: &[u8] = b"tapster-audit-v1\n";

/// One record of an audit trail, in a fixed field order: what
/// [`audit_hash`] covers. `detail` is the stored JSON text itself, so the
/// hash never depends on how a reader re-serialises it.
#[derive(Clone, Debug, Serialize)]
pub struct AuditContent<'a> {
    pub event: &'a str,
    pub seq: i64,
    pub at: i64,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub terminal: Option<&'a str>,
    pub action: &'a str,
    pub wallet: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub detail: &'a str,
}

/// The hash of an audit record chained to the one before it (the first
/// record's `prev_hash` is [`GENESIS_HASH`]), as lowercase hex: the same
/// discipline as entries, under its own domain.
pub fn audit_hash(prev_hash: &str, content: &AuditContent) -> String {
    // Serialising plain strings and integers cannot fail.
    let body = serde_json::to_vec(content).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(AUDIT_DOMAIN);
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    hex::encode(hasher.finalize())
}

/// What a chain verification found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainProblem {
    /// Sequence numbers jump: entries are missing.
    Gap {
        terminal: String,
        expected: i64,
        found: i64,
    },
    /// An entry's `prev_hash` is not its predecessor's hash.
    BrokenLink { terminal: String, sequence: i64 },
    /// An entry's content does not match its hash: it was edited.
    ContentChanged { terminal: String, sequence: i64 },
}
