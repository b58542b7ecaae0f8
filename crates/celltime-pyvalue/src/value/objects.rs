//! Objects whose pickle names a class Python prints in its own way: `datetime` values,
//! `collections` types, `range`, `slice`, `types.SimpleNamespace`, `uuid.UUID`, and pandas'
//! `Timestamp`, `Timedelta`, `NaT` and `NA`. Everything here uses only what the pickle holds.

use super::numpy::civil_from_days;
use super::render::{Doc, DocBuilder, Key};
use super::text::escape_plain;
use super::{PyObject, PyValue, QualName};

impl DocBuilder<'_> {
    /// A known class's repr, or None to render the object generically.
    pub(super) fn known_object(&mut self, obj: &PyObject, depth: usize) -> Option<Doc> {
        if obj.callable.is_some() {
            return None;
        }
        let class = &obj.class;
        match (class.module.as_str(), class.name.as_str()) {
            ("datetime", _) => self.datetime(obj, depth).map(Doc::Text),
            ("collections", "OrderedDict" | "Counter" | "defaultdict" | "deque") => {
                self.collection(obj, depth)
            }
            ("builtins", "range" | "slice") => self.range_or_slice(obj, depth),
            ("builtins", "type") => match obj.args.as_slice() {
                [PyValue::None] if plain(obj) => Some(Doc::Text("<class 'NoneType'>".into())),
                _ => None,
            },
            ("types", "SimpleNamespace") if obj.args.is_empty() => {
                let mut renamed = obj.clone();
                renamed.class = QualName::new("", "namespace");
                Some(self.generic_object(&renamed, "namespace(", depth))
            }
            ("uuid", "UUID") => uuid(obj).map(Doc::Text),
            ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp") => {
                timestamp(obj).map(Doc::Text)
            }
            ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle") => {
                timedelta(obj).map(Doc::Text)
            }
            ("pandas._libs.tslibs.nattype", "__nat_unpickle" | "_nat_unpickle") => {
                Some(Doc::Text("NaT".into()))
            }
            _ => None,
        }
    }

    /// `collections.OrderedDict([('a', 1)])`, `collections.Counter({'a': 2})`,
    /// `collections.defaultdict(<class 'list'>, {…})`, `collections.deque([1], maxlen=4)`.
    fn collection(&mut self, obj: &PyObject, depth: usize) -> Option<Doc> {
        let name = escape_plain(&obj.class.to_string());
        let no_state = matches!(&obj.state, None | Some(PyValue::None))
            || matches!(&obj.state, Some(PyValue::Dict(d)) if d.is_empty());
        if !no_state || !obj.kwargs.is_empty() {
            return None;
        }
        let open = format!("{name}(");
        match obj.class.name.as_str() {
            "OrderedDict" if obj.args.is_empty() && obj.items.is_empty() => {
                if obj.dict_items.is_empty() {
                    return Some(Doc::Text(format!("{name}()")));
                }
                let pairs: Vec<PyValue> = obj
                    .dict_items
                    .iter()
                    .map(|(k, v)| PyValue::Tuple(vec![k.clone(), v.clone()]))
                    .collect();
                let list = self.seq("[", "]", &pairs, depth + 1);
                Some(Doc::seq(open, vec![list], ")"))
            }
            "Counter" if obj.items.is_empty() => {
                let counts = match obj.args.as_slice() {
                    [] => &obj.dict_items,
                    [PyValue::Dict(d)] if obj.dict_items.is_empty() => d,
                    _ => return None,
                };
                if counts.is_empty() {
                    return Some(Doc::Text(format!("{name}()")));
                }
                let dict = self.dict(counts, depth + 1);
                Some(Doc::seq(open, vec![dict], ")"))
            }
            "defaultdict" if obj.items.is_empty() && obj.args.len() <= 1 => {
                let factory = match obj.args.first() {
                    Some(f) => self.doc(f, depth + 1),
                    None => Doc::Text("None".into()),
                };
                let dict = self.dict(&obj.dict_items, depth + 1);
                Some(Doc::seq(open, vec![factory, dict], ")"))
            }
            "deque" if obj.dict_items.is_empty() => {
                let (items, maxlen) = match obj.args.as_slice() {
                    [PyValue::List(v) | PyValue::Tuple(v)] => (v, None),
                    [PyValue::List(v) | PyValue::Tuple(v), PyValue::None] => (v, None),
                    [PyValue::List(v) | PyValue::Tuple(v), max @ PyValue::Int(_)] => (v, Some(max)),
                    _ => return None,
                };
                let all: Vec<PyValue> = items.iter().chain(&obj.items).cloned().collect();
                let mut parts = vec![self.seq("[", "]", &all, depth + 1)];
                if let Some(max) = maxlen {
                    parts.push(Doc::pair("maxlen", "=", self.doc(max, depth + 1)));
                }
                Some(Doc::seq(open, parts, ")"))
            }
            _ => None,
        }
    }

    /// `range(0, 5)` (a step of 1 is left out, as Python does), `slice(1, None, 2)`.
    fn range_or_slice(&mut self, obj: &PyObject, depth: usize) -> Option<Doc> {
        if !plain(obj) {
            return None;
        }
        let shown = match (obj.class.name.as_str(), obj.args.as_slice()) {
            ("range", [_, _, PyValue::Int(1)]) => &obj.args[..2],
            (_, args) => args,
        };
        let items = self.entries(shown.len(), shown.iter().map(|v| (Key::None, v)), depth);
        Some(Doc::seq(format!("{}(", obj.class.name), items, ")"))
    }

    /// `datetime` values the way Python prints them. They pickle as their packed bytes
    /// (`year_hi, year_lo, month, day, hour, minute, second, us×3`) plus an optional tzinfo;
    /// from protocol 4 on, the high bit of the month (datetime) or hour (time) byte is PEP 495's
    /// `fold`.
    fn datetime(&mut self, obj: &PyObject, depth: usize) -> Option<String> {
        if obj.state.is_some() {
            return None;
        }
        let (packed, tz) = match obj.args.as_slice() {
            [PyValue::Bytes(b)] => (b, None),
            [PyValue::Bytes(b), tz] => (b, Some(tz)),
            _ => (&Vec::new(), None),
        };
        let us = |b: &[u8]| (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // Python omits trailing zero seconds/microseconds but always shows hour and minute.
        let clock = |h: u8, m: u8, sec: u8, micro: u32| match (sec, micro) {
            (0, 0) => format!("{h}, {m}"),
            (_, 0) => format!("{h}, {m}, {sec}"),
            _ => format!("{h}, {m}, {sec}, {micro}"),
        };
        let (body, fold) = match (obj.class.name.as_str(), packed.as_slice()) {
            ("datetime", &[y0, y1, mo, d, h, mi, sec, ..]) if packed.len() == 10 => {
                let year = u16::from(y0) << 8 | u16::from(y1);
                let time = clock(h, mi, sec, us(&packed[7..]));
                (
                    format!("{year}, {}, {d}, {time}", mo & 0x7f),
                    mo & 0x80 != 0,
                )
            }
            ("date", &[y0, y1, mo, d]) if tz.is_none() => (
                format!("{}, {mo}, {d}", u16::from(y0) << 8 | u16::from(y1)),
                false,
            ),
            ("time", &[h, mi, sec, ..]) if packed.len() == 6 => {
                (clock(h & 0x7f, mi, sec, us(&packed[3..])), h & 0x80 != 0)
            }
            ("timedelta", _) => {
                let [PyValue::Int(days), PyValue::Int(secs), PyValue::Int(micros)] =
                    obj.args.as_slice()
                else {
                    return None;
                };
                return Some(format!(
                    "datetime.timedelta({})",
                    timedelta_args(*days, *secs, *micros)
                ));
            }
            ("timezone", _) => return self.timezone(obj, depth),
            _ => return None,
        };
        let tz = match tz {
            Some(tz) => format!(", tzinfo={}", self.doc(tz, depth + 1).flat_string()),
            None => String::new(),
        };
        let fold = if fold { ", fold=1" } else { "" };
        Some(format!("datetime.{}({body}{tz}{fold})", obj.class.name))
    }

    /// `datetime.timezone.utc` for a zero offset without a name; other zones stay generic.
    fn timezone(&mut self, obj: &PyObject, _depth: usize) -> Option<String> {
        let [PyValue::Object(offset)] = obj.args.as_slice() else {
            return None;
        };
        let zero = offset.class == QualName::new("datetime", "timedelta")
            && offset.args.iter().all(|a| *a == PyValue::Int(0));
        zero.then(|| "datetime.timezone.utc".to_string())
    }
}

fn plain(obj: &PyObject) -> bool {
    obj.state.is_none()
        && obj.kwargs.is_empty()
        && obj.items.is_empty()
        && obj.dict_items.is_empty()
}

/// `days=-1, seconds=5, microseconds=7`, or `0`.
fn timedelta_args(days: i64, secs: i64, micros: i64) -> String {
    let parts: Vec<String> = [("days", days), ("seconds", secs), ("microseconds", micros)]
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join(", ")
    }
}

/// `UUID('12345678-1234-5678-1234-567812345678')` from the pickled `int` attribute.
fn uuid(obj: &PyObject) -> Option<String> {
    let Some(PyValue::Dict(state)) = &obj.state else {
        return None;
    };
    let value: u128 = state.iter().find_map(|(k, v)| match (k, v) {
        (PyValue::Str(k), PyValue::Int(i)) if k == "int" => u128::try_from(*i).ok(),
        (PyValue::Str(k), PyValue::BigInt(s)) if k == "int" => s.parse().ok(),
        _ => None,
    })?;
    let hex = format!("{value:032x}");
    Some(format!(
        "uuid.UUID('{}-{}-{}-{}-{}')",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// Ticks per second of pandas' `NPY_DATETIMEUNIT` resolutions (s, ms, us, ns) and the digits
/// of their fractions.
fn resolution(reso: &PyValue) -> Option<(i64, usize)> {
    match reso {
        PyValue::Int(7) => Some((1, 0)),
        PyValue::Int(8) => Some((1_000, 3)),
        PyValue::Int(9) => Some((1_000_000, 6)),
        PyValue::Int(10) => Some((1_000_000_000, 9)),
        _ => None,
    }
}

/// `pandas.Timestamp('2024-01-02 03:04:05.123456')`: `_unpickle_timestamp(value, freq, tz,
/// reso)`, the value in ticks of the resolution since the epoch (UTC wall time when `tz` is
/// set; the zone is shown as pickled).
fn timestamp(obj: &PyObject) -> Option<String> {
    if !plain(obj) {
        return None;
    }
    let (value, tz, reso) = match obj.args.as_slice() {
        [PyValue::Int(v), _, tz, reso] => (*v, tz, resolution(reso)?),
        [PyValue::Int(v), _, tz] => (*v, tz, (1_000_000_000, 9)),
        _ => return None,
    };
    let (per_second, digits) = reso;
    let secs = value.div_euclid(per_second);
    let frac = value.rem_euclid(per_second);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400))?;
    let t = secs.rem_euclid(86_400);
    let mut text = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    );
    if frac != 0 {
        // pandas shows microseconds, or nanoseconds when there are any.
        let (frac, digits) = if digits == 9 && frac % 1000 == 0 {
            (frac / 1000, 6)
        } else if digits == 3 {
            (frac * 1000, 6)
        } else {
            (frac, digits)
        };
        text.push_str(&format!(".{frac:0digits$}"));
    }
    let tz = match tz {
        PyValue::None => String::new(),
        PyValue::Str(s) => format!(", tz='{}'", escape_plain(s)),
        _ => ", tz=…".into(),
    };
    Some(format!("pandas.Timestamp('{text}'{tz})"))
}

/// `pandas.Timedelta('1 days 02:00:00')`: `_timedelta_unpickle(value, reso)`.
fn timedelta(obj: &PyObject) -> Option<String> {
    if !plain(obj) {
        return None;
    }
    let (value, (per_second, digits)) = match obj.args.as_slice() {
        [PyValue::Int(v), reso] => (*v, resolution(reso)?),
        [PyValue::Int(v)] => (*v, (1_000_000_000, 9)),
        _ => return None,
    };
    let per_day = per_second.checked_mul(86_400)?;
    let days = value.div_euclid(per_day);
    let rest = value.rem_euclid(per_day);
    let (secs, frac) = (rest / per_second, rest % per_second);
    let sign = if days < 0 { "+" } else { "" };
    let mut text = format!(
        "{days} days {sign}{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac != 0 {
        text.push_str(&format!(".{frac:0digits$}"));
    }
    Some(format!("pandas.Timedelta('{text}')"))
}
