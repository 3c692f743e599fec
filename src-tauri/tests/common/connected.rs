//! A till core connected to a real server: the app's `Terminal` without a
//! window, with its sync task, as the connected tests and the end-to-end
//! festival (`tests/`) run it. On-screen taps stand in for the reader.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tapster_app::config::{syncer, ServerSettings};
use tapster_app::terminal::{AppEvent, Options, Terminal};
use tapster_app::view::Connectivity;
use tapster_ledger::{SystemClock, TerminalId};

/// Polls `ready` until it holds (30 s at most).
pub fn wait(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The settings of a till on `url` that pins the server's `fingerprint`,
/// as its setup code gives them.
pub fn pinned(
    url: String,
    event: &str,
    token: String,
    fingerprint: tapster_sync::Fingerprint,
) -> ServerSettings {
    ServerSettings {
        url,
        event: event.to_string(),
        token,
        fingerprint: Some(fingerprint),
        next_fingerprint: None,
    }
}

pub struct ConnectedTill {
    pub terminal: Terminal,
    pub taps: Arc<Mutex<usize>>,
    pub statuses: Arc<Mutex<Vec<Connectivity>>>,
    pub runtime: tokio::runtime::Runtime,
    pub handle: tapster_sync::SyncHandle,
    pub token: String,
    /// Its data (ledger, logs) and config.
    pub dir: tempfile::TempDir,
}

impl ConnectedTill {
    /// Terminal `terminal_id` of the server in `settings`, its options as a
    /// test's (`super::options`) with `change` made; returns once it is
    /// online with the server's catalogue.
    pub fn connect(
        settings: ServerSettings,
        terminal_id: &str,
        change: impl FnOnce(&mut Options),
    ) -> ConnectedTill {
        let dir = tempfile::tempdir().unwrap();
        let mut options = Options {
            terminal: TerminalId::new(terminal_id).unwrap(),
            demo: false,
            simulated_reader: true,
            ..super::options(dir.path())
        };
        change(&mut options);
        let taps = Arc::new(Mutex::new(0usize));
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let (seen_taps, seen_statuses) = (taps.clone(), statuses.clone());
        let mut terminal = Terminal::start(
            options,
            Arc::new(move |event| match event {
                AppEvent::Tap(_) => *seen_taps.lock().unwrap() += 1,
                AppEvent::Status(status) => seen_statuses.lock().unwrap().push(status.connectivity),
                AppEvent::Encoding(_) => {}
            }),
        )
        .unwrap();
        let token = settings.token.clone();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sync = syncer(&settings, dir.path(), terminal.ledger().clone()).unwrap();
        let handle = runtime.block_on(async {
            let handle = tapster_sync::start(sync.clone(), Arc::new(SystemClock));
            terminal.connect(sync, handle.status.clone(), false);
            handle
        });
        wait("online with the catalogue", || {
            terminal.status().connectivity == Connectivity::Online
                && terminal
                    .catalog()
                    .map(|c| c.products.iter().any(|p| p.id == "beer"))
                    .unwrap_or(false)
        });
        ConnectedTill {
            terminal,
            taps,
            statuses,
            runtime,
            handle,
            token,
            dir,
        }
    }

    /// The wristband on the (simulated) reader; returns once the till has
    /// seen it.
    pub fn tap(&self, token: &str) {
        let before = *self.taps.lock().unwrap();
        self.terminal.simulate_tap(token).unwrap();
        wait("the tap", || *self.taps.lock().unwrap() > before);
    }

    /// Logs in as the app does: the PIN here, then the server session.
    pub fn login(&self, pin: &str) {
        self.terminal.login(pin).unwrap();
        let _ = self
            .runtime
            .block_on(self.terminal.open_server_session(pin));
    }

    /// Waits until the server has decided everything this till holds.
    pub fn wait_synced(&self) {
        wait("nothing pending", || {
            self.handle.sync_now();
            self.terminal.status().pending == 0
                && self.terminal.ledger().pending_count().unwrap_or(1) == 0
        });
    }
}
