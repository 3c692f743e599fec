//! Runs a command beside a private pcscd with the virtual reader and a
//! controllable card (see `run.sh` and `vpcd_card.py`), and reads the
//! command's JSON lines. Shared by the tests and the benchmark.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// This file's directory (tests of other crates include it by `#[path]`):
/// `file!()` is relative to the workspace root, found above the crate.
pub fn sandbox_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .unwrap_or(crate_dir);
    root.join(file!()).parent().unwrap().to_path_buf()
}

/// The `tapster-nfc` binary, brought up to date first (tests of other
/// crates have no `CARGO_BIN_EXE_tapster-nfc`).
pub fn nfc_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args([
        "build",
        "--quiet",
        "-p",
        "tapster-nfc",
        "--bin",
        "tapster-nfc",
    ]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(build.status().expect("build tapster-nfc").success());
    dir.join("tapster-nfc")
}

pub struct Sandbox {
    child: Child,
    pub events: Receiver<Value>,
    control: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    /// Starts `command` (a program and its arguments) in the sandbox.
    pub fn start(command: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let control = dir.path().join("card.sock");
        let script = sandbox_dir().join("run.sh");
        let mut child = Command::new("unshare")
            .args(["-m", "-n", "--propagation", "private"])
            .arg(&script)
            .arg(&control)
            .args(command)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("unshare (the tests run as root)");
        let stdout = child.stdout.take().unwrap();
        let (sender, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    if sender.send(value).is_err() {
                        break;
                    }
                }
            }
        });
        Sandbox {
            child,
            events,
            control,
            _dir: dir,
        }
    }

    /// Tells the card emulator something (`insert UID`, `remove`, `cut`,
    /// `pcscd-stop`, `pcscd-start`).
    pub fn card(&self, command: &str) {
        tell_card(&self.control, command);
    }

    /// The next event matching `what`, within `within`; others are skipped.
    pub fn expect(&self, within: Duration, what: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if what(&event) => return event,
                Ok(_) => continue,
                Err(_) => panic!("no matching event within {within:?}"),
            }
        }
    }

    /// No event matching `what` for `during`.
    pub fn quiet(&self, during: Duration, what: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + during;
        while let Ok(event) = self
            .events
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            assert!(!what(&event), "unexpected {event}");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = UnixStream::connect(&self.control).and_then(|mut s| writeln!(s, "quit"));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// pcscd polls the virtual reader every 400 ms: wait that out between a
/// removal and the next card.
pub const POLL: Duration = Duration::from_millis(700);

/// Tells the card emulator listening on `control` something, and waits for
/// its `ok`.
pub fn tell_card(control: &Path, command: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match UnixStream::connect(control) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => panic!("card emulator not reachable: {error}"),
        }
    };
    let mut writer = stream.try_clone().unwrap();
    writeln!(writer, "{command}").unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).unwrap();
    assert_eq!(answer.trim(), "ok", "{command}");
}
