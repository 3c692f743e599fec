//! The audit trail: who did what, outside a plain sale, that moved money or
//! changed what money means: payouts, balance moves, pairings, blocks,
//! cancellations and corrections, prices and products, staff and roles,
//! terminals, settings, payout runs and key rotations.
//!
//! - **In the action's own transaction.** The store method that does the
//!   action calls [`record`] inside its write, before the statement that
//!   commits: an action without its record, or a record of an action that
//!   did not happen, cannot be.
//! - **Who.** The manager API runs each request [`acting_as`] its token's
//!   [`Actor`]; a write captures the actor of the thread that asked for it
//!   (the write may run on the writer thread). Work nobody asked for over
//!   the API (the command line, background work) is the [`Actor::Console`].
//!   A cashier's cancellation or correction synced from a till names the
//!   entry's cashier and terminal ([`record_as`]).
//! - **Append-only and chained**, one chain per event, in the discipline
//!   of a till's entries ([`tapster_ledger::chain::audit_hash`]): the
//!   database refuses updates and deletes, no API changes a record, and
//!   [`ServerStore::verify_audit`] finds an edited, removed or reordered one.

use std::cell::RefCell;

use tapster_api::audit::{ActorKind, AuditAction, AuditRecord, AuditVerification};
use tapster_ledger::chain::{audit_hash, AuditContent, GENESIS_HASH};
use tapster_ledger::model::EntryKind;

use crate::db::{params, Connection, Engine, OptionalExtension};
use crate::error::ServerError;
use crate::store::ServerStore;

/// The advisory lock that serialises appends to the chains on PostgreSQL,
/// taken after the write lock (shared or exclusive): shared writes (a
/// till's synced cancellation) may run side by side.
const AUDIT_LOCK: i64 = 0x7461_7073_7465_7203;

/// Who acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The event's admin token.
    Admin,
    /// A staff member, on a terminal.
    Staff {
        id: String,
        terminal: Option<String>,
    },
    /// A guest on their own pages, with their band.
    Guest { token: String },
    /// The server's command line or its own background work.
    Console,
}

impl Actor {
    fn kind(&self) -> ActorKind {
        match self {
            Actor::Admin => ActorKind::Admin,
            Actor::Staff { .. } => ActorKind::Staff,
            Actor::Guest { .. } => ActorKind::Guest,
            Actor::Console => ActorKind::Console,
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff { id, .. } => Some(id),
            Actor::Guest { token } => Some(token),
            Actor::Admin | Actor::Console => None,
        }
    }

    fn terminal(&self) -> Option<&str> {
        match self {
            Actor::Staff { terminal, .. } => terminal.as_deref(),
            _ => None,
        }
    }
}

thread_local! {
    static ACTING: RefCell<Option<Actor>> = const { RefCell::new(None) };
}

/// Runs `work` with `actor` as the one acting on this thread, then puts
/// back whoever acted before.
pub fn acting_as<T>(actor: Actor, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<Actor>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ACTING.with(|acting| *acting.borrow_mut() = previous);
        }
    }
    let _restore = Restore(ACTING.with(|acting| acting.borrow_mut().replace(actor)));
    work()
}

/// Who acts on this thread: the console unless [`acting_as`] says.
pub fn current_actor() -> Actor {
    ACTING.with(|acting| acting.borrow().clone().unwrap_or(Actor::Console))
}

/// What one record says beside its actor.
#[derive(Clone, Debug)]
pub struct Audit {
    pub action: AuditAction,
    pub wallet: Option<String>,
    pub subject: Option<String>,
    pub detail: serde_json::Value,
}

impl Audit {
    pub fn new(action: AuditAction, detail: serde_json::Value) -> Audit {
        Audit {
            action,
            wallet: None,
            subject: None,
            detail,
        }
    }

    pub fn wallet(mut self, token: impl Into<String>) -> Audit {
        self.wallet = Some(token.into());
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Audit {
        self.subject = Some(subject.into());
        self
    }
}

/// Appends `audit` by the actor acting on this thread to `event`'s chain,
/// inside the caller's write transaction.
pub(crate) fn record(
    conn: &Connection,
    event: &str,
    at_millis: i64,
    audit: Audit,
) -> Result<(), ServerError> {
    record_as(conn, event, at_millis, &current_actor(), audit)
}

/// [`record`] with the actor named: a till's cashier, from their entry.
pub(crate) fn record_as(
    conn: &Connection,
    event: &str,
    at_millis: i64,
    actor: &Actor,
    audit: Audit,
) -> Result<(), ServerError> {
    if conn.engine() == Engine::Postgres {
        conn.execute("SELECT pg_advisory_xact_lock(?1)", params![AUDIT_LOCK])?;
    }
    let last = conn
        .query_row(
            "SELECT seq, hash FROM audit_log WHERE event_id = ?1 ORDER BY seq DESC LIMIT 1",
            params![event],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let detail =
        serde_json::to_string(&audit.detail).map_err(|e| ServerError::Internal(e.to_string()))?;
    let kind = actor.kind().as_str();
    let hash = audit_hash(
        &prev_hash,
        &AuditContent {
            event,
            seq,
            at: at_millis,
            actor_kind: kind,
            actor_id: actor.id(),
            terminal: actor.terminal(),
            action: audit.action.as_str(),
            wallet: audit.wallet.as_deref(),
            subject: audit.subject.as_deref(),
            detail: &detail,
        },
    );
    conn.execute(
        "INSERT INTO audit_log (event_id, seq, at, actor_kind, actor_id, terminal_id, action,
                                wallet, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            event,
            seq,
            at_millis,
            kind,
            actor.id(),
            actor.terminal(),
            audit.action.as_str(),
            audit.wallet,
            audit.subject,
            detail,
            prev_hash,
            hash
        ],
    )?;
    tracing::info!(
        event,
        seq,
        action = audit.action.as_str(),
        actor = kind,
        "audited"
    );
    Ok(())
}

/// What a till's synced entry of `kind` is in the trail, if anything: a
/// sale or a top-up is not (the books and the reports hold those); a
/// cancellation, a payout or a correction is.
pub(crate) fn till_action(kind: EntryKind) -> Option<AuditAction> {
    match kind {
        EntryKind::Cancel => Some(AuditAction::Cancellation),
        EntryKind::Payout => Some(AuditAction::Payout),
        EntryKind::Adjustment => Some(AuditAction::Correction),
        EntryKind::Sale | EntryKind::TopUp | EntryKind::DepositReturn => None,
    }
}

pub use tapster_api::audit::AuditQuery as AuditFilter;

const MAX_LIMIT: u32 = 10_000;

struct StoredRecord {
    record: AuditRecord,
    detail_text: String,
    prev_hash: String,
}

impl ServerStore {
    /// The event's audit records that match `filter`.
    pub fn audit_records(
        &self,
        event: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, ServerError> {
        if let Some(action) = &filter.action {
            if AuditAction::parse(action).is_none() {
                return Err(ServerError::invalid("action", "is not an audited action"));
            }
        }
        let limit = filter.limit.unwrap_or(1000).clamp(1, MAX_LIMIT);
        let conn = self.reader()?;
        let rows = Self::ensure_event_read(&conn, event).and_then(|()| {
            read_records(
                &conn,
                "WHERE a.event_id = ?1
                   AND (CAST(?2 AS TEXT) IS NULL OR a.actor_id = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR a.action = ?3)
                   AND (CAST(?4 AS TEXT) IS NULL OR a.wallet = ?4)
                   AND (CAST(?5 AS BIGINT) IS NULL OR a.at >= ?5)
                   AND (CAST(?6 AS BIGINT) IS NULL OR a.at <= ?6)
                   AND a.seq > ?7
                 ORDER BY a.seq LIMIT ?8",
                params![
                    event,
                    filter.staff,
                    filter.action,
                    filter.wallet,
                    filter.from,
                    filter.until,
                    filter.after.unwrap_or(0),
                    i64::from(limit)
                ],
            )
        })?;
        Ok(rows.into_iter().map(|stored| stored.record).collect())
    }

    /// The records of [`Self::audit_records`] as CSV, one row each, for an
    /// accountant's spreadsheet.
    pub fn audit_csv(&self, event: &str, filter: &AuditFilter) -> Result<String, ServerError> {
        let csv_err = |e: csv::Error| ServerError::Internal(e.to_string());
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(tapster_api::audit::CSV_HEADER)
            .map_err(csv_err)?;
        for record in self.audit_records(event, filter)? {
            out.write_record(record.csv_row()).map_err(csv_err)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| ServerError::Internal(e.to_string()))
    }

    /// Walks the event's whole chain: every record's hash recomputed from
    /// its content and linked to the one before it, with no gap.
    pub fn verify_audit(&self, event: &str) -> Result<AuditVerification, ServerError> {
        let conn = self.reader()?;
        Self::ensure_event_read(&conn, event)?;
        let rows = read_records(
            &conn,
            "WHERE a.event_id = ?1 ORDER BY a.seq",
            params![event],
        )?;
        let mut expected_prev = GENESIS_HASH.to_string();
        let mut first_broken = None;
        for (index, stored) in rows.iter().enumerate() {
            let record = &stored.record;
            let hash = audit_hash(
                &stored.prev_hash,
                &AuditContent {
                    event,
                    seq: record.seq,
                    at: record.at,
                    actor_kind: record.actor_kind.as_str(),
                    actor_id: record.actor_id.as_deref(),
                    terminal: record.terminal_id.as_deref(),
                    action: record.action.as_str(),
                    wallet: record.wallet.as_deref(),
                    subject: record.subject.as_deref(),
                    detail: &stored.detail_text,
                },
            );
            let in_place = record.seq == index as i64 + 1;
            if !in_place || stored.prev_hash != expected_prev || hash != record.hash {
                first_broken = Some(record.seq);
                break;
            }
            expected_prev = hash;
        }
        Ok(AuditVerification {
            intact: first_broken.is_none(),
            records: rows.len() as i64,
            first_broken,
        })
    }

    fn ensure_event_read(conn: &Connection, event: &str) -> Result<(), ServerError> {
        let known = conn
            .query_row("SELECT 1 FROM events WHERE id = ?1", params![event], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?;
        match known {
            Some(_) => Ok(()),
            None => Err(ServerError::NotFound("no such event".into())),
        }
    }
}

fn read_records<P: crate::db::Params>(
    conn: &Connection,
    condition: &str,
    params: P,
) -> Result<Vec<StoredRecord>, ServerError> {
    let sql = format!(
        "SELECT a.seq, a.at, a.actor_kind, a.actor_id, st.name, a.terminal_id, tm.friendly_name,
                a.action, a.wallet, a.subject, a.detail, a.prev_hash, a.hash
         FROM audit_log a
         LEFT JOIN staff st ON a.actor_kind = 'staff' AND st.event_id = a.event_id AND st.id = a.actor_id
         LEFT JOIN terminals tm ON tm.event_id = a.event_id AND tm.id = a.terminal_id
         {condition}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, String>(10)?,
            r.get::<_, String>(11)?,
            r.get::<_, String>(12)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            seq,
            at,
            kind,
            actor_id,
            actor_name,
            terminal_id,
            terminal_name,
            action,
            wallet,
            subject,
            detail_text,
            prev_hash,
            hash,
        ) = row?;
        let bad = |what: &str| ServerError::Internal(format!("audit record {seq}: {what}"));
        out.push(StoredRecord {
            record: AuditRecord {
                seq,
                at,
                actor_kind: ActorKind::parse(&kind).ok_or_else(|| bad("unknown actor kind"))?,
                actor_id,
                actor_name,
                terminal_id,
                terminal_name,
                action: AuditAction::parse(&action).ok_or_else(|| bad("unknown action"))?,
                wallet,
                subject,
                // An edited detail that is no longer JSON still shows (as
                // text) and fails the chain check.
                detail: serde_json::from_str(&detail_text)
                    .unwrap_or(serde_json::Value::String(detail_text.clone())),
                hash,
            },
            detail_text,
            prev_hash,
        });
    }
    Ok(out)
}

pub use tapster_ledger::store::audit::changed_fields;

/// The most shift closes one request may carry.
pub const MAX_SHIFT_CLOSES: usize = 100;

impl ServerStore {
    /// Records the shift closes a till hands over, each once (by its shift),
    /// named after who closed it on that till.
    pub fn record_shift_closes(
        &self,
        terminal: &crate::store::AuthenticatedTerminal,
        closes: tapster_api::audit::TillShiftCloses,
    ) -> Result<tapster_api::audit::ShiftClosesTaken, ServerError> {
        if closes.closes.len() > MAX_SHIFT_CLOSES {
            return Err(ServerError::invalid(
                "closes",
                format!("at most {MAX_SHIFT_CLOSES} at once"),
            ));
        }
        for close in &closes.closes {
            tapster_ledger::StaffId::new(close.staff_id.as_str())
                .map_err(|e| ServerError::invalid("staff_id", e.reason))?;
            if close.shift_id.is_empty() || close.shift_id.len() > 64 {
                return Err(ServerError::invalid("shift_id", "1 to 64 characters"));
            }
            let size = serde_json::to_string(&close.detail).map_or(usize::MAX, |d| d.len());
            if !close.detail.is_object() || size > 2_000 {
                return Err(ServerError::invalid(
                    "detail",
                    "an object of at most 2000 characters",
                ));
            }
        }
        let (terminal, now) = (terminal.clone(), self.now().0);
        self.write(move |conn| {
            let event = terminal.event_id.as_str();
            let mut recorded = 0;
            for close in closes.closes {
                let known: bool = conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM audit_log WHERE event_id = ?1 AND action = ?2 AND subject = ?3
                         AND terminal_id = ?4)",
                    params![event, AuditAction::ShiftClosed.as_str(), close.shift_id, terminal.id],
                    |r| r.get(0),
                )?;
                if known {
                    continue;
                }
                let closer = Actor::Staff {
                    id: close.staff_id.clone(),
                    terminal: Some(terminal.id.clone()),
                };
                let mut detail = close.detail;
                detail["terminal_time"] = serde_json::json!(close.at);
                let audit = Audit::new(AuditAction::ShiftClosed, detail).subject(close.shift_id);
                record_as(conn, event, now, &closer, audit)?;
                recorded += 1;
            }
            Ok(tapster_api::audit::ShiftClosesTaken { recorded })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_lists_only_what_changed() {
        let before = serde_json::json!({"name": "Bier", "price": 450, "vat": 19});
        let after = serde_json::json!({"name": "Bier", "price": 500, "vat": 19});
        assert_eq!(
            changed_fields(&before, &after),
            serde_json::json!({"price": [450, 500]})
        );
    }

    #[test]
    fn the_console_acts_unless_told_and_the_actor_is_restored() {
        assert_eq!(current_actor(), Actor::Console);
        acting_as(Actor::Admin, || {
            assert_eq!(current_actor(), Actor::Admin);
            let staff = Actor::Staff {
                id: "stf_1".into(),
                terminal: None,
            };
            acting_as(staff.clone(), || assert_eq!(current_actor(), staff));
            assert_eq!(current_actor(), Actor::Admin);
        });
        assert_eq!(current_actor(), Actor::Console);
    }
}
