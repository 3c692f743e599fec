//! Where a printer is (`tcp://host:9100`, `file:///dev/usb/lp0`,
//! `serial:///dev/ttyUSB0?baud=19200`, `usb://04b8:0e28`), sending bytes to
//! it, and asking it how it is (`DLE EOT`).

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use escpos::utils::{RealTimeStatusRequest, RealTimeStatusResponse};
use serde::{Deserialize, Serialize};

use crate::PrintError;

/// A printer's address, parsed from the URI-like setting.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PrinterUri {
    /// A network printer (raw TCP, usually port 9100).
    Tcp { host: String, port: u16 },
    /// A device file such as `/dev/usb/lp0` (or a plain file, for tests).
    File(PathBuf),
    /// A serial port; needs the `serial` feature.
    Serial { path: PathBuf, baud: u32 },
    /// A USB printer by vendor and product id; needs the `usb` feature.
    Usb { vendor: u16, product: u16 },
}

impl FromStr for PrinterUri {
    type Err = PrintError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| PrintError::BadPrinterUri {
            uri: value.to_string(),
            reason: why.to_string(),
        };
        let (scheme, rest) = value
            .split_once("://")
            .ok_or_else(|| bad("expected tcp://, file://, serial:// or usb://"))?;
        match scheme {
            "tcp" => {
                let rest = rest.trim_end_matches('/');
                let (host, port) = match rest.rsplit_once(':') {
                    Some((host, port)) => (
                        host,
                        port.parse::<u16>()
                            .map_err(|_| bad("the port must be a number from 1 to 65535"))?,
                    ),
                    None => (rest, 9100),
                };
                if host.is_empty() || port == 0 {
                    return Err(bad("needs a host and a port, like tcp://192.168.1.50:9100"));
                }
                Ok(PrinterUri::Tcp {
                    host: host.trim_start_matches('[').trim_end_matches(']').into(),
                    port,
                })
            }
            "file" => {
                if !rest.starts_with('/') {
                    return Err(bad("needs an absolute path, like file:///dev/usb/lp0"));
                }
                Ok(PrinterUri::File(PathBuf::from(rest)))
            }
            "serial" => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                let mut baud = 9600;
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("baud", value)) => {
                            baud = value
                                .parse()
                                .map_err(|_| bad("baud must be a number, like 19200"))?
                        }
                        _ => return Err(bad("the only option is baud=…")),
                    }
                }
                if !path.starts_with('/') {
                    return Err(bad("needs an absolute path, like serial:///dev/ttyUSB0"));
                }
                Ok(PrinterUri::Serial {
                    path: PathBuf::from(path),
                    baud,
                })
            }
            "usb" => {
                let (vendor, product) = rest
                    .trim_end_matches('/')
                    .split_once(':')
                    .ok_or_else(|| bad("needs vendor:product in hex, like usb://04b8:0e28"))?;
                let hex = |s: &str| {
                    u16::from_str_radix(s, 16)
                        .map_err(|_| bad("vendor and product are 4 hex digits each"))
                };
                Ok(PrinterUri::Usb {
                    vendor: hex(vendor)?,
                    product: hex(product)?,
                })
            }
            _ => Err(bad("expected tcp://, file://, serial:// or usb://")),
        }
    }
}

impl fmt::Display for PrinterUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterUri::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            PrinterUri::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            PrinterUri::File(path) => write!(f, "file://{}", path.display()),
            PrinterUri::Serial { path, baud } => {
                write!(f, "serial://{}?baud={baud}", path.display())
            }
            PrinterUri::Usb { vendor, product } => write!(f, "usb://{vendor:04x}:{product:04x}"),
        }
    }
}

impl TryFrom<String> for PrinterUri {
    type Error = PrintError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<PrinterUri> for String {
    fn from(value: PrinterUri) -> Self {
        value.to_string()
    }
}

/// What the printer says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    Ok,
    /// Still printing, but the roll is nearly empty.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Reachable but not printing (error or offline for another reason).
    NotReady,
    /// Cannot be reached at all.
    Offline,
    /// Reachable, but it does not answer status requests (many USB and
    /// serial printers, plain files).
    Unknown,
}

impl PrinterStatus {
    /// Whether a job sent now would print.
    pub fn can_print(self) -> bool {
        matches!(
            self,
            PrinterStatus::Ok | PrinterStatus::PaperNearEnd | PrinterStatus::Unknown
        )
    }
}

/// How long to wait on a printer before calling it unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub write: Duration,
    /// For a status answer; printers answer `DLE EOT` within milliseconds.
    pub status: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(2),
            write: Duration::from_secs(5),
            status: Duration::from_millis(500),
        }
    }
}

/// Why a send failed, and whether any byte reached the printer: only a job
/// of which nothing was sent may be sent again without risking a receipt
/// printed twice.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the printer cannot be reached: {0}")]
    NothingSent(String),
    #[error("the connection broke after {written} of {total} bytes: {reason}")]
    PartlySent {
        written: usize,
        total: usize,
        reason: String,
    },
}

/// An open connection to a printer.
pub trait Connection: Send {
    /// Sends all of `bytes`, reporting how far it got when it fails.
    fn send(&mut self, bytes: &[u8]) -> Result<(), SendError>;
    /// Asks the printer how it is; [`PrinterStatus::Unknown`] when it does
    /// not answer.
    fn status(&mut self) -> PrinterStatus;
}

/// Opens a connection to the printer at `uri`.
pub fn connect(uri: &PrinterUri, timeouts: Timeouts) -> Result<Box<dyn Connection>, SendError> {
    match uri {
        PrinterUri::Tcp { host, port } => Ok(Box::new(TcpConnection::open(host, *port, timeouts)?)),
        PrinterUri::File(path) => {
            let file = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| SendError::NothingSent(format!("{}: {e}", path.display())))?;
            Ok(Box::new(StreamConnection {
                stream: file,
                answers_status: false,
            }))
        }
        #[cfg(feature = "serial")]
        PrinterUri::Serial { path, baud } => {
            let path = path.to_string_lossy();
            let driver =
                escpos::driver::SerialPortDriver::open(&path, *baud, Some(timeouts.write))
                    .map_err(|e| SendError::NothingSent(e.to_string()))?;
            Ok(Box::new(DriverConnection(driver)))
        }
        #[cfg(feature = "usb")]
        PrinterUri::Usb { vendor, product } => {
            let driver = escpos::driver::UsbDriver::open(*vendor, *product, Some(timeouts.write), None)
                .map_err(|e| SendError::NothingSent(e.to_string()))?;
            Ok(Box::new(DriverConnection(driver)))
        }
        #[allow(unreachable_patterns)]
        other => Err(SendError::NothingSent(format!(
            "{other}: this build has no driver for it (build tapster-print with the `serial` or `usb` feature)"
        ))),
    }
}

/// Sends with `write` calls counted, so a failure knows how much went out.
fn send_counted(stream: &mut impl Write, bytes: &[u8]) -> Result<(), SendError> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(0) => {
                return Err(broken(
                    written,
                    bytes.len(),
                    "the printer closed the connection",
                ))
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(broken(written, bytes.len(), &e.to_string())),
        }
    }
    stream
        .flush()
        .map_err(|e| broken(written, bytes.len(), &e.to_string()))
}

fn broken(written: usize, total: usize, reason: &str) -> SendError {
    if written == 0 {
        SendError::NothingSent(reason.to_string())
    } else {
        SendError::PartlySent {
            written,
            total,
            reason: reason.to_string(),
        }
    }
}

/// Asks `DLE EOT n` for n = 1 (printer), 2 (offline cause) and 4 (paper).
fn query_status(stream: &mut (impl Read + Write)) -> PrinterStatus {
    let mut ask = |request: RealTimeStatusRequest| -> Option<u8> {
        let (n, _) = <(u8, u8)>::from(request);
        stream.write_all(&[0x10, 0x04, n]).ok()?;
        stream.flush().ok()?;
        let mut answer = [0u8; 1];
        match stream.read(&mut answer) {
            Ok(1) => Some(answer[0]),
            _ => None,
        }
    };
    let flag = |request: RealTimeStatusRequest, byte: u8, what: RealTimeStatusResponse| {
        RealTimeStatusResponse::parse(request, byte)
            .ok()
            .and_then(|answers| answers.get(&what).copied())
    };
    let Some(printer) = ask(RealTimeStatusRequest::Printer) else {
        return PrinterStatus::Unknown;
    };
    let online = flag(
        RealTimeStatusRequest::Printer,
        printer,
        RealTimeStatusResponse::Online,
    );
    let paper = ask(RealTimeStatusRequest::RollPaperSensor);
    let paper_present = paper.and_then(|b| {
        flag(
            RealTimeStatusRequest::RollPaperSensor,
            b,
            RealTimeStatusResponse::RollPaperEndSensorPaperPresent,
        )
    });
    let paper_adequate = paper.and_then(|b| {
        flag(
            RealTimeStatusRequest::RollPaperSensor,
            b,
            RealTimeStatusResponse::RollPaperNearEndSensorPaperAdequate,
        )
    });
    if paper_present == Some(false) {
        return PrinterStatus::PaperOut;
    }
    if online == Some(false) {
        let cause = ask(RealTimeStatusRequest::OfflineCause);
        let cover_closed = cause.and_then(|b| {
            flag(
                RealTimeStatusRequest::OfflineCause,
                b,
                RealTimeStatusResponse::CoverClosed,
            )
        });
        return match cover_closed {
            Some(false) => PrinterStatus::CoverOpen,
            _ => PrinterStatus::NotReady,
        };
    }
    if paper_adequate == Some(false) {
        return PrinterStatus::PaperNearEnd;
    }
    PrinterStatus::Ok
}

struct TcpConnection {
    stream: TcpStream,
    timeouts: Timeouts,
}

impl TcpConnection {
    fn open(host: &str, port: u16, timeouts: Timeouts) -> Result<Self, SendError> {
        let addresses = (host, port)
            .to_socket_addrs()
            .map_err(|e| SendError::NothingSent(format!("{host}: {e}")))?;
        let mut last = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, timeouts.connect) {
                Ok(stream) => {
                    stream.set_nodelay(true).ok();
                    stream
                        .set_write_timeout(Some(timeouts.write))
                        .map_err(|e| SendError::NothingSent(e.to_string()))?;
                    return Ok(TcpConnection { stream, timeouts });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(SendError::NothingSent(match last {
            Some(e) => format!("{host}:{port}: {e}"),
            None => format!("{host}: no address"),
        }))
    }
}

impl Connection for TcpConnection {
    fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        send_counted(&mut self.stream, bytes)
    }

    fn status(&mut self) -> PrinterStatus {
        if self
            .stream
            .set_read_timeout(Some(self.timeouts.status))
            .is_err()
        {
            return PrinterStatus::Unknown;
        }
        query_status(&mut self.stream)
    }
}

struct StreamConnection<S> {
    stream: S,
    answers_status: bool,
}

impl<S: Read + Write + Send> Connection for StreamConnection<S> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        send_counted(&mut self.stream, bytes)
    }

    fn status(&mut self) -> PrinterStatus {
        if self.answers_status {
            query_status(&mut self.stream)
        } else {
            PrinterStatus::Unknown
        }
    }
}

/// A printer behind one of the `escpos` crate's own drivers (serial, USB).
#[cfg(any(feature = "serial", feature = "usb"))]
struct DriverConnection<D>(D);

#[cfg(any(feature = "serial", feature = "usb"))]
impl<D: escpos::driver::Driver + Send> Connection for DriverConnection<D> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), SendError> {
        // The drivers write all or fail without saying how much went out.
        self.0
            .write(bytes)
            .and_then(|()| self.0.flush())
            .map_err(|e| SendError::PartlySent {
                written: 0,
                total: bytes.len(),
                reason: e.to_string(),
            })
    }

    fn status(&mut self) -> PrinterStatus {
        if self.0.write(&[0x10, 0x04, 1]).is_err() {
            return PrinterStatus::Offline;
        }
        let mut answer = [0u8; 1];
        match self.0.read(&mut answer) {
            Ok(1) => match RealTimeStatusResponse::parse(RealTimeStatusRequest::Printer, answer[0])
            {
                Ok(flags) if flags.get(&RealTimeStatusResponse::Online) == Some(&false) => {
                    PrinterStatus::NotReady
                }
                Ok(_) => PrinterStatus::Ok,
                Err(_) => PrinterStatus::Unknown,
            },
            _ => PrinterStatus::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_print_back() {
        for (text, uri) in [
            (
                "tcp://192.168.1.50:9100",
                PrinterUri::Tcp {
                    host: "192.168.1.50".into(),
                    port: 9100,
                },
            ),
            (
                "file:///dev/usb/lp0",
                PrinterUri::File("/dev/usb/lp0".into()),
            ),
            (
                "serial:///dev/ttyUSB0?baud=19200",
                PrinterUri::Serial {
                    path: "/dev/ttyUSB0".into(),
                    baud: 19200,
                },
            ),
            (
                "usb://04b8:0e28",
                PrinterUri::Usb {
                    vendor: 0x04b8,
                    product: 0x0e28,
                },
            ),
        ] {
            assert_eq!(text.parse::<PrinterUri>().unwrap(), uri);
            assert_eq!(uri.to_string(), text);
        }
        assert_eq!(
            "tcp://printer.local".parse::<PrinterUri>().unwrap(),
            PrinterUri::Tcp {
                host: "printer.local".into(),
                port: 9100
            }
        );
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        for bad in [
            "192.168.1.50",
            "tcp://:9100",
            "tcp://host:99999",
            "file://relative",
            "serial:///dev/ttyS0?speed=9600",
            "usb://epson",
            "lpt://1",
        ] {
            let error = bad.parse::<PrinterUri>().unwrap_err();
            assert!(matches!(error, PrintError::BadPrinterUri { .. }), "{bad}");
            assert!(error.to_string().contains(bad), "{error}");
        }
    }

    #[test]
    fn a_refused_connection_sent_nothing() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let uri = PrinterUri::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        assert!(matches!(
            connect(&uri, Timeouts::default()),
            Err(SendError::NothingSent(_))
        ));
    }
}
