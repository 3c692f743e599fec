//! Reading wristbands through PC/SC (pcscd): readers come and go, cards
//! are waited for with status-change waits (no busy polling), and each
//! card's UID is read with the GET DATA command `FF CA 00 00 00`.
//!
//! Every failure is a state, not a crash: pcscd away, no reader, a reader
//! or card removed mid-read, an unknown answer. The watcher recovers by
//! itself when the cause goes away.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pcsc::{Context, Error, Protocols, ReaderState, Scope, ShareMode, State, PNP_NOTIFICATION};
use tapster_ledger::TokenId;

use crate::card::CardType;
use crate::debounce::TapFilter;
use crate::event::NfcEvent;
use crate::ntag424::{self, BandCheck, Keyring};

/// PC/SC GET DATA for the UID (PC/SC part 3, 3.2.2.1.3).
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Use only readers whose name starts with this; `None`: all readers.
    pub reader: Option<String>,
    /// A card taken away for less than this is still the same placing.
    pub debounce: Duration,
    /// The event's band keys: every tap is checked for a genuine NTAG 424
    /// DNA band (`None` inside: UID only, `BandCheck::NotChecked`). Shared,
    /// so keys that arrive later (or a rotation) apply to the next tap.
    pub keyring: SharedKeyring,
}

/// Band keys the reader and their keeper share.
pub type SharedKeyring = Arc<std::sync::RwLock<Option<Keyring>>>;

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            reader: None,
            debounce: Duration::from_millis(300),
            keyring: Arc::new(std::sync::RwLock::new(None)),
        }
    }
}

/// Why a UID could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the card was taken away while it was read")]
    CardRemoved,
    #[error("the card answered {0:02X?}, not a UID")]
    UnknownAnswer(Vec<u8>),
    #[error("the UID is not a wristband id: {0}")]
    BadUid(String),
    #[error("PC/SC error: {0}")]
    Pcsc(#[from] Error),
}

fn card_error(error: Error) -> ReadError {
    match error {
        Error::NoSmartcard
        | Error::RemovedCard
        | Error::ResetCard
        | Error::UnpoweredCard
        | Error::UnresponsiveCard => ReadError::CardRemoved,
        other => ReadError::Pcsc(other),
    }
}

/// Connects to the card in `reader` and reads its UID.
pub fn read_uid(context: &Context, reader: &CStr) -> Result<TokenId, ReadError> {
    read_tap(context, reader, None).map(|(uid, _)| uid)
}

/// Connects to the card in `reader`, reads its UID and, with a keyring,
/// checks on the same connection that it is a genuine band.
pub fn read_tap(
    context: &Context,
    reader: &CStr,
    keyring: Option<&Keyring>,
) -> Result<(TokenId, BandCheck), ReadError> {
    let card = context
        .connect(reader, ShareMode::Shared, Protocols::ANY)
        .map_err(card_error)?;
    let mut buffer = [0u8; 64];
    let answer = card.transmit(&GET_UID, &mut buffer).map_err(card_error)?;
    let uid = match answer {
        [uid @ .., 0x90, 0x00] if !uid.is_empty() => {
            TokenId::from_bytes(uid).map_err(|e| ReadError::BadUid(e.to_string()))?
        }
        other => return Err(ReadError::UnknownAnswer(other.to_vec())),
    };
    let check = match keyring {
        None => BandCheck::NotChecked,
        Some(keyring) => ntag424::check_band(&mut PcscCard(&card), &uid, keyring)
            .map_err(|_| ReadError::CardRemoved)?,
    };
    Ok((uid, check))
}

/// A connected card as the NTAG 424 DNA protocol talks to it.
pub struct PcscCard<'a>(pub &'a pcsc::Card);

impl ntag424::Card for PcscCard<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ntag424::CardGone> {
        let mut buffer = [0u8; 258];
        match self.0.transmit(command, &mut buffer) {
            // Every answer ends with a status word: less is a card that
            // left mid-answer (some readers say so without an error).
            Ok(answer) if answer.len() >= 2 => Ok(answer.to_vec()),
            _ => Err(ntag424::CardGone),
        }
    }
}

/// A running watcher; stops when dropped or stopped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watcher {
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The PC/SC readers plugged in now (none when `pcscd` is not running),
/// for a settings screen's reader picker.
pub fn reader_names() -> Result<Vec<String>, Error> {
    let context = Context::establish(Scope::User)?;
    match context.list_readers_owned() {
        Ok(names) => Ok(names
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()),
        Err(Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Watches the readers on a thread of its own and hands every event to
/// `sink`.
pub fn watch(config: WatchConfig, sink: impl FnMut(NfcEvent) + Send + 'static) -> Watcher {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = thread::Builder::new()
        .name("nfc-watch".into())
        .spawn(move || run(config, sink, flag))
        .ok();
    Watcher { stop, thread }
}

/// How long one wait may block before the stop flag is looked at again.
const WAIT: Duration = Duration::from_millis(250);

struct Reader {
    filter: TapFilter,
}

fn run(config: WatchConfig, mut sink: impl FnMut(NfcEvent), stop: Arc<AtomicBool>) {
    let mut service_up: Option<bool> = None;
    while !stop.load(Ordering::Relaxed) {
        let context = match Context::establish(Scope::User) {
            Ok(context) => context,
            Err(error) => {
                if service_up != Some(false) {
                    tracing::warn!(%error, "pcscd is not available");
                    sink(NfcEvent::ServiceUnavailable);
                    service_up = Some(false);
                }
                thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        if service_up != Some(true) {
            sink(NfcEvent::ServiceAvailable);
            service_up = Some(true);
        }
        let mut readers: BTreeMap<CString, Reader> = BTreeMap::new();
        let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            // Readers plugged in or out since the last look.
            let present: Vec<CString> = match context.list_readers_owned() {
                Ok(names) => names,
                Err(Error::NoReadersAvailable) => Vec::new(),
                Err(_) => break,
            };
            let wanted: Vec<CString> = present
                .into_iter()
                .filter(|name| {
                    config
                        .reader
                        .as_ref()
                        .is_none_or(|r| name.to_string_lossy().starts_with(r.as_str()))
                })
                .collect();
            for name in &wanted {
                if !readers.contains_key(name) {
                    readers.insert(
                        name.clone(),
                        Reader {
                            filter: TapFilter::new(config.debounce),
                        },
                    );
                    states.push(ReaderState::new(name.clone(), State::UNAWARE));
                    sink(NfcEvent::ReaderAdded {
                        reader: name.to_string_lossy().into_owned(),
                    });
                }
            }
            let gone: Vec<CString> = readers
                .keys()
                .filter(|n| !wanted.contains(n))
                .cloned()
                .collect();
            for name in gone {
                readers.remove(&name);
                states.retain(|s| s.name() != name.as_c_str());
                sink(NfcEvent::ReaderRemoved {
                    reader: name.to_string_lossy().into_owned(),
                });
            }
            match context.get_status_change(WAIT, &mut states) {
                Ok(()) => {}
                Err(Error::Timeout) => continue,
                Err(error) => {
                    tracing::warn!(%error, "pcscd went away");
                    break;
                }
            }
            let changed_at = Instant::now();
            for state in states.iter_mut().skip(1) {
                let event = state.event_state();
                if !event.contains(State::CHANGED) {
                    continue;
                }
                let name = state.name().to_owned();
                let Some(reader) = readers.get_mut(&name) else {
                    continue;
                };
                let was_present = state.current_state().contains(State::PRESENT);
                if event.contains(State::PRESENT) && !event.contains(State::MUTE) {
                    if !was_present {
                        let atr = state.atr().to_vec();
                        let keyring = config
                            .keyring
                            .read()
                            .unwrap_or_else(|e| e.into_inner())
                            .clone();
                        match read_tap(&context, &name, keyring.as_ref()) {
                            Ok((uid, band)) => {
                                if let BandCheck::NotGenuine { reason } = &band {
                                    tracing::warn!(token = %uid.masked(), %reason, "a band that is not genuine");
                                }
                                if reader.filter.on_present(uid.as_str(), changed_at) {
                                    sink(NfcEvent::Tap {
                                        token_id: uid.to_string(),
                                        card: CardType::from_atr(&atr),
                                        reader: name.to_string_lossy().into_owned(),
                                        latency_micros: changed_at.elapsed().as_micros() as u64,
                                        band,
                                    });
                                }
                            }
                            Err(error) => sink(NfcEvent::ReadFailed {
                                reader: name.to_string_lossy().into_owned(),
                                error: error.to_string(),
                            }),
                        }
                    }
                } else if event.contains(State::EMPTY) || !event.contains(State::PRESENT) {
                    reader.filter.on_absent(changed_at);
                }
                state.sync_current_state();
            }
            // The notification pseudo-reader: just acknowledge its change;
            // the reader list is read again at the top of the loop.
            if let Some(pnp) = states.first_mut() {
                pnp.sync_current_state();
            }
        }
        // pcscd went away: say so and start over when it is back.
        for name in readers.keys() {
            sink(NfcEvent::ReaderRemoved {
                reader: name.to_string_lossy().into_owned(),
            });
        }
        if Context::establish(Scope::User).is_err() {
            sink(NfcEvent::ServiceUnavailable);
            service_up = Some(false);
        }
        thread::sleep(Duration::from_millis(200));
    }
}
