//! # tapster-app
//!
//! The desktop app: thin Tauri commands over [`terminal::Terminal`], which
//! runs the ledger, reader, printer and sync crates.
//!
//! - [`config`]: command line and environment → [`terminal::Options`].
//! - [`terminal`]: every command as a method, testable without a window.
//! - [`commands`]: the Tauri commands (parse, call, map the error).
//! - [`view`]: the values the UI sends and receives.
//! - [`error`]: `{code, message, retryable}` with a closed set of codes.
//! - [`setup`]: first start: connecting a till to a server.
//! - [`bindings`]: the TypeScript declarations generated from [`view`].

pub mod band_keys;
pub mod bindings;
pub mod commands;
pub mod config;
pub mod error;
pub mod setup;
pub mod terminal;
pub mod view;

use std::sync::Arc;

use tauri::{Emitter, Manager};

use crate::config::Config;
use crate::terminal::{AppEvent, Terminal};

/// Set once a manager's PIN allowed the app to close (kiosk mode).
pub struct ExitAllowed(pub std::sync::atomic::AtomicBool);

/// Why this till refused to start (none when it started).
pub struct StartupRefused(pub Option<view::StartupFailure>);

/// Keeps the background sync running for as long as the app does.
pub struct SyncTask(#[allow(dead_code)] tapster_sync::SyncHandle);

/// WebKit as a till needs it, each setting worth tens of MiB
/// (BENCHMARKS.md, issue 24): no GPU compositing (a till's page is flat;
/// compositing costs the web process ~120 MiB) and JavaScript without its
/// JIT compilers (~30 MiB of compiled code and its heap; the page's
/// scripts are small, and a sale still paints within its frames). Set
/// before any thread starts: WebKit's processes read them when they
/// start. Either, set explicitly (`WEBKIT_DISABLE_COMPOSITING_MODE=0`,
/// `JSC_useJIT=true`), is kept.
pub fn prepare_webkit() {
    #[cfg(target_os = "linux")]
    for (name, value) in [
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
        ("JSC_useJIT", "false"),
    ] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

/// glibc's malloc settings for a till, read only when a process starts.
/// Allocations from 64 KiB up (a PIN check's 7 MiB Argon2 buffer) are
/// mapped on their own and go back to the system when freed, instead of
/// raising glibc's threshold and staying in the heap; free memory at the
/// heap's top is given back from 128 KiB. ~8 MiB less after logins.
pub const MALLOC_TUNABLES: &str =
    "glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=131072";

/// Starts the app again with [`MALLOC_TUNABLES`], unless glibc's tunables
/// are set already (by this or by whoever started the app). Called first
/// in `main`, before anything is opened; if the new start fails, the app
/// runs on with glibc's defaults.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("GLIBC_TUNABLES").is_some() {
            return;
        }
        let Ok(executable) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let name = args.next().unwrap_or_else(|| executable.clone().into());
        let error = std::process::Command::new(&executable)
            .arg0(name)
            .args(args)
            .env("GLIBC_TUNABLES", MALLOC_TUNABLES)
            .exec();
        eprintln!("tapster: running with glibc's malloc defaults ({error})");
    }
}

/// A till shows one small page all night: no page cache and the smallest
/// memory cache (compositing is off too: [`prepare_webkit`]).
fn lean_webview(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    {
        let result = window.with_webview(|webview| {
            use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
            let view = webview.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_enable_page_cache(false);
            }
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        });
        if let Err(error) = result {
            tracing::warn!(%error, "webview settings not applied");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// The second window, facing the guest: full screen on the second monitor
/// when there is one, a window of its own otherwise.
fn open_customer_display(app: &tauri::App) -> tauri::Result<()> {
    let window = tauri::WebviewWindowBuilder::new(
        app,
        "customer",
        tauri::WebviewUrl::App("index.html#customer".into()),
    )
    .title("Tapster")
    .inner_size(800.0, 600.0)
    .build()?;
    let monitors = app.available_monitors()?;
    if let Some(second) = monitors.get(1) {
        window.set_position(*second.position())?;
        window.set_size(*second.size())?;
        window.set_decorations(false)?;
        window.set_fullscreen(true)?;
    }
    Ok(())
}

/// Starts the app; returns when its window is closed.
pub fn run(config: Config) -> anyhow::Result<()> {
    let _lock = config::lock_data_dir(&config.options.data_dir)?;
    let _logs = config::init_logging(&config.options.data_dir);
    tracing::info!(
        data_dir = %config.options.data_dir.display(),
        demo = config.options.demo,
        printer = ?config.options.printer.as_ref().map(|p| p.to_string()),
        "starting Tapster"
    );
    let kiosk = config.options.kiosk;
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(ExitAllowed(std::sync::atomic::AtomicBool::new(false)))
        .on_window_event(move |window, event| {
            // In kiosk mode the window does not close (Alt+F4, the window
            // manager) unless a manager's PIN allowed it.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let allowed = window
                    .try_state::<ExitAllowed>()
                    .is_some_and(|a| a.0.load(std::sync::atomic::Ordering::SeqCst));
                if kiosk && !allowed {
                    api.prevent_close();
                }
            }
        })
        .setup(move |app| {
            let handle = app.handle().clone();
            let emit: terminal::Emitter = Arc::new(move |event| {
                let result = match event {
                    AppEvent::Tap(tap) => handle.emit("tap", tap),
                    AppEvent::Status(status) => handle.emit("status", status),
                    AppEvent::Encoding(station) => handle.emit("encoding", station),
                };
                if let Err(error) = result {
                    tracing::warn!(%error, "event not delivered to the window");
                }
            });
            let mut terminal = match Terminal::start(config.options.clone(), emit) {
                Ok(terminal) => terminal,
                // The window opens and says why, with what to do; nothing
                // else runs (no sale, no sync from a broken ledger).
                Err(error) => match error.downcast::<terminal::LedgerTampered>() {
                    Ok(tampered) => {
                        app.manage(StartupRefused(Some(tampered.view())));
                        // Nothing runs that a manager's PIN could end:
                        // the window closes as any other (kiosk or not).
                        app.state::<ExitAllowed>()
                            .0
                            .store(true, std::sync::atomic::Ordering::SeqCst);
                        return Ok(());
                    }
                    Err(error) => return Err(error.into()),
                },
            };
            app.manage(StartupRefused(None));
            terminal.pin_settings(config.pinned.clone());
            if let Some(server) = &config.server {
                let syncer = config::syncer(
                    server,
                    &config.options.config_dir,
                    terminal.ledger().clone(),
                )?;
                if server.is_encrypted() {
                    tauri::async_runtime::spawn(band_keys::keep(
                        syncer.client().clone(),
                        config.options.config_dir.clone(),
                        terminal.band_keys(),
                    ));
                }
                let handle = tauri::async_runtime::block_on(async {
                    let handle =
                        tapster_sync::start(syncer.clone(), Arc::new(tapster_ledger::SystemClock));
                    terminal.connect(syncer, handle.status.clone(), !server.is_encrypted());
                    handle
                });
                app.manage(SyncTask(handle));
            }
            app.manage(Arc::new(terminal));
            if config.customer_display {
                open_customer_display(app)?;
            }
            if let Some(window) = app.get_webview_window("main") {
                lean_webview(&window);
                if kiosk {
                    window.set_decorations(false)?;
                    // Fullscreen is the window manager's job; on a bare X
                    // server (no window manager) the window is also sized to
                    // cover the whole monitor itself.
                    if let Some(monitor) = window.current_monitor()? {
                        window.set_position(tauri::PhysicalPosition::new(0, 0))?;
                        window.set_size(*monitor.size())?;
                    }
                    window.set_fullscreen(true)?;
                }
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::login,
            commands::login_with_badge,
            commands::encoding_station,
            commands::passes,
            commands::startup_failure,
            commands::dismiss_notice,
            commands::audit_trail,
            commands::save_audit_csv,
            commands::fiscal,
            commands::save_fiscal,
            commands::save_dsfinvk,
            commands::payouts,
            commands::save_payout_settings,
            commands::create_payout_run,
            commands::end_payout_run,
            commands::save_payout_run_file,
            commands::settle_unclaimed,
            commands::save_guest_codes,
            commands::create_passes,
            commands::import_passes,
            commands::set_pass_blocked,
            commands::save_pass_sheet,
            commands::stock,
            commands::book_stock_movement,
            commands::record_stock_count,
            commands::set_sold_out,
            commands::save_inventory_item,
            commands::save_vendor,
            commands::save_settlement,
            commands::start_encoding,
            commands::stop_encoding,
            commands::lock,
            commands::open_shift,
            commands::close_shift,
            commands::catalog,
            commands::quote,
            commands::pay,
            commands::top_up,
            commands::return_deposit,
            commands::cancel_last,
            commands::wallet,
            commands::reprint_last,
            commands::open_drawer,
            commands::simulate_tap,
            commands::status,
            commands::touch,
            commands::exit_app,
            commands::read_setup_code,
            commands::check_server,
            commands::save_server,
            commands::setup_standalone,
            commands::manager_report,
            commands::export_report,
            commands::catalogue_admin,
            commands::save_product,
            commands::save_category,
            commands::move_category,
            commands::remove_category,
            commands::set_staff_badge,
            commands::move_in_layout,
            commands::staff_list,
            commands::save_staff,
            commands::manage_wallet,
            commands::set_wallet_blocked,
            commands::payout_wallet,
            commands::scanned_line,
            commands::scan_pass,
            commands::open_bill,
            commands::pay_bill,
            commands::cancel_bill,
            commands::resume_bill,
            commands::redeem_voucher,
            commands::move_wallet,
            commands::terminals,
            commands::sync_overview,
            commands::settings,
            commands::save_settings,
            commands::test_print,
            commands::test_drawer,
            commands::restart_app,
        ])
        .run(tauri::generate_context!())?;
    Ok(())
}
