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
        self.with_rfc3339(str::to_string)
    }

    /// `f` of the RFC 3339 spelling, built on the stack: listings print these by the hundred
    /// thousand, so they are written digit by digit rather than allocated.
    pub fn with_rfc3339<R>(self, f: impl FnOnce(&str) -> R) -> R {
        if !self.is_writable() {
            return f(&self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        let (days, millis) = (self.0.div_euclid(86_400_000), self.0.rem_euclid(86_400_000));
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (millis / 3_600_000, millis / 60_000 % 60);
        let (second, milli) = (millis / 1000 % 60, millis % 1000);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        for (value, end, width) in [
            (year, 4, 4),
            (month, 7, 2),
            (day, 10, 2),
            (hour, 13, 2),
            (minute, 16, 2),
            (second, 19, 2),
            (milli, 23, 3),
        ] {
            let mut value = value;
            for digit in out[end - width..end].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        // Only ASCII digits and separators were written.
        f(std::str::from_utf8(&out).unwrap_or_default())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "invalid timestamp {text:?}: expected RFC 3339 such as 2026-11-25T10:00:00.123Z, in UTC years 0000 to 9999"
)]
pub struct TimestampError {
    pub text: String,
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's
/// `civil_from_days`, the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The canonical spelling `YYYY-MM-DDTHH:MM:SS.mmmZ` without a general parser: maps and logs
/// hold millions of them. Anything else (offsets, other precisions, leap seconds) is `None`,
/// and goes to the RFC 3339 parser.
fn parse_canonical(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second, millis) = (
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        number(20..23)?,
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = (1..=12).contains(&month)
        && (1..=month_days[(month - 1).clamp(0, 11) as usize]).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
        Timestamp(seconds * 1000 + millis)
    })
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        if let Some(time) = parse_canonical(text) {
            return Ok(time);
        }
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
        deserializer.deserialize_str(super::keys::FromStrVisitor::new("an RFC 3339 time"))
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
    fn the_canonical_fast_path_agrees_with_the_rfc_3339_parser() {
        let general = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|dt| Timestamp(dt.with_timezone(&Utc).timestamp_millis()))
        };
        let samples = [
            "1970-01-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00.000Z",
            "0000-02-29T12:00:00.000Z",
            "1900-02-29T00:00:00.000Z",
            "2000-02-29T00:00:00.000Z",
            "2026-11-25T10:00:00.123Z",
            "2026-04-31T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-00-01T00:00:00.000Z",
            "2026-01-00T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z",
            "2026-01-01T23:60:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2026-01-01T00:00:00.00aZ",
            "2026-01-01t00:00:00.000Z",
        ];
        for text in samples {
            if let Some(fast) = parse_canonical(text) {
                assert_eq!(Some(fast), general(text), "{text}");
            }
        }
        // Every day of 400 years (one Gregorian cycle) and the ends of the range.
        for day in 0..146_097i64 {
            let time = Timestamp(946_684_800_000 + day * 86_400_000 + day * 7_919 % 86_400_000);
            let text = time.to_rfc3339();
            assert_eq!(parse_canonical(&text), Some(time), "{text}");
        }
        for time in [
            Timestamp::EARLIEST,
            Timestamp::LATEST,
            Timestamp(-1),
            Timestamp(0),
        ] {
            assert_eq!(parse_canonical(&time.to_rfc3339()), Some(time));
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let chrono = |t: Timestamp| t.to_datetime().to_rfc3339_opts(SecondsFormat::Millis, true);
        let step = (Timestamp::LATEST.0 - Timestamp::EARLIEST.0) / 200_003;
        let samples = (0..=200_003).map(|n| Timestamp(Timestamp::EARLIEST.0 + n * step + n % 1000));
        let edges = [
            Timestamp::EARLIEST,
            Timestamp::LATEST,
            Timestamp(-1),
            Timestamp(0),
        ];
        for time in samples.chain(edges) {
            assert_eq!(time.to_rfc3339(), chrono(time), "{}", time.0);
        }
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
