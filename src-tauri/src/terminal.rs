//! The terminal: one ledger, the logged-in cashier, the reader, the
//! printer and (when connected) the sync task. Every command of the app is
//! a method here, written without Tauri so it can be tested directly; the
//! rules themselves are the ledger's.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tapster_api::fiscal::{SignReceipt, Signing};
use tapster_ledger::model::{Entry, EntryKind, EventMode, FiscalSigning, Staff};
use tapster_ledger::pin::{Pin, PinHashCost};
use tapster_ledger::pricing::{is_sellable, price_cart, Cart};
use tapster_ledger::rules::{self, check_role, Action};
use tapster_ledger::store::{
    Authorisation, CancelRequest, CloseShiftRequest, DepositReturnRequest, OpenShiftRequest,
    SaleRequest, TopUpRequest,
};
use tapster_ledger::{
    demo, Cents, Clock, EntryId, IdempotencyKey, Ledger, LedgerOptions, LedgerReader, ProductId,
    SystemClock, TerminalId, TokenId,
};
use tapster_nfc::ntag424::BandCheck;
use tapster_nfc::{NfcEvent, SimulatedReader};
use tapster_print::layouts::{entry_receipt, z_report_receipt, EntryReceipt, ReceiptContext};
use tapster_print::{PrintQueue, PrinterStatus, PrinterUri, QueueOptions, ReceiptFormat};
use tapster_sync::Syncer;
use tracing::Instrument;

use crate::error::{AppError, ErrorCode};
use crate::view;

mod audit;
mod bills;
mod encoding;
mod fiscal;
mod manage;
mod passes;
mod payouts;
mod remote;
mod stock;

/// How the app was started.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where `tapster.toml` and `secrets.toml` live.
    pub config_dir: PathBuf,
    /// Where the ledger lives.
    pub data_dir: PathBuf,
    pub terminal: TerminalId,
    /// Seed a demo bar into a fresh ledger and show the demo logins.
    pub demo: bool,
    /// Offer on-screen taps (the simulated reader).
    pub simulated_reader: bool,
    /// `None`: receipts are shown on screen only.
    pub printer: Option<PrinterUri>,
    pub receipt_format: ReceiptFormat,
    pub language: view::Language,
    pub lock_after: Duration,
    pub confirm_wallet_payments: bool,
    /// Use a PC/SC reader (name prefix, or any); otherwise only simulated
    /// taps (demo mode).
    pub pcsc_reader: Option<String>,
    pub pin_cost: PinHashCost,
    /// Full screen without window chrome; leaving needs a manager's PIN.
    pub kiosk: bool,
    /// A wristband reader in keyboard mode: scanned lines that are UIDs
    /// are taps (never genuine: refused where genuine bands are required).
    pub keyboard_reader: bool,
    /// The event's band keys: every tap on the PC/SC reader is checked for
    /// a genuine NTAG 424 DNA band (`None`: taps are not checked).
    pub band_keys: Option<tapster_nfc::ntag424::Keyring>,
}

/// What the backend tells the UI without being asked.
#[derive(Clone, Debug)]
pub enum AppEvent {
    Tap(view::Tap),
    Status(view::Status),
    Encoding(view::EncodingStation),
}

pub type Emitter = Arc<dyn Fn(AppEvent) + Send + Sync>;

struct ActiveSession {
    staff: Staff,
    last_activity: Instant,
    /// A supervisor's or manager's session on the server's manager API
    /// (connected tills), opened with the PIN they logged in with.
    server: Option<tapster_sync::ManagerSession>,
}

pub struct Terminal {
    ledger: Arc<Ledger>,
    reader: Mutex<LedgerReader>,
    options: Options,
    session: Mutex<Option<ActiveSession>>,
    printer: Option<PrintQueue>,
    simulated: Option<SimulatedReader>,
    /// Where a keyboard-mode reader's taps go (`None`: it is off).
    keyboard_taps: Option<mpsc::Sender<NfcEvent>>,
    status: Arc<Mutex<view::Status>>,
    last_entry: Mutex<Option<EntryId>>,
    /// Discount and allowance passes scanned at this till, by code, as the
    /// server described them: a cart is priced and sold with one of them.
    scanned_passes: Mutex<HashMap<String, tapster_ledger::passes::Pass>>,
    /// Wristbands tapped on the reader and not yet used: a wristband pays,
    /// is topped up or credited only after it was really on the reader.
    taps: Arc<Mutex<HashMap<TokenId, (Instant, BandCheck)>>>,
    /// The band keys the reader checks taps with (updated from the server).
    band_keys: tapster_nfc::SharedKeyring,
    /// Taps, or the encoding station.
    reader_mode: tapster_nfc::SharedMode,
    station: encoding::SharedStationLog,
    syncer: Option<Arc<Syncer>>,
    /// Has receipts signed by the event's fiscal device, through the
    /// server (connected tills).
    fiscal_signer: Option<tapster_sync::fiscal::ReceiptSigner>,
    sync_online: Arc<Mutex<bool>>,
    emit: Emitter,
    clock: Arc<dyn Clock>,
    /// Settings the command line fixes (see `config::Config::pinned`).
    pinned: Vec<String>,
    _nfc: Option<tapster_nfc::Watcher>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

pub const DEMO_WRISTBANDS: u32 = 12;

/// How long a tap on the reader stays good for an operation.
const TAP_VALID_FOR: Duration = Duration::from_secs(60);

fn role(role: tapster_ledger::model::Role) -> view::Role {
    match role {
        tapster_ledger::model::Role::Cashier => view::Role::Cashier,
        tapster_ledger::model::Role::Supervisor => view::Role::Supervisor,
        tapster_ledger::model::Role::Manager => view::Role::Manager,
    }
}

fn tender_out(tender: tapster_ledger::model::Tender) -> view::Tender {
    match tender {
        tapster_ledger::model::Tender::Wallet => view::Tender::Wallet,
        tapster_ledger::model::Tender::Cash => view::Tender::Cash,
        tapster_ledger::model::Tender::Card => view::Tender::Card,
    }
}

fn tender_in(tender: view::Tender) -> tapster_ledger::model::Tender {
    match tender {
        view::Tender::Wallet => tapster_ledger::model::Tender::Wallet,
        view::Tender::Cash => tapster_ledger::model::Tender::Cash,
        view::Tender::Card => tapster_ledger::model::Tender::Card,
    }
}

fn token(value: &str) -> Result<TokenId, AppError> {
    TokenId::parse(value).map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))
}

fn key(value: &str) -> Result<IdempotencyKey, AppError> {
    IdempotencyKey::new(value).map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))
}

/// The cart of the sell screen: a negative quantity of a cup is cups the
/// guest brings back (netted against the order).
fn cart(items: &[view::CartItem]) -> Result<Cart, AppError> {
    let mut cart = Cart::new();
    for item in items {
        let product = ProductId::new(&item.product)
            .map_err(|e| AppError::new(ErrorCode::UnknownProduct, e.to_string()))?;
        cart = if item.quantity < 0 {
            cart.with_returned(&product, item.quantity.saturating_neg())
        } else {
            cart.with(&product, item.quantity)
        };
    }
    Ok(cart)
}

/// The cart with the tip the cashier chose.
fn order(items: &[view::CartItem], tip: Option<view::TipChoice>) -> Result<Cart, AppError> {
    let mut cart = cart(items)?;
    cart.tip = tip.map(|tip| match tip {
        view::TipChoice::Amount { cents } => tapster_ledger::bills::Tip::Amount(Cents(cents)),
        view::TipChoice::Percent { basis_points } => {
            tapster_ledger::bills::Tip::Percent(basis_points)
        }
    });
    Ok(cart)
}

/// A priced line as the UI shows it.
fn quote_line(line: &tapster_ledger::model::Line) -> view::QuoteLine {
    view::QuoteLine {
        product: line.product.to_string(),
        name: line.name.clone(),
        quantity: line.quantity,
        unit_cents: line.unit_price.0,
        total_cents: line.total().unwrap_or_default().0,
        deposit: line.deposit,
        discount: line.pass.is_some(),
        tip: line.tip,
    }
}

/// The catalogue's categories, in their order, for the UI.
fn category_views(reader: &LedgerReader) -> Result<Vec<view::Category>, AppError> {
    Ok(reader
        .categories()?
        .into_iter()
        .map(|c| view::Category {
            id: c.id.to_string(),
            name: c.name,
        })
        .collect())
}

fn printer_state(status: PrinterStatus) -> view::PrinterState {
    match status {
        PrinterStatus::Ok => view::PrinterState::Ok,
        PrinterStatus::PaperNearEnd => view::PrinterState::PaperNearEnd,
        PrinterStatus::PaperOut => view::PrinterState::PaperOut,
        PrinterStatus::CoverOpen => view::PrinterState::CoverOpen,
        PrinterStatus::NotReady => view::PrinterState::NotReady,
        PrinterStatus::Offline => view::PrinterState::Offline,
        PrinterStatus::Unknown => view::PrinterState::Unknown,
    }
}

fn interrupted_notice(settled: &tapster_sync::InterruptedDebit) -> view::Notice {
    view::Notice {
        id: settled.key.to_string(),
        kind: match (settled.payout, settled.recorded_as.is_some()) {
            (false, true) => "interrupted_sale_recorded",
            (false, false) => "interrupted_sale_not_applied",
            (true, true) => "interrupted_payout_recorded",
            (true, false) => "interrupted_payout_not_applied",
        }
        .into(),
        token_masked: settled.token.masked(),
        amount_cents: settled.amount.map(|a| a.0),
        entry_sequence: settled.recorded_as,
    }
}

/// Why a till refuses to start: its ledger was changed outside Tapster
/// (an edited amount, a deleted sale), so its hash chain breaks. The
/// window shows it with what to do ([`view::StartupFailure`]).
#[derive(Debug, thiserror::Error)]
#[error("the ledger {} fails its hash-chain check ({problems} problem(s), first: {first:?}): it was changed outside Tapster. Do not sell on this till; call the event manager (the server keeps its own copy of every synced entry).", path.display())]
pub struct LedgerTampered {
    pub path: std::path::PathBuf,
    pub terminal: String,
    pub problems: usize,
    pub first: tapster_ledger::chain::ChainProblem,
}

impl LedgerTampered {
    pub fn view(&self) -> view::StartupFailure {
        use tapster_ledger::chain::ChainProblem;
        let (kind, sequence) = match &self.first {
            ChainProblem::Gap { expected, .. } => ("gap", *expected),
            ChainProblem::BrokenLink { sequence, .. } => ("broken_link", *sequence),
            ChainProblem::ContentChanged { sequence, .. } => ("content_changed", *sequence),
        };
        view::StartupFailure {
            ledger_path: self.path.display().to_string(),
            terminal: self.terminal.clone(),
            problems: i64::try_from(self.problems).unwrap_or(i64::MAX),
            first_kind: kind.to_string(),
            first_sequence: sequence,
        }
    }
}

impl Terminal {
    /// Opens the ledger (seeding the demo bar when asked and empty), starts
    /// the reader and the printer queue.
    pub fn start(options: Options, emit: Emitter) -> anyhow::Result<Terminal> {
        std::fs::create_dir_all(&options.data_dir)?;
        let path = options.data_dir.join("ledger.sqlite");
        let fresh = !path.exists();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let open = || {
            Ledger::open(
                &path,
                LedgerOptions::new(options.terminal.clone())
                    .with_clock(clock.clone())
                    .with_pin_cost(options.pin_cost),
            )
        };
        let ledger = match open() {
            // A ledger made before this till was connected to a server (as
            // another terminal) and never used is made anew; one with
            // entries is never touched.
            Err(tapster_ledger::LedgerError::WrongTerminal { found, .. })
                if LedgerReader::open(&path)?
                    .recent_entries(None, 1)?
                    .is_empty() =>
            {
                tracing::info!(%found, terminal = %options.terminal, "unused ledger of another terminal id made anew");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                open()?
            }
            other => other?,
        };
        // A ledger changed outside Tapster (an edited amount, a deleted
        // sale) breaks its hash chain: the till refuses to sell on it.
        let problems = ledger.verify_chain()?;
        if let Some(first) = problems.first() {
            tracing::error!(
                problems = problems.len(),
                ?first,
                "the ledger fails its hash-chain check"
            );
            return Err(LedgerTampered {
                path: path.clone(),
                terminal: options.terminal.to_string(),
                problems: problems.len(),
                first: first.clone(),
            }
            .into());
        }
        if options.demo && fresh {
            demo::seed(&ledger, DEMO_WRISTBANDS)?;
            let mut settings = ledger.settings()?;
            settings.name = "Tapster Demo-Festival".into();
            settings.receipt_header = "Demo – kein echtes Geld".into();
            settings.receipt_footer = "Danke und Prost!".into();
            ledger.update_settings(&settings)?;
            let mut terminal = ledger.terminal()?;
            terminal.friendly_name = "Bar Nord".into();
            ledger.upsert_terminal(&terminal)?;
        }
        let ledger = Arc::new(ledger);
        let reader = ledger.reader()?;
        let status = Arc::new(Mutex::new(view::Status {
            connectivity: view::Connectivity::Standalone,
            unencrypted: false,
            pending: 0,
            reader: view::ReaderState::NoReader,
            reader_name: None,
            printer: view::PrinterState::None,
            print_jobs_waiting: 0,
            catalog_version: 0,
            notices: Vec::new(),
        }));

        let printer = match options.printer.clone() {
            Some(uri) => Some(PrintQueue::start(uri, QueueOptions::default())?),
            None => None,
        };
        if let Some(queue) = &printer {
            let status = status.clone();
            let emit = emit.clone();
            queue.on_change(move |queue_status| {
                let snapshot = {
                    let mut status = lock(&status);
                    status.printer = printer_state(queue_status.status);
                    status.print_jobs_waiting = queue_status.pending as i64;
                    status.clone()
                };
                emit(AppEvent::Status(snapshot));
            });
        }

        let band_keys: tapster_nfc::SharedKeyring =
            Arc::new(std::sync::RwLock::new(options.band_keys.clone()));
        let reader_mode: tapster_nfc::SharedMode = Arc::new(std::sync::RwLock::new(
            encoding::taps_mode(ledger.terminal().ok().as_ref()),
        ));
        let station = encoding::SharedStationLog::default();
        let (sender, receiver) = mpsc::channel::<NfcEvent>();
        let simulated = options
            .simulated_reader
            .then(|| SimulatedReader::new(sender.clone()));
        let keyboard_taps = options.keyboard_reader.then(|| sender.clone());
        let watcher = options.pcsc_reader.clone().map(|name| {
            let sender = sender.clone();
            let config = tapster_nfc::WatchConfig {
                reader: (!name.is_empty()).then_some(name),
                keyring: band_keys.clone(),
                mode: reader_mode.clone(),
                ..tapster_nfc::WatchConfig::default()
            };
            tapster_nfc::watch(config, move |event| {
                let _ = sender.send(event);
            })
        });
        drop(sender);
        let taps = Arc::new(Mutex::new(HashMap::new()));
        spawn_reader_loop(
            receiver,
            ReaderLoop {
                status: status.clone(),
                taps: taps.clone(),
                station: station.clone(),
                band_keys: band_keys.clone(),
                emit: emit.clone(),
            },
        );

        Ok(Terminal {
            ledger,
            reader: Mutex::new(reader),
            options,
            session: Mutex::new(None),
            printer,
            simulated,
            keyboard_taps,
            status,
            last_entry: Mutex::new(None),
            scanned_passes: Mutex::new(HashMap::new()),
            taps,
            band_keys,
            reader_mode,
            station,
            syncer: None,
            fiscal_signer: None,
            sync_online: Arc::new(Mutex::new(false)),
            emit,
            clock,
            pinned: Vec::new(),
            _nfc: watcher,
        })
    }

    /// Settings the command line fixes: the settings screen shows them
    /// read-only.
    pub fn pin_settings(&mut self, pinned: Vec<String>) {
        self.pinned = pinned;
    }

    /// Sells and syncs through `syncer` from now on (connected mode);
    /// `unencrypted` when it talks plain HTTP (the status bar says so).
    pub fn connect(
        &mut self,
        syncer: Arc<Syncer>,
        mut status: tokio::sync::watch::Receiver<tapster_sync::SyncStatus>,
        unencrypted: bool,
    ) {
        match tapster_sync::fiscal::ReceiptSigner::new(syncer.client().clone()) {
            Ok(signer) => self.fiscal_signer = Some(signer),
            // Receipts then print as made during a TSE outage.
            Err(error) => tracing::error!(%error, "no thread for fiscal signing"),
        }
        self.syncer = Some(syncer);
        lock(&self.status).unencrypted = unencrypted;
        let shared = self.status.clone();
        let online = self.sync_online.clone();
        let emit = self.emit.clone();
        let syncer = self.syncer.clone();
        tokio::spawn(async move {
            loop {
                let current = status.borrow_and_update().clone();
                let connectivity = match current.connection {
                    tapster_sync::Connection::Starting => view::Connectivity::Starting,
                    tapster_sync::Connection::Online => view::Connectivity::Online,
                    tapster_sync::Connection::Degraded => view::Connectivity::Degraded,
                    tapster_sync::Connection::Offline => view::Connectivity::Offline,
                    tapster_sync::Connection::AuthFailed => view::Connectivity::AuthFailed,
                    tapster_sync::Connection::Untrusted => view::Connectivity::Untrusted,
                    tapster_sync::Connection::Incompatible => view::Connectivity::Incompatible,
                };
                *lock(&online) = connectivity == view::Connectivity::Online;
                // A sale interrupted by a crash and settled now: the
                // cashier is told on screen, not only the log.
                let settled = syncer
                    .as_ref()
                    .map(|s| s.take_interrupted())
                    .unwrap_or_default();
                let snapshot = {
                    let mut s = lock(&shared);
                    s.connectivity = connectivity;
                    s.pending = current.pending;
                    s.catalog_version = current.catalog_changes;
                    s.notices.extend(settled.iter().map(interrupted_notice));
                    s.clone()
                };
                emit(AppEvent::Status(snapshot));
                if status.changed().await.is_err() {
                    return;
                }
            }
        });
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    fn reader(&self) -> MutexGuard<'_, LedgerReader> {
        lock(&self.reader)
    }

    /// The logged-in staff member, refreshing the inactivity timer; locks
    /// the session when it ran out.
    fn staff(&self) -> Result<Staff, AppError> {
        let mut session = lock(&self.session);
        match session.as_mut() {
            Some(active) if active.last_activity.elapsed() <= self.options.lock_after => {
                active.last_activity = Instant::now();
                Ok(active.staff.clone())
            }
            Some(_) => {
                tracing::info!("session locked after inactivity");
                *session = None;
                drop(session);
                // A locked till takes taps again, not bands to encode.
                self.end_encoding();
                Err(AppError::not_logged_in())
            }
            None => Err(AppError::not_logged_in()),
        }
    }

    /// Who is logged in, without counting the question as activity.
    fn current_staff(&self) -> Option<Staff> {
        let session = lock(&self.session);
        session
            .as_ref()
            .filter(|active| active.last_activity.elapsed() <= self.options.lock_after)
            .map(|active| active.staff.clone())
    }

    /// A touch on the screen: keeps the session from locking.
    pub fn touch(&self) {
        if let Some(active) = lock(&self.session).as_mut() {
            if active.last_activity.elapsed() <= self.options.lock_after {
                active.last_activity = Instant::now();
            }
        }
    }

    /// Uses up a recent tap of `token` on the reader (within a minute):
    /// the guest's consent to what the wristband is used for. Returns what
    /// the tap found out about the band.
    fn take_tap(&self, token: &TokenId) -> Result<(Instant, BandCheck), AppError> {
        let mut taps = lock(&self.taps);
        taps.retain(|_, (at, _)| at.elapsed() <= TAP_VALID_FOR);
        taps.remove(token).ok_or_else(|| {
            AppError::new(
                ErrorCode::NoTap,
                "tap the wristband on the reader (it was not seen in the last minute)",
            )
        })
    }

    /// Uses up a recent tap of a wristband that is to pay or be topped up:
    /// under the event's band policy it must have proved itself genuine.
    /// A refusal is recorded for the manager's security view.
    fn take_band_tap(&self, token: &TokenId) -> Result<TakenTap, AppError> {
        let (at, check) = self.take_tap(token)?;
        let taken = TakenTap {
            at,
            check: check.clone(),
        };
        let refused = match &check {
            BandCheck::Genuine { .. } => None,
            BandCheck::NotGenuine { reason } => Some(reason.as_str()),
            BandCheck::NotChecked => Some("this till did not check it (no band keys)"),
        };
        let policy = self.ledger.settings()?.band_policy;
        if let Err(error) = rules::check_band(policy, token, refused) {
            tracing::warn!(token = %token.masked(), reason = refused.unwrap_or(""), "wristband not genuine: refused");
            if let Err(e) = self.ledger.record_band_refusal(
                token,
                refused.unwrap_or(""),
                tapster_ledger::Clock::now(&tapster_ledger::SystemClock),
            ) {
                tracing::error!(error = %e, "the refused band could not be recorded");
            }
            return Err(error.into());
        }
        Ok(taken)
    }

    /// A tap a refused debit did not use (the band was short): the same
    /// band pays its part of the order without tapping again.
    fn give_back_tap(&self, token: &TokenId, taken: TakenTap) {
        lock(&self.taps).insert(token.clone(), (taken.at, taken.check));
    }

    pub fn session(&self) -> Result<view::Session, AppError> {
        let staff = self.current_staff();
        let shift = self.ledger.current_shift()?;
        // Before the reader's lock is taken: it takes that lock itself.
        let needs_setup = self.needs_setup()?;
        let reader = self.reader();
        let settings = reader.settings()?;
        let terminal = reader.terminal(&self.options.terminal)?;
        let shift = match shift {
            Some(shift) => {
                let cashier_name = reader
                    .staff()?
                    .into_iter()
                    .find(|s| s.id == shift.staff)
                    .map_or_else(|| shift.staff.to_string(), |s| s.name);
                Some(view::ShiftInfo {
                    id: shift.id.to_string(),
                    cashier_name,
                    opened_at: shift.opened_at.0,
                    float_cents: shift.float.0,
                    mine: staff.as_ref().is_some_and(|s| s.id == shift.staff),
                    closable: staff.as_ref().is_some_and(|s| {
                        s.id != shift.staff
                            && tapster_ledger::rules::check_role(
                                s.role,
                                tapster_ledger::rules::Action::CloseOthersShift,
                            )
                            .is_ok()
                    }),
                })
            }
            None => None,
        };
        let demo = self.options.demo.then(|| view::DemoInfo {
            staff: demo::STAFF
                .iter()
                .map(|s| view::DemoStaff {
                    name: s.name.into(),
                    role: role(s.role),
                    pin: s.pin.into(),
                })
                .collect(),
            wristbands: (1..=DEMO_WRISTBANDS)
                .map(|n| {
                    let token = demo::wristband(n);
                    view::DemoWristband {
                        label: token.masked(),
                        token: token.to_string(),
                    }
                })
                .chain(std::iter::once(view::DemoWristband {
                    token: "04D3FFFFFFFFFF".into(),
                    label: "new".into(),
                }))
                .collect(),
        });
        Ok(view::Session {
            event_name: settings.name,
            terminal_name: terminal.friendly_name,
            currency: settings.currency,
            time_zone: settings.time_zone.clone(),
            language: self.options.language,
            cashier: staff.map(|s| view::Cashier {
                id: s.id.to_string(),
                name: s.name,
                role: role(s.role),
            }),
            shift,
            demo,
            confirm_wallet_payments: self.options.confirm_wallet_payments,
            kiosk: self.options.kiosk,
            keyboard_reader: self.options.keyboard_reader,
            needs_setup,
            lock_after_secs: self.options.lock_after.as_secs() as i64,
        })
    }

    pub fn login(&self, pin: &str) -> Result<view::Session, AppError> {
        let pin = Pin::new(pin).map_err(|e| AppError::new(ErrorCode::WrongPin, e.to_string()))?;
        let staff = self.ledger.login_by_pin(&pin)?;
        tracing::info!(staff = %staff.id, "logged in");
        *lock(&self.session) = Some(ActiveSession {
            staff,
            last_activity: Instant::now(),
            server: None,
        });
        self.end_encoding();
        self.session()
    }

    pub fn login_with_badge(&self, badge: &str) -> Result<view::Session, AppError> {
        let badge = token(badge)?;
        self.take_tap(&badge)?;
        let staff = self.ledger.login_by_badge(&badge).map_err(|e| match e {
            e @ tapster_ledger::LedgerError::LoginLocked { .. } => AppError::from(e),
            _ => AppError::new(
                ErrorCode::UnknownBadge,
                "this badge belongs to no active staff member",
            ),
        })?;
        tracing::info!(staff = %staff.id, "logged in with badge");
        *lock(&self.session) = Some(ActiveSession {
            staff,
            last_activity: Instant::now(),
            server: None,
        });
        self.end_encoding();
        self.session()
    }

    /// Whether `pin` lets the app be closed: in kiosk mode only a
    /// manager's PIN does (failed tries count towards the login lockout).
    pub fn authorise_exit(&self, pin: &str) -> Result<(), AppError> {
        if !self.options.kiosk {
            return Ok(());
        }
        let pin = Pin::new(pin).map_err(|e| AppError::new(ErrorCode::WrongPin, e.to_string()))?;
        let staff = self.ledger.login_by_pin(&pin)?;
        check_role(staff.role, Action::EndKiosk)?;
        tracing::info!(staff = %staff.id, "kiosk mode ended");
        Ok(())
    }

    pub fn kiosk(&self) -> bool {
        self.options.kiosk
    }

    /// A till that was never set up: no demo, no server, nobody to log in.
    pub fn needs_setup(&self) -> Result<bool, AppError> {
        Ok(!self.options.demo
            && self.syncer.is_none()
            && !self.reader().staff()?.iter().any(|s| s.active))
    }

    pub fn config_dir(&self) -> &std::path::Path {
        &self.options.config_dir
    }

    pub fn lock(&self) -> Result<view::Session, AppError> {
        *lock(&self.session) = None;
        self.end_encoding();
        // The next cashier does not reprint the previous one's receipt.
        *lock(&self.last_entry) = None;
        self.session()
    }

    pub fn open_shift(
        &self,
        float_cents: i64,
        idempotency_key: &str,
    ) -> Result<view::Session, AppError> {
        let staff = self.staff()?;
        self.ledger.open_shift(&OpenShiftRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            float: Cents(float_cents),
        })?;
        self.session()
    }

    pub fn close_shift(
        &self,
        counted_cents: i64,
        idempotency_key: &str,
    ) -> Result<view::ShiftClosed, AppError> {
        let staff = self.staff()?;
        let report = self.ledger.close_shift(&CloseShiftRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            counted: Cents(counted_cents),
        })?;
        *lock(&self.last_entry) = None;
        // The cash difference is a transaction of its own (DSFinV-K's
        // DifferenzSollIst): signed like a receipt when the event signs.
        if !report.replayed && report.difference.is_some_and(|d| d != Cents::ZERO) {
            let difference = self
                .reader()
                .recent_entries(None, 5)?
                .into_iter()
                .find(|e| {
                    e.kind == EntryKind::Adjustment
                        && e.token.is_none()
                        && e.shift == Some(report.shift.id)
                });
            if let Some(entry) = difference {
                self.sign_or_log(&entry);
            }
        }
        let settings = self.reader().settings()?;
        let ctx = ReceiptContext {
            event_name: settings.name,
            currency: settings.currency,
            ..ReceiptContext::default()
        };
        let receipt = z_report_receipt(&report, &ctx, &self.options.receipt_format)?;
        let queued = match &self.printer {
            Some(queue) => queue.print_report(&receipt, "Z report").is_ok(),
            None => false,
        };
        let close = report.shift.closed.as_ref();
        Ok(view::ShiftClosed {
            z_number: close.map_or(0, |c| c.z_number),
            expected_cents: report.expected_cash.0,
            counted_cents: report.counted_cash.unwrap_or_default().0,
            difference_cents: report.difference.unwrap_or_default().0,
            closed_by_name: report.closed_by_name.clone(),
            receipt: view::Receipt {
                text: receipt.preview(),
                queued,
            },
        })
    }

    pub fn catalog(&self) -> Result<view::Catalog, AppError> {
        let reader = self.reader();
        let now = self.clock.now();
        let products = reader.products(false)?;
        let layout = reader.terminal(&self.options.terminal)?.layout;
        let deposit_of = |product: &tapster_ledger::model::Product| {
            product
                .deposit_product
                .as_ref()
                .and_then(|cup| products.iter().find(|p| &p.id == cup))
                .map(|cup| cup.effective_price().0)
        };
        let to_view = |p: &tapster_ledger::model::Product| view::Product {
            id: p.id.to_string(),
            name: p.name.clone(),
            subtitle: p.subtitle.clone(),
            category: p.category.to_string(),
            price_cents: p.effective_price().0,
            deposit_cents: deposit_of(p),
            background: p.background.as_str().into(),
            text_colour: p.text_colour.as_str().into(),
            stock: p.use_stock.then_some(p.stock),
            available: is_sellable(p, now),
            thumbnail_url: p.thumbnail_url.clone(),
            ribbon_colour: p.ribbon_colour.as_ref().map(|c| c.as_str().into()),
            sale_text: p.sale_text.clone(),
            on_sale: p.on_sale && p.sale_price.is_some(),
            sold_out: p.sold_out,
        };
        let mut grid: Vec<view::Product> = layout
            .iter()
            .filter_map(|id| products.iter().find(|p| &p.id == id))
            .map(to_view)
            .collect();
        if grid.is_empty() {
            grid = products
                .iter()
                .filter(|p| !p.returnable)
                .map(to_view)
                .collect();
        }
        Ok(view::Catalog {
            categories: category_views(&reader)?,
            products: grid,
            cup: products.iter().find(|p| p.returnable).map(to_view),
            stock_warnings: self
                .ledger
                .stock_warnings()?
                .into_iter()
                .map(|w| view::StockWarning {
                    item: w.item.to_string(),
                    name: w.name,
                    unit: w.unit,
                    on_hand: w.on_hand.to_string(),
                    level: match w.level {
                        tapster_ledger::inventory::StockLevel::Out => "out",
                        _ => "low",
                    }
                    .into(),
                })
                .collect(),
        })
    }

    /// What a cart costs, by the ledger's pricing.
    pub fn quote(&self, items: &[view::CartItem]) -> Result<view::Quote, AppError> {
        self.quote_with_pass(items, None)
    }

    /// What a cart costs with a scanned pass taken off, by the ledger's
    /// pricing: the pass's discount lines come after the goods. A pass
    /// that does not fit the cart (yet) leaves it priced without, and the
    /// quote says why.
    pub fn quote_with_pass(
        &self,
        items: &[view::CartItem],
        pass: Option<&str>,
    ) -> Result<view::Quote, AppError> {
        self.quote_order(items, pass, None)
    }

    /// [`Terminal::quote_with_pass`] with a tip (after the discount).
    pub fn quote_order(
        &self,
        items: &[view::CartItem],
        pass: Option<&str>,
        tip: Option<view::TipChoice>,
    ) -> Result<view::Quote, AppError> {
        self.staff()?;
        if items.is_empty() {
            return Ok(view::Quote {
                lines: Vec::new(),
                total_cents: 0,
                deposit_cents: 0,
                pass_waits: None,
            });
        }
        let pass = pass.map(|code| self.scanned_pass(code)).transpose()?;
        let reader = self.reader();
        let cart = order(items, tip)?;
        let mut priced = price_cart(&cart, |id| reader.product(id), self.clock.now())?;
        let mut pass_waits = None;
        if let Some(pass) = &pass {
            match tapster_ledger::passes::apply_pass(priced.clone(), pass) {
                Ok(discounted) => priced = discounted,
                Err(why) => pass_waits = Some(why.to_string()),
            }
        }
        let priced = tapster_ledger::bills::add_tip(priced, cart.tip)?;
        Ok(view::Quote {
            pass_waits,
            deposit_cents: priced.deposit_total().unwrap_or_default().0,
            total_cents: priced.total.0,
            lines: priced.lines.iter().map(quote_line).collect(),
        })
    }

    /// A pass scanned at this till (and not yet used here).
    pub(super) fn scanned_pass(
        &self,
        code: &str,
    ) -> Result<tapster_ledger::passes::Pass, AppError> {
        let code = tapster_ledger::passes::PassCode::parse(code)
            .map_err(tapster_ledger::LedgerError::from)?;
        lock(&self.scanned_passes)
            .get(code.as_str())
            .cloned()
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::PassRefused,
                    "this pass was not scanned at this till; scan it again",
                )
            })
    }

    /// Sells the cart: to a wristband (`token`), or for cash or card.
    pub async fn pay(
        &self,
        items: &[view::CartItem],
        tender: view::Tender,
        token_id: Option<&str>,
        idempotency_key: &str,
        expected_total_cents: Option<i64>,
    ) -> Result<view::Done, AppError> {
        self.pay_with_pass(
            items,
            tender,
            token_id,
            idempotency_key,
            expected_total_cents,
            None,
        )
        .await
    }

    /// Sells the cart with a scanned pass taken off: connected and online,
    /// the server redeems it with the debit; offline, this till lets it go
    /// no more often than the pass allows and the server settles uses
    /// across tills when the sale arrives.
    pub async fn pay_with_pass(
        &self,
        items: &[view::CartItem],
        tender: view::Tender,
        token_id: Option<&str>,
        idempotency_key: &str,
        expected_total_cents: Option<i64>,
        pass: Option<&str>,
    ) -> Result<view::Done, AppError> {
        self.pay_order(
            items,
            None,
            tender,
            token_id,
            idempotency_key,
            expected_total_cents,
            pass,
        )
        .await
    }

    /// [`Terminal::pay_with_pass`] with a tip: one sale, one tap.
    #[allow(clippy::too_many_arguments)]
    pub async fn pay_order(
        &self,
        items: &[view::CartItem],
        tip: Option<view::TipChoice>,
        tender: view::Tender,
        token_id: Option<&str>,
        idempotency_key: &str,
        expected_total_cents: Option<i64>,
        pass: Option<&str>,
    ) -> Result<view::Done, AppError> {
        let staff = self.staff()?;
        let request = SaleRequest {
            key: key(idempotency_key)?,
            staff: staff.id,
            cart: order(items, tip)?,
            tender: tender_in(tender),
            token: token_id.map(token).transpose()?,
            pass: pass.map(|code| self.scanned_pass(code)).transpose()?,
        };
        // The guest pays what the cashier showed, or nothing: a price that
        // changed since (a catalogue update from the server) is refused
        // before the wristband's tap is used.
        if let Some(expected) = expected_total_cents {
            let total = self.ledger.check_sale(&request)?;
            if total.0 != expected {
                return Err(AppError::new(
                    ErrorCode::PriceChanged,
                    format!("the cart now costs {total}, not {}", Cents(expected)),
                ));
            }
        }
        let tap = match &request.token {
            Some(token) => Some(self.take_band_tap(token)?),
            None => None,
        };
        let span = tracing::info_span!("sale", key = %request.key);
        let recorded: Result<_, AppError> = match &self.syncer {
            Some(syncer) => {
                let online = *lock(&self.sync_online);
                syncer
                    .authorise_sale(&request, online)
                    .instrument(span)
                    .await
                    .map_err(AppError::from)
            }
            None => span
                .in_scope(|| self.ledger.sell(&request, Authorisation::ThisLedger))
                .map_err(AppError::from),
        };
        match recorded {
            Ok(recorded) => self.finish_async(&recorded.entry).await,
            Err(error) => {
                if let (Some(token), Some(tap), ErrorCode::InsufficientFunds) =
                    (&request.token, tap, error.code)
                {
                    self.give_back_tap(token, tap);
                }
                Err(error)
            }
        }
    }

    pub fn top_up(
        &self,
        token_id: &str,
        amount_cents: i64,
        tender: view::Tender,
        idempotency_key: &str,
    ) -> Result<view::Done, AppError> {
        let staff = self.staff()?;
        let token = token(token_id)?;
        self.take_band_tap(&token)?;
        let recorded = self.ledger.top_up(
            &TopUpRequest {
                key: key(idempotency_key)?,
                staff: staff.id,
                token,
                amount: Cents(amount_cents),
                tender: tender_in(tender),
            },
            Authorisation::ThisLedger,
        )?;
        self.finish(&recorded.entry)
    }

    pub fn return_deposit(
        &self,
        token_id: Option<&str>,
        quantity: i64,
        tender: view::Tender,
        idempotency_key: &str,
    ) -> Result<view::Done, AppError> {
        let staff = self.staff()?;
        let cup = self
            .reader()
            .products(false)?
            .into_iter()
            .find(|p| p.returnable)
            .ok_or_else(|| {
                AppError::new(ErrorCode::NotReturnable, "this event has no deposit cups")
            })?;
        let recorded = self.ledger.return_deposit(
            &DepositReturnRequest {
                key: key(idempotency_key)?,
                staff: staff.id,
                token: token_id.map(token).transpose()?,
                product: cup.id,
                quantity,
                tender: tender_in(tender),
            },
            Authorisation::ThisLedger,
        )?;
        self.finish(&recorded.entry)
    }

    /// Cancels the logged-in cashier's last sale of the open shift.
    pub fn cancel_last(&self, idempotency_key: &str) -> Result<view::Done, AppError> {
        let staff = self.staff()?;
        let shift = self.ledger.current_shift()?.map(|s| s.id);
        let last = self
            .reader()
            .recent_entries(None, 200)?
            .into_iter()
            .find(|e| {
                e.kind == EntryKind::Sale
                    && e.staff == staff.id
                    && e.shift == shift
                    && shift.is_some()
            })
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NothingToCancel,
                    "you have no sale to cancel in this shift",
                )
            })?;
        // A bill is one order: its last sale cancels all of it, and the
        // receipt is that of its sale's reversal (or, still open, of its
        // last payment's).
        if let Some(bill) = tapster_ledger::bills::bill_of(&last.lines) {
            let cancelled = self
                .ledger
                .cancel_bill(&tapster_ledger::store::CancelBillRequest {
                    key: key(idempotency_key)?,
                    staff: staff.id,
                    bill,
                })?;
            self.sign_reversals_of(bill)?;
            let reversals: Vec<Entry> = self
                .reader()
                .recent_entries(None, 200)?
                .into_iter()
                .filter(|e| {
                    e.kind == EntryKind::Cancel
                        && tapster_ledger::bills::bill_of(&e.lines) == Some(bill)
                })
                .collect();
            let shown = reversals
                .iter()
                .find(|e| e.reverses.is_some() && e.reverses == cancelled.settled_by)
                .or_else(|| reversals.first())
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::NothingToCancel,
                        "the bill had nothing to give back",
                    )
                })?;
            return self.finish(shown);
        }
        let recorded = self.ledger.cancel(
            &CancelRequest {
                key: key(idempotency_key)?,
                staff: staff.id,
                entry: last.id,
            },
            Authorisation::ThisLedger,
        )?;
        self.finish(&recorded.entry)
    }

    /// A wristband's balance, cups and last entries.
    pub fn wallet(&self, token_id: &str) -> Result<view::Wallet, AppError> {
        self.staff()?;
        let token = token(token_id)?;
        let reader = self.reader();
        let products = reader.products(true)?;
        let found = reader.wallet(&token)?;
        let recent = reader
            .recent_entries(Some(&token), 5)?
            .into_iter()
            .map(|e| view::RecentEntry {
                kind: e.kind.to_string(),
                amount_cents: e.amount.0,
                at: e.terminal_time.0,
                summary: e
                    .lines
                    .iter()
                    .filter(|l| !l.deposit)
                    .map(|l| format!("{} × {}", l.quantity.abs(), l.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        Ok(match found {
            Some(wallet) => view::Wallet {
                token_masked: token.masked(),
                token: token.to_string(),
                known: true,
                blocked: wallet.blocked,
                balance_cents: wallet.available.0,
                promo_cents: wallet.promo.0,
                deposits: wallet
                    .deposits
                    .iter()
                    .filter(|d| d.count > 0)
                    .map(|d| view::DepositHeld {
                        name: products
                            .iter()
                            .find(|p| p.id == d.product)
                            .map_or_else(|| d.product.to_string(), |p| p.name.clone()),
                        count: d.count,
                    })
                    .collect(),
                recent,
            },
            None => view::Wallet {
                token_masked: token.masked(),
                token: token.to_string(),
                known: false,
                blocked: false,
                balance_cents: 0,
                promo_cents: 0,
                deposits: Vec::new(),
                recent,
            },
        })
    }

    /// Prints (or shows) the receipt of the last entry made here again,
    /// marked as a copy.
    pub fn reprint_last(&self) -> Result<view::Receipt, AppError> {
        self.staff()?;
        let id = lock(&self.last_entry).ok_or_else(|| {
            AppError::new(ErrorCode::NothingToCancel, "no receipt to print again yet")
        })?;
        let entry = self
            .reader()
            .entry(&id)?
            .ok_or_else(|| AppError::new(ErrorCode::Internal, "the last entry is gone"))?;
        self.receipt(&entry, true)
    }

    /// A tap from the on-screen demo reader.
    pub fn simulate_tap(&self, token_id: &str) -> Result<(), AppError> {
        let reader = self.simulated.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorCode::NotInDemoMode,
                "simulated taps exist only in demo mode",
            )
        })?;
        reader.tap(&token(token_id)?);
        Ok(())
    }

    /// A line a scanner in keyboard mode typed: a pass's code (the screen
    /// opens it) or, with a keyboard wristband reader, a wristband's UID,
    /// which becomes a tap like the PC/SC reader's (never a genuine one).
    pub fn scanned_line(&self, line: &str) -> Result<view::ScannedLine, AppError> {
        self.staff()?;
        match tapster_nfc::parse_scan(line, tapster_nfc::WedgeFormat::Auto) {
            Some(tapster_nfc::Scanned::Pass(code)) => Ok(view::ScannedLine {
                pass_code: Some(code.to_string()),
                wristband: false,
            }),
            Some(tapster_nfc::Scanned::Wristband(token)) => {
                let Some(taps) = &self.keyboard_taps else {
                    return Err(AppError::new(
                        ErrorCode::InvalidInput,
                        "a wristband number was typed, but this till takes wristbands from its reader only",
                    ));
                };
                let _ = taps.send(NfcEvent::Tap {
                    token_id: token.to_string(),
                    card: tapster_nfc::CardType::UltralightNtag,
                    reader: "keyboard".into(),
                    latency_micros: 0,
                    band: BandCheck::NotChecked,
                });
                Ok(view::ScannedLine {
                    pass_code: None,
                    wristband: true,
                })
            }
            None => Err(AppError::new(
                ErrorCode::InvalidInput,
                "the scanned code cannot be read",
            )),
        }
    }

    /// The band keys the reader checks taps with, to update them.
    pub fn band_keys(&self) -> tapster_nfc::SharedKeyring {
        self.band_keys.clone()
    }

    /// A simulated tap with a genuineness check's outcome (tests only: not
    /// a command the web page can call; needs the simulated reader).
    pub fn simulate_checked_tap(&self, token_id: &str, band: BandCheck) -> Result<(), AppError> {
        let reader = self.simulated.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorCode::NotInDemoMode,
                "simulated taps exist only in demo mode",
            )
        })?;
        reader.tap_checked(&token(token_id)?, band);
        Ok(())
    }

    /// An event from the simulated reader as the real reader reports it
    /// (tests only, like `simulate_checked_tap`).
    pub fn simulate_reader_event(&self, event: NfcEvent) -> Result<(), AppError> {
        let reader = self.simulated.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorCode::NotInDemoMode,
                "simulated taps exist only in demo mode",
            )
        })?;
        reader.report(event);
        Ok(())
    }

    /// The cashier confirmed a notice: it goes from every screen.
    pub fn dismiss_notice(&self, id: &str) -> view::Status {
        let snapshot = {
            let mut status = lock(&self.status);
            status.notices.retain(|n| n.id != id);
            status.clone()
        };
        (self.emit)(AppEvent::Status(snapshot));
        self.status()
    }

    pub fn status(&self) -> view::Status {
        let mut status = lock(&self.status).clone();
        if self.syncer.is_none() {
            status.pending = 0;
        }
        if self.printer.is_none() {
            status.printer = view::PrinterState::None;
        }
        status
    }

    /// Opens the drawer for the cashier whose shift is open here, or a
    /// supervisor.
    pub fn open_drawer(&self) -> Result<(), AppError> {
        let staff = self.staff()?;
        let owns_shift = self
            .ledger
            .current_shift()?
            .is_some_and(|shift| shift.staff == staff.id);
        if !owns_shift {
            check_role(staff.role, Action::OpenOthersDrawer)?;
        }
        match &self.printer {
            Some(queue) => {
                queue.open_drawer();
                Ok(())
            }
            None => Err(AppError::new(
                ErrorCode::PrinterProblem,
                "no printer (and drawer) is set up",
            )),
        }
    }

    fn receipt(&self, entry: &Entry, copy: bool) -> Result<view::Receipt, AppError> {
        let (ctx, cancelled, fiscal) = {
            let reader = self.reader();
            let ctx = ReceiptContext::for_entry(&reader, entry)?;
            let cancelled = match entry.reverses {
                Some(original) => reader.entry(&original)?,
                None => None,
            };
            let fiscal: Option<Signing> = reader
                .fiscal_receipt(&entry.id)?
                .and_then(|json| serde_json::from_str(&json).ok());
            (ctx, cancelled, fiscal)
        };
        let receipt = entry_receipt(
            &EntryReceipt {
                entry,
                cancelled: cancelled.as_ref(),
                copy,
                fiscal: fiscal.as_ref(),
            },
            &ctx,
            &self.options.receipt_format,
        )?;
        // A receipt that cannot be queued never undoes the sale: it is
        // shown on screen and can be reprinted.
        let queued = match &self.printer {
            Some(queue) => match queue.print(&receipt, &format!("#{}", entry.sequence)) {
                Ok(_) => true,
                Err(error) => {
                    tracing::warn!(%error, "receipt not queued");
                    false
                }
            },
            None => false,
        };
        Ok(view::Receipt {
            text: receipt.preview(),
            queued,
        })
    }

    /// What to ask the server to sign for an entry's receipt: `Ok(None)`
    /// when the event signs nothing, the entry is not a till's
    /// transaction, or its answer is kept already; `Err` with an outage
    /// when this till cannot ask now.
    fn fiscal_request(
        &self,
        entry: &Entry,
    ) -> Result<Result<Option<SignReceipt>, Signing>, AppError> {
        // On every sale's way: read on the reader, not under the writer's
        // lock that sync and the next sale want.
        let reader = self.reader();
        let signs = reader.settings()?.fiscal_signing != FiscalSigning::Off;
        // An adjustment on a band is the server's bookkeeping, not a till's.
        if !signs || (entry.kind == EntryKind::Adjustment && entry.token.is_some()) {
            return Ok(Ok(None));
        }
        if reader.fiscal_receipt(&entry.id)?.is_some() {
            return Ok(Ok(None));
        }
        if self.fiscal_signer.is_none() {
            return Ok(Err(Signing::Outage {
                reason: "this till is not connected to the event's server".into(),
            }));
        }
        // Offline: no request that could only time out.
        if !*lock(&self.sync_online) {
            return Ok(Err(Signing::Outage {
                reason: "this till is offline".into(),
            }));
        }
        let cancelled_kind = match entry.reverses {
            Some(original) => reader.entry(&original)?.map(|e| e.kind),
            None => None,
        };
        Ok(Ok(Some(SignReceipt {
            entry: entry.clone(),
            cancelled_kind,
        })))
    }

    /// Keeps the server's answer (or the outage) for the receipt and its
    /// reprints.
    fn keep_signing(&self, entry: &Entry, signing: &Signing) -> Result<(), AppError> {
        let json = serde_json::to_string(signing)
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
        self.ledger.keep_fiscal_receipt(&entry.id, &json)?;
        Ok(())
    }

    /// When the event signs (Germany's TSE): has the server sign the
    /// entry's receipt, and keeps the answer. No answer in time, or no
    /// server: an outage, printed as such; the sale stands. Blocks this
    /// thread (a blocking-pool or plain one) for at most the signer's
    /// timeout.
    fn sign_receipt(&self, entry: &Entry) -> Result<(), AppError> {
        let signing = match self.fiscal_request(entry)? {
            Ok(None) => return Ok(()),
            Ok(Some(request)) => match &self.fiscal_signer {
                Some(signer) => signer.sign(request, tapster_sync::fiscal::SIGN_TIMEOUT),
                None => return Ok(()),
            },
            Err(outage) => outage,
        };
        self.keep_signing(entry, &signing)
    }

    /// [`Terminal::sign_receipt`] for a sale finishing in an async task:
    /// awaits the signature instead of blocking the runtime's thread.
    async fn sign_receipt_async(&self, entry: &Entry) -> Result<(), AppError> {
        let signing = match self.fiscal_request(entry)? {
            Ok(None) => return Ok(()),
            Ok(Some(request)) => match &self.fiscal_signer {
                Some(signer) => {
                    signer
                        .sign_async(request, tapster_sync::fiscal::SIGN_TIMEOUT)
                        .await
                }
                None => return Ok(()),
            },
            Err(outage) => outage,
        };
        self.keep_signing(entry, &signing)
    }

    /// [`Terminal::sign_receipt`]; the entry is committed, so a failure
    /// only costs its TSE block.
    fn sign_or_log(&self, entry: &Entry) {
        if let Err(error) = self.sign_receipt(entry) {
            tracing::error!(%error, entry = %entry.id, "the receipt's signature was not kept");
        }
    }

    /// [`Terminal::sign_or_log`], awaited.
    pub(super) async fn sign_or_log_async(&self, entry: &Entry) {
        if let Err(error) = self.sign_receipt_async(entry).await {
            tracing::error!(%error, entry = %entry.id, "the receipt's signature was not kept");
        }
    }

    fn finish(&self, entry: &Entry) -> Result<view::Done, AppError> {
        self.sign_or_log(entry);
        self.done(entry)
    }

    /// [`Terminal::finish`] for a sale finishing in an async task.
    pub(super) async fn finish_async(&self, entry: &Entry) -> Result<view::Done, AppError> {
        self.sign_or_log_async(entry).await;
        self.done(entry)
    }

    /// The receipt of a committed (and, where the event signs, signed)
    /// entry, printed, and what the screen shows.
    fn done(&self, entry: &Entry) -> Result<view::Done, AppError> {
        *lock(&self.last_entry) = Some(entry.id);
        let receipt = self.receipt(entry, false)?;
        Ok(view::Done {
            entry_id: entry.id.to_string(),
            receipt_number: entry.sequence,
            kind: entry.kind.to_string(),
            tender: tender_out(entry.tender),
            amount_cents: entry.amount.0,
            token_masked: entry.token.as_ref().map(TokenId::masked),
            balance_after_cents: entry.balance_after.map(|b| b.0),
            offline: entry.offline,
            receipt,
        })
    }

    pub fn is_connected(&self) -> bool {
        self.ledger
            .settings()
            .map(|s| s.mode == EventMode::Connected)
            .unwrap_or(false)
    }
}

/// A band's tap, taken by a debit (kept to give back when the debit
/// did not use it).
struct TakenTap {
    at: Instant,
    check: BandCheck,
}

/// Where the reader's events go.
struct ReaderLoop {
    status: Arc<Mutex<view::Status>>,
    taps: Arc<Mutex<HashMap<TokenId, (Instant, BandCheck)>>>,
    station: encoding::SharedStationLog,
    band_keys: tapster_nfc::SharedKeyring,
    emit: Emitter,
}

/// Turns reader events into taps for the UI, bands for the encoding
/// station and the reader's state for the status bar.
fn spawn_reader_loop(events: mpsc::Receiver<NfcEvent>, to: ReaderLoop) {
    let ReaderLoop {
        status,
        taps,
        station,
        band_keys,
        emit,
    } = to;
    let _ = std::thread::Builder::new()
        .name("tapster-reader-events".into())
        .spawn(move || {
            for event in events {
                match event {
                    NfcEvent::Tap { token_id, band, .. } => {
                        let Ok(token) = TokenId::parse(&token_id) else {
                            continue;
                        };
                        let masked = token.masked();
                        lock(&taps).insert(token, (Instant::now(), band));
                        emit(AppEvent::Tap(view::Tap {
                            token: token_id,
                            token_masked: masked,
                            at_micros: now_micros(),
                        }));
                    }
                    NfcEvent::Encoded { encoded, .. } => encoding::on_station_event(
                        &station,
                        &band_keys,
                        &emit,
                        Some(&encoded.token_id),
                        Ok(&encoded),
                    ),
                    NfcEvent::EncodeFailed {
                        token_id, error, ..
                    } => encoding::on_station_event(
                        &station,
                        &band_keys,
                        &emit,
                        token_id.as_deref(),
                        Err(&error),
                    ),
                    other => {
                        let snapshot = {
                            let mut s = lock(&status);
                            match other {
                                NfcEvent::ReaderAdded { reader } => {
                                    s.reader = if reader == tapster_nfc::simulated::SIMULATED_READER
                                    {
                                        view::ReaderState::Simulated
                                    } else {
                                        view::ReaderState::Ready
                                    };
                                    s.reader_name = Some(reader);
                                }
                                NfcEvent::ReaderRemoved { .. } => {
                                    s.reader = view::ReaderState::NoReader;
                                    s.reader_name = None;
                                }
                                NfcEvent::ServiceUnavailable => {
                                    s.reader = view::ReaderState::ServiceDown;
                                }
                                NfcEvent::ServiceAvailable | NfcEvent::ReadFailed { .. } => {}
                                NfcEvent::Tap { .. }
                                | NfcEvent::Encoded { .. }
                                | NfcEvent::EncodeFailed { .. } => {}
                            }
                            s.clone()
                        };
                        emit(AppEvent::Status(snapshot));
                    }
                }
            }
        });
}
