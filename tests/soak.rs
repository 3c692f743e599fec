//! A till that runs all weekend, compressed: the app in its real window
//! (Xvfb, WebDriver), connected to the real server, with its PC/SC reader
//! (pcscd, the virtual reader, an emulated wristband) and its printer
//! (`emupos`), sells on and on — cash sales, wallet sales by band, top-ups,
//! cancellations, a shift change every 100 sales — through a printer out of
//! paper and back, the reader's service gone and back, and the server gone
//! and back. Along the way it samples the app's processes; at the end:
//! - open files and threads flat after warm-up, memory not growing beyond
//!   the noise, the ledger's WAL bounded (its checkpoints run), log files
//!   within their retention and rotated at the till's midnights;
//! - the app running with the memory settings it gives itself (glibc's
//!   malloc tunables, WebKit without compositing, JavaScript without JIT);
//! - every shift's count matched to the cent (the till's cash accounting
//!   over the whole run);
//! - the ledger verifies, and every entry reached the server exactly once.
//!
//! The till's wall clock runs fast (libfaketime, for the app process only;
//! its monotonic clock, which its timeouts and locks use, runs true): the
//! run spans days of the till's clock (its entries' times show it), so its
//! daily log files rotate and the server stays gone for at least an hour
//! of it.
//!
//! `TAPSTER_SOAK_SALES` sets the length (default 240: a few minutes, in the
//! test command), `TAPSTER_SOAK_CLOCK_SPEED` how fast the till's clock runs
//! (default 2000: two minutes are almost three days). The long run and its
//! last result are in BENCHMARKS.md:
//! `TAPSTER_SOAK_SALES=50000 TAPSTER_SOAK_CLOCK_SPEED=13 cargo test --release -p tapster-e2e --test soak -- --nocapture`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tapster_e2e::books::{assert_booked_once, ledger_entries, server_entries};
use tapster_e2e::printer::Emupos;
use tapster_e2e::sandbox::{self, Band};
use tapster_e2e::server::{Event, Server};
use tapster_e2e::window::{processes_of, App};
use tapster_e2e::{binaries, ledger_of_ended_app, printed};
use tapster_ledger::demo;

const FRIES: i64 = 4_00;
const FLOAT: i64 = 100_00;
const TOP_UP: i64 = 20_00;
const BANDS: u32 = 8;
/// libfaketime's library (Debian's `faketime` package).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
const HOUR: Duration = Duration::from_secs(3600);

/// The till's wall clock, moved on `speed` times as fast as the real one
/// from the moment the app started: libfaketime reads how far ahead it is
/// from a file (at most once a second), which [`TillClock::tick`] updates.
/// (libfaketime's own speed factor would also shorten every sleep and
/// poll's timeout, and the app would spin through its timers.)
struct TillClock {
    speed: u32,
    started: Instant,
    ahead: std::path::PathBuf,
    ticked: std::cell::Cell<Instant>,
}

impl TillClock {
    fn new(dir: &Path, speed: u32) -> TillClock {
        let clock = TillClock {
            speed,
            started: Instant::now(),
            ahead: dir.join("faketime"),
            ticked: std::cell::Cell::new(Instant::now()),
        };
        std::fs::write(&clock.ahead, "+0\n").unwrap();
        clock
    }

    /// How far the till's wall clock has moved since the app started.
    fn elapsed(&self) -> Duration {
        self.started.elapsed() * self.speed
    }

    /// Moves the till's clock on (called between sales).
    fn tick(&self) {
        if self.ticked.get().elapsed() < Duration::from_millis(250) {
            return;
        }
        self.ticked.set(Instant::now());
        let ahead = self.started.elapsed() * (self.speed - 1);
        let next = self.ahead.with_extension("next");
        std::fs::write(&next, format!("+{}\n", ahead.as_secs())).unwrap();
        std::fs::rename(&next, &self.ahead).unwrap();
    }

    /// The app's environment: libfaketime for the app process alone (not
    /// WebDriver or WebKit's processes), its wall clock only.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LD_PRELOAD", FAKETIME.to_string()),
            ("FAKETIME_TIMESTAMP_FILE", self.ahead.display().to_string()),
            ("FAKETIME_CACHE_DURATION", "1".to_string()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_string()),
            ("FAKETIME_ONLY_CMDS", "tapster-app".to_string()),
        ]
    }
}

/// The times of the till's first and latest entry (its wall clock, in
/// milliseconds).
fn entry_times(ledger: &Path) -> (i64, i64) {
    let connection =
        rusqlite::Connection::open_with_flags(ledger, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    connection
        .query_row(
            "SELECT MIN(terminal_time), MAX(terminal_time) FROM entries",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
}

/// One look at the app's processes.
#[derive(Debug, Clone, Copy)]
struct Sample {
    sales: usize,
    pss_mib: f64,
    open_files: usize,
    threads: usize,
    wal_kib: u64,
    log_files: usize,
}

fn sample(data: &Path, sales: usize) -> Sample {
    let processes = processes_of(data);
    let app = processes
        .iter()
        .find(|p| p.name.starts_with("tapster"))
        .expect("the app's process");
    Sample {
        sales,
        pss_mib: processes.iter().map(|p| p.pss_mib).sum(),
        open_files: app.open_files,
        threads: app.threads,
        wal_kib: std::fs::metadata(data.join("ledger.sqlite-wal")).map_or(0, |m| m.len() / 1024),
        log_files: std::fs::read_dir(data.join("logs")).map_or(0, |d| d.count()),
    }
}

/// The till's status as its page gets it.
fn status(app: &App) -> Value {
    app.post_async(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('status').then(done, e => done({ error: String(e) }));",
    )
}

fn wait_status(app: &App, what: &str, ready: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = status(app);
        if ready(&now) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the till says {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The cashier and the till through one long run, and what is counted.
struct Bar<'a> {
    app: App,
    band: &'a Band,
    /// Cash the drawer should hold in the open shift.
    expected_cash: i64,
    sales: usize,
    shifts: usize,
}

impl Bar<'_> {
    fn finish(&self) {
        self.app.wait("result-success");
        self.app.click("result-next");
        self.app.wait_gone("result-success");
    }

    fn cash_sale(&mut self) {
        self.app.click("product-fries");
        self.app.wait_text("cart-total", &printed(FRIES));
        self.app.click("pay-cash");
        self.finish();
        self.expected_cash += FRIES;
        self.sales += 1;
    }

    fn wallet_sale(&mut self, band: &str) {
        self.app.click("product-fries");
        self.app.wait_text("cart-total", &printed(FRIES));
        self.band.lay(band);
        self.app.wait("result-success");
        self.band.take_away();
        self.app.click("result-next");
        self.app.wait_gone("result-success");
        self.sales += 1;
    }

    fn top_up(&mut self, band: &str) {
        self.app.click("nav-top_up");
        self.app.wait("screen-top-up");
        self.app.click("quick-2000");
        self.app.wait_text("top-up-amount", &printed(TOP_UP));
        self.band.lay(band);
        self.app.wait("result-success");
        self.band.take_away();
        self.app.click("result-next");
        self.app.wait_gone("result-success");
        self.expected_cash += TOP_UP;
        self.app.click("nav-sell");
        self.app.wait("screen-sell");
    }

    /// Cancels the last sale (a cash sale: the drawer gives it back).
    fn cancel_last_cash_sale(&mut self) {
        self.app.click("nav-cancel-last");
        self.app.wait("result-success");
        self.app.wait_gone("result-success");
        self.expected_cash -= FRIES;
    }

    fn open_shift(&mut self) {
        self.app.wait("screen-open-shift");
        self.app.press("Escape");
        self.app.type_keys(&FLOAT.to_string());
        self.app.wait_text("float-display", &printed(FLOAT));
        self.app.click("open-shift");
        self.app.wait("screen-sell");
        self.expected_cash = FLOAT;
    }

    /// Closes the shift with the cash the test counted, which must be what
    /// the till expects to the cent, and opens the next.
    fn change_shift(&mut self) {
        self.app.click("nav-close-shift");
        self.app.wait("screen-close-shift");
        self.app.type_keys(&self.expected_cash.to_string());
        self.app
            .wait_text("counted-display", &printed(self.expected_cash));
        self.app.click("close-shift");
        self.app.wait("z-summary");
        let difference = self.app.text("z-difference");
        assert_eq!(
            tapster_e2e::cents(&difference),
            0,
            "shift {} counted {}",
            self.shifts + 1,
            printed(self.expected_cash)
        );
        self.app.click("z-done");
        self.shifts += 1;
        self.open_shift();
    }
}

/// The app runs with the memory settings it gives itself (BENCHMARKS.md):
/// glibc's malloc tunables (it starts itself again with them) and, in its
/// web process, WebKit without compositing and JavaScript without JIT.
fn assert_lean_settings(data: &Path) {
    let environment = |name: &str| -> Vec<String> {
        let process = processes_of(data)
            .into_iter()
            .find(|p| p.name.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} process"));
        std::fs::read(format!("/proc/{}/environ", process.pid))
            .unwrap()
            .split(|byte| *byte == 0)
            .map(|variable| String::from_utf8_lossy(variable).into_owned())
            .collect()
    };
    // glibc ends each tunable's value with a NUL where it stands as it
    // reads them: the process's environment shows the first one.
    let app = environment("tapster");
    let tuned = app.iter().any(|variable| {
        variable
            .strip_prefix("GLIBC_TUNABLES=")
            .is_some_and(|first| {
                tapster_app::MALLOC_TUNABLES.starts_with(first) && !first.is_empty()
            })
    });
    assert!(tuned, "the app without its malloc tunables: {app:?}");
    let web = environment("WebKitWebProces");
    for setting in ["WEBKIT_DISABLE_COMPOSITING_MODE=1", "JSC_useJIT=false"] {
        assert!(web.iter().any(|v| v == setting), "{setting}");
    }
}

#[test]
fn a_till_sells_through_faults_and_stays_flat() {
    let Some(band) = sandbox::enter("a_till_sells_through_faults_and_stays_flat") else {
        return;
    };
    let total: usize = std::env::var("TAPSTER_SOAK_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    assert!(total >= 200, "a soak of fewer than 200 sales shows nothing");
    let event = Event::new(BANDS, 50_00);
    let server = Server::start(&event.db, 0.0);
    let address = server.address.clone();
    let (terminal, token) = event.terminal("Bar Dauerlauf");
    let printer = Emupos::start();
    let (base, fingerprint) = (server.base(), server.fingerprint.to_string());
    let args = [
        "--server",
        &base,
        "--event",
        &event.id,
        "--token",
        &token,
        "--terminal",
        &terminal,
        "--fingerprint",
        &fingerprint,
    ];
    let hardware = sandbox::till_hardware(&printer);
    let args: Vec<&str> = args
        .into_iter()
        .chain(hardware.iter().map(String::as_str))
        .collect();
    let data = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-soak");
    let _ = std::fs::remove_dir_all(&shots);
    assert!(
        Path::new(FAKETIME).exists(),
        "libfaketime (scripts/setup.sh installs faketime)"
    );
    let speed = std::env::var("TAPSTER_SOAK_CLOCK_SPEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let clock = TillClock::new(data.path(), speed);
    let env = clock.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::launch_with_env(&binaries::app(), &args, &env, data.path(), &shots);
    app.wait_text("status-connectivity", "Online");
    assert_lean_settings(data.path());
    app.wait("screen-login");
    app.type_keys("1111");
    app.press("Enter");
    let mut bar = Bar {
        app,
        band: &band,
        expected_cash: 0,
        sales: 0,
        shifts: 0,
    };
    bar.open_shift();

    let bands: Vec<String> = (1..=BANDS)
        .map(|n| demo::wristband(n).to_string())
        .collect();
    let every = (total / 20).max(1);
    let (paper_out, reader_gone, server_gone) = (total * 3 / 10, total / 2, total * 7 / 10);
    let fault_length = (total / 20).max(10);
    let mut samples = Vec::new();
    let mut server = Some(server);
    let ledger_file = data.path().join("ledger.sqlite");
    let mut server_gone_at = 0;
    // The server stays gone for its share of the sales and at least an
    // hour of the till's clock.
    let mut server_back_at = usize::MAX;
    while bar.sales < total {
        clock.tick();
        let n = bar.sales;
        let faulty = |start: usize| (start..start + fault_length).contains(&n);
        let server_away = (server_gone..server_back_at).contains(&n);
        if n == paper_out {
            printer.set_fault("paper-out", true);
        }
        if n == paper_out + fault_length {
            wait_status(&bar.app, "the printer out of paper", |s| {
                s["printer"] == "paper_out" && s["print_jobs_waiting"].as_i64() > Some(0)
            });
            bar.app.screenshot("paper-out");
            printer.set_fault("paper-out", false);
            wait_status(&bar.app, "the receipts printed after the paper", |s| {
                s["printer"] == "ok" && s["print_jobs_waiting"] == 0
            });
        }
        if n == reader_gone {
            band.stop_reader_service();
            wait_status(&bar.app, "the reader gone", |s| s["reader"] != "ready");
            bar.app.screenshot("reader-gone");
        }
        if n == reader_gone + fault_length {
            band.start_reader_service();
            wait_status(&bar.app, "the reader back", |s| s["reader"] == "ready");
        }
        if n == server_gone {
            server.take().unwrap().kill();
            server_gone_at = entry_times(&ledger_file).1;
            wait_status(&bar.app, "the server gone", |s| {
                s["connectivity"] != "online"
            });
            bar.app.screenshot("server-gone");
        }
        if server.is_none() && n >= server_gone + fault_length {
            // By the till's own clock: its entries' times.
            let away = Duration::from_millis(
                u64::try_from(entry_times(&ledger_file).1 - server_gone_at).unwrap(),
            );
            if away >= HOUR {
                println!(
                    "the server was gone for {} sales, {} minutes of the till's clock",
                    n - server_gone,
                    away.as_secs() / 60
                );
                server = Some(Server::start_on(&event.db, 0.0, &address));
                wait_status(&bar.app, "the server back", |s| {
                    s["connectivity"] == "online"
                });
                server_back_at = n;
            }
        }

        // The bar's mix: mostly cash; a band every 10th sale (not while the
        // reader or the server is gone: the guest would pay cash then).
        let by_band = n % 10 == 5 && !faulty(reader_gone) && !server_away;
        if by_band {
            let next = &bands[(n / 10) % bands.len()];
            // A top-up every 50th sale, band after band: what the bands
            // spend in between (5 sales each per 400) comes back, so no
            // band runs dry or over its highest balance however long the run.
            if n % 50 == 5 {
                bar.top_up(next);
            }
            bar.wallet_sale(next);
        } else {
            bar.cash_sale();
            if n % 25 == 24 {
                bar.cancel_last_cash_sale();
            }
        }
        if bar.sales.is_multiple_of(100) {
            bar.change_shift();
        }
        if bar.sales.is_multiple_of(every) {
            let now = sample(data.path(), bar.sales);
            println!(
                "{:>6} sales  PSS {:>4.0} MiB  open files {:>3}  threads {:>3}  WAL {:>5} KiB  log files {}",
                now.sales, now.pss_mib, now.open_files, now.threads, now.wal_kib, now.log_files
            );
            samples.push(now);
        }
    }
    assert!(
        server.is_some(),
        "the run ended before an hour of the till's clock had passed without its server: \
         a faster clock (TAPSTER_SOAK_CLOCK_SPEED) or more sales"
    );
    bar.change_shift();
    // Everything reaches the server (by its books, not the status bar's
    // count, which a sync round updates).
    let deadline = Instant::now() + Duration::from_secs(60);
    while server_entries(&event.db, &terminal).len() < ledger_entries(&ledger_file).len() {
        assert!(Instant::now() < deadline, "entries stay behind on the till");
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_status(&bar.app, "nothing pending", |s| s["pending"] == 0);
    bar.app.screenshot("after-the-soak");

    // Flat after warm-up (the first quarter): the later half against the
    // warm-up's highest, with the noise of a running WebKit allowed.
    let warm = samples.len() / 4;
    let (warm_up, later) = (
        &samples[warm..samples.len() / 2],
        &samples[samples.len() / 2..],
    );
    let highest = |s: &[Sample], f: fn(&Sample) -> f64| s.iter().map(f).fold(0.0, f64::max);
    let files = |s: &Sample| s.open_files as f64;
    let threads = |s: &Sample| s.threads as f64;
    let memory = |s: &Sample| s.pss_mib;
    assert!(
        highest(later, files) <= highest(warm_up, files) + 8.0,
        "open files grow: {samples:#?}"
    );
    assert!(
        highest(later, threads) <= highest(warm_up, threads) + 4.0,
        "threads grow: {samples:#?}"
    );
    assert!(
        highest(later, memory) <= highest(warm_up, memory) * 1.25,
        "memory grows: {samples:#?}"
    );
    assert!(
        samples.iter().all(|s| s.wal_kib <= 16 * 1024),
        "the WAL is not checkpointed: {samples:#?}"
    );
    assert!(
        samples.iter().all(|s| s.log_files <= 15),
        "log files beyond their retention: {samples:#?}"
    );
    // The till's wall clock ran fast (the ledger's times show it), and its
    // daily log rotated at each of its midnights, within the retention.
    let till_time = clock.elapsed();
    let logs = sample(data.path(), bar.sales).log_files;
    let (first, last) = entry_times(&ledger_file);
    let ledger_span = Duration::from_millis(u64::try_from(last - first).unwrap());
    println!(
        "the till's clock ran {} h ({} h between its first and last entry); {logs} log files",
        till_time.as_secs() / 3600,
        ledger_span.as_secs() / 3600
    );
    assert!(
        ledger_span >= till_time / 2,
        "the till's clock did not run fast: its entries span {ledger_span:?}"
    );
    // Two midnights are in any 48 hours, one at least in any 36.
    if till_time >= Duration::from_secs(36 * 3600) {
        assert!(
            logs >= 2,
            "the till's daily log did not rotate: {logs} file"
        );
    }
    let printed_receipts = printer.receipt_ids().len();
    assert!(
        printed_receipts >= bar.sales,
        "{printed_receipts} receipts printed"
    );

    drop(bar);
    let ledger = ledger_of_ended_app(data.path(), &terminal);
    assert_eq!(ledger.verify_chain().unwrap(), vec![], "the till's chain");
    assert_booked_once(&ledger_file, &event.db, &terminal);
    drop(server);
    assert!(event.check(), "tapster-server check is clean");
}
