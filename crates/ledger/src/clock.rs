//! Time and id generation come in through traits, so that business logic
//! never calls `now()` itself and tests are exact.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn saturating_add_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// Whole seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0) / 1000
    }

    /// The hour bucket (hours since the epoch, UTC) that reports group by.
    pub fn hour_bucket(self) -> i64 {
        self.0.div_euclid(3_600_000)
    }
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp(millis)
    }
}

/// A clock that only moves when told to, for tests and simulations.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.0))
    }

    pub fn set(&self, to: Timestamp) {
        self.0.store(to.0, Ordering::SeqCst);
    }

    pub fn advance_secs(&self, secs: i64) {
        self.0
            .fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

pub trait IdGenerator: Send + Sync {
    /// A new unique id made at `now`.
    fn new_id(&self, now: Timestamp) -> Uuid;
}

/// Random UUIDv7s: time-ordered, unique across terminals.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self, now: Timestamp) -> Uuid {
        let millis = u64::try_from(now.0).unwrap_or(0);
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            millis / 1000,
            u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        );
        Uuid::new_v7(ts)
    }
}

/// Deterministic UUIDv7-shaped ids with a counter in place of randomness.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdGenerator for SequentialIds {
    fn new_id(&self, now: Timestamp) -> Uuid {
        let counter = self.0.fetch_add(1, Ordering::SeqCst);
        let millis = u64::try_from(now.0).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        bytes[8..].copy_from_slice(&counter.to_be_bytes());
        bytes[6] = 0x70; // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80; // RFC 4122 variant
        Uuid::from_bytes(bytes)
    }
}

/// The instant the local hour of `at` began in `zone`: the hour buckets of
/// the reports follow the event's wall clock, so a zone half an hour off
/// UTC (India, Newfoundland) gets whole local hours, and the night the
/// clocks go back has its repeated hour twice (two instants, one label).
/// Computed from the local minutes, seconds and milliseconds at `at`'s
/// own offset.
pub fn local_hour_start(at: Timestamp, zone: &jiff::tz::TimeZone) -> Timestamp {
    let Ok(instant) = jiff::Timestamp::from_millisecond(at.0) else {
        return at;
    };
    let local = instant.to_zoned(zone.clone());
    let into_hour = i64::from(local.minute()) * 60_000
        + i64::from(local.second()) * 1000
        + i64::from(local.millisecond());
    Timestamp(at.0 - into_hour)
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_hours_follow_the_zone_including_half_hour_offsets_and_the_repeated_hour() {
        let at = |text: &str| Timestamp(text.parse::<jiff::Timestamp>().unwrap().as_millisecond());
        let zone = |name: &str| jiff::tz::TimeZone::get(name).unwrap();
        // Berlin in summer: 21:47 local (19:47Z) is in the hour from 21:00 (19:00Z).
        assert_eq!(
            local_hour_start(at("2026-07-04T19:47:10Z"), &zone("Europe/Berlin")),
            at("2026-07-04T19:00:00Z")
        );
        // Kolkata, UTC+05:30: 21:17 local (15:47Z) is in the hour from 21:00 (15:30Z).
        assert_eq!(
            local_hour_start(at("2026-07-04T15:47:00Z"), &zone("Asia/Kolkata")),
            at("2026-07-04T15:30:00Z")
        );
        // Newfoundland, UTC−02:30 in summer.
        assert_eq!(
            local_hour_start(at("2026-07-04T01:10:00Z"), &zone("America/St_Johns")),
            at("2026-07-04T00:30:00Z")
        );
        // Berlin, 25 October 2026: 02:00–03:00 local comes twice, first at
        // +02:00 (00:00Z), then at +01:00 (01:00Z): two buckets.
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            local_hour_start(at("2026-10-25T00:40:00Z"), &berlin),
            at("2026-10-25T00:00:00Z")
        );
        assert_eq!(
            local_hour_start(at("2026-10-25T01:40:00Z"), &berlin),
            at("2026-10-25T01:00:00Z")
        );
        // And 29 March 2026: 02:00–03:00 local does not exist; 03:10 (01:10Z) is from 03:00 (01:00Z).
        assert_eq!(
            local_hour_start(at("2026-03-29T01:10:00Z"), &berlin),
            at("2026-03-29T01:00:00Z")
        );
    }

    use super::*;

    #[test]
    fn uuid_v7_ids_carry_the_time() {
        let id = UuidV7Ids.new_id(Timestamp(1_700_000_000_123));
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos / 1_000_000), (1_700_000_000, 123));
    }

    #[test]
    fn sequential_ids_are_unique_and_ordered() {
        let ids = SequentialIds::default();
        let a = ids.new_id(Timestamp(5));
        let b = ids.new_id(Timestamp(5));
        assert!(a < b);
        assert_eq!(a.get_version_num(), 7);
    }

    #[test]
    fn hour_buckets_floor_towards_the_past() {
        assert_eq!(Timestamp(3_599_999).hour_bucket(), 0);
        assert_eq!(Timestamp(3_600_000).hour_bucket(), 1);
        assert_eq!(Timestamp(-1).hour_bucket(), -1);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp(1000));
        assert_eq!(clock.now(), Timestamp(1000));
        clock.advance_secs(2);
        assert_eq!(clock.now(), Timestamp(3000));
    }
}
