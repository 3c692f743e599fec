//! The real ESC/POS printer emulator `emupos` (PyPI) as a test printer, and
//! a demo bar ledger with one entry of each kind.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tapster_ledger::demo;
use tapster_ledger::model::Entry;
use tapster_ledger::model::Tender;
use tapster_ledger::pin::PinHashCost;
use tapster_ledger::pricing::Cart;
use tapster_ledger::store::{
    Authorisation, CancelRequest, CloseShiftRequest, DepositReturnRequest, OpenShiftRequest,
    PayoutRequest, SaleRequest, TopUpRequest, ZReport,
};
use tapster_ledger::{
    Cents, IdempotencyKey, Ledger, LedgerOptions, ManualClock, StaffId, TerminalId, Timestamp,
};
use tapster_print::document::{Block, Receipt};
use tapster_print::PrinterUri;

/// Where `scripts/setup.sh` installs emupos; `TAPSTER_EMUPOS` overrides.
pub fn emupos_binary() -> PathBuf {
    if let Ok(path) = std::env::var("TAPSTER_EMUPOS") {
        return PathBuf::from(path);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let cache = std::env::var("XDG_CACHE_HOME").unwrap_or_else(|_| format!("{home}/.cache"));
    let path = PathBuf::from(cache).join("tapster/emupos-venv/bin/emupos");
    assert!(
        path.exists(),
        "the printer emulator is missing at {}: run scripts/setup.sh (it installs emupos)",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub fn wait_until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One emupos process with one Epson TM-T20III on its own TCP port.
pub struct Emupos {
    child: Child,
    pub port: u16,
    pub api: u16,
    pub dir: tempfile::TempDir,
    http: reqwest::blocking::Client,
}

pub const DEVICE: &str = "front";

impl Emupos {
    pub fn start() -> Emupos {
        Emupos::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Emupos {
        let dir = tempfile::tempdir().unwrap();
        let api = loop {
            let candidate = free_port();
            if candidate != port {
                break candidate;
            }
        };
        let config = format!(
            "schema: 1\napi: {{ host: 127.0.0.1, port: {api} }}\ndevices:\n  - id: {DEVICE}\n    type: printer\n    profile: epson-tm-t20iii\n    connections:\n      - tcp: {{ port: {port} }}\n    receipts_dir: {}\n    job_idle_timeout_ms: 1500\n",
            dir.path().join("receipts").display()
        );
        let config_path = dir.path().join("emupos.yaml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("emupos.log")).unwrap();
        let child = Command::new(emupos_binary())
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("emupos starts");
        let emupos = Emupos {
            child,
            port,
            api,
            dir,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        wait_until(Duration::from_secs(30), "emupos to listen", || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        emupos
    }

    pub fn uri(&self) -> PrinterUri {
        PrinterUri::Tcp {
            host: "127.0.0.1".into(),
            port: self.port,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/api/v1/devices/{DEVICE}{path}",
            self.api
        )
    }

    pub fn device(&self) -> Value {
        self.http.get(self.url("")).send().unwrap().json().unwrap()
    }

    pub fn drawer_open(&self) -> bool {
        self.device()["state"]["drawer"] == "open"
    }

    pub fn close_drawer(&self) {
        let status = self
            .http
            .post(self.url("/drawer/close"))
            .send()
            .unwrap()
            .status();
        assert!(status.is_success(), "{status}");
    }

    pub fn set_fault(&self, fault: &str, on: bool) {
        let request = if on {
            self.http.put(self.url(&format!("/faults/{fault}")))
        } else {
            self.http.delete(self.url(&format!("/faults/{fault}")))
        };
        let status = request.send().unwrap().status();
        assert!(status.is_success(), "{status}");
    }

    /// The printed receipts' ids, oldest first.
    pub fn receipt_ids(&self) -> Vec<String> {
        let list: Vec<Value> = self
            .http
            .get(self.url("/receipts"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let mut ids: Vec<String> = list
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        // Ids start with the completion time: sorting puts the oldest first.
        ids.sort();
        ids
    }

    pub fn receipt_text(&self, id: &str) -> String {
        self.http
            .get(self.url(&format!("/receipts/{id}/text")))
            .send()
            .unwrap()
            .text()
            .unwrap()
    }

    /// The printed receipts' texts, oldest first.
    pub fn receipts(&self) -> Vec<String> {
        self.receipt_ids()
            .iter()
            .map(|id| self.receipt_text(id))
            .collect()
    }

    /// Waits until at least `count` receipts were printed; their texts.
    pub fn wait_for_receipts(&self, count: usize) -> Vec<String> {
        let ids = wait_until(
            Duration::from_secs(30),
            &format!("{count} receipts"),
            || {
                let ids = self.receipt_ids();
                (ids.len() >= count).then_some(ids)
            },
        );
        ids.iter().map(|id| self.receipt_text(id)).collect()
    }

    /// Waits for the receipt after the first `before` and returns its text.
    pub fn next_receipt(&self, before: usize) -> String {
        let ids = wait_until(Duration::from_secs(30), "the next receipt", || {
            let ids = self.receipt_ids();
            (ids.len() > before).then_some(ids)
        });
        assert_eq!(ids.len(), before + 1, "more than one receipt printed");
        self.receipt_text(&ids[before])
    }

    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Emupos {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// The lines a printer should print for `receipt`: blank lines dropped,
/// trailing spaces trimmed, QR codes as emupos writes them.
pub fn expected_lines(receipt: &Receipt) -> Vec<String> {
    receipt
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Line { text, .. } => Some(text.trim_end().to_string()),
            Block::Qr { payload } => Some(format!("[qr {payload}]")),
            Block::Feed { .. } => None,
        })
        .filter(|line| !line.is_empty())
        .collect()
}

pub fn printed_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// 2026-07-17 20:30 in Berlin.
pub const START: Timestamp = Timestamp(1_784_313_000_000);

/// A demo bar with one entry of each kind and a closed shift.
pub struct Night {
    pub dir: tempfile::TempDir,
    pub ledger: Ledger,
    pub sale: Entry,
    pub cash_sale: Entry,
    pub top_up: Entry,
    pub cancel: Entry,
    pub deposit_return: Entry,
    pub payout: Entry,
    pub z_report: ZReport,
}

pub fn staff(id: &str) -> StaffId {
    StaffId::new(id).unwrap()
}

fn key(n: &str) -> IdempotencyKey {
    IdempotencyKey::new(n).unwrap()
}

impl Night {
    pub fn new() -> Night {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let ledger = Ledger::open(
            dir.path().join("ledger.sqlite"),
            LedgerOptions::new(TerminalId::new("bar-1").unwrap())
                .with_clock(clock.clone())
                .with_pin_cost(PinHashCost::Fast),
        )
        .unwrap();
        demo::seed(&ledger, 3).unwrap();
        let mut settings = ledger.settings().unwrap();
        settings.name = "Sommerfest Würzburg".into();
        settings.receipt_header = "Biergarten am Main".into();
        settings.receipt_footer = "Danke & Prost!".into();
        ledger.update_settings(&settings).unwrap();
        let mut terminal = ledger.terminal().unwrap();
        terminal.friendly_name = "Bar Nord – Zelt 1".into();
        ledger.upsert_terminal(&terminal).unwrap();
        let anna = staff("anna");
        ledger
            .open_shift(&OpenShiftRequest {
                key: key("open"),
                staff: anna.clone(),
                float: Cents(100_00),
            })
            .unwrap();
        let band = demo::wristband(1);
        let top_up = ledger
            .top_up(
                &TopUpRequest {
                    key: key("top-up"),
                    staff: anna.clone(),
                    token: band.clone(),
                    amount: Cents(50_00),
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
            .entry;
        clock.advance_secs(60);
        let cart = Cart::new()
            .with(&demo::product("beer"), 2)
            .with(&demo::product("wine"), 1)
            .with(&demo::product("bratwurst"), 1);
        let sale = ledger
            .sell(
                &SaleRequest {
                    key: key("sale"),
                    staff: anna.clone(),
                    cart,
                    tender: Tender::Wallet,
                    token: Some(band.clone()),
                    pass: None,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
            .entry;
        clock.advance_secs(60);
        let cash_sale = ledger
            .sell(
                &SaleRequest {
                    key: key("cash-sale"),
                    staff: anna.clone(),
                    cart: Cart::new().with(&demo::product("cola"), 1),
                    tender: Tender::Cash,
                    token: None,
                    pass: None,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
            .entry;
        clock.advance_secs(60);
        let cancel = ledger
            .cancel(
                &CancelRequest {
                    key: key("cancel"),
                    staff: anna.clone(),
                    entry: cash_sale.id,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
            .entry;
        clock.advance_secs(60);
        let deposit_return = ledger
            .return_deposit(
                &DepositReturnRequest {
                    key: key("cups"),
                    staff: anna.clone(),
                    token: Some(band.clone()),
                    product: demo::product("cup"),
                    quantity: 2,
                    tender: Tender::Wallet,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
            .entry;
        clock.advance_secs(60);
        let payout = ledger
            .payout(
                &PayoutRequest {
                    key: key("payout"),
                    staff: anna.clone(),
                    token: band,
                    tender: Tender::Cash,
                },
                Authorisation::ThisLedger,
            )
            .unwrap()
            .entry;
        clock.advance_secs(600);
        let expected = ledger
            .reader()
            .unwrap()
            .shift_report(&sale.shift.unwrap())
            .unwrap()
            .expected_cash;
        let z_report = ledger
            .close_shift(&CloseShiftRequest {
                key: key("close"),
                staff: anna,
                counted: Cents(expected.0 - 1_50),
            })
            .unwrap();
        Night {
            dir,
            ledger,
            sale,
            cash_sale,
            top_up,
            cancel,
            deposit_return,
            payout,
            z_report,
        }
    }

    pub fn entries(&self) -> [&Entry; 6] {
        [
            &self.sale,
            &self.cash_sale,
            &self.top_up,
            &self.cancel,
            &self.deposit_return,
            &self.payout,
        ]
    }
}
