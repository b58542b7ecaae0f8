//! Keys: notebook, cell, module hash, version, the execution key, entry ids and content hashes.
//!
//! Every key is validated once, when it is made, so the rest of the program can trust it.
//! Only a [`NotebookKey`] ever becomes a path, and only through [`NotebookKey::components`].

use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {reason}")]
pub struct KeyError {
    pub what: &'static str,
    pub value: String,
    pub reason: String,
}

/// Most characters of a value an error message repeats.
pub const ECHOED_CHARS: usize = 80;

fn key_error(what: &'static str, value: &str, reason: impl Into<String>) -> KeyError {
    KeyError {
        what,
        value: celltime_text::excerpt(value, ECHOED_CHARS).into_owned(),
        reason: reason.into(),
    }
}

/// Deserialises a value from its text form without an owned copy of the text: ids, hashes
/// and times are read by the million from maps and logs.
pub(crate) struct FromStrVisitor<T> {
    expecting: &'static str,
    parsed: std::marker::PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    pub(crate) fn new(expecting: &'static str) -> FromStrVisitor<T> {
        FromStrVisitor {
            expecting,
            parsed: std::marker::PhantomData,
        }
    }
}

impl<T: FromStr> serde::de::Visitor<'_> for FromStrVisitor<T>
where
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

impl KeyError {
    pub fn new(what: &'static str, value: &str, reason: impl Into<String>) -> KeyError {
        key_error(what, value, reason)
    }
}

/// Names a notebook folder may not use for its own path components, because a notebook
/// folder holds these itself and nested notebooks live inside their parent's folder.
pub const RESERVED_COMPONENTS: &[&str] = &["log", "packs", "objects"];

const MAX_NOTEBOOK_KEY: usize = 1024;
const MAX_COMPONENT: usize = 200;

/// The notebook's path relative to the workspace, without `.py` (`analysis/eda`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NotebookKey(String);

impl NotebookKey {
    pub fn new(text: &str) -> Result<NotebookKey, KeyError> {
        let what = "notebook key";
        if text.is_empty() {
            return Err(key_error(what, text, "it is empty"));
        }
        if text.len() > MAX_NOTEBOOK_KEY {
            return Err(key_error(
                what,
                text,
                format!("longer than {MAX_NOTEBOOK_KEY} bytes"),
            ));
        }
        if text.starts_with('/') || text.contains('\\') || text.contains(':') {
            return Err(key_error(
                what,
                text,
                "it must be a relative path with '/' separators",
            ));
        }
        for component in text.split('/') {
            check_component(text, component)?;
        }
        Ok(NotebookKey(text.to_string()))
    }

    /// The key of the notebook at `relative_path` (a `.py` suffix is dropped).
    pub fn from_notebook_path(relative_path: &str) -> Result<NotebookKey, KeyError> {
        let normalised = relative_path.replace('\\', "/");
        let trimmed = normalised.strip_suffix(".py").unwrap_or(&normalised);
        NotebookKey::new(trimmed)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Path components, each checked to be a plain file name.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

/// The first folder at which `a` and `b` are two spellings of one folder on file systems that
/// ignore case or Unicode normalisation (macOS, Windows): `Café` and `cafe\u{301}`, `EDA` and
/// `eda`. Returns that folder as `a` spells it; `None` when the keys name different folders
/// there (or are equal).
pub fn colliding_folder(a: &NotebookKey, b: &NotebookKey) -> Option<String> {
    fn fold(component: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        component
            .nfc()
            .collect::<String>()
            .to_lowercase()
            .nfc()
            .collect()
    }
    let mut folder = Vec::new();
    for (x, y) in a.components().zip(b.components()) {
        folder.push(x);
        if x != y {
            return (fold(x) == fold(y)).then(|| folder.join("/"));
        }
    }
    None
}

fn check_component(key: &str, component: &str) -> Result<(), KeyError> {
    let what = "notebook key";
    if component.is_empty() {
        return Err(key_error(what, key, "it has an empty path component"));
    }
    if component == "." || component == ".." {
        return Err(key_error(
            what,
            key,
            "'.' and '..' components would leave the store",
        ));
    }
    if component.starts_with('.') {
        return Err(key_error(
            what,
            key,
            "components may not start with '.' (reserved for the store's own files)",
        ));
    }
    if component.len() > MAX_COMPONENT {
        return Err(key_error(
            what,
            key,
            format!("a component is longer than {MAX_COMPONENT} bytes"),
        ));
    }
    if component.ends_with(' ') || component.ends_with('.') {
        return Err(key_error(
            what,
            key,
            "components may not end with a space or '.'",
        ));
    }
    if let Some(bad) = component
        .chars()
        .find(|c| c.is_control() || "*?\"<>|".contains(*c))
    {
        return Err(key_error(
            what,
            key,
            format!("it contains the character {bad:?}"),
        ));
    }
    // Case-insensitively: on macOS and Windows `Log` is the same folder as `log`.
    let lower = component.to_ascii_lowercase();
    if RESERVED_COMPONENTS.contains(&lower.as_str()) || lower.ends_with(".toml") {
        return Err(key_error(
            what,
            key,
            format!(
                "{component:?} is reserved by the store layout; give the notebook an explicit key"
            ),
        ));
    }
    let stem = lower.split('.').next().unwrap_or_default();
    let device = ["con", "prn", "aux", "nul"].contains(&stem)
        || ((stem.starts_with("com") || stem.starts_with("lpt"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if device {
        return Err(key_error(
            what,
            key,
            format!("{component:?} is a device name on Windows; give the notebook an explicit key"),
        ));
    }
    Ok(())
}

impl TryFrom<String> for NotebookKey {
    type Error = KeyError;
    fn try_from(text: String) -> Result<Self, KeyError> {
        NotebookKey::new(&text)
    }
}

impl From<NotebookKey> for String {
    fn from(key: NotebookKey) -> String {
        key.0
    }
}

macro_rules! string_key {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(text: &str) -> Result<$name, KeyError> {
                $name::check(text)?;
                Ok($name(text.to_string()))
            }

            /// Whether `text` is a valid key, without making one.
            pub fn check(text: &str) -> Result<(), KeyError> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(text).map_err(|reason| key_error($what, text, reason))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(text: String) -> Result<Self, KeyError> {
                $name::new(&text)
            }
        }

        impl From<$name> for String {
            fn from(key: $name) -> String {
                key.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = KeyError;
            fn from_str(text: &str) -> Result<Self, KeyError> {
                $name::new(text)
            }
        }
    };
}

fn check_length(text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if text.len() > max {
        return Err(format!("longer than {max} bytes"));
    }
    Ok(())
}

string_key!(
    /// The cell name for a whole-cell entry, else the `persistent_cache` block name, else the
    /// module code hash. Never used as a path.
    CellKey,
    "cell key",
    |text| {
        check_length(text, 256)?;
        match text.chars().find(|c| c.is_control()) {
            Some(c) => Err(format!("it contains the control character {c:?}")),
            None => Ok(()),
        }
    }
);

string_key!(
    /// The module hash marimo computed for the run (base64url or hex).
    ModuleHash,
    "module hash",
    |text| {
        check_length(text, 128)?;
        match text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            Some(c) => Err(format!(
                "{c:?} is not allowed (use letters, digits, '-' and '_')"
            )),
            None => Ok(()),
        }
    }
);

string_key!(
    /// Enumerates non-deterministic alternatives (or a bitemporal time); default `0`.
    Version,
    "version",
    |text| {
        check_length(text, 64)?;
        match text.chars().find(|c| !c.is_ascii_alphanumeric()) {
            Some(c) => Err(format!("{c:?} is not alphanumeric")),
            None => Ok(()),
        }
    }
);

string_key!(
    /// marimo's own key for a run, `<block>/<P>_<hash>.<pickle|json|jsonl>`: what marimo hands
    /// its cache store, and the entry's path relative to `__marimo__/cache/`.
    MarimoKey,
    "marimo cache key",
    |text| {
        check_length(text, 1024)?;
        let (block, file) = text
            .split_once('/')
            .ok_or_else(|| "expected <block>/<P>_<hash>.<ext>".to_string())?;
        let block_ok = !block.is_empty()
            && block
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" _-".contains(&b));
        if !block_ok {
            return Err("the block is letters, digits, ' ', '_' and '-' (as marimo writes it)".into());
        }
        match crate::legacy::names::parse_entry_name(file) {
            Some(_) => Ok(()),
            None => Err("expected <P>_<hash>.pickle, .json or .jsonl after the block".into()),
        }
    }
);

impl MarimoKey {
    /// The block: the `persistent_cache` name, the function's name, or `cell_cache`.
    pub fn block(&self) -> &str {
        self.0.split_once('/').map_or("", |(block, _)| block)
    }

    /// The hash without marimo's type prefix: the run's module hash.
    pub fn hash(&self) -> &str {
        let file = self.0.split_once('/').map_or("", |(_, file)| file);
        let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
        stem.get(2..).unwrap_or("")
    }

    /// `pickle`, `json` or `jsonl` (a lazy manifest).
    pub fn extension(&self) -> &str {
        self.0.rsplit_once('.').map_or("", |(_, ext)| ext)
    }
}

impl Default for Version {
    fn default() -> Self {
        Version("0".to_string())
    }
}

impl fmt::Display for NotebookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NotebookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl FromStr for NotebookKey {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<Self, KeyError> {
        NotebookKey::new(text)
    }
}

/// (notebook, cell, module hash, version, created_at): identifies one run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExecKey {
    pub notebook: NotebookKey,
    pub cell: CellKey,
    pub module: ModuleHash,
    pub version: Version,
    pub created_at: Timestamp,
}

impl ExecKey {
    pub fn id(&self) -> EntryId {
        EntryId::of(
            self.notebook.as_str(),
            self.cell.as_str(),
            self.module.as_str(),
            self.version.as_str(),
            self.created_at,
        )
    }
}

impl fmt::Display for ExecKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} · {} · {} · v{} · {}",
            self.notebook, self.cell, self.module, self.version, self.created_at
        )
    }
}

/// A stable id derived from the execution key: the first 128 bits of its BLAKE3 hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct EntryId(pub u128);

impl<'de> Deserialize<'de> for EntryId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<EntryId, D::Error> {
        d.deserialize_str(FromStrVisitor::new("an entry id of 32 hex digits"))
    }
}

/// Characters of an id shown by default; commands accept any unique prefix of 4 or more.
pub const SHORT_ID_LEN: usize = 10;
pub const MIN_ID_PREFIX: usize = 4;

impl EntryId {
    pub fn of(
        notebook: &str,
        cell: &str,
        module: &str,
        version: &str,
        created_at: Timestamp,
    ) -> EntryId {
        // One buffer and one call: a `blake3::Hasher` costs more to set up than these few
        // bytes cost to hash, and ids are computed for every entry a map or log holds.
        let mut key = Vec::with_capacity(64 + notebook.len() + cell.len() + module.len());
        key.extend_from_slice(b"celltime-entry-v1\0");
        for part in [notebook, cell, module, version] {
            key.extend_from_slice(part.as_bytes());
            key.push(0);
        }
        let _ = std::io::Write::write_fmt(&mut key, format_args!("{}", created_at.millis()));
        let digest = blake3::hash(&key);
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest.as_bytes()[..16]);
        EntryId(u128::from_be_bytes(first))
    }

    pub fn to_hex(self) -> String {
        self.with_hex(str::to_string)
    }

    /// `f` of the 32 lowercase hex digits, built on the stack (listings print ids by the
    /// hundred thousand).
    pub fn with_hex<R>(self, f: impl FnOnce(&str) -> R) -> R {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 32];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0.to_be_bytes()) {
            pair[0] = DIGITS[(byte >> 4) as usize];
            pair[1] = DIGITS[(byte & 15) as usize];
        }
        // Only hex digits were written.
        f(std::str::from_utf8(&hex).unwrap_or_default())
    }

    pub fn short(self) -> String {
        self.to_hex()[..SHORT_ID_LEN].to_string()
    }

    /// Does this id start with the hex prefix (in either case)?
    pub fn has_prefix(self, prefix: &str) -> bool {
        let hex = self.to_hex();
        hex.len() >= prefix.len() && hex[..prefix.len()].eq_ignore_ascii_case(prefix)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntryId({})", self.short())
    }
}

impl From<EntryId> for String {
    fn from(id: EntryId) -> String {
        id.to_hex()
    }
}

impl TryFrom<String> for EntryId {
    type Error = KeyError;
    fn try_from(text: String) -> Result<EntryId, KeyError> {
        text.parse()
    }
}

impl FromStr for EntryId {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<EntryId, KeyError> {
        decode_hex(text)
            .map(|bytes| EntryId(u128::from_be_bytes(bytes)))
            .ok_or_else(|| key_error("entry id", text, "expected 32 hex digits"))
    }
}

/// The BLAKE3 hash of a content's bytes: its address in the store.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct ContentHash(pub [u8; 32]);

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ContentHash, D::Error> {
        d.deserialize_str(FromStrVisitor::new("a content hash of 64 hex digits"))
    }
}

impl ContentHash {
    pub fn of(bytes: &[u8]) -> ContentHash {
        ContentHash(*blake3::hash(bytes).as_bytes())
    }

    pub fn to_hex(self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    pub fn short(self) -> String {
        self.to_hex()[..12].to_string()
    }
}

/// Hex digits (either case) to bytes; `None` unless `text` is exactly `2 * N` hex digits.
pub(crate) fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    const INVALID: u8 = 0xff;
    const DIGITS: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut c = 0;
        while c < 256 {
            table[c] = match c as u8 {
                b'0'..=b'9' => c as u8 - b'0',
                b'a'..=b'f' => c as u8 - b'a' + 10,
                b'A'..=b'F' => c as u8 - b'A' + 10,
                _ => INVALID,
            };
            c += 1;
        }
        table
    };
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0;
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (high, low) = (DIGITS[pair[0] as usize], DIGITS[pair[1] as usize]);
        bad |= high | low;
        *byte = high << 4 | (low & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(out)
}

impl FromStr for ContentHash {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<ContentHash, KeyError> {
        decode_hex(text)
            .map(ContentHash)
            .ok_or_else(|| key_error("content hash", text, "expected 64 lower-case hex digits"))
    }
}

impl From<ContentHash> for String {
    fn from(hash: ContentHash) -> String {
        hash.to_hex()
    }
}

impl TryFrom<String> for ContentHash {
    type Error = KeyError;
    fn try_from(text: String) -> Result<ContentHash, KeyError> {
        text.parse()
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_one_folder_would_hold_on_macos_and_windows_collide() {
        let key = |k: &str| NotebookKey::new(k).unwrap();
        let collide = |a: &str, b: &str| colliding_folder(&key(a), &key(b));
        assert_eq!(
            collide("Analysis/x", "analysis/eda"),
            Some("Analysis".into())
        );
        assert_eq!(
            collide("analysis/EDA", "analysis/eda"),
            Some("analysis/EDA".into())
        );
        assert_eq!(
            collide("caf\u{e9}", "cafe\u{301}"),
            Some("caf\u{e9}".into())
        );
        assert_eq!(collide("analysis/eda", "analysis/eda"), None);
        assert_eq!(collide("analysis/eda", "analysis/eda2"), None);
        assert_eq!(collide("a/eda", "b/eda"), None);
    }

    #[test]
    fn notebook_keys_never_escape() {
        for bad in [
            "",
            "/abs",
            "../up",
            "a/../b",
            "a//b",
            ".hidden",
            "a/.x",
            "nul\0",
            "c:/x",
            "a\\b",
            "a/log",
            "map.toml",
            "x/packs",
            "a/Log",
            "x/b.TOML",
            "con",
            "a/lpt1.py",
            "aux.x",
        ] {
            assert!(NotebookKey::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(NotebookKey::new(&"a".repeat(300)).is_err());
        assert_eq!(
            NotebookKey::from_notebook_path("analysis/eda.py")
                .unwrap()
                .as_str(),
            "analysis/eda"
        );
        assert!(NotebookKey::new("analysis/EDA v2").is_ok());
    }

    #[test]
    fn versions_are_alphanumeric() {
        assert!(Version::new("a1").is_ok());
        assert!(Version::new("a-1").is_err());
        assert_eq!(Version::default().as_str(), "0");
    }

    #[test]
    fn ids_depend_on_every_key_part() {
        let t = Timestamp(1_700_000_000_000);
        let base = EntryId::of("nb", "cell", "m", "0", t);
        assert_ne!(base, EntryId::of("nb", "cell", "m", "1", t));
        assert_ne!(
            base,
            EntryId::of("nb", "cell", "m", "0", Timestamp(t.0 + 1))
        );
        assert_ne!(base, EntryId::of("nb", "cel", "lm", "0", t));
        assert_eq!(base.to_hex().parse::<EntryId>().unwrap(), base);
    }

    #[test]
    fn content_hash_round_trips() {
        let h = ContentHash::of(b"hello");
        assert_eq!(h.to_hex().parse::<ContentHash>().unwrap(), h);
        assert!("zz".parse::<ContentHash>().is_err());
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    /// The example docs/FORMAT.md gives; a change here is a format change.
    #[test]
    fn entry_id_example() {
        let created: Timestamp = "2026-11-25T10:00:00.123Z".parse().unwrap();
        let id = EntryId::of("analysis/eda", "fit_model", "Hx3abc", "0", created);
        assert_eq!(created.millis(), 1_795_600_800_123);
        assert_eq!(id.to_hex(), "c301964c118d4088d2f826bf228381af");
    }
}
