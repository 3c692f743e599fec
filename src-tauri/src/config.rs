//! How the app is started: command line (and environment), the data
//! directory with its one-instance lock, and the logs.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use jiff::tz::TimeZone;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::{Ledger, TerminalId};
use tapster_print::{CodePage, PaperWidth, PrinterUri, ReceiptFormat};
use tapster_sync::{ServerClient, SyncConfig, Syncer};

use crate::terminal::Options;
use crate::view;

/// The app's identifier: its data lives in `$XDG_DATA_HOME/org.tapster.pos`
/// (where Tauri puts an app's data on Linux).
pub const IDENTIFIER: &str = "org.tapster.pos";

#[derive(Parser)]
#[command(name = "tapster-app", version, about = "Tapster: the cashier's POS")]
pub struct Args {
    /// Run on the embedded demo event (demo bar, staff, funded wristbands,
    /// simulated reader); its ledger is kept in the data dir's `demo/`.
    #[arg(long, env = "TAPSTER_DEMO")]
    pub demo: bool,
    /// Start the demo event afresh.
    #[arg(long)]
    pub demo_reset: bool,
    /// Where the ledger and logs live.
    #[arg(long, env = "TAPSTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// This terminal's id (as the server knows it).
    #[arg(long, env = "TAPSTER_TERMINAL", default_value = "bar-1")]
    pub terminal: String,
    /// Receipt printer, e.g. tcp://192.168.1.50:9100 or file:///dev/usb/lp0;
    /// without it receipts are shown on screen.
    #[arg(long, env = "TAPSTER_PRINTER")]
    pub printer: Option<PrinterUri>,
    /// Paper width in mm: 58 or 80.
    #[arg(long, env = "TAPSTER_PAPER", default_value = "80")]
    pub paper: String,
    /// de or en.
    #[arg(long, env = "TAPSTER_LANG", default_value = "de")]
    pub lang: String,
    /// Use PC/SC readers whose name starts with this ("" for any reader).
    /// Default: any reader, except in demo mode.
    #[arg(long, env = "TAPSTER_READER")]
    pub reader: Option<String>,
    /// Lock the screen after this many seconds without a touch.
    #[arg(long, env = "TAPSTER_LOCK_AFTER", default_value = "300")]
    pub lock_after: u64,
    /// Show old and new balance and wait for a confirmation before a
    /// wristband pays.
    #[arg(long, env = "TAPSTER_CONFIRM_PAYMENTS")]
    pub confirm_payments: bool,
    /// Kiosk mode: full screen, no window chrome, closing needs a
    /// manager's PIN.
    #[arg(long, env = "TAPSTER_KIOSK")]
    pub kiosk: bool,
    /// tapster-server to sync with, e.g. http://10.0.0.2:8080.
    #[arg(long, env = "TAPSTER_SERVER", requires_all = ["event", "token"])]
    pub server: Option<String>,
    #[arg(long, env = "TAPSTER_EVENT")]
    pub event: Option<String>,
    /// The terminal's API token from `tapster-server terminal create`.
    #[arg(long, env = "TAPSTER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Clone)]
pub struct ServerSettings {
    pub url: String,
    pub event: String,
    pub token: String,
}

/// Never prints the token.
impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("url", &self.url)
            .field("event", &self.event)
            .field("token", &"<hidden>")
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub options: Options,
    pub server: Option<ServerSettings>,
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join(IDENTIFIER)
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let base = args.data_dir.unwrap_or_else(default_data_dir);
        let data_dir = if args.demo { base.join("demo") } else { base };
        if args.demo && args.demo_reset {
            for file in ["ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"] {
                let _ = std::fs::remove_file(data_dir.join(file));
            }
        }
        let language = match args.lang.as_str() {
            "de" => view::Language::De,
            "en" => view::Language::En,
            other => bail!("--lang is de or en, not {other}"),
        };
        let width = PaperWidth::parse(&args.paper).context("--paper is 58 or 80")?;
        let terminal = TerminalId::new(&args.terminal).context("--terminal")?;
        let pcsc_reader = match (args.reader, args.demo) {
            (Some(name), _) => Some(name),
            (None, true) => None,
            (None, false) => Some(String::new()),
        };
        let server = match (args.server, args.event, args.token) {
            (Some(url), Some(event), Some(token)) => Some(ServerSettings { url, event, token }),
            _ => None,
        };
        Ok(Config {
            options: Options {
                data_dir,
                terminal,
                demo: args.demo,
                simulated_reader: args.demo,
                printer: args.printer,
                receipt_format: ReceiptFormat {
                    width,
                    code_page: CodePage::Wpc1252,
                    language: match language {
                        view::Language::De => tapster_print::Language::De,
                        view::Language::En => tapster_print::Language::En,
                    },
                    time_zone: TimeZone::system(),
                },
                language,
                lock_after: Duration::from_secs(args.lock_after.max(10)),
                confirm_wallet_payments: args.confirm_payments,
                pcsc_reader,
                pin_cost: PinHashCost::Production,
                kiosk: args.kiosk,
            },
            server,
        })
    }
}

/// One app per ledger: an exclusive lock on `app.lock` in the data dir,
/// held while the app runs (the OS releases it when the process ends,
/// however it ends).
pub fn lock_data_dir(dir: &Path) -> anyhow::Result<File> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let file = File::create(dir.join("app.lock"))?;
    if file.try_lock().is_err() {
        bail!(
            "Tapster is already running on {} (one app per ledger); switch to that window",
            dir.display()
        );
    }
    Ok(file)
}

/// Daily log files in `logs/` of the data dir, kept for two weeks, and
/// warnings on stderr. Logs are for diagnosis; the audit trail is the ledger.
pub fn init_logging(dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    std::fs::create_dir_all(dir.join("logs")).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("tapster")
        .filename_suffix("log")
        .max_log_files(14)
        .build(dir.join("logs"))
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tauri=warn,wry=warn".into());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(tracing_subscriber::filter::LevelFilter::WARN),
        )
        .try_init();
    Some(guard)
}

pub fn syncer(server: &ServerSettings, ledger: Arc<Ledger>) -> anyhow::Result<Arc<Syncer>> {
    let client = ServerClient::new(
        &server.url,
        &server.event,
        &server.token,
        Duration::from_secs(10),
    )
    .map_err(|e| anyhow::anyhow!("server settings: {e}"))?;
    let mut settings = ledger.settings()?;
    if settings.mode != tapster_ledger::model::EventMode::Connected {
        settings.mode = tapster_ledger::model::EventMode::Connected;
        ledger.update_settings(&settings)?;
    }
    let config = SyncConfig {
        app_version: env!("CARGO_PKG_VERSION").into(),
        ..SyncConfig::default()
    };
    Ok(Arc::new(Syncer::new(
        ledger,
        client,
        Arc::new(tapster_ledger::SystemClock),
        config,
    )))
}
