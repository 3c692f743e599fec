//! The Audit tab on a connected till: who did what to money and its rules,
//! from the event's server (the trail lives there, chained), filtered, with
//! the chain's check and a CSV export. Managers only (the server checks the
//! staff session's role again).

use std::path::Path;

use tapster_api::audit::{AuditQuery, AuditRecord};
use tapster_ledger::rules::Action;

use super::manage::invalid;
use super::remote::server_error;
use super::Terminal;
use crate::error::{AppError, ErrorCode};
use crate::view;

impl Terminal {
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
        let session = self.audit_session()?;
        let csv = session.audit_csv(&query).await.map_err(server_error)?;
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
