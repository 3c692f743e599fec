//! The Tauri commands: parse, call the terminal, return its value or error.

use std::sync::Arc;

use tauri::State;

use crate::error::AppError;
use crate::terminal::Terminal;
use crate::view;

type Term<'a> = State<'a, Arc<Terminal>>;

#[tauri::command]
pub async fn session(terminal: Term<'_>) -> Result<view::Session, AppError> {
    terminal.session()
}

#[tauri::command]
pub async fn login(terminal: Term<'_>, pin: String) -> Result<view::Session, AppError> {
    terminal.login(&pin)
}

#[tauri::command]
pub async fn login_with_badge(
    terminal: Term<'_>,
    token: String,
) -> Result<view::Session, AppError> {
    terminal.login_with_badge(&token)
}

#[tauri::command]
pub async fn lock(terminal: Term<'_>) -> Result<view::Session, AppError> {
    terminal.lock()
}

#[tauri::command]
pub async fn open_shift(terminal: Term<'_>, float_cents: i64) -> Result<view::Session, AppError> {
    terminal.open_shift(float_cents)
}

#[tauri::command]
pub async fn close_shift(
    terminal: Term<'_>,
    counted_cents: i64,
) -> Result<view::ShiftClosed, AppError> {
    terminal.close_shift(counted_cents)
}

#[tauri::command]
pub async fn catalog(terminal: Term<'_>) -> Result<view::Catalog, AppError> {
    terminal.catalog()
}

#[tauri::command]
pub async fn quote(
    terminal: Term<'_>,
    items: Vec<view::CartItem>,
) -> Result<view::Quote, AppError> {
    terminal.quote(&items)
}

#[tauri::command]
pub async fn pay(
    terminal: Term<'_>,
    items: Vec<view::CartItem>,
    tender: view::Tender,
    token: Option<String>,
    key: String,
) -> Result<view::Done, AppError> {
    terminal.pay(&items, tender, token.as_deref(), &key).await
}

#[tauri::command]
pub async fn top_up(
    terminal: Term<'_>,
    token: String,
    amount_cents: i64,
    tender: view::Tender,
    key: String,
) -> Result<view::Done, AppError> {
    terminal.top_up(&token, amount_cents, tender, &key)
}

#[tauri::command]
pub async fn return_deposit(
    terminal: Term<'_>,
    token: Option<String>,
    quantity: i64,
    tender: view::Tender,
    key: String,
) -> Result<view::Done, AppError> {
    terminal.return_deposit(token.as_deref(), quantity, tender, &key)
}

#[tauri::command]
pub async fn cancel_last(terminal: Term<'_>, key: String) -> Result<view::Done, AppError> {
    terminal.cancel_last(&key)
}

#[tauri::command]
pub async fn wallet(terminal: Term<'_>, token: String) -> Result<view::Wallet, AppError> {
    terminal.wallet(&token)
}

#[tauri::command]
pub async fn reprint_last(terminal: Term<'_>) -> Result<view::Receipt, AppError> {
    terminal.reprint_last()
}

#[tauri::command]
pub async fn open_drawer(terminal: Term<'_>) -> Result<(), AppError> {
    terminal.open_drawer()
}

#[tauri::command]
pub async fn simulate_tap(terminal: Term<'_>, token: String) -> Result<(), AppError> {
    terminal.simulate_tap(&token)
}

#[tauri::command]
pub async fn status(terminal: Term<'_>) -> Result<view::Status, AppError> {
    Ok(terminal.status())
}
