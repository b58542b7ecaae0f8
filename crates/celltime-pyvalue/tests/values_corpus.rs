//! How close previews come to CPython's `repr`: ~1,400 pickled values (protocols 0–5: stdlib
//! types, numpy, pandas, CPython's own pickle test data) made by `tests/data/make_values.py`,
//! each with the `repr` CPython printed after unpickling it. What "equivalent" means, and which
//! values are excluded, is written in docs/PREVIEWS.md and in [`equivalent`].

use std::path::PathBuf;

use celltime_pyvalue::pickle::{self, Limits};
use celltime_pyvalue::value::{RenderOptions, render_inline};

struct Case {
    id: String,
    protocol: u64,
    pickle: Vec<u8>,
    repr: String,
    exclude: Option<String>,
}

fn cases() -> Vec<Case> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/values.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let hex = v["pickle"].as_str().expect("pickle");
            Case {
                id: v["id"].as_str().expect("id").to_string(),
                protocol: v["protocol"].as_u64().expect("protocol"),
                pickle: (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                    .collect(),
                repr: v["repr"].as_str().expect("repr").to_string(),
                exclude: v["exclude"].as_str().map(str::to_string),
            }
        })
        .collect()
}

/// Limits wide enough that nothing in the corpus is cut.
fn uncut() -> RenderOptions {
    RenderOptions {
        max_items: 100_000,
        max_str_chars: 1_000_000,
        max_bytes: 1_000_000,
        max_array_values: 100_000,
        width: usize::MAX,
        max_depth: 200,
        max_values: 10_000_000,
        max_lines: usize::MAX,
        indent: 2,
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    /// A string or bytes literal, quotes and prefix included.
    Literal(String),
    Number(String),
    /// The last component of a dotted name: a class may be shown with or without its module.
    Name(String),
    Punct(char),
}

/// Splits a repr into tokens, skipping whitespace outside literals.
fn tokens(s: &str) -> Vec<Token> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\''
            || c == '"'
            || (c == 'b' && matches!(chars.get(i + 1), Some('\'' | '"')))
        {
            let start = i;
            if c == 'b' {
                i += 1;
            }
            let quote = chars[i];
            i += 1;
            while i < chars.len() && chars[i] != quote {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Token::Literal(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
        } else if c.is_ascii_digit()
            || (c == '-' || c == '.') && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
        {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.')) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let last = name.rsplit('.').next().unwrap_or("").to_string();
            out.push(Token::Name(last));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

fn same_number(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    // numpy writes complex parts as `2.j`.
    let (a, b) = (a.trim_end_matches('j'), b.trim_end_matches('j'));
    match (a.parse::<f64>(), b.parse::<f64>()) {
        // Integers past f64's exact range must match digit for digit.
        (Ok(x), Ok(y)) if x.abs() < 9e15 || a.contains(['.', 'e']) || b.contains(['.', 'e']) => {
            x == y
        }
        _ => false,
    }
}

/// Exact, or equal under the rules of docs/PREVIEWS.md: whitespace outside literals is layout
/// (numpy wraps and pads); a class may carry its module (`collections.OrderedDict(` is
/// `OrderedDict(`); numbers equal in value are equal (numpy prints `1.` for `1.0`); the default
/// `<mod.Class object at 0x…>` (an address no pickle holds) is any rendering of `mod.Class(…)`;
/// a keyword label the pickle does not hold may be missing (`Point(1, 2)` is `Point(x=1, y=2)`).
fn equivalent(ours: &str, repr: &str) -> bool {
    if ours == repr {
        return true;
    }
    same_tokens(&tokens(ours), &tokens(repr))
}

/// Token by token; a default object repr inside a container (`<mod.C object at 0x…>`) matches
/// our `mod.C(…)` whatever it holds.
fn same_tokens(ours: &[Token], repr: &[Token]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < ours.len() && j < repr.len() {
        if let [
            Token::Punct('<'),
            Token::Name(class),
            Token::Name(object),
            Token::Name(at),
            Token::Number(_),
            Token::Punct('>'),
            ..,
        ] = &repr[j..]
            && object == "object"
            && at == "at"
            && ours[i] == Token::Name(class.clone())
            && ours.get(i + 1) == Some(&Token::Punct('('))
        {
            let mut depth = 0;
            i += 1;
            loop {
                match ours.get(i) {
                    Some(Token::Punct('(' | '[' | '{')) => depth += 1,
                    Some(Token::Punct(')' | ']' | '}')) => depth -= 1,
                    None => return false,
                    _ => {}
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
            j += 6;
            continue;
        }
        // A keyword label the pickle does not hold (a namedtuple's field names).
        if let (Token::Name(_), Some(Token::Punct('='))) = (&repr[j], repr.get(j + 1))
            && !(ours[i] == repr[j] && ours.get(i + 1) == Some(&Token::Punct('=')))
        {
            j += 2;
            continue;
        }
        let same = match (&ours[i], &repr[j]) {
            (Token::Number(x), Token::Number(y)) => same_number(x, y),
            (x, y) => x == y,
        };
        if !same {
            return false;
        }
        i += 1;
        j += 1;
    }
    i == ours.len() && j == repr.len()
}

#[test]
fn previews_match_cpython_repr() {
    let cases = cases();
    let (mut counted, mut good, mut excluded) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    for case in &cases {
        if case.exclude.is_some() {
            excluded += 1;
            continue;
        }
        counted += 1;
        let ours = match pickle::decode(&case.pickle, &Limits::default()) {
            Ok(v) => render_inline(&v, &uncut()),
            Err(e) => format!("<error: {e}>"),
        };
        if equivalent(&ours, &case.repr) {
            good += 1;
        } else {
            misses.push(format!(
                "{} p{}\n   repr: {}\n   ours: {}",
                case.id,
                case.protocol,
                case.repr.chars().take(300).collect::<String>(),
                ours.chars().take(300).collect::<String>()
            ));
        }
    }
    let share = good as f64 / counted as f64;
    println!(
        "{good} of {counted} values exact or equivalent ({:.1}%), {excluded} excluded",
        share * 100.0
    );
    for m in &misses {
        println!("{m}");
    }
    assert!(
        cases.len() >= 1_300,
        "the corpus has {} values",
        cases.len()
    );
    assert!(share >= 0.98, "{:.1}% < 98%", share * 100.0);
}

#[test]
fn equivalence_rules() {
    assert!(equivalent("array([1.0, 2.5])", "array([1. , 2.5])"));
    assert!(equivalent(
        "collections.OrderedDict([('a', 1)])",
        "OrderedDict([('a', 1)])"
    ));
    assert!(equivalent(
        "__main__.Plain(a=1)",
        "<__main__.Plain object at 0x7f00>"
    ));
    assert!(equivalent(
        "[mod.C(x=[1]), 2]",
        "[<mod.C object at 0x7f00>, 2]"
    ));
    assert!(!equivalent(
        "[mod.D(x=[1]), 2]",
        "[<mod.C object at 0x7f00>, 2]"
    ));
    assert!(equivalent("__main__.Point(1, 2)", "Point(x=1, y=2)"));
    assert!(!equivalent("__main__.Point(1, 3)", "Point(x=1, y=2)"));
    assert!(!equivalent("[1, 2]", "[1, 3]"));
    assert!(!equivalent("'a b'", "'ab'"));
    assert!(!equivalent(
        "1180591620717411303424",
        "1180591620717411303425"
    ));
}
