//! The Tauri commands: parse, call the terminal, return its value or error.

use std::sync::Arc;

use tauri::{Manager, State};

use crate::error::{AppError, ErrorCode};
use crate::terminal::Terminal;
use crate::view;

type Term<'a> = State<'a, Arc<Terminal>>;

/// Runs `work` on the blocking pool: SQLite commits and Argon2 PIN checks
/// must not hold up the async workers (sync, events) or the window.
async fn blocking<T: Send + 'static>(
    terminal: &Term<'_>,
    work: impl FnOnce(&Terminal) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let terminal = Arc::clone(terminal.inner());
    tauri::async_runtime::spawn_blocking(move || work(&terminal))
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?
}

#[tauri::command]
pub async fn session(terminal: Term<'_>) -> Result<view::Session, AppError> {
    blocking(&terminal, |t| t.session()).await
}

#[tauri::command]
pub async fn login(terminal: Term<'_>, pin: String) -> Result<view::Session, AppError> {
    let session = {
        let pin = pin.clone();
        blocking(&terminal, move |t| t.login(&pin)).await?
    };
    // A supervisor or manager on a connected till also gets a session on
    // the server's manager API, in the background: the till never waits
    // for the network to let someone in.
    let terminal = Arc::clone(terminal.inner());
    tauri::async_runtime::spawn(async move {
        let _ = terminal.open_server_session(&pin).await;
    });
    Ok(session)
}

#[tauri::command]
pub async fn login_with_badge(
    terminal: Term<'_>,
    token: String,
) -> Result<view::Session, AppError> {
    blocking(&terminal, move |t| t.login_with_badge(&token)).await
}

#[tauri::command]
pub async fn lock(terminal: Term<'_>) -> Result<view::Session, AppError> {
    blocking(&terminal, |t| t.lock()).await
}

#[tauri::command]
pub async fn open_shift(
    terminal: Term<'_>,
    float_cents: i64,
    key: String,
) -> Result<view::Session, AppError> {
    blocking(&terminal, move |t| t.open_shift(float_cents, &key)).await
}

#[tauri::command]
pub async fn close_shift(
    terminal: Term<'_>,
    counted_cents: i64,
    key: String,
) -> Result<view::ShiftClosed, AppError> {
    blocking(&terminal, move |t| t.close_shift(counted_cents, &key)).await
}

#[tauri::command]
pub async fn catalog(terminal: Term<'_>) -> Result<view::Catalog, AppError> {
    blocking(&terminal, |t| t.catalog()).await
}

#[tauri::command]
pub async fn quote(
    terminal: Term<'_>,
    items: Vec<view::CartItem>,
    pass: Option<String>,
    tip: Option<view::TipChoice>,
) -> Result<view::Quote, AppError> {
    blocking(&terminal, move |t| {
        t.quote_order(&items, pass.as_deref(), tip)
    })
    .await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn pay(
    terminal: Term<'_>,
    items: Vec<view::CartItem>,
    tender: view::Tender,
    token: Option<String>,
    key: String,
    expected_total_cents: i64,
    pass: Option<String>,
    tip: Option<view::TipChoice>,
) -> Result<view::Done, AppError> {
    terminal
        .pay_order(
            &items,
            tip,
            tender,
            token.as_deref(),
            &key,
            Some(expected_total_cents),
            pass.as_deref(),
        )
        .await
}

#[tauri::command]
pub async fn open_bill(
    terminal: Term<'_>,
    items: Vec<view::CartItem>,
    tip: Option<view::TipChoice>,
    pass: Option<String>,
    key: String,
) -> Result<view::BillView, AppError> {
    blocking(&terminal, move |t| {
        t.open_bill(&items, tip, pass.as_deref(), &key)
    })
    .await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn pay_bill(
    terminal: Term<'_>,
    bill: String,
    tender: view::Tender,
    token: Option<String>,
    offered_cents: Option<i64>,
    reference: Option<String>,
    key: String,
) -> Result<view::BillStep, AppError> {
    terminal
        .pay_bill(
            &bill,
            tender,
            token.as_deref(),
            offered_cents,
            reference.as_deref(),
            &key,
        )
        .await
}

#[tauri::command]
pub async fn cancel_bill(
    terminal: Term<'_>,
    bill: String,
    key: String,
) -> Result<view::BillView, AppError> {
    blocking(&terminal, move |t| t.cancel_bill(&bill, &key)).await
}

#[tauri::command]
pub async fn resume_bill(terminal: Term<'_>) -> Result<Option<view::BillView>, AppError> {
    blocking(&terminal, move |t| t.resume_bill()).await
}

#[tauri::command]
pub async fn top_up(
    terminal: Term<'_>,
    token: String,
    amount_cents: i64,
    tender: view::Tender,
    key: String,
) -> Result<view::Done, AppError> {
    blocking(&terminal, move |t| {
        t.top_up(&token, amount_cents, tender, &key)
    })
    .await
}

#[tauri::command]
pub async fn return_deposit(
    terminal: Term<'_>,
    token: Option<String>,
    quantity: i64,
    tender: view::Tender,
    key: String,
) -> Result<view::Done, AppError> {
    blocking(&terminal, move |t| {
        t.return_deposit(token.as_deref(), quantity, tender, &key)
    })
    .await
}

#[tauri::command]
pub async fn cancel_last(terminal: Term<'_>, key: String) -> Result<view::Done, AppError> {
    blocking(&terminal, move |t| t.cancel_last(&key)).await
}

#[tauri::command]
pub async fn wallet(terminal: Term<'_>, token: String) -> Result<view::Wallet, AppError> {
    blocking(&terminal, move |t| t.wallet(&token)).await
}

#[tauri::command]
pub async fn reprint_last(terminal: Term<'_>) -> Result<view::Receipt, AppError> {
    blocking(&terminal, |t| t.reprint_last()).await
}

#[tauri::command]
pub async fn open_drawer(terminal: Term<'_>) -> Result<(), AppError> {
    blocking(&terminal, |t| t.open_drawer()).await
}

#[tauri::command]
pub async fn simulate_tap(terminal: Term<'_>, token: String) -> Result<(), AppError> {
    terminal.simulate_tap(&token)
}

#[tauri::command]
pub async fn status(terminal: Term<'_>) -> Result<view::Status, AppError> {
    Ok(terminal.status())
}

/// A touch on the screen, so the session does not lock while someone works.
#[tauri::command]
pub async fn touch(terminal: Term<'_>) -> Result<(), AppError> {
    terminal.touch();
    Ok(())
}

/// Closes the app; in kiosk mode only with a manager's PIN.
#[tauri::command]
pub async fn exit_app(
    app: tauri::AppHandle,
    terminal: Term<'_>,
    pin: String,
) -> Result<(), AppError> {
    blocking(&terminal, move |t| t.authorise_exit(&pin)).await?;
    if let Some(allowed) = app.try_state::<crate::ExitAllowed>() {
        allowed.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    app.exit(0);
    Ok(())
}

fn server(fields: view::ServerFields) -> Result<crate::config::ServerSettings, AppError> {
    Ok(crate::config::ServerSettings {
        url: fields.url.trim().trim_end_matches('/').to_string(),
        event: fields.event.trim().to_string(),
        token: fields.token.trim().to_string(),
        fingerprint: crate::setup::parse_fingerprint(&fields.fingerprint)?,
        next_fingerprint: None,
    })
}

/// First start: an event of this till's own, with its first manager.
#[tauri::command]
pub async fn setup_standalone(
    terminal: Term<'_>,
    event_name: String,
    manager_name: String,
    pin: String,
) -> Result<view::Session, AppError> {
    blocking(&terminal, move |t| {
        t.setup_standalone(&event_name, &manager_name, &pin)
    })
    .await
}

/// The fields of a pasted setup code.
#[tauri::command]
pub async fn read_setup_code(code: String) -> Result<view::ServerFields, AppError> {
    let settings = crate::setup::parse_setup_code(&code)?;
    Ok(view::ServerFields {
        url: settings.url,
        event: settings.event,
        token: settings.token,
        fingerprint: settings
            .fingerprint
            .map(|f| f.to_string())
            .unwrap_or_default(),
    })
}

/// Tests a connection: which terminal the token belongs to.
#[tauri::command]
pub async fn check_server(fields: view::ServerFields) -> Result<view::ServerCheck, AppError> {
    crate::setup::check_server(&server(fields)?).await
}

/// Tests and keeps the connection, then restarts the app connected. Only
/// on a till that was never set up.
#[tauri::command]
pub async fn save_server(
    app: tauri::AppHandle,
    terminal: Term<'_>,
    fields: view::ServerFields,
) -> Result<(), AppError> {
    if !terminal.needs_setup()? {
        return Err(AppError::new(
            ErrorCode::RoleNotPermitted,
            "this till is already set up",
        ));
    }
    let settings = server(fields)?;
    let check = crate::setup::check_server(&settings).await?;
    crate::setup::save_connection(terminal.config_dir(), &settings, &check)?;
    app.restart()
}

// ---- Manager screens: each checks the logged-in role in the terminal. A
// connected till's edits go to the server (through the manager's staff
// session), a standalone till's to its ledger.

#[tauri::command]
pub async fn manager_report(
    terminal: Term<'_>,
    query: view::ReportQuery,
) -> Result<view::Report, AppError> {
    terminal.report(&query).await
}

#[tauri::command]
pub async fn export_report(
    terminal: Term<'_>,
    query: view::ReportQuery,
    format: view::ExportFormat,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .export(&query, format, std::path::Path::new(&path))
        .await
}

#[tauri::command]
pub async fn catalogue_admin(terminal: Term<'_>) -> Result<view::CatalogueAdmin, AppError> {
    blocking(&terminal, |t| t.catalogue_admin()).await
}

#[tauri::command]
pub async fn save_product(
    terminal: Term<'_>,
    form: view::ProductForm,
) -> Result<view::CatalogueAdmin, AppError> {
    if terminal.is_connected() {
        return terminal.save_product_on_server(&form).await;
    }
    blocking(&terminal, move |t| t.save_product(&form)).await
}

#[tauri::command]
pub async fn save_category(
    terminal: Term<'_>,
    id: Option<String>,
    name: String,
    creation_key: Option<String>,
) -> Result<view::CatalogueAdmin, AppError> {
    if terminal.is_connected() {
        return terminal
            .save_category_on_server(id.as_deref(), &name, creation_key.as_deref())
            .await;
    }
    blocking(&terminal, move |t| {
        t.save_category(id.as_deref(), &name, creation_key.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn move_category(
    terminal: Term<'_>,
    category: String,
    offset: i32,
) -> Result<view::CatalogueAdmin, AppError> {
    if terminal.is_connected() {
        return terminal.move_category_on_server(&category, offset).await;
    }
    blocking(&terminal, move |t| t.move_category(&category, offset)).await
}

#[tauri::command]
pub async fn remove_category(
    terminal: Term<'_>,
    category: String,
) -> Result<view::CatalogueAdmin, AppError> {
    if terminal.is_connected() {
        return terminal.remove_category_on_server(&category).await;
    }
    blocking(&terminal, move |t| t.remove_category(&category)).await
}

#[tauri::command]
pub async fn set_staff_badge(
    terminal: Term<'_>,
    id: String,
    badge: Option<String>,
) -> Result<Vec<view::StaffMember>, AppError> {
    if terminal.is_connected() {
        return terminal
            .set_staff_badge_on_server(&id, badge.as_deref())
            .await;
    }
    blocking(&terminal, move |t| t.set_staff_badge(&id, badge.as_deref())).await
}

#[tauri::command]
pub async fn move_in_layout(
    terminal: Term<'_>,
    product: String,
    offset: i32,
) -> Result<view::CatalogueAdmin, AppError> {
    if terminal.is_connected() {
        return terminal.move_in_layout_on_server(&product, offset).await;
    }
    blocking(&terminal, move |t| t.move_in_layout(&product, offset)).await
}

#[tauri::command]
pub async fn staff_list(terminal: Term<'_>) -> Result<Vec<view::StaffMember>, AppError> {
    if terminal.is_connected() {
        return terminal.staff_on_server().await;
    }
    blocking(&terminal, |t| t.staff_list()).await
}

#[tauri::command]
pub async fn save_staff(
    terminal: Term<'_>,
    form: view::StaffForm,
) -> Result<Vec<view::StaffMember>, AppError> {
    if terminal.is_connected() {
        return terminal.save_staff_on_server(&form).await;
    }
    blocking(&terminal, move |t| t.save_staff(&form)).await
}

#[tauri::command]
pub async fn manage_wallet(terminal: Term<'_>, token: String) -> Result<view::Wallet, AppError> {
    if terminal.is_connected() {
        return terminal.wallet_on_server(&token).await;
    }
    blocking(&terminal, move |t| t.manage_wallet(&token)).await
}

#[tauri::command]
pub async fn set_wallet_blocked(
    terminal: Term<'_>,
    token: String,
    blocked: bool,
) -> Result<view::Wallet, AppError> {
    if terminal.is_connected() {
        return terminal.set_wallet_blocked_on_server(&token, blocked).await;
    }
    blocking(&terminal, move |t| t.set_wallet_blocked(&token, blocked)).await
}

#[tauri::command]
pub async fn payout_wallet(
    terminal: Term<'_>,
    token: String,
    tender: view::Tender,
    key: String,
) -> Result<view::Done, AppError> {
    terminal.payout_wallet(&token, tender, &key).await
}

#[tauri::command]
pub async fn move_wallet(
    terminal: Term<'_>,
    from: String,
    to: String,
) -> Result<view::Wallet, AppError> {
    if terminal.is_connected() {
        return terminal.move_wallet_on_server(&from, &to).await;
    }
    blocking(&terminal, move |t| t.move_wallet(&from, &to)).await
}

#[tauri::command]
pub async fn terminals(terminal: Term<'_>) -> Result<Vec<view::TerminalInfo>, AppError> {
    if terminal.is_connected() {
        return terminal.terminals_on_server().await;
    }
    blocking(&terminal, |t| t.terminals()).await
}

#[tauri::command]
pub async fn sync_overview(terminal: Term<'_>) -> Result<view::SyncOverview, AppError> {
    terminal.sync_overview_with_server().await
}

#[tauri::command]
pub async fn scanned_line(terminal: Term<'_>, line: String) -> Result<view::ScannedLine, AppError> {
    terminal.scanned_line(&line)
}

#[tauri::command]
pub async fn scan_pass(terminal: Term<'_>, code: String) -> Result<view::ScannedPass, AppError> {
    terminal.scan_pass(&code).await
}

#[tauri::command]
pub async fn redeem_voucher(
    terminal: Term<'_>,
    code: String,
    token: String,
    key: String,
) -> Result<view::VoucherCredited, AppError> {
    terminal.redeem_voucher(&code, &token, &key).await
}

#[tauri::command]
pub async fn passes(terminal: Term<'_>) -> Result<view::PassesView, AppError> {
    terminal.passes_on_server().await
}

#[tauri::command]
pub async fn create_passes(
    terminal: Term<'_>,
    form: view::PassBatchForm,
    key: String,
) -> Result<view::PassesView, AppError> {
    terminal.create_passes_on_server(&form, &key).await
}

#[tauri::command]
pub async fn import_passes(
    terminal: Term<'_>,
    form: view::PassBatchForm,
    csv: String,
) -> Result<view::PassesView, AppError> {
    terminal.import_passes_on_server(&form, &csv).await
}

#[tauri::command]
pub async fn set_pass_blocked(
    terminal: Term<'_>,
    code: String,
    blocked: bool,
) -> Result<view::PassesView, AppError> {
    terminal.set_pass_blocked_on_server(&code, blocked).await
}

#[tauri::command]
pub async fn save_pass_sheet(
    terminal: Term<'_>,
    batch: String,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .save_pass_sheet(&batch, std::path::Path::new(&path))
        .await
}

/// The cashier confirmed a notice (an interrupted sale settled).
#[tauri::command]
pub fn dismiss_notice(terminal: Term<'_>, id: String) -> view::Status {
    terminal.dismiss_notice(&id)
}

/// Why the till refused to start, if it did: the window shows it instead
/// of the login (no other command works then).
#[tauri::command]
pub fn startup_failure(
    failure: tauri::State<'_, crate::StartupRefused>,
) -> Option<view::StartupFailure> {
    failure.0.clone()
}

#[tauri::command]
pub async fn audit_trail(
    terminal: Term<'_>,
    form: view::AuditForm,
) -> Result<view::AuditView, AppError> {
    terminal.audit_trail(&form).await
}

#[tauri::command]
pub async fn save_audit_csv(
    terminal: Term<'_>,
    form: view::AuditForm,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .save_audit_csv(&form, std::path::Path::new(&path))
        .await
}

#[tauri::command]
pub async fn fiscal(terminal: Term<'_>) -> Result<view::FiscalView, AppError> {
    terminal.fiscal_on_server().await
}

#[tauri::command]
pub async fn save_fiscal(
    terminal: Term<'_>,
    form: view::FiscalForm,
) -> Result<view::FiscalView, AppError> {
    terminal.save_fiscal_on_server(&form).await
}

#[tauri::command]
pub async fn save_dsfinvk(
    terminal: Term<'_>,
    from: String,
    to: String,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .save_dsfinvk(&from, &to, std::path::Path::new(&path))
        .await
}

#[tauri::command]
pub async fn payouts(terminal: Term<'_>) -> Result<view::PayoutsView, AppError> {
    terminal.payouts_on_server().await
}

#[tauri::command]
pub async fn save_payout_settings(
    terminal: Term<'_>,
    form: view::PayoutSettingsForm,
) -> Result<view::PayoutsView, AppError> {
    terminal.save_payout_settings_on_server(&form).await
}

#[tauri::command]
pub async fn create_payout_run(
    terminal: Term<'_>,
    form: view::NewPayoutRunForm,
) -> Result<view::PayoutsView, AppError> {
    terminal.create_payout_run_on_server(&form).await
}

#[tauri::command]
pub async fn end_payout_run(
    terminal: Term<'_>,
    run: String,
    done: bool,
) -> Result<view::PayoutsView, AppError> {
    terminal.end_payout_run_on_server(&run, done).await
}

#[tauri::command]
pub async fn save_guest_codes(
    terminal: Term<'_>,
    tokens: String,
    portal_url: String,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .save_guest_codes(&tokens, &portal_url, std::path::Path::new(&path))
        .await
}

#[tauri::command]
pub async fn settle_unclaimed(terminal: Term<'_>) -> Result<view::PayoutsView, AppError> {
    terminal.settle_unclaimed_on_server().await
}

#[tauri::command]
pub async fn save_payout_run_file(
    terminal: Term<'_>,
    run: String,
    format: view::ExportFormat,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .save_payout_run_file(&run, format, std::path::Path::new(&path))
        .await
}

#[tauri::command]
pub async fn stock(terminal: Term<'_>) -> Result<view::StockView, AppError> {
    terminal.stock_on_server().await
}

#[tauri::command]
pub async fn book_stock_movement(
    terminal: Term<'_>,
    form: view::MovementForm,
) -> Result<view::StockView, AppError> {
    terminal.book_stock_movement(&form).await
}

#[tauri::command]
pub async fn record_stock_count(
    terminal: Term<'_>,
    form: view::CountForm,
) -> Result<view::StockView, AppError> {
    terminal.record_stock_count(&form).await
}

#[tauri::command]
pub async fn set_sold_out(
    terminal: Term<'_>,
    location: String,
    product: String,
    sold_out: bool,
) -> Result<view::StockView, AppError> {
    terminal
        .set_sold_out_on_server(&location, &product, sold_out)
        .await
}

#[tauri::command]
pub async fn save_inventory_item(
    terminal: Term<'_>,
    form: view::InventoryItemForm,
) -> Result<view::StockView, AppError> {
    terminal.save_inventory_item(&form).await
}

#[tauri::command]
pub async fn save_vendor(
    terminal: Term<'_>,
    form: view::VendorForm,
) -> Result<view::StockView, AppError> {
    terminal.save_vendor(&form).await
}

#[tauri::command]
pub async fn save_settlement(
    terminal: Term<'_>,
    vendor: String,
    from_ms: Option<i64>,
    until_ms: Option<i64>,
    format: view::ExportFormat,
    path: String,
) -> Result<view::Exported, AppError> {
    terminal
        .save_settlement(
            &vendor,
            from_ms,
            until_ms,
            format,
            std::path::Path::new(&path),
        )
        .await
}

#[tauri::command]
pub async fn encoding_station(terminal: Term<'_>) -> Result<view::EncodingStation, AppError> {
    blocking(&terminal, |t| t.encoding_station()).await
}

#[tauri::command]
pub async fn start_encoding(
    terminal: Term<'_>,
    link: Option<String>,
) -> Result<view::EncodingStation, AppError> {
    blocking(&terminal, move |t| t.start_encoding(link.as_deref())).await
}

#[tauri::command]
pub async fn stop_encoding(terminal: Term<'_>) -> Result<view::EncodingStation, AppError> {
    blocking(&terminal, |t| Ok(t.stop_encoding())).await
}

#[tauri::command]
pub async fn settings(terminal: Term<'_>) -> Result<view::SettingsView, AppError> {
    blocking(&terminal, |t| t.settings()).await
}

#[tauri::command]
pub async fn save_settings(
    terminal: Term<'_>,
    form: view::SettingsForm,
) -> Result<view::SettingsSaved, AppError> {
    if terminal.is_connected() {
        return terminal.save_settings_on_server(&form).await;
    }
    blocking(&terminal, move |t| t.save_settings(&form)).await
}

#[tauri::command]
pub async fn test_print(
    terminal: Term<'_>,
    printer: String,
    paper_mm: u32,
) -> Result<(), AppError> {
    blocking(&terminal, move |t| t.test_print(&printer, paper_mm)).await
}

#[tauri::command]
pub async fn test_drawer(terminal: Term<'_>, printer: String) -> Result<(), AppError> {
    blocking(&terminal, move |t| t.test_drawer(&printer)).await
}

/// Restarts the app (settings that apply at start), for a manager.
#[tauri::command]
pub async fn restart_app(app: tauri::AppHandle, terminal: Term<'_>) -> Result<(), AppError> {
    blocking(&terminal, |t| t.settings().map(|_| ())).await?;
    app.restart()
}
