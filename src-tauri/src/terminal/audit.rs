//! The Audit tab: who did what to money and its rules, filtered, with the
//! chain's check and a CSV export. A connected till shows the event's trail
//! from its server (which checks the staff session's role again); a
//! standalone till its own, from its ledger. Managers only.

use std::path::Path;

use tapster_api::audit::{ActorKind, AuditAction, AuditQuery, AuditRecord, CSV_HEADER};
use tapster_ledger::rules::Action;
use tapster_ledger::store::{TillAudit, TillAuditFilter, TillAuditRecord};

use super::manage::invalid;
use super::remote::server_error;
use super::Terminal;
use crate::error::{AppError, ErrorCode};
use crate::view;

impl Terminal {
    /// The event's trail on a connected till, this till's own otherwise.
    pub async fn audit_trail(&self, form: &view::AuditForm) -> Result<view::AuditView, AppError> {
        if self.is_connected() {
            return self.audit_on_server(form).await;
        }
        self.manager(Action::ViewAuditTrail)?;
        let query = query_of(form)?;
        let reader = self.reader();
        let records = reader.audit_records(&local_filter(&query)?)?;
        let check = reader.verify_audit()?;
        let till = self.ledger.terminal()?.friendly_name;
        Ok(view::AuditView {
            intact: check.first_broken.is_none(),
            first_broken: check.first_broken,
            total: check.records,
            rows: records
                .into_iter()
                .map(|r| api_record(r, &till).map(row))
                .collect::<Result<_, _>>()?,
            limited: records_limited(&query, check.records),
        })
    }

    /// Records what a manager did on this standalone till, right after it
    /// was saved (a connected till's changes are recorded by the server).
    /// The change stands even if its record cannot be written: that is
    /// logged as an error for the manager's attention.
    pub(super) fn audit_here(&self, staff: &tapster_ledger::StaffId, audit: TillAudit) {
        if self.is_connected() {
            return;
        }
        if let Err(error) = self.ledger.record_audit(staff, &audit) {
            tracing::error!(action = audit.action, %error, "the audit trail could not record this change");
        }
    }

    pub async fn audit_on_server(
        &self,
        form: &view::AuditForm,
    ) -> Result<view::AuditView, AppError> {
        let query = query_of(form)?;
        let session = self.audit_session()?;
        let records = session.audit(&query).await.map_err(server_error)?;
        let verification = session.verify_audit().await.map_err(server_error)?;
        Ok(view::AuditView {
            intact: verification.intact,
            first_broken: verification.first_broken,
            total: verification.records,
            rows: records.into_iter().rev().map(row).collect(),
            limited: records_limited(&query, verification.records),
        })
    }

    /// Saves the records `form` asks for as CSV where the save dialog chose.
    pub async fn save_audit_csv(
        &self,
        form: &view::AuditForm,
        path: &Path,
    ) -> Result<view::Exported, AppError> {
        let mut query = query_of(form)?;
        query.limit = Some(EXPORT_LIMIT);
        let csv = if self.is_connected() {
            let session = self.audit_session()?;
            session.audit_csv(&query).await.map_err(server_error)?
        } else {
            self.manager(Action::ViewAuditTrail)?;
            let till = self.ledger.terminal()?.friendly_name;
            let mut records = self.reader().audit_records(&local_filter(&query)?)?;
            // Oldest first, as the server's export.
            records.reverse();
            let mut rows = vec![CSV_HEADER.map(String::from).to_vec()];
            for record in records {
                rows.push(api_record(record, &till)?.csv_row().to_vec());
            }
            tapster_print::csv::table(tapster_print::csv::CsvStyle::Comma, &rows).into_bytes()
        };
        tracing::info!(bytes = csv.len(), "audit trail exported");
        self.save_export(&csv, view::ExportFormat::Csv, path)
    }

    fn audit_session(&self) -> Result<tapster_sync::ManagerSession, AppError> {
        if !self.is_connected() {
            self.manager(Action::ViewAuditTrail)?;
            return Err(AppError::new(
                ErrorCode::ServerOwned,
                "the audit trail is kept by the event's server; this till runs standalone",
            ));
        }
        self.require_server_session(Action::ViewAuditTrail)
    }
}

/// What the tab shows at once: the newest records first, this many.
const SHOWN: u32 = 500;
/// What an export takes: the server's most.
const EXPORT_LIMIT: u32 = 10_000;

fn query_of(form: &view::AuditForm) -> Result<AuditQuery, AppError> {
    let text = |value: &str| Some(value.trim().to_string()).filter(|v| !v.is_empty());
    if let (Some(from), Some(until)) = (form.from_ms, form.until_ms) {
        if from > until {
            return Err(invalid("the start comes after the end"));
        }
    }
    Ok(AuditQuery {
        staff: text(&form.staff),
        action: text(&form.action),
        wallet: text(&form.wallet).map(|w| w.to_uppercase()),
        from: form.from_ms,
        until: form.until_ms,
        after: None,
        limit: Some(SHOWN),
    })
}

/// The till's own records `query` asks for, newest first.
fn local_filter(query: &AuditQuery) -> Result<TillAuditFilter, AppError> {
    Ok(TillAuditFilter {
        staff: query
            .staff
            .as_deref()
            .map(tapster_ledger::StaffId::new)
            .transpose()
            .map_err(|e| invalid(e.to_string()))?,
        action: query.action.clone(),
        wallet: query.wallet.clone(),
        from: query.from.map(tapster_ledger::Timestamp),
        until: query.until.map(tapster_ledger::Timestamp),
        limit: query.limit,
    })
}

/// A record of this till's trail in the event trail's shape.
fn api_record(record: TillAuditRecord, till: &str) -> Result<AuditRecord, AppError> {
    // Every name the ledger records is one of the trail's (a test in
    // tapster-api keeps them equal).
    let action = AuditAction::parse(&record.action).ok_or_else(|| {
        AppError::new(
            ErrorCode::Internal,
            format!(
                "the till's trail holds an unknown action '{}'",
                record.action
            ),
        )
    })?;
    Ok(AuditRecord {
        seq: record.seq,
        at: record.at.0,
        actor_kind: ActorKind::Staff,
        actor_id: Some(record.staff.to_string()),
        actor_name: record.staff_name,
        terminal_id: Some(record.terminal.to_string()),
        terminal_name: Some(till.to_string()),
        action,
        wallet: record.wallet,
        subject: record.subject,
        detail: serde_json::from_str(&record.detail).unwrap_or(serde_json::Value::Null),
        hash: record.hash,
    })
}

/// Whether the tab shows fewer records than the event has for a filter
/// without one: the oldest are in the export.
fn records_limited(query: &AuditQuery, total: i64) -> bool {
    let unfiltered = query.staff.is_none()
        && query.action.is_none()
        && query.wallet.is_none()
        && query.from.is_none()
        && query.until.is_none();
    unfiltered && total > i64::from(SHOWN)
}

fn row(record: AuditRecord) -> view::AuditRow {
    let actor = match (record.actor_name, record.actor_id) {
        (Some(name), _) => name,
        (None, Some(id)) => id,
        (None, None) => String::new(),
    };
    view::AuditRow {
        seq: record.seq,
        at_ms: record.at,
        actor_kind: record.actor_kind.as_str().to_string(),
        actor,
        terminal: record
            .terminal_name
            .or(record.terminal_id)
            .unwrap_or_default(),
        action: record.action.as_str().to_string(),
        wallet: record.wallet.unwrap_or_default(),
        subject: record.subject.unwrap_or_default(),
        detail: record.detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use tapster_api::audit::AuditAction;

    /// The tab's list of actions (its filter, its words) is the server's.
    #[test]
    fn the_ui_knows_every_audited_action() {
        let source = include_str!("../../../ui/src/lib/audit.ts");
        let list = source
            .split("export const AUDIT_ACTIONS = [")
            .nth(1)
            .and_then(|rest| rest.split("] as const").next())
            .expect("AUDIT_ACTIONS in ui/src/lib/audit.ts");
        let names: Vec<&str> = list
            .split(',')
            .map(|name| name.trim().trim_matches('"'))
            .filter(|name| !name.is_empty())
            .collect();
        let expected: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, expected);
    }
}
