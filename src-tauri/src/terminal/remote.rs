//! The manager screens of a connected till: the event's report, catalogue,
//! staff, wallets, terminals and conflicts live on the server. Calls go
//! through the staff session the supervisor or manager opened with their
//! PIN at login; the server checks the role again. What the server accepted
//! is also written to this till's ledger at once (the next catalogue pull
//! would bring it anyway).

use tapster_api::manage::{NewStaffMember, Summary, TerminalUpdate};
use tapster_ledger::model::{Category, Staff};
use tapster_ledger::rules::Action;
use tapster_ledger::store::{AmountRow, CountRow, HourRow, ProductRow, SalesReport, VatRow};
use tapster_ledger::{CategoryId, Cents, ProductId, StaffId, Timestamp};
use tapster_sync::{ApiError, ManagerSession, SummaryFilter};

use super::manage::{apply_event_settings, role_in, staff_member_id};
use super::{lock, token, Terminal};
use crate::error::{AppError, ErrorCode};
use crate::view;

/// The server's refusal as the UI's error: its code when it is one of
/// ours, its message always.
pub(super) fn server_error(error: ApiError) -> AppError {
    match &error {
        ApiError::Refused { code, message, .. } => {
            let code = match code.as_str() {
                "role_not_permitted" => ErrorCode::RoleNotPermitted,
                "invalid_parameters" | "invalid_input" | "invalid_body" => ErrorCode::InvalidInput,
                "pin_in_use" | "unknown_category" | "unknown_staff" => ErrorCode::InvalidInput,
                "category_not_empty" => ErrorCode::CategoryNotEmpty,
                "badge_in_use" => ErrorCode::BadgeInUse,
                "badge_is_guest_band" => ErrorCode::BadgeIsGuestBand,
                "band_is_staff_badge" => ErrorCode::BandIsStaffBadge,
                "wrong_pin" => ErrorCode::WrongPin,
                "login_locked" => ErrorCode::LoginLocked,
                "idempotency_conflict" => ErrorCode::IdempotencyConflict,
                "pass_refused" => ErrorCode::PassRefused,
                "pass_not_applicable" => ErrorCode::PassNotApplicable,
                _ => ErrorCode::RefusedByServer,
            };
            AppError::new(code, message.clone())
        }
        ApiError::Unauthorized => AppError::new(
            ErrorCode::NotLoggedIn,
            "the server ended this manager session: log in again",
        ),
        ApiError::Untrusted(_) => AppError::new(ErrorCode::ServerUntrusted, error.to_string()),
        other if other.is_transient() => {
            AppError::new(ErrorCode::ServerUnreachable, other.to_string())
        }
        other => AppError::new(ErrorCode::RefusedByServer, other.to_string()),
    }
}

/// A summary row as the ledger's report counts it: items for products and
/// categories, sales for people, tills and hours, entries for tenders.
fn amount_row(row: &tapster_api::manage::SummaryRow, label: String, count: i64) -> AmountRow {
    AmountRow {
        key: row.key.clone(),
        label,
        count,
        amount: Cents(row.amount),
    }
}

impl Terminal {
    /// After a PIN login on a connected till: a supervisor or manager also
    /// gets a session on the server's manager API. Best effort: without it
    /// the manager screens show this till's own figures.
    pub async fn open_server_session(&self, pin: &str) -> Result<(), AppError> {
        let Some(syncer) = &self.syncer else {
            return Ok(());
        };
        let Some(staff) = self.current_staff() else {
            return Ok(());
        };
        if staff.role < tapster_ledger::model::Role::Supervisor {
            return Ok(());
        }
        match syncer
            .client()
            .open_staff_session(staff.id.as_str(), pin)
            .await
        {
            Ok(session) => {
                tracing::info!(staff = %staff.id, "manager session on the server");
                if let Some(active) = lock(&self.session).as_mut() {
                    if active.staff.id == staff.id {
                        active.server = Some(session);
                    }
                }
                Ok(())
            }
            Err(error) => {
                tracing::warn!(staff = %staff.id, %error, "no manager session on the server");
                Err(server_error(error))
            }
        }
    }

    /// The logged-in manager's server session: `None` on a standalone
    /// till; refused on a connected till without one.
    pub(super) fn server_session(&self) -> Result<Option<ManagerSession>, AppError> {
        if self.syncer.is_none() {
            return Ok(None);
        }
        let session = lock(&self.session);
        let found = session.as_ref().and_then(|active| active.server.clone());
        Ok(found.filter(|s| s.expires_at > self.clock.now().0))
    }

    pub(super) fn require_server_session(
        &self,
        action: Action,
    ) -> Result<ManagerSession, AppError> {
        self.manager(action)?;
        self.server_session()?.ok_or_else(|| {
            AppError::new(
                ErrorCode::ServerUnreachable,
                "no manager session on the server: log in with your PIN (not a badge) once the server is reachable",
            )
        })
    }

    /// The whole event's sales from the server, in the ledger's report
    /// shape (names from this till's catalogue, which the server sends).
    async fn event_sales_report(
        &self,
        query: &view::ReportQuery,
    ) -> Result<(SalesReport, Vec<view::Choice>), AppError> {
        let session = self.require_server_session(Action::ViewReports)?;
        if query.cashier.as_deref().is_some_and(|c| !c.is_empty()) {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "the event report is by period and terminal; per cashier, use this till's report",
            ));
        }
        let filter = self.report_filter(query)?;
        let summary_filter = SummaryFilter {
            from_millis: filter.from.map(|t| t.0),
            // The server's range is inclusive, the report's exclusive.
            until_millis: filter.until.map(|t| t.0 - 1),
            terminal: filter.terminal.as_ref().map(ToString::to_string),
        };
        let summary = session
            .summary(&summary_filter)
            .await
            .map_err(server_error)?;
        let terminals = session.terminals().await.map_err(server_error)?;
        let choices: Vec<view::Choice> = terminals
            .iter()
            .map(|t| view::Choice {
                id: t.id.clone(),
                name: t.friendly_name.clone(),
            })
            .collect();
        let report = self.summary_to_report(&summary, filter, &choices)?;
        Ok((report, choices))
    }

    fn summary_to_report(
        &self,
        summary: &Summary,
        filter: tapster_ledger::store::ReportFilter,
        terminals: &[view::Choice],
    ) -> Result<SalesReport, AppError> {
        let reader = self.reader();
        let products = reader.products(true)?;
        let categories = reader.category_names()?;
        let staff = reader.staff()?;
        let product_name = |id: &str| {
            products
                .iter()
                .find(|p| p.id.as_str() == id)
                .map(|p| (p.name.clone(), p.category.to_string()))
        };
        let category_name = |id: &str| {
            categories
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        };
        Ok(SalesReport {
            filter,
            sales_count: summary.sales_count,
            revenue: Cents(summary.revenue),
            revenue_net: Cents(summary.by_vat_rate.iter().map(|v| v.net).sum()),
            vat_total: Cents(summary.by_vat_rate.iter().map(|v| v.vat).sum()),
            by_product: summary
                .by_product
                .iter()
                .map(|row| {
                    let (name, category) =
                        product_name(&row.key).unwrap_or_else(|| (row.key.clone(), String::new()));
                    ProductRow {
                        product: row.key.clone(),
                        name,
                        category: category_name(&category),
                        quantity: row.quantity,
                        gross: Cents(row.amount),
                    }
                })
                .collect(),
            by_category: summary
                .by_category
                .iter()
                .map(|row| amount_row(row, category_name(&row.key), row.quantity))
                .collect(),
            by_vat_rate: summary
                .by_vat_rate
                .iter()
                .map(|v| VatRow {
                    rate: v.rate,
                    gross: Cents(v.gross),
                    net: Cents(v.net),
                    vat: Cents(v.vat),
                })
                .collect(),
            by_hour: summary
                .by_hour
                .iter()
                .filter_map(|row| {
                    let start = row.key.parse::<jiff::Timestamp>().ok()?;
                    Some(HourRow {
                        hour_start: Timestamp(start.as_millisecond()),
                        sales: row.sales,
                        gross: Cents(row.amount),
                    })
                })
                .collect(),
            by_staff: summary
                .by_cashier
                .iter()
                .map(|row| {
                    let name = staff
                        .iter()
                        .find(|s| s.id.as_str() == row.key)
                        .map_or_else(|| row.key.clone(), |s| s.name.clone());
                    amount_row(row, name, row.sales)
                })
                .collect(),
            by_terminal: summary
                .by_terminal
                .iter()
                .map(|row| {
                    let name = terminals
                        .iter()
                        .find(|t| t.id == row.key)
                        .map_or_else(|| row.key.clone(), |t| t.name.clone());
                    amount_row(row, name, row.sales)
                })
                .collect(),
            top_ups_by_tender: summary
                .top_ups_by_tender
                .iter()
                .map(|row| amount_row(row, row.key.clone(), row.quantity))
                .collect(),
            vouchers_credited: CountRow {
                count: summary.promo.vouchers_redeemed,
                amount: Cents(summary.promo.credited),
            },
            promo_spent: CountRow {
                count: 0,
                amount: Cents(summary.promo.spent),
            },
            ..SalesReport::default()
        })
    }

    /// The report: this till's ledger, or the whole event from the server.
    pub async fn report(&self, query: &view::ReportQuery) -> Result<view::Report, AppError> {
        if query.source == view::ReportSource::Till {
            return self.manager_report(query);
        }
        let (report, terminals) = self.event_sales_report(query).await?;
        self.report_view(query, &report, terminals)
    }

    pub async fn export(
        &self,
        query: &view::ReportQuery,
        format: view::ExportFormat,
        path: &std::path::Path,
    ) -> Result<view::Exported, AppError> {
        if query.source == view::ReportSource::Till {
            return self.export_report(query, format, path);
        }
        let (report, _) = self.event_sales_report(query).await?;
        self.write_export(&report, format, path)
    }

    /// A product saved on the server, then here.
    pub async fn save_product_on_server(
        &self,
        form: &view::ProductForm,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let session = self.require_server_session(Action::ManageCatalogue)?;
        let (product, new) = self.product_from_form_checked(form)?;
        let saved = session
            .save_product(&product, new)
            .await
            .map_err(server_error)?;
        self.ledger.upsert_product(&saved)?;
        if new && !saved.returnable {
            let mut layout = self.ledger.terminal()?.layout;
            if !layout.is_empty() && !layout.contains(&saved.id) {
                layout.push(saved.id.clone());
                // The product is saved: a grid that could not follow is no
                // reason to report failure (a second save would make it twice).
                if let Err(error) = self.save_layout_on_server(&session, layout).await {
                    tracing::warn!(product = %saved.id, ?error, "new product saved, not yet on this till's grid");
                }
            }
        }
        tracing::info!(product = %saved.id, "product saved on the server");
        self.catalogue_admin()
    }

    async fn save_layout_on_server(
        &self,
        session: &ManagerSession,
        layout: Vec<ProductId>,
    ) -> Result<(), AppError> {
        let mut terminal = self.ledger.terminal()?;
        session
            .update_terminal(
                terminal.id.as_str(),
                &TerminalUpdate {
                    friendly_name: terminal.friendly_name.clone(),
                    permission: terminal.permission,
                    layout: layout.iter().map(ToString::to_string).collect(),
                },
            )
            .await
            .map_err(server_error)?;
        terminal.layout = layout;
        self.ledger.upsert_terminal(&terminal)?;
        Ok(())
    }

    pub async fn move_in_layout_on_server(
        &self,
        product: &str,
        offset: i32,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let session = self.require_server_session(Action::ManageCatalogue)?;
        let layout = self.layout_moved(product, offset)?;
        self.save_layout_on_server(&session, layout).await?;
        self.catalogue_admin()
    }

    pub async fn save_category_on_server(
        &self,
        id: Option<&str>,
        name: &str,
        creation_key: Option<&str>,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let session = self.require_server_session(Action::ManageCatalogue)?;
        let category: Category = self.category_to_save(id, name, creation_key)?;
        let saved = session
            .save_category(&category)
            .await
            .map_err(server_error)?;
        self.ledger.upsert_category(&saved)?;
        self.catalogue_admin()
    }

    pub async fn move_category_on_server(
        &self,
        category: &str,
        offset: i32,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let session = self.require_server_session(Action::ManageCatalogue)?;
        let order = self.category_order_moved(category, offset)?;
        let saved = session
            .reorder_categories(order.iter().map(|c| c.to_string()).collect())
            .await
            .map_err(server_error)?;
        for category in &saved {
            self.ledger.upsert_category(category)?;
        }
        self.catalogue_admin()
    }

    pub async fn remove_category_on_server(
        &self,
        category: &str,
    ) -> Result<view::CatalogueAdmin, AppError> {
        let session = self.require_server_session(Action::ManageCatalogue)?;
        let id = CategoryId::new(category).map_err(|e| super::manage::invalid(e.to_string()))?;
        session
            .remove_category(id.as_str())
            .await
            .map_err(server_error)?;
        // The next catalogue pull settles it if this till still files a
        // product under it.
        if let Err(error) = self.ledger.remove_category(&id) {
            tracing::warn!(category, %error, "removed on the server, kept here for now");
        }
        self.catalogue_admin()
    }

    pub async fn set_staff_badge_on_server(
        &self,
        id: &str,
        badge: Option<&str>,
    ) -> Result<Vec<view::StaffMember>, AppError> {
        let session = self.require_server_session(Action::ManageStaff)?;
        let badge = self.tapped_badge(badge)?;
        session
            .set_staff_badge(id, badge.as_ref().map(|b| b.to_string()))
            .await
            .map_err(server_error)?;
        // At once on this till too; the next pull brings it to the others.
        let staff = StaffId::new(id).map_err(|e| super::manage::invalid(e.to_string()))?;
        if let Err(error) = self.ledger.set_staff_badge(&staff, badge.as_ref()) {
            tracing::warn!(staff = id, %error, "badge set on the server, not yet here");
        }
        self.staff_on_server().await
    }

    pub async fn staff_on_server(&self) -> Result<Vec<view::StaffMember>, AppError> {
        let session = self.require_server_session(Action::ManageStaff)?;
        let members = session.staff().await.map_err(server_error)?;
        Ok(members
            .into_iter()
            .map(|m| view::StaffMember {
                badge_masked: m.badge_masked,
                id: m.id,
                name: m.name,
                role: super::role(m.role),
                active: m.active,
            })
            .collect())
    }

    /// A staff member saved on the server (which hashes a new PIN); tills
    /// get the PIN's hash with the next catalogue pull.
    pub async fn save_staff_on_server(
        &self,
        form: &view::StaffForm,
    ) -> Result<Vec<view::StaffMember>, AppError> {
        let session = self.require_server_session(Action::ManageStaff)?;
        let id = staff_member_id(form)?;
        let pin = form.pin.as_deref().filter(|p| !p.is_empty());
        session
            .save_staff(&NewStaffMember {
                id: id.to_string(),
                name: form.name.trim().to_string(),
                role: role_in(form.role),
                pin: pin.map(str::to_string),
                active: form.active,
                create: form.id.as_deref().is_none_or(str::is_empty),
            })
            .await
            .map_err(server_error)?;
        // Name, role and whether they may log in count here at once.
        if let Some(mut known) = self
            .reader()
            .staff()?
            .into_iter()
            .find(|s: &Staff| s.id == id)
        {
            known.name = form.name.trim().to_string();
            known.role = role_in(form.role);
            known.active = form.active;
            let _ = self
                .ledger
                .update_staff(&known.id, &known.name, known.role, known.active);
        }
        self.refresh_session_staff()?;
        self.staff_on_server().await
    }

    pub async fn wallet_on_server(&self, token_id: &str) -> Result<view::Wallet, AppError> {
        let session = self.require_server_session(Action::ManageWallets)?;
        let local = self.wallet(token_id)?;
        let wallet = match session.wallet(&token(token_id)?.to_string()).await {
            Ok(wallet) => wallet,
            Err(ApiError::Refused { status: 404, .. }) => return Ok(local),
            Err(other) => return Err(server_error(other)),
        };
        Ok(view::Wallet {
            known: true,
            balance_cents: wallet.balance,
            recent: wallet
                .transactions
                .unwrap_or_default()
                .into_iter()
                .take(10)
                .map(|t| view::RecentEntry {
                    kind: if t.amount < 0 { "sale" } else { "top_up" }.into(),
                    amount_cents: t.amount,
                    at: t
                        .timestamp
                        .raw
                        .parse::<jiff::Timestamp>()
                        .map_or(0, |at| at.as_millisecond()),
                    summary: t.description.unwrap_or_default(),
                })
                .collect(),
            ..local
        })
    }

    pub async fn set_wallet_blocked_on_server(
        &self,
        token_id: &str,
        blocked: bool,
    ) -> Result<view::Wallet, AppError> {
        let session = self.require_server_session(Action::ManageWallets)?;
        let token = token(token_id)?;
        session
            .set_wallet_blocked(token.as_str(), blocked)
            .await
            .map_err(server_error)?;
        // Refused here at once, not only after the next feed.
        self.ledger.set_wallet_blocked(&token, blocked)?;
        tracing::info!(wristband = %token.masked(), blocked, "wristband block changed on the server");
        self.wallet_on_server(token_id).await
    }

    /// Moves the balance to a new wristband, which must be on the reader.
    pub async fn move_wallet_on_server(
        &self,
        from: &str,
        to: &str,
    ) -> Result<view::Wallet, AppError> {
        let session = self.require_server_session(Action::ManageWallets)?;
        let (old, new) = (token(from)?, token(to)?);
        if old == new {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "the new wristband is the same as the old one",
            ));
        }
        self.take_tap(&new)?;
        let moved = session
            .move_wallet(old.as_str(), new.as_str())
            .await
            .map_err(server_error)?;
        self.ledger.set_wallet_blocked(&old, true)?;
        tracing::info!(from = %old.masked(), to = %new.masked(), moved, "balance moved to a new wristband");
        self.wallet_on_server(to).await
    }

    pub async fn terminals_on_server(&self) -> Result<Vec<view::TerminalInfo>, AppError> {
        let session = self.require_server_session(Action::ViewReports)?;
        let terminals = session.terminals().await.map_err(server_error)?;
        let this = self.options.terminal.as_str();
        Ok(terminals
            .into_iter()
            .map(|t| view::TerminalInfo {
                this_till: t.id == this,
                id: t.id,
                name: t.friendly_name,
                permission: t.permission.as_str().to_string(),
                last_seen_ms: t.last_seen,
                version: t.app_version,
                pending: t.pending,
                archived: t.archived,
            })
            .collect())
    }

    /// This till's sync state plus the whole event's conflicts.
    pub async fn sync_overview_with_server(&self) -> Result<view::SyncOverview, AppError> {
        let mut overview = self.sync_overview()?;
        let Some(session) = self.server_session()? else {
            return Ok(overview);
        };
        let conflicts = match session.conflicts().await {
            Ok(conflicts) => conflicts,
            // Offline: this till's own figures are still worth showing.
            Err(error) if error.is_transient() => return Ok(overview),
            Err(error) => return Err(server_error(error)),
        };
        let ours = self.options.terminal.as_str();
        overview.rejected.extend(
            conflicts
                .rejected_entries
                .into_iter()
                .filter(|r| r.terminal_id != ours)
                .map(|r| view::RejectedLine {
                    terminal: r.terminal_id,
                    receipt_number: None,
                    kind: String::new(),
                    amount_cents: None,
                    reason: r.reason,
                    at_ms: r.at,
                }),
        );
        overview.overdrawn = conflicts
            .overdrawn_wallets
            .into_iter()
            .map(|w| view::OverdrawnLine {
                token_masked: tapster_ledger::TokenId::parse(&w.token_id)
                    .map_or_else(|_| "••••".into(), |t| t.masked()),
                balance_cents: w.balance,
            })
            .collect();
        overview.from_server = true;
        Ok(overview)
    }

    /// Receipt texts and offline limits on the server, then here.
    pub async fn save_event_settings_on_server(
        &self,
        form: &view::SettingsForm,
    ) -> Result<(), AppError> {
        let session = self.require_server_session(Action::ChangeSettings)?;
        let mut settings = session.settings().await.map_err(server_error)?;
        apply_event_settings(&mut settings, form);
        let saved = session
            .update_settings(&settings)
            .await
            .map_err(server_error)?;
        let mut local = self.reader().settings()?;
        local.receipt_header = saved.receipt_header;
        local.receipt_footer = saved.receipt_footer;
        local.offline = saved.offline;
        local.band_policy = saved.band_policy;
        self.ledger.update_settings(&local)?;
        Ok(())
    }
}

impl Terminal {
    /// Settings on a connected till: the event's part on the server.
    pub async fn save_settings_on_server(
        &self,
        form: &view::SettingsForm,
    ) -> Result<view::SettingsSaved, AppError> {
        self.manager(Action::ChangeSettings)?;
        self.check_device_settings(form)?;
        if self.event_settings_changed(form)? {
            self.save_event_settings_on_server(form).await?;
        }
        self.write_device_settings(form)
    }
}
