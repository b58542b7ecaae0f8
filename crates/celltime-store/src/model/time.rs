//! Millisecond UTC timestamps: the `created_at` of execution keys and `last_used`; and
//! [`Zone`], the one time zone celltime counts days in and shows times in.

use chrono::offset::MappedLocalTime;
use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Milliseconds since the Unix epoch, UTC. Ordering is chronological.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// 0000-01-01T00:00:00.000Z: RFC 3339 has four-digit years, so the store keeps to them.
    pub const EARLIEST: Timestamp = Timestamp(-62_167_219_200_000);
    /// 9999-12-31T23:59:59.999Z.
    pub const LATEST: Timestamp = Timestamp(253_402_300_799_999);

    /// Can this time be written, and read back, in the store's RFC 3339 form?
    pub fn is_writable(self) -> bool {
        (Timestamp::EARLIEST..=Timestamp::LATEST).contains(&self)
    }

    pub fn now() -> Timestamp {
        Timestamp(Utc::now().timestamp_millis())
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// RFC 3339 with exactly three fractional digits and `Z`: the only spelling the store writes.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "invalid timestamp {text:?}: expected RFC 3339 such as 2026-11-25T10:00:00.123Z, in UTC years 0000 to 9999"
)]
pub struct TimestampError {
    pub text: String,
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        DateTime::parse_from_rfc3339(text)
            .map(|dt| Timestamp(dt.with_timezone(&Utc).timestamp_millis()))
            .ok()
            .filter(|t| t.is_writable())
            .ok_or_else(|| TimestampError {
                text: celltime_text::excerpt(text, super::keys::ECHOED_CHARS).into_owned(),
            })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The time zone days, ISO weeks and months are counted in (`prune --keep-daily`, the UI's
/// "mark by policy") and times are shown in: the real local zone with its daylight-saving
/// rules, asked afresh for every instant (`chrono::Local`, which follows `TZ`). A fixed offset
/// is for reproducible output and tests only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Local,
    Fixed(FixedOffset),
}

impl Zone {
    /// A name for reports: `$TZ` when it names a zone, else the system's zone
    /// (`Europe/Berlin`), else the current offset; a fixed zone by its offset.
    pub fn name(&self) -> String {
        match self {
            Zone::Local => match std::env::var("TZ") {
                Ok(tz) if !tz.is_empty() && !tz.starts_with(':') => tz,
                _ => iana_time_zone::get_timezone()
                    .unwrap_or_else(|_| chrono::Local::now().offset().to_string()),
            },
            Zone::Fixed(offset) => format!("UTC{offset}"),
        }
    }

    /// `t` in this zone.
    pub fn at(&self, t: Timestamp) -> DateTime<Zone> {
        t.to_datetime().with_timezone(self)
    }

    fn offset(&self, fixed: FixedOffset) -> ZoneOffset {
        ZoneOffset { zone: *self, fixed }
    }
}

/// The offset of a [`Zone`] at one instant; it remembers its zone, so date arithmetic on a
/// local time keeps following the zone's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneOffset {
    zone: Zone,
    fixed: FixedOffset,
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        self.fixed
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fixed.fmt(f)
    }
}

impl TimeZone for Zone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Zone {
        offset.zone
    }

    #[allow(deprecated)]
    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ZoneOffset> {
        match self {
            Zone::Local => chrono::Local.offset_from_local_date(local),
            Zone::Fixed(fixed) => fixed.offset_from_local_date(local),
        }
        .map(|fixed| self.offset(fixed))
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ZoneOffset> {
        match self {
            Zone::Local => chrono::Local.offset_from_local_datetime(local),
            Zone::Fixed(fixed) => fixed.offset_from_local_datetime(local),
        }
        .map(|fixed| self.offset(fixed))
    }

    #[allow(deprecated)]
    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset(match self {
            Zone::Local => chrono::Local.offset_from_utc_date(utc),
            Zone::Fixed(fixed) => *fixed,
        })
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        self.offset(match self {
            Zone::Local => chrono::Local.offset_from_utc_datetime(utc),
            Zone::Fixed(fixed) => *fixed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_zone_shifts_by_its_offset_and_keeps_it() {
        let cet = Zone::Fixed(FixedOffset::east_opt(3600).unwrap());
        let t: Timestamp = "2026-07-01T22:30:00Z".parse().unwrap();
        let local = cet.at(t);
        assert_eq!(local.to_rfc3339(), "2026-07-01T23:30:00+01:00");
        let next_day = local + chrono::Duration::days(1);
        assert_eq!(next_day.timezone(), cet);
        assert_eq!(cet.name(), "UTC+01:00");
    }

    #[test]
    fn round_trips_with_millisecond_precision() {
        let ts: Timestamp = "2026-11-25T10:00:00.123Z".parse().unwrap();
        assert_eq!(ts.to_rfc3339(), "2026-11-25T10:00:00.123Z");
        let offset: Timestamp = "2026-11-25T11:00:00.123+01:00".parse().unwrap();
        assert_eq!(offset, ts);
    }

    #[test]
    fn refuses_garbage() {
        assert!("yesterday".parse::<Timestamp>().is_err());
    }

    #[test]
    fn only_times_that_round_trip_are_accepted() {
        for text in ["9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00"] {
            assert!(text.parse::<Timestamp>().is_err(), "{text}");
        }
        for ts in [Timestamp::EARLIEST, Timestamp::LATEST] {
            assert_eq!(ts.to_rfc3339().parse::<Timestamp>().unwrap(), ts);
        }
    }
}
