//! A scenario runs whole inside private mount and network namespaces,
//! beside its own pcscd with the virtual reader of vsmartcard-vpcd and a
//! wristband emulator (`crates/nfc/tests/sandbox/`): the machine's pcscd
//! and ports are never touched, and everything the scenario starts (server,
//! tills, WebDriver, printers) meets on the sandbox's own loopback.
//! Needs root and `unshare`, like the NFC crate's own tests.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;

/// The reader the app is told to use.
pub const READER: &str = "Virtual PCD 00 00";

/// The app's arguments for the sandbox's hardware: its reader, the
/// printer at `printer`, German texts (as the receipts are checked).
pub fn till_hardware(printer: &crate::printer::Emupos) -> Vec<String> {
    let printer = printer.uri().to_string();
    ["--reader", READER, "--printer", &printer, "--lang", "de"]
        .map(String::from)
        .to_vec()
}

/// Set for the run inside: the card emulator's control socket.
const INSIDE: &str = "TAPSTER_E2E_CARD";

/// Runs the test `name` (the calling one) again inside the sandbox and
/// waits for it: `None` here, outside, once that run has passed. Inside,
/// `Some` of the wristband emulator, and the test goes on.
pub fn enter(name: &str) -> Option<Band> {
    if let Some(control) = std::env::var_os(INSIDE) {
        return Some(Band {
            control: control.into(),
        });
    }
    // Binaries are built out here, where cargo may reach what it needs.
    crate::binaries::server();
    crate::binaries::app();
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("card.sock");
    let status = Command::new("unshare")
        .args(["-m", "-n", "--propagation", "private"])
        .arg(crate::nfc::sandbox_dir().join("run.sh"))
        .arg(&control)
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE, &control)
        .status()
        .expect("unshare (the tests run as root)");
    assert!(
        status.success(),
        "{name} failed inside the sandbox: its output is above"
    );
    None
}

/// The wristband emulator on the virtual reader.
pub struct Band {
    control: PathBuf,
}

impl Band {
    /// A plain wristband with this UID laid on the reader.
    pub fn lay(&self, uid: &str) {
        self.tell(&format!("insert {uid}"));
    }

    /// The wristband taken away again.
    pub fn take_away(&self) {
        self.tell("remove");
        std::thread::sleep(crate::nfc::POLL);
    }

    /// pcscd stopped: the till's reader is gone, as when its cable is
    /// pulled (the emulator's card goes with it).
    pub fn stop_reader_service(&self) {
        self.tell("pcscd-stop");
    }

    /// pcscd started again: the reader is back.
    pub fn start_reader_service(&self) {
        self.tell("pcscd-start");
    }

    fn tell(&self, command: &str) {
        crate::nfc::tell_card(&self.control, command);
    }
}

impl Drop for Band {
    /// Stops the emulator and pcscd, so the sandbox ends with the test.
    fn drop(&mut self) {
        if let Ok(mut stream) = UnixStream::connect(&self.control) {
            let _ = writeln!(stream, "quit");
            let _ = BufReader::new(stream).read_line(&mut String::new());
        }
    }
}
