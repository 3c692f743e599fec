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
use tapster_sync::{Fingerprint, PinState, Pins, ServerAddress, ServerClient, SyncConfig, Syncer};

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
    /// Where `tapster.toml` (settings) and `secrets.toml` (the server
    /// token, mode 0600) are read from.
    #[arg(long, env = "TAPSTER_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// This terminal's id (as the server knows it); default `bar-1`.
    #[arg(long, env = "TAPSTER_TERMINAL")]
    pub terminal: Option<String>,
    /// Receipt printer, e.g. tcp://192.168.1.50:9100 or file:///dev/usb/lp0;
    /// without it receipts are shown on screen.
    #[arg(long, env = "TAPSTER_PRINTER")]
    pub printer: Option<PrinterUri>,
    /// Paper width in mm: 58 or 80 (default 80).
    #[arg(long, env = "TAPSTER_PAPER")]
    pub paper: Option<String>,
    /// de or en (default de).
    #[arg(long, env = "TAPSTER_LANG")]
    pub lang: Option<String>,
    /// Use PC/SC readers whose name starts with this ("" for any reader).
    /// Default: any reader, except in demo mode.
    #[arg(long, env = "TAPSTER_READER")]
    pub reader: Option<String>,
    /// Lock the screen after this many seconds without a touch (default 300).
    #[arg(long, env = "TAPSTER_LOCK_AFTER")]
    pub lock_after: Option<u64>,
    /// Show old and new balance and wait for a confirmation before a
    /// wristband pays.
    #[arg(long, env = "TAPSTER_CONFIRM_PAYMENTS")]
    pub confirm_payments: bool,
    /// Kiosk mode: full screen, no window chrome, closing needs a
    /// manager's PIN.
    #[arg(long, env = "TAPSTER_KIOSK")]
    pub kiosk: bool,
    /// A wristband reader in keyboard mode: a UID typed as a line (hex, or
    /// reversed decimal) is a tap. Such taps cannot prove a band genuine,
    /// so events that require genuine bands refuse them.
    #[arg(long, env = "TAPSTER_KEYBOARD_READER")]
    pub keyboard_reader: bool,
    /// Open a second window for a screen facing the guest (cart, total,
    /// balance after payment), full screen on the second monitor if any.
    #[arg(long, env = "TAPSTER_CUSTOMER_DISPLAY")]
    pub customer_display: bool,
    /// tapster-server to sync with, e.g. https://10.0.0.2:8443.
    #[arg(long, env = "TAPSTER_SERVER")]
    pub server: Option<String>,
    /// The server certificate's fingerprint to pin (sha256:…, the `fp` of
    /// the setup code); without it the certificate must validate against
    /// the system's roots.
    #[arg(long, env = "TAPSTER_SERVER_FINGERPRINT")]
    pub fingerprint: Option<String>,
    #[arg(long, env = "TAPSTER_EVENT")]
    pub event: Option<String>,
    /// The terminal's API token from `tapster-server terminal create`.
    #[arg(long, env = "TAPSTER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The event's band keys (JSON, mode 0600) for checking that bands are
    /// genuine; default `band-keys.json` in the config dir, when present.
    #[arg(long, env = "TAPSTER_BAND_KEYS")]
    pub band_keys: Option<PathBuf>,
}

#[derive(Clone)]
pub struct ServerSettings {
    pub url: String,
    pub event: String,
    pub token: String,
    /// The pinned certificate, and the next one the server announced.
    pub fingerprint: Option<Fingerprint>,
    pub next_fingerprint: Option<Fingerprint>,
}

impl ServerSettings {
    pub fn is_encrypted(&self) -> bool {
        self.url.starts_with("https://")
    }

    /// Where the server is and how it is trusted.
    pub fn address(&self) -> ServerAddress {
        match self.fingerprint {
            Some(current) => {
                ServerAddress::pinned(&self.url, Pins::new(current, self.next_fingerprint))
            }
            None => ServerAddress::new(&self.url, None),
        }
    }
}

/// Never prints the token.
impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("url", &self.url)
            .field("event", &self.event)
            .field("token", &"<hidden>")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub options: Options,
    pub server: Option<ServerSettings>,
    pub customer_display: bool,
    /// Settings given on the command line or in the environment (names of
    /// `view::SettingsForm`'s fields): they win over `tapster.toml`.
    pub pinned: Vec<String>,
}

/// The settings file, `tapster.toml` in the config dir: the same settings
/// as the command line (which wins over it). The token never lives here.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub terminal: Option<String>,
    pub printer: Option<String>,
    pub paper: Option<String>,
    pub lang: Option<String>,
    pub reader: Option<String>,
    pub lock_after: Option<u64>,
    pub confirm_payments: Option<bool>,
    pub kiosk: Option<bool>,
    pub keyboard_reader: Option<bool>,
    pub customer_display: Option<bool>,
    pub server: Option<String>,
    pub event: Option<String>,
    /// The server certificate pinned (setup code), and the next one the
    /// server announced; kept up to date when the server switches.
    pub fingerprint: Option<String>,
    pub next_fingerprint: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Secrets {
    token: Option<String>,
}

fn default_config_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(std::env::temp_dir);
    base.join(IDENTIFIER)
}

/// Reads `tapster.toml` from `dir`; none there is no settings.
pub fn read_settings(dir: &Path) -> anyhow::Result<FileSettings> {
    let path = dir.join("tapster.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileSettings::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes `tapster.toml` to `dir` (through a temporary file, so a crash
/// never leaves half a file).
pub fn write_settings(dir: &Path, settings: &FileSettings) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join("tapster.toml.new");
    std::fs::write(&temporary, toml::to_string(settings)?)?;
    std::fs::rename(&temporary, dir.join("tapster.toml"))?;
    Ok(())
}

/// Reads the server token from `secrets.toml` in `dir`, refusing a file
/// that others than its owner could read (as ssh does with keys).
pub fn read_token(dir: &Path) -> anyhow::Result<Option<String>> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("secrets.toml");
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} can be read by others (mode {mode:o}): run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    let text = std::fs::read_to_string(&path)?;
    let secrets: Secrets =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    Ok(secrets.token)
}

/// Writes the server token to `secrets.toml` in `dir`, readable only by
/// the user (mode 0600 from the start, never briefly wider).
pub fn write_token(dir: &Path, token: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::create_dir_all(dir)?;
    let path = dir.join("secrets.toml");
    let temporary = dir.join("secrets.toml.new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    let text = toml::to_string(&toml::toml! { token = token })?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path)?;
    Ok(())
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join(IDENTIFIER)
}

impl Config {
    /// The command line (and environment) over `tapster.toml` over the
    /// defaults; the token from the command line or `secrets.toml`.
    pub fn from_args(args: Args) -> anyhow::Result<Config> {
        let config_dir = args.config_dir.clone().unwrap_or_else(default_config_dir);
        let file = read_settings(&config_dir)?;
        let token = match args.token.clone() {
            Some(token) => Some(token),
            None => read_token(&config_dir)?,
        };
        // What the command line (or environment) fixes: the settings screen
        // shows it and cannot change it.
        let pinned = [
            ("printer", args.printer.is_some()),
            ("paper_mm", args.paper.is_some()),
            ("language", args.lang.is_some()),
            ("reader", args.reader.is_some()),
            ("lock_after_secs", args.lock_after.is_some()),
            ("confirm_wallet_payments", args.confirm_payments),
        ]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| name.to_string())
        .collect();
        let args = Args {
            terminal: args.terminal.or(file.terminal),
            printer: match (args.printer, file.printer) {
                (Some(printer), _) => Some(printer),
                (None, Some(text)) => Some(text.parse().context("printer in tapster.toml")?),
                (None, None) => None,
            },
            paper: args.paper.or(file.paper),
            lang: args.lang.or(file.lang),
            reader: args.reader.or(file.reader),
            lock_after: args.lock_after.or(file.lock_after),
            confirm_payments: args.confirm_payments || file.confirm_payments.unwrap_or(false),
            kiosk: args.kiosk || file.kiosk.unwrap_or(false),
            keyboard_reader: args.keyboard_reader || file.keyboard_reader.unwrap_or(false),
            customer_display: args.customer_display || file.customer_display.unwrap_or(false),
            server: args.server.or(file.server),
            event: args.event.or(file.event),
            fingerprint: args.fingerprint.or(file.fingerprint),
            token,
            ..args
        };
        let parse_fingerprint = |text: Option<&String>, what: &str| {
            text.map(|t| t.parse::<Fingerprint>())
                .transpose()
                .with_context(|| what.to_string())
        };
        let fingerprint = parse_fingerprint(args.fingerprint.as_ref(), "--fingerprint")?;
        let next_fingerprint = parse_fingerprint(
            file.next_fingerprint.as_ref(),
            "next_fingerprint in tapster.toml",
        )?;
        let base = args.data_dir.unwrap_or_else(default_data_dir);
        let data_dir = if args.demo { base.join("demo") } else { base };
        if args.demo && args.demo_reset {
            for file in ["ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"] {
                let _ = std::fs::remove_file(data_dir.join(file));
            }
        }
        let band_keys = match args.band_keys.clone() {
            Some(path) => Some(path),
            None => Some(config_dir.join("band-keys.json")).filter(|p| p.exists()),
        }
        .map(|path| tapster_nfc::ntag424::Keyring::load(&path))
        .transpose()
        .context("band keys")?;
        let language = match args.lang.as_deref().unwrap_or("de") {
            "de" => view::Language::De,
            "en" => view::Language::En,
            other => bail!("--lang is de or en, not {other}"),
        };
        let width = PaperWidth::parse(args.paper.as_deref().unwrap_or("80"))
            .context("--paper is 58 or 80")?;
        let terminal =
            TerminalId::new(args.terminal.as_deref().unwrap_or("bar-1")).context("--terminal")?;
        let pcsc_reader = match (args.reader, args.demo) {
            (Some(name), _) => Some(name),
            (None, true) => None,
            (None, false) => Some(String::new()),
        };
        let server = match (args.server, args.event, args.token) {
            (Some(url), Some(event), Some(token)) => Some(ServerSettings {
                url,
                event,
                token,
                fingerprint,
                next_fingerprint,
            }),
            (None, None, _) => None,
            _ => bail!(
                "a server needs its URL, the event id and the terminal's token (secrets.toml)"
            ),
        };
        Ok(Config {
            options: Options {
                config_dir,
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
                lock_after: Duration::from_secs(args.lock_after.unwrap_or(300).max(10)),
                confirm_wallet_payments: args.confirm_payments,
                pcsc_reader,
                pin_cost: PinHashCost::Production,
                kiosk: args.kiosk,
                keyboard_reader: args.keyboard_reader,
                band_keys,
            },
            server,
            customer_display: args.customer_display,
            pinned,
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

/// The sync client for `server`; when the server switches to the
/// certificate it announced, the new pins are written to `tapster.toml` in
/// `config_dir`, so the till trusts it after a restart too.
pub fn syncer(
    server: &ServerSettings,
    config_dir: &Path,
    ledger: Arc<Ledger>,
) -> anyhow::Result<Arc<Syncer>> {
    let address = server.address();
    if !address.is_encrypted() {
        tracing::warn!(server = %server.url, "the connection to the server is NOT encrypted");
    }
    if let Some(pins) = address.pins() {
        let dir = config_dir.to_path_buf();
        pins.on_change(move |state| {
            if let Err(error) = keep_pins(&dir, state) {
                tracing::error!(%error, "the server's new certificate could not be kept in tapster.toml");
            }
        });
    }
    let client = ServerClient::new(
        &address,
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

/// Writes the pins to `tapster.toml` (other settings stay).
pub fn keep_pins(dir: &Path, state: PinState) -> anyhow::Result<()> {
    let mut file = read_settings(dir)?;
    file.fingerprint = Some(state.current.to_string());
    file.next_fingerprint = state.next.map(|n| n.to_string());
    write_settings(dir, &file)?;
    tracing::info!(fingerprint = %state.current, next = ?state.next, "server certificate pins kept");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn args(extra: &[&str], config: &Path) -> Args {
        let mut all = vec!["tapster-app", "--config-dir", config.to_str().unwrap()];
        all.extend_from_slice(extra);
        Args::parse_from(all)
    }

    #[test]
    fn the_command_line_wins_over_the_settings_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let defaults = Config::from_args(args(&[], dir.path())).unwrap();
        assert_eq!(defaults.options.terminal.as_str(), "bar-1");
        assert_eq!(defaults.options.lock_after, Duration::from_secs(300));
        assert!(!defaults.options.kiosk);
        std::fs::write(
            dir.path().join("tapster.toml"),
            "terminal = \"bar-nord\"\nlang = \"en\"\npaper = \"58\"\nkiosk = true\nlock_after = 120\nprinter = \"tcp://10.0.0.9:9100\"\n",
        )
        .unwrap();
        let from_file = Config::from_args(args(&[], dir.path())).unwrap();
        assert_eq!(from_file.options.terminal.as_str(), "bar-nord");
        assert_eq!(from_file.options.language, view::Language::En);
        assert_eq!(from_file.options.receipt_format.width, PaperWidth::Mm58);
        assert!(from_file.options.kiosk);
        assert_eq!(from_file.options.lock_after, Duration::from_secs(120));
        assert_eq!(
            from_file.options.printer.unwrap().to_string(),
            "tcp://10.0.0.9:9100"
        );
        let overridden = Config::from_args(args(
            &["--terminal", "bar-sued", "--lang", "de"],
            dir.path(),
        ))
        .unwrap();
        assert_eq!(overridden.options.terminal.as_str(), "bar-sued");
        assert_eq!(overridden.options.language, view::Language::De);
        // The settings screen is told what the command line fixes.
        assert_eq!(overridden.pinned, vec!["language".to_string()]);
        assert!(
            from_file.pinned.is_empty(),
            "the file's settings are the screen's"
        );
        std::fs::write(dir.path().join("tapster.toml"), "colour = \"red\"\n").unwrap();
        let error = Config::from_args(args(&[], dir.path())).unwrap_err();
        assert!(format!("{error:#}").contains("tapster.toml"), "{error:#}");
    }

    #[test]
    fn the_token_lives_in_a_file_only_its_owner_can_read() {
        let dir = tempfile::tempdir().unwrap();
        write_token(dir.path(), "s3cret-token").unwrap();
        let mode = std::fs::metadata(dir.path().join("secrets.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            read_token(dir.path()).unwrap().as_deref(),
            Some("s3cret-token")
        );
        std::fs::write(
            dir.path().join("tapster.toml"),
            "server = \"http://10.0.0.2:8080\"\nevent = \"evt_1\"\n",
        )
        .unwrap();
        let config = Config::from_args(args(&[], dir.path())).unwrap();
        let server = config.server.unwrap();
        assert_eq!(server.token, "s3cret-token");
        assert!(
            !format!("{server:?}").contains("s3cret"),
            "the token in Debug output"
        );
        // A token file others can read is refused, not used.
        std::fs::set_permissions(
            dir.path().join("secrets.toml"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let error = read_token(dir.path()).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
        // A server without its token is a clear error.
        std::fs::remove_file(dir.path().join("secrets.toml")).unwrap();
        assert!(Config::from_args(args(&[], dir.path())).is_err());
    }

    #[test]
    fn pins_from_the_setup_code_follow_the_servers_switch_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        write_token(dir.path(), "t").unwrap();
        let first = Fingerprint::of_der(b"first");
        let next = Fingerprint::of_der(b"next");
        std::fs::write(
            dir.path().join("tapster.toml"),
            format!("server = \"https://10.0.0.2:8443\"\nevent = \"evt_1\"\nfingerprint = \"{first}\"\nlang = \"en\"\n"),
        )
        .unwrap();
        let server = Config::from_args(args(&[], dir.path()))
            .unwrap()
            .server
            .unwrap();
        assert_eq!(server.fingerprint, Some(first));
        assert!(server.is_encrypted());
        let pins = server.address().pins().cloned().unwrap();
        let kept = dir.path().to_path_buf();
        pins.on_change(move |state| keep_pins(&kept, state).unwrap());
        // The server announces its next certificate, then switches to it.
        pins.learn_next(next);
        let announced = Config::from_args(args(&[], dir.path()))
            .unwrap()
            .server
            .unwrap();
        assert_eq!(
            (announced.fingerprint, announced.next_fingerprint),
            (Some(first), Some(next))
        );
        pins.confirm(next);
        let switched = Config::from_args(args(&[], dir.path())).unwrap();
        let server = switched.server.unwrap();
        assert_eq!(
            (server.fingerprint, server.next_fingerprint),
            (Some(next), None)
        );
        assert_eq!(
            switched.options.language,
            view::Language::En,
            "other settings stay"
        );
        // A malformed pin is a clear error, not an unpinned connection.
        std::fs::write(
            dir.path().join("tapster.toml"),
            "server = \"https://10.0.0.2:8443\"\nevent = \"evt_1\"\nfingerprint = \"sha256:12\"\n",
        )
        .unwrap();
        assert!(Config::from_args(args(&[], dir.path())).is_err());
    }
}
