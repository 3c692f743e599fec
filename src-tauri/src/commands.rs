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
    blocking(&terminal, move |t| t.login(&pin)).await
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
) -> Result<view::Quote, AppError> {
    blocking(&terminal, move |t| t.quote(&items)).await
}

#[tauri::command]
pub async fn pay(
    terminal: Term<'_>,
    items: Vec<view::CartItem>,
    tender: view::Tender,
    token: Option<String>,
    key: String,
    expected_total_cents: i64,
) -> Result<view::Done, AppError> {
    terminal
        .pay(
            &items,
            tender,
            token.as_deref(),
            &key,
            Some(expected_total_cents),
        )
        .await
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

fn server(fields: view::ServerFields) -> crate::config::ServerSettings {
    crate::config::ServerSettings {
        url: fields.url.trim().trim_end_matches('/').to_string(),
        event: fields.event.trim().to_string(),
        token: fields.token.trim().to_string(),
    }
}

/// The fields of a pasted setup code.
#[tauri::command]
pub async fn read_setup_code(code: String) -> Result<view::ServerFields, AppError> {
    let settings = crate::setup::parse_setup_code(&code)?;
    Ok(view::ServerFields {
        url: settings.url,
        event: settings.event,
        token: settings.token,
    })
}

/// Tests a connection: which terminal the token belongs to.
#[tauri::command]
pub async fn check_server(fields: view::ServerFields) -> Result<view::ServerCheck, AppError> {
    crate::setup::check_server(&server(fields)).await
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
    let settings = server(fields);
    let check = crate::setup::check_server(&settings).await?;
    crate::setup::save_connection(terminal.config_dir(), &settings, &check)?;
    app.restart()
}
