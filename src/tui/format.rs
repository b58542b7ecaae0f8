//! Small formatting helpers for times and hashes.

use celltime_store::model::Timestamp;
use celltime_store::model::Zone;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `just now`, `45s ago`, `3m ago`, `5h ago`, `12d ago`, `3mo ago`, `2y ago`; `in 3m` ahead.
pub fn relative(now: Timestamp, t: Timestamp) -> String {
    let delta = now.millis() - t.millis();
    let (ahead, secs) = (delta < 0, (delta.unsigned_abs() / 1000) as i64);
    let text = match secs {
        0..=4 => return "just now".into(),
        5..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        86_400..=2_591_999 => format!("{}d", secs / 86_400),
        2_592_000..=31_535_999 => format!("{}mo", secs / 2_592_000),
        _ => format!("{}y", secs / 31_536_000),
    };
    if ahead {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// `2026-11-25 10:00` in the given zone.
pub fn absolute(t: Timestamp, tz: Zone) -> String {
    tz.at(t).format("%Y-%m-%d %H:%M").to_string()
}

/// `11-25 10:00`: the compact form for timeline rows.
pub fn absolute_short(t: Timestamp, tz: Zone) -> String {
    tz.at(t).format("%m-%d %H:%M").to_string()
}

/// The first characters of a module hash.
pub fn short_hash(hash: &str) -> &str {
    let end = hash.char_indices().nth(8).map_or(hash.len(), |(i, _)| i);
    &hash[..end]
}

/// Cuts text to `width` display columns with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `1 entry`, `3 entries`.
pub fn entries(n: usize) -> String {
    celltime_store::units::count(n, "entry", "entries")
}

/// Words wrapped into lines of at most `width` columns (long words are cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = if line.is_empty() {
            word.width()
        } else {
            line.width() + 1 + word.width()
        };
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        if line.width() > width {
            lines.push(fit(&line, width));
            line.clear();
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Text cut or padded with spaces to exactly `width` display columns.
pub fn pad(text: &str, width: usize) -> String {
    let mut out = fit(text, width);
    let w = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        let now = Timestamp(1_000_000_000);
        let ago = |s: i64| relative(now, Timestamp(now.0 - s * 1000));
        assert_eq!(ago(2), "just now");
        assert_eq!(ago(30), "30s ago");
        assert_eq!(ago(180), "3m ago");
        assert_eq!(ago(7200), "2h ago");
        assert_eq!(ago(3 * 86_400), "3d ago");
        assert_eq!(ago(90 * 86_400), "3mo ago");
        assert_eq!(ago(800 * 86_400), "2y ago");
        assert_eq!(ago(-120), "in 2m");
    }

    #[test]
    fn absolute_times_use_the_zone() {
        let t: Timestamp = "2026-11-25T10:00:00.000Z".parse().unwrap();
        let utc = Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap());
        let cet = Zone::Fixed(chrono::FixedOffset::east_opt(3600).unwrap());
        assert_eq!(absolute(t, utc), "2026-11-25 10:00");
        assert_eq!(absolute_short(t, cet), "11-25 11:00");
    }

    #[test]
    fn wrapping_by_words() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap("abcdefghijk x", 5), ["abcd…", "x"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn fitting_and_short_hashes() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(pad("日本", 5), "日本 ");
        assert_eq!(pad("abcdef", 3), "ab…");
        assert_eq!(short_hash("0123456789abcdef"), "01234567");
        assert_eq!(short_hash("ab"), "ab");
    }
}
