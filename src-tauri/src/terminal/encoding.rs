//! The encoding station: a manager switches the till's reader from taps
//! to personalising wristbands with the event's band keys (and, if asked,
//! a SUN link to the guest page); every band put on the reader is
//! reported on the screen. Login, locking the till and leaving the screen
//! switch it back to taps.

use std::sync::{Arc, Mutex};

use tapster_ledger::rules::Action;
use tapster_ledger::TokenId;
use tapster_nfc::ntag424::{Encoded, SunLink};
use tapster_nfc::{ReaderMode, SharedMode};

use super::{lock, AppEvent, Emitter, Terminal};
use crate::error::{AppError, ErrorCode};
use crate::view;

/// Bands shown on the screen, newest first.
const SHOWN: usize = 50;

/// What the station did since it was started.
#[derive(Default)]
pub(super) struct StationLog {
    active: bool,
    link: Option<String>,
    encoded: i64,
    failed: i64,
    bands: Vec<view::EncodedBand>,
}

pub(super) type SharedStationLog = Arc<Mutex<StationLog>>;

fn band_line(token: Option<&str>, outcome: Result<&Encoded, &str>) -> view::EncodedBand {
    let masked = token
        .and_then(|t| TokenId::parse(t).ok())
        .map(|t| t.masked());
    view::EncodedBand {
        token_masked: masked,
        from_version: outcome.ok().map(|e| e.from_version),
        key_version: outcome.ok().map(|e| e.key_version),
        link: outcome.is_ok_and(|e| e.link),
        error: outcome.err().map(str::to_string),
        at_ms: jiff::Timestamp::now().as_millisecond(),
    }
}

impl StationLog {
    /// Notes a band the reader encoded (or could not); `None` when the
    /// station is not running (a stray event after it stopped).
    pub(super) fn record(
        &mut self,
        token: Option<&str>,
        outcome: Result<&Encoded, &str>,
    ) -> Option<()> {
        if !self.active {
            return None;
        }
        match outcome {
            Ok(_) => self.encoded += 1,
            Err(_) => self.failed += 1,
        }
        self.bands.insert(0, band_line(token, outcome));
        self.bands.truncate(SHOWN);
        Some(())
    }

    fn view(&self, key_version: Option<u8>) -> view::EncodingStation {
        view::EncodingStation {
            active: self.active,
            key_version,
            link: self.link.clone(),
            encoded: self.encoded,
            failed: self.failed,
            bands: self.bands.clone(),
        }
    }
}

/// The reader's mode when it is not encoding: a till that may top up
/// (the ledger's permission rule) re-keys old bands at their tap.
pub(super) fn taps_mode(terminal: Option<&tapster_ledger::model::Terminal>) -> ReaderMode {
    if terminal.is_some_and(|t| {
        t.permission
            .allows(tapster_ledger::model::Direction::Credit)
    }) {
        ReaderMode::TapsRekeying
    } else {
        ReaderMode::Taps
    }
}

pub(super) fn set_mode(shared: &SharedMode, mode: ReaderMode) {
    *shared.write().unwrap_or_else(|e| e.into_inner()) = mode;
}

impl Terminal {
    fn station_view(&self) -> view::EncodingStation {
        let key_version = self
            .band_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|k| k.current.version);
        lock(&self.station).view(key_version)
    }

    /// The encoding station as it is now.
    pub fn encoding_station(&self) -> Result<view::EncodingStation, AppError> {
        self.manager(Action::EncodeBands)?;
        Ok(self.station_view())
    }

    /// Switches the reader to encoding bands (with a SUN link to `link`,
    /// an `https://` guest page, if given).
    pub fn start_encoding(&self, link: Option<&str>) -> Result<view::EncodingStation, AppError> {
        let manager = self.manager(Action::EncodeBands)?;
        if self.options.pcsc_reader.is_none() {
            return Err(AppError::new(
                ErrorCode::NoBandKeys,
                "this till has no NFC reader to encode wristbands with",
            ));
        }
        if self
            .band_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
        {
            return Err(AppError::new(
                ErrorCode::NoBandKeys,
                "this till has no band keys: pair it with the event's server (it sends them)",
            ));
        }
        let link = link.map(str::trim).filter(|l| !l.is_empty());
        let sun = link
            .map(SunLink::new)
            .transpose()
            .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
        {
            let mut station = lock(&self.station);
            *station = StationLog {
                active: true,
                link: link.map(str::to_string),
                ..StationLog::default()
            };
        }
        set_mode(&self.reader_mode, ReaderMode::Encoding { link: sun });
        // Locked or logged out meanwhile (that ended the station before it
        // began): back to taps.
        if self.current_staff().map(|s| s.id) != Some(manager.id.clone()) {
            self.end_encoding();
            return Err(AppError::not_logged_in());
        }
        tracing::info!(manager = %manager.id, link = link.is_some(), "encoding station started");
        let view = self.station_view();
        (self.emit)(AppEvent::Encoding(view.clone()));
        Ok(view)
    }

    /// Back to taps.
    pub fn stop_encoding(&self) -> view::EncodingStation {
        self.end_encoding();
        self.station_view()
    }

    /// Ends the encoding station if it runs (login, lock, leaving it),
    /// and sets the reader's taps mode as the terminal's permission is now.
    pub(super) fn end_encoding(&self) {
        let was_active = std::mem::take(&mut lock(&self.station).active);
        let terminal = self.reader().terminal(&self.options.terminal).ok();
        set_mode(&self.reader_mode, taps_mode(terminal.as_ref()));
        if was_active {
            tracing::info!("encoding station stopped");
            (self.emit)(AppEvent::Encoding(self.station_view()));
        }
    }

    /// What the reader does with a band now (tests).
    pub fn reader_mode(&self) -> ReaderMode {
        self.reader_mode
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A reader event of the station: noted and shown.
pub(super) fn on_station_event(
    station: &SharedStationLog,
    band_keys: &tapster_nfc::SharedKeyring,
    emit: &Emitter,
    token: Option<&str>,
    outcome: Result<&Encoded, &str>,
) {
    let view = {
        let mut log = lock(station);
        if log.record(token, outcome).is_none() {
            return;
        }
        let key_version = band_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|k| k.current.version);
        log.view(key_version)
    };
    emit(AppEvent::Encoding(view));
}
