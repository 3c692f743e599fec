//! The watcher against the real stack: pcscd with the virtual reader of
//! vsmartcard-vpcd and a card emulator (`tests/sandbox/vpcd_card.py`), in
//! private mount and network namespaces so the machine's own pcscd is not
//! touched. Needs root, `unshare`, `pcscd` and `vsmartcard-vpcd` (the
//! setup script installs them).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

const WATCH: &str = env!("CARGO_BIN_EXE_tapster-nfc");
const READER: &str = "Virtual PCD 00 00";

struct Sandbox {
    child: Child,
    events: Receiver<Value>,
    control: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    fn start() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let control = dir.path().join("card.sock");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox/run.sh");
        let mut child = Command::new("unshare")
            .args(["-m", "-n", "--propagation", "private"])
            .arg(&script)
            .arg(&control)
            .args([WATCH, "watch"])
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

    fn card(&self, command: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let stream = loop {
            match UnixStream::connect(&self.control) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(error) => panic!("card emulator not reachable: {error}"),
            }
        };
        let mut writer = stream.try_clone().unwrap();
        writeln!(writer, "{command}").unwrap();
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).unwrap();
        assert_eq!(answer.trim(), "ok", "{command}");
    }

    /// The next event matching `what`, within `within`; others are skipped.
    fn expect(&self, within: Duration, what: impl Fn(&Value) -> bool) -> Value {
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
    fn quiet(&self, during: Duration, what: impl Fn(&Value) -> bool) {
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

fn tap_of(uid: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["event"] == "tap" && e["token_id"] == uid
}

fn is_tap(e: &Value) -> bool {
    e["event"] == "tap"
}

/// pcscd polls the virtual reader every 400 ms: wait that out between a
/// removal and the next card.
const POLL: Duration = Duration::from_millis(700);

#[test]
fn taps_debounce_and_recovery_over_real_pcscd() {
    let sandbox = Sandbox::start();
    sandbox.expect(Duration::from_secs(10), |e| {
        e["event"] == "reader_added" && e["reader"] == READER
    });

    // Insert: exactly one tap with the right UID and card type.
    sandbox.card("insert 04A1B2C3D4E5F6");
    let tap = sandbox.expect(Duration::from_secs(3), tap_of("04A1B2C3D4E5F6"));
    assert_eq!(tap["card"], "ultralight_ntag");
    assert_eq!(tap["reader"], READER);
    // Held on the reader: no second tap.
    sandbox.quiet(Duration::from_millis(1500), is_tap);

    // Taken away and put back: a second tap.
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("insert 04A1B2C3D4E5F6");
    sandbox.expect(Duration::from_secs(3), tap_of("04A1B2C3D4E5F6"));

    // Another wristband: its own tap.
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("insert 04112233");
    sandbox.expect(Duration::from_secs(3), tap_of("04112233"));

    // The card leaves in the middle of the read: an error state, no tap,
    // then the next placing works again.
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("cut");
    sandbox.card("insert 04999999");
    let failed = sandbox.expect(Duration::from_secs(3), |e| {
        e["event"] == "read_failed" || is_tap(e)
    });
    assert_eq!(failed["event"], "read_failed", "{failed}");
    sandbox.card("remove");
    std::thread::sleep(POLL);
    sandbox.card("insert 04999999");
    sandbox.expect(Duration::from_secs(3), tap_of("04999999"));

    // pcscd stops and starts: the watcher says so and recovers by itself.
    sandbox.card("pcscd-stop");
    sandbox.expect(Duration::from_secs(5), |e| {
        e["event"] == "service_unavailable"
    });
    sandbox.card("pcscd-start");
    sandbox.expect(Duration::from_secs(10), |e| {
        e["event"] == "reader_added" && e["reader"] == READER
    });
    sandbox.card("insert 04ABCDEF");
    sandbox.expect(Duration::from_secs(3), tap_of("04ABCDEF"));
}
