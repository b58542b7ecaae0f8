//! The value grammar shared by flags, policy text and `persist.toml`: durations, sizes and
//! counts, each read by one parser ([`Span`], [`Size`], [`Count`] `FromStr`; TOML values
//! through [`span_from_toml`] and [`size_from_toml`]), and sizes shown to people by one
//! formatter ([`human_bytes`], [`compact_bytes`]). Every unit is explicit so that no value
//! can be read two ways.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Months, TimeDelta, Utc};
use serde::{Serialize, Serializer};

const DURATION_UNITS: &str = "s, min, h, d, w, mo, y";
const SIZE_UNITS: &str = "B, kB, MB, GB, TB, KiB, MiB, GiB, TiB";

/// Why a duration, size or count was refused. Messages are shown to users as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("empty value: expected {0}")]
    Empty(&'static str),
    #[error("ambiguous unit 'm': use 'min' or 'mo'")]
    AmbiguousMinute,
    #[error(
        "ambiguous unit '{unit}': use '{decimal}' (powers of 1000) or '{binary}' (powers of 1024)"
    )]
    AmbiguousSize {
        unit: String,
        decimal: &'static str,
        binary: &'static str,
    },
    #[error("unknown unit '{unit}' in '{input}': valid units are {valid}")]
    UnknownUnit {
        unit: String,
        input: String,
        valid: &'static str,
    },
    #[error("'{0}' has no unit: valid units are s, min, h, d, w, mo, y (e.g. 7d, 36h, 1y6mo)")]
    MissingDurationUnit(String),
    #[error("negative values are not allowed{}", if *.all_allowed { ", use 'all' instead" } else { "" })]
    Negative { all_allowed: bool },
    #[error("'{input}' is not valid: expected {expected}")]
    Invalid {
        input: String,
        expected: &'static str,
    },
    #[error("'{0}' is too large")]
    TooLarge(String),
    /// The value slot held the next flag: the user left the value out.
    #[error("missing value before '{0}'")]
    MissingValue(String),
}

/// Refuses values that start with '-': a following flag (the value was left out) or a
/// negative number.
fn refuse_hyphen(text: &str, all_allowed: bool) -> Result<(), ValueError> {
    if text.starts_with("--") {
        return Err(ValueError::MissingValue(text.to_string()));
    }
    if text.starts_with('-') {
        return Err(ValueError::Negative { all_allowed });
    }
    Ok(())
}

/// A calendar-aware length of time, kept per unit so that "30d" reads back as "30d".
///
/// `d` is exactly 24 h and `w` 7 d; `mo` and `y` are calendar months applied in UTC, with the
/// day clamped to the end of a shorter month (31 March − 1mo = 28/29 February).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub years: u32,
    pub months: u32,
    pub weeks: u32,
    pub days: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
}

impl Span {
    pub fn is_zero(&self) -> bool {
        *self == Span::default()
    }

    /// The span as a fixed duration, measured back from now (months differ in length).
    pub fn to_duration(&self) -> std::time::Duration {
        let now = Utc::now();
        (now - self.before(now))
            .to_std()
            .unwrap_or(std::time::Duration::ZERO)
    }

    /// `t − self`. Spans reaching before chrono's range give the earliest instant, which
    /// makes "within 10000y" keep everything instead of failing.
    pub fn before(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let months = u64::from(self.years) * 12 + u64::from(self.months);
        let seconds = i64::from(self.weeks) * 604_800
            + i64::from(self.days) * 86_400
            + i64::from(self.hours) * 3_600
            + i64::from(self.minutes) * 60
            + i64::from(self.seconds);
        u32::try_from(months)
            .ok()
            .and_then(|m| t.checked_sub_months(Months::new(m)))
            .zip(TimeDelta::try_seconds(seconds))
            .and_then(|(t, d)| t.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    fn fields(&self) -> [(u32, &'static str); 7] {
        [
            (self.years, "y"),
            (self.months, "mo"),
            (self.weeks, "w"),
            (self.days, "d"),
            (self.hours, "h"),
            (self.minutes, "min"),
            (self.seconds, "s"),
        ]
    }
}

impl FromStr for Span {
    type Err = ValueError;

    fn from_str(input: &str) -> Result<Self, ValueError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(ValueError::Empty("a duration, e.g. 7d, 36h, 1y6mo"));
        }
        refuse_hyphen(text, false)?;
        let invalid = || ValueError::Invalid {
            input: input.to_string(),
            expected: "whole numbers each followed by a unit, e.g. 7d, 36h, 1y6mo",
        };
        let mut span = Span::default();
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                return Err(invalid());
            }
            let number: u32 = rest[..digits]
                .parse()
                .map_err(|_| ValueError::TooLarge(input.to_string()))?;
            rest = &rest[digits..];
            let unit_len = rest.len() - rest.trim_start_matches(|c: char| c.is_alphabetic()).len();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let field = match unit {
                "y" => &mut span.years,
                "mo" => &mut span.months,
                "w" => &mut span.weeks,
                "d" => &mut span.days,
                "h" => &mut span.hours,
                "min" => &mut span.minutes,
                "s" => &mut span.seconds,
                "m" => return Err(ValueError::AmbiguousMinute),
                "" if rest.is_empty() => {
                    return Err(ValueError::MissingDurationUnit(input.to_string()));
                }
                "" => return Err(invalid()),
                other => {
                    return Err(ValueError::UnknownUnit {
                        unit: other.to_string(),
                        input: input.to_string(),
                        valid: DURATION_UNITS,
                    });
                }
            };
            // Repeated units add up ("1d12h1d" = "2d12h"); normalising merges them.
            *field = field
                .checked_add(number)
                .ok_or_else(|| ValueError::TooLarge(input.to_string()))?;
        }
        Ok(span)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0s");
        }
        for (n, unit) in self.fields() {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A number of bytes. Parsed from `NUMBER UNIT` (decimals allowed) or a bare integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Size(pub u64);

const SIZE_UNIT_TABLE: [(&str, u64); 9] = [
    ("TiB", 1 << 40),
    ("TB", 1_000_000_000_000),
    ("GiB", 1 << 30),
    ("GB", 1_000_000_000),
    ("MiB", 1 << 20),
    ("MB", 1_000_000),
    ("KiB", 1 << 10),
    ("kB", 1_000),
    ("B", 1),
];

impl FromStr for Size {
    type Err = ValueError;

    fn from_str(input: &str) -> Result<Self, ValueError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(ValueError::Empty("a size, e.g. 5GiB, 500MB, 1.5GiB"));
        }
        refuse_hyphen(text, false)?;
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = (&text[..split], text[split..].trim_start());
        let invalid = || ValueError::Invalid {
            input: input.to_string(),
            expected: "a number and a unit (e.g. 5GiB, 1.5GB) or a whole number of bytes",
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() || frac.contains('.') || (number.contains('.') && frac.is_empty()) {
            return Err(invalid());
        }
        let multiplier = match unit {
            "" if frac.is_empty() => 1,
            "" => return Err(invalid()),
            _ => size_unit(unit, input)?,
        };
        // Exact decimal arithmetic: 1.5GiB is 1610612736 bytes, not a float approximation.
        // Fractions of a byte are dropped.
        let too_large = || ValueError::TooLarge(input.to_string());
        let scale = 10u128
            .checked_pow(u32::try_from(frac.len()).map_err(|_| too_large())?)
            .ok_or_else(too_large)?;
        let digits: u128 = format!("{whole}{frac}").parse().map_err(|_| too_large())?;
        let bytes = digits
            .checked_mul(u128::from(multiplier))
            .ok_or_else(too_large)?
            / scale;
        u64::try_from(bytes).map(Size).map_err(|_| too_large())
    }
}

fn size_unit(unit: &str, input: &str) -> Result<u64, ValueError> {
    if let Some(&(_, m)) = SIZE_UNIT_TABLE.iter().find(|(u, _)| *u == unit) {
        return Ok(m);
    }
    // Suffixes that other tools read as either 1000s or 1024s get a hint instead of a guess.
    let ambiguous = |decimal, binary| ValueError::AmbiguousSize {
        unit: unit.to_string(),
        decimal,
        binary,
    };
    Err(match unit {
        "k" | "K" | "KB" | "Ki" | "ki" | "kiB" => ambiguous("kB", "KiB"),
        "M" | "Mi" => ambiguous("MB", "MiB"),
        "G" | "Gi" => ambiguous("GB", "GiB"),
        "T" | "Ti" => ambiguous("TB", "TiB"),
        _ => ValueError::UnknownUnit {
            unit: unit.to_string(),
            input: input.to_string(),
            valid: SIZE_UNITS,
        },
    })
}

impl fmt::Display for Size {
    /// The exact, shortest form that parses back to the same number of bytes:
    /// `5GiB`, `1.5GiB`, `500MB`, `1234B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = u128::from(self.0);
        // Shortest exact rendering wins ("1.5GiB" over "1536MiB", "1234B" over "1.234kB");
        // on a tie the larger unit reads better ("2.25GiB" over "2304MiB").
        let best = SIZE_UNIT_TABLE
            .iter()
            .filter(|&&(_, m)| bytes >= u128::from(m))
            .filter_map(|&(unit, m)| {
                let m = u128::from(m);
                let decimals = (0..=3u32).find(|&d| (bytes * 10u128.pow(d)) % m == 0)?;
                let scale = 10u128.pow(decimals);
                let scaled = bytes * scale / m;
                let text = if decimals == 0 {
                    format!("{scaled}{unit}")
                } else {
                    let frac = format!("{:0width$}", scaled % scale, width = decimals as usize);
                    format!("{}.{}{unit}", scaled / scale, frac.trim_end_matches('0'))
                };
                Some((text, m))
            })
            .min_by_key(|(text, m)| (text.len(), std::cmp::Reverse(*m)));
        match best {
            Some((text, _)) => f.write_str(&text),
            None => write!(f, "{}B", self.0),
        }
    }
}

/// Bytes for people: binary units, one decimal ("12.4 MiB"). Not meant to be parsed back.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    match scale_bytes(bytes, 1) {
        (_, 0) => format!("{bytes} B"),
        (value, unit) => format!("{value:.1} {}", UNITS[unit]),
    }
}

/// Bytes in at most five columns, for tight lists: `380B`, `1.2K`, `34K`, `2.0M`.
pub fn compact_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    match scale_bytes(bytes, 1) {
        (_, 0) => format!("{bytes}B"),
        (value, unit) if value < 9.95 => format!("{value:.1}{}", UNITS[unit]),
        // Whole numbers from 10 up: carry where rounding would show 1024.
        (value, unit) if value.round() >= 1024.0 && unit < 5 => {
            format!("{:.1}{}", value / 1024.0, UNITS[unit + 1])
        }
        (value, unit) => format!("{value:.0}{}", UNITS[unit]),
    }
}

/// `bytes` in the largest binary unit (0 = bytes, 1 = KiB, … 5 = PiB) whose value, rounded
/// to `decimals`, stays below 1024: 1,048,575 bytes is 1.0 MiB, never "1024.0 KiB".
fn scale_bytes(bytes: u64, decimals: i32) -> (f64, usize) {
    let mut value = bytes as f64;
    let mut unit = 0;
    let shown = |v: f64| (v * 10f64.powi(decimals)).round() / 10f64.powi(decimals);
    while shown(value) >= 1024.0 && unit < 5 {
        value /= 1024.0;
        unit += 1;
    }
    (value, unit)
}

/// A size as a TOML value: a string with a unit, or an integer number of bytes, read as the
/// command line reads it (so `-1` gets the same message).
pub fn size_from_toml(value: &toml_edit::Value) -> Result<Size, String> {
    match value {
        toml_edit::Value::Integer(i) => i.value().to_string().parse(),
        toml_edit::Value::String(s) => s.value().parse(),
        other => {
            return Err(format!(
                "expected a string such as \"5GiB\", found {}",
                toml_kind(other)
            ));
        }
    }
    .map_err(|e: ValueError| e.to_string())
}

/// A duration as a TOML value: a string such as `"30d"`.
pub fn span_from_toml(value: &toml_edit::Value) -> Result<Span, String> {
    match value {
        toml_edit::Value::String(s) => s.value().parse().map_err(|e: ValueError| e.to_string()),
        other => Err(format!(
            "expected a string such as \"30d\", found {}",
            toml_kind(other)
        )),
    }
}

/// What a TOML value is, for messages ("found an integer").
pub fn toml_kind(value: &toml_edit::Value) -> &'static str {
    match value {
        toml_edit::Value::String(_) => "a string",
        toml_edit::Value::Integer(_) => "an integer",
        toml_edit::Value::Float(_) => "a float",
        toml_edit::Value::Boolean(_) => "a boolean",
        toml_edit::Value::Datetime(_) => "a datetime",
        toml_edit::Value::Array(_) => "an array",
        toml_edit::Value::InlineTable(_) => "a table",
    }
}

/// The noun that goes with a count: `one` for exactly 1, `many` otherwise ("0 entries").
/// Every message that counts things goes through this or [`count`].
pub fn plural<'s>(n: impl TryInto<u64>, one: &'s str, many: &'s str) -> &'s str {
    if n.try_into().is_ok_and(|n| n == 1) {
        one
    } else {
        many
    }
}

/// A count and its noun: `count(1, "entry", "entries")` is "1 entry", with 3 "3 entries".
pub fn count<N: TryInto<u64> + fmt::Display + Copy>(n: N, one: &str, many: &str) -> String {
    format!("{n} {}", plural(n, one, many))
}

/// `N` or `all` for the keep rules that count entries or periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Count {
    N(u32),
    All,
}

impl Count {
    pub fn is_zero(&self) -> bool {
        *self == Count::N(0)
    }
}

impl FromStr for Count {
    type Err = ValueError;

    fn from_str(input: &str) -> Result<Self, ValueError> {
        match input.trim() {
            "all" => Ok(Count::All),
            text => {
                refuse_hyphen(text, true)?;
                parse_u32(text, input, "a whole number or 'all'").map(Count::N)
            }
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::N(n) => write!(f, "{n}"),
            Count::All => f.write_str("all"),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::N(n) => s.serialize_u32(*n),
            Count::All => s.serialize_str("all"),
        }
    }
}

/// A plain count (`--keep-versions`, `--max-entries`), where "all" would mean nothing.
pub fn parse_number(input: &str) -> Result<u32, ValueError> {
    let text = input.trim();
    refuse_hyphen(text, false)?;
    parse_u32(text, input, "a whole number")
}

fn parse_u32(text: &str, input: &str, expected: &'static str) -> Result<u32, ValueError> {
    if text.is_empty() {
        return Err(ValueError::Empty(expected));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::Invalid {
            input: input.to_string(),
            expected,
        });
    }
    text.parse()
        .map_err(|_| ValueError::TooLarge(input.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people_never_show_1024_of_a_unit() {
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(human_bytes(1024 * 1024 - 52), "1023.9 KiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
        assert_eq!(compact_bytes(380), "380B");
        assert_eq!(compact_bytes(1536), "1.5K");
        assert_eq!(compact_bytes(34 * 1024), "34K");
        assert_eq!(compact_bytes(1023 * 1024), "1023K");
        assert_eq!(compact_bytes(1024 * 1024 - 400), "1.0M");
        assert_eq!(compact_bytes(1024 * 1024 - 1), "1.0M");
        assert_eq!(compact_bytes(5 << 30), "5.0G");
    }

    #[test]
    fn toml_values_read_as_the_command_line_reads_them() {
        let value = |text: &str| text.parse::<toml_edit::Value>().unwrap();
        assert_eq!(size_from_toml(&value("\"64KiB\"")), Ok(Size(65536)));
        assert_eq!(size_from_toml(&value("100")), Ok(Size(100)));
        assert_eq!(
            size_from_toml(&value("-1")),
            Err("-1".parse::<Size>().unwrap_err().to_string())
        );
        assert_eq!(
            span_from_toml(&value("\"5m\"")),
            Err(ValueError::AmbiguousMinute.to_string())
        );
        assert!(span_from_toml(&value("30")).is_err());
    }
    use chrono::TimeZone;

    #[test]
    fn counts_take_the_singular_for_one_only() {
        assert_eq!(count(1, "entry", "entries"), "1 entry");
        assert_eq!(count(0, "entry", "entries"), "0 entries");
        assert_eq!(count(2u64, "pack", "packs"), "2 packs");
        assert_eq!(plural(-1i64, "part", "parts"), "parts");
    }

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn months_clamp_to_the_end_of_a_shorter_month() {
        let span: Span = "1mo".parse().unwrap();
        assert_eq!(span.before(utc(2026, 3, 31, 12)), utc(2026, 2, 28, 12));
        assert_eq!(span.before(utc(2028, 3, 31, 12)), utc(2028, 2, 29, 12));
        let span: Span = "1y1d".parse().unwrap();
        assert_eq!(span.before(utc(2028, 2, 29, 0)), utc(2027, 2, 27, 0));
    }

    #[test]
    fn days_are_24_hours_whatever_the_zone() {
        let span: Span = "1d12h30min15s".parse().unwrap();
        let t = utc(2026, 3, 29, 12);
        assert_eq!(
            t - span.before(t),
            TimeDelta::seconds(86_400 + 12 * 3600 + 30 * 60 + 15)
        );
        assert_eq!(
            "2w".parse::<Span>().unwrap().before(t),
            t - TimeDelta::days(14)
        );
    }

    #[test]
    fn spans_beyond_the_calendar_saturate() {
        let span: Span = "4000000000y".parse().unwrap();
        assert_eq!(span.before(utc(2026, 1, 1, 0)), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn human_bytes_uses_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(13_002_342), "12.4 MiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
    }
}
