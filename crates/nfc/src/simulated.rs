//! A simulated reader for demo mode and tests of the app: taps are
//! injected by code and come out as the same events as a real reader's.

use std::sync::mpsc::Sender;

use tapster_ledger::TokenId;

use crate::card::CardType;
use crate::event::NfcEvent;

pub const SIMULATED_READER: &str = "Tapster simulated reader";

#[derive(Clone)]
pub struct SimulatedReader {
    events: Sender<NfcEvent>,
}

impl SimulatedReader {
    /// A reader that reports to `events`; it announces itself at once.
    pub fn new(events: Sender<NfcEvent>) -> Self {
        let _ = events.send(NfcEvent::ReaderAdded {
            reader: SIMULATED_READER.into(),
        });
        SimulatedReader { events }
    }

    /// A wristband put on the reader (the demo's on-screen taps: no card
    /// to ask whether it is genuine).
    pub fn tap(&self, token: &TokenId) {
        self.tap_checked(token, crate::ntag424::BandCheck::NotChecked);
    }

    /// A tap with the outcome of the genuineness check as a real reader
    /// would report it (tests of what the app does with it; the check
    /// itself is tested against pcscd in `tests/genuine_bands.rs`).
    pub fn tap_checked(&self, token: &TokenId, band: crate::ntag424::BandCheck) {
        let _ = self.events.send(NfcEvent::Tap {
            token_id: token.to_string(),
            card: CardType::UltralightNtag,
            reader: SIMULATED_READER.into(),
            latency_micros: 0,
            band,
        });
    }

    /// Any event as a real reader reports it — an encoding station's
    /// outcome, say (tests of what the app does with it; encoding itself is
    /// tested against pcscd in `tests/genuine_bands.rs`).
    pub fn report(&self, event: NfcEvent) {
        let _ = self.events.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_taps_look_like_real_ones() {
        let (sender, receiver) = std::sync::mpsc::channel();
        let reader = SimulatedReader::new(sender);
        reader.tap(&TokenId::parse("04A1B2C3").unwrap());
        assert_eq!(
            receiver.recv().unwrap(),
            NfcEvent::ReaderAdded {
                reader: SIMULATED_READER.into()
            }
        );
        let json = serde_json::to_value(receiver.recv().unwrap()).unwrap();
        assert_eq!(json["event"], "tap");
        assert_eq!(json["token_id"], "04A1B2C3");
        assert_eq!(json["card"], "ultralight_ntag");
    }
}
