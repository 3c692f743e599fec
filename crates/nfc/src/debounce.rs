//! One tap, one event: a wristband held on the reader pays once. A new
//! event needs the card taken away first; a contact that flickers for less
//! than the debounce time does not count as taking it away.

use std::time::{Duration, Instant};

/// Per-reader memory of the card on it.
#[derive(Debug)]
pub struct TapFilter {
    debounce: Duration,
    /// The last card seen, and when it was last seen present.
    last: Option<(String, Instant)>,
    present: bool,
}

impl TapFilter {
    pub fn new(debounce: Duration) -> Self {
        TapFilter {
            debounce,
            last: None,
            present: false,
        }
    }

    /// A card with `uid` is on the reader at `now`: `true` when that is a
    /// new tap to report.
    pub fn on_present(&mut self, uid: &str, now: Instant) -> bool {
        let new = match &self.last {
            Some((last, seen)) => {
                last != uid || (!self.present && now.duration_since(*seen) >= self.debounce)
            }
            None => true,
        };
        self.last = Some((uid.to_string(), now));
        self.present = true;
        new
    }

    /// The reader is empty at `now`.
    pub fn on_absent(&mut self, now: Instant) {
        if self.present {
            if let Some((_, seen)) = &mut self.last {
                *seen = now;
            }
        }
        self.present = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_card_counts_once_and_a_new_placing_again() {
        let start = Instant::now();
        let ms = |n| start + Duration::from_millis(n);
        let mut filter = TapFilter::new(Duration::from_millis(150));
        assert!(filter.on_present("04A1", ms(0)));
        assert!(!filter.on_present("04A1", ms(100)), "still held");
        filter.on_absent(ms(200));
        assert!(
            !filter.on_present("04A1", ms(250)),
            "a 50 ms flicker is not a new tap"
        );
        filter.on_absent(ms(300));
        assert!(
            filter.on_present("04A1", ms(600)),
            "taken away and put back"
        );
        assert!(
            filter.on_present("04B2", ms(610)),
            "another card is always new"
        );
    }
}
