//! Sizes and durations with explicit units.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(String);

pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| UnitError(format!("invalid size {text:?}")))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "kB" => 1000,
        "MB" => 1000_u64.pow(2),
        "GB" => 1000_u64.pow(3),
        "TB" => 1000_u64.pow(4),
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        other => {
            return Err(UnitError(format!(
                "unknown size unit {other:?} in {text:?}: use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"
            )));
        }
    };
    Ok((value * factor as f64).round() as u64)
}

pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let mut rest = text.trim();
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(UnitError("empty duration".into()));
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| UnitError(format!("invalid duration {text:?}")))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "s" => 1,
            "min" => 60,
            "h" => 3600,
            "d" => 86400,
            "w" => 7 * 86400,
            "mo" => 30 * 86400,
            "y" => 365 * 86400,
            "m" => return Err(UnitError("ambiguous unit 'm': use 'min' or 'mo'".into())),
            other => {
                return Err(UnitError(format!(
                    "unknown duration unit {other:?} in {text:?}: use s, min, h, d, w, mo or y"
                )));
            }
        };
        total += Duration::from_secs(n * seconds);
        rest = &rest[unit_len..];
    }
    Ok(total)
}
