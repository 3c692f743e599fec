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
use crate::ntag424::{self, BandCheck, Keyring, SunLink};

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
    /// What a band put on the reader is for: a tap, or encoding. Shared,
    /// so the app switches a till into an encoding station and back.
    pub mode: SharedMode,
}

/// Band keys the reader and their keeper share.
pub type SharedKeyring = Arc<std::sync::RwLock<Option<Keyring>>>;

/// What a band put on the reader is for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReaderMode {
    /// Every band is a tap, checked with the band keys.
    #[default]
    Taps,
    /// Taps, and a band of the previous key version gets the current one
    /// on the spot (a top-up till, where the guest waits anyway).
    TapsRekeying,
    /// The encoding station: every band is personalised (with `link`, it
    /// also gets a SUN link) and reported as encoded, never as a tap.
    Encoding { link: Option<SunLink> },
}

/// The reader's mode, shared with whoever switches it.
pub type SharedMode = Arc<std::sync::RwLock<ReaderMode>>;

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            reader: None,
            debounce: Duration::from_millis(300),
            keyring: Arc::new(std::sync::RwLock::new(None)),
            mode: Arc::new(std::sync::RwLock::new(ReaderMode::Taps)),
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
    let card = connect(context, reader)?;
    uid_of(&card)
}

fn connect(context: &Context, reader: &CStr) -> Result<pcsc::Card, ReadError> {
    context
        .connect(reader, ShareMode::Shared, Protocols::ANY)
        .map_err(card_error)
}

fn uid_of(card: &pcsc::Card) -> Result<TokenId, ReadError> {
    let mut buffer = [0u8; 64];
    let answer = card.transmit(&GET_UID, &mut buffer).map_err(card_error)?;
    match answer {
        [uid @ .., 0x90, 0x00] if !uid.is_empty() => {
            TokenId::from_bytes(uid).map_err(|e| ReadError::BadUid(e.to_string()))
        }
        other => Err(ReadError::UnknownAnswer(other.to_vec())),
    }
}

/// Connects to the card in `reader`, reads its UID and, with a keyring,
/// checks on the same connection that it is a genuine band; with
/// `rekey`, a band of the previous key version is re-keyed then and
/// there (a re-keying the band leaves half done is finished next time).
pub fn read_tap(
    context: &Context,
    reader: &CStr,
    keyring: Option<&Keyring>,
    rekey: bool,
) -> Result<(TokenId, BandCheck), ReadError> {
    let card = connect(context, reader)?;
    let uid = uid_of(&card)?;
    let Some(keyring) = keyring else {
        return Ok((uid, BandCheck::NotChecked));
    };
    let mut band = PcscCard(&card);
    let check =
        ntag424::check_band(&mut band, &uid, keyring).map_err(|_| ReadError::CardRemoved)?;
    if let (
        BandCheck::Genuine {
            key_version,
            rekey: true,
        },
        true,
    ) = (&check, rekey)
    {
        match ntag424::encode_band(&mut band, &uid, keyring, None) {
            Ok(encoded) => {
                tracing::info!(token = %uid.masked(), from = key_version, to = encoded.key_version, "band re-keyed");
                return Ok((
                    uid,
                    BandCheck::Genuine {
                        key_version: encoded.key_version,
                        rekey: false,
                    },
                ));
            }
            // Still genuine under the old version: the tap counts, the
            // re-keying is tried again at its next tap.
            Err(error) => {
                tracing::warn!(token = %uid.masked(), %error, "band not re-keyed")
            }
        }
    }
    Ok((uid, check))
}

/// Connects to the card in `reader` and encodes it as a band.
pub fn encode(
    context: &Context,
    reader: &CStr,
    keyring: Option<&Keyring>,
    link: Option<&SunLink>,
) -> NfcEvent {
    let name = reader.to_string_lossy().into_owned();
    let failed = |token_id: Option<String>, error: String| NfcEvent::EncodeFailed {
        reader: name.clone(),
        token_id,
        error,
    };
    let Some(keyring) = keyring else {
        return failed(
            None,
            "this till has no band keys yet (pair it with the server)".into(),
        );
    };
    let (card, uid) = match connect(context, reader).and_then(|card| {
        let uid = uid_of(&card)?;
        Ok((card, uid))
    }) {
        Ok(both) => both,
        Err(error) => return failed(None, error.to_string()),
    };
    match ntag424::encode_band(&mut PcscCard(&card), &uid, keyring, link) {
        Ok(encoded) => {
            tracing::info!(token = %uid.masked(), from = encoded.from_version, to = encoded.key_version, link = encoded.link, "band encoded");
            NfcEvent::Encoded {
                reader: name,
                encoded,
            }
        }
        Err(error) => failed(Some(uid.to_string()), error.to_string()),
    }
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
                        let mode = config
                            .mode
                            .read()
                            .unwrap_or_else(|e| e.into_inner())
                            .clone();
                        let rekey = match mode {
                            ReaderMode::Encoding { link } => {
                                sink(encode(&context, &name, keyring.as_ref(), link.as_ref()));
                                state.sync_current_state();
                                continue;
                            }
                            ReaderMode::Taps => false,
                            ReaderMode::TapsRekeying => true,
                        };
                        match read_tap(&context, &name, keyring.as_ref(), rekey) {
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
