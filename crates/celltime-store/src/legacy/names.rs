//! What the names in a marimo cache folder mean (docs/MARIMO-CACHE.md §2): entry files, lazy blob
//! folders, atomic-write leftovers and marimo's own manifests.

/// How an entry was written, from its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Loader {
    /// `<P>_<hash>.pickle`: one pickled `Cache`.
    Pickle,
    /// `<P>_<hash>.json`: `json.dumps` of the `Cache`.
    Json,
    /// `<P>_<hash>.jsonl`: a msgspec manifest plus the blob folder `<hash>/`.
    Lazy,
}

impl Loader {
    pub fn name(self) -> &'static str {
        match self {
            Loader::Pickle => "pickle",
            Loader::Json => "json",
            Loader::Lazy => "lazy",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Loader::Pickle => "pickle",
            Loader::Json => "json",
            Loader::Lazy => "jsonl",
        }
    }
}

/// The parts of an entry file name `<P>_<hash>.<ext>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryName {
    pub prefix: char,
    pub hash: String,
    pub loader: Loader,
}

/// Parses `^[PCEXDU]_[A-Za-z0-9_-]+\.(pickle|json|jsonl)$`; anything else is not an entry.
pub fn parse_entry_name(name: &str) -> Option<EntryName> {
    let (stem, ext) = name.split_once('.')?;
    let loader = match ext {
        "pickle" => Loader::Pickle,
        "json" => Loader::Json,
        "jsonl" => Loader::Lazy,
        _ => return None,
    };
    let mut chars = stem.chars();
    let prefix = chars.next().filter(|c| "PCEXDU".contains(*c))?;
    let hash = chars.as_str().strip_prefix('_')?;
    let valid = !hash.is_empty()
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| EntryName {
        prefix,
        hash: hash.to_string(),
        loader,
    })
}

/// The cache type a prefix stands for (`CACHE_PREFIX` in marimo's `_save/cache.py`).
pub fn cache_type_of(prefix: char) -> &'static str {
    match prefix {
        'P' => "Pure",
        'C' => "ContentAddressed",
        'E' => "ExecutionPath",
        'X' => "ContextExecutionPath",
        'D' => "Deferred",
        _ => "Unknown",
    }
}

/// `<name>.tmp<8 hex>`: what an interrupted atomic write of marimo 0.25+ leaves behind.
pub fn is_temp_file(name: &str) -> bool {
    name.len() > 12 && {
        let (head, tail) = name.split_at(name.len() - 8);
        head.ends_with(".tmp") && tail.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

/// `<slug>-<16 hex>.json` at the cache root: marimo's per-notebook manifest (0.25+).
pub fn is_notebook_manifest(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    match stem.rsplit_once('-') {
        Some((slug, hex)) => {
            !slug.is_empty()
                && hex.len() == 16
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }
        None => false,
    }
}

/// Block folder names are sanitised to `[a-zA-Z0-9 _-]` by marimo, so anything else at the
/// root (our own `.celltime-trash`, hidden folders) is not a block.
pub fn is_block_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _-".contains(&b))
}

/// marimo's block-name sanitising: `re.sub(r"[^a-zA-Z0-9 _-]", "_", name)`.
pub fn sanitise_block_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " _-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        let e = parse_entry_name("C_zQaVqm6bQ-F4lcofF5iI8V7lV-IyRGnILuG_RIWsYjU.pickle").unwrap();
        assert_eq!(e.prefix, 'C');
        assert_eq!(e.hash, "zQaVqm6bQ-F4lcofF5iI8V7lV-IyRGnILuG_RIWsYjU");
        assert_eq!(e.loader, Loader::Pickle);
        assert_eq!(parse_entry_name("D_-x.jsonl").unwrap().loader, Loader::Lazy);
        for bad in [
            "Q_abc.pickle",
            "C_.pickle",
            "C_abc.pickle.tmp0123abcd",
            "C_a.b.pickle",
            "Cabc.pickle",
            "C_ab c.json",
            "C_abc.npy",
        ] {
            assert!(parse_entry_name(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn root_files() {
        assert!(is_temp_file("C_abc.pickle.tmp0a1b2c3d"));
        assert!(!is_temp_file("C_abc.pickle"));
        assert!(is_notebook_manifest("notebook-81b6c9e3c012558a.json"));
        assert!(is_notebook_manifest("my-nb-81b6c9e3c012558a.json"));
        assert!(!is_notebook_manifest("notebook-81b6c9e3.json"));
        assert!(!is_block_name(".celltime-trash"));
        assert!(is_block_name("my block_1-x"));
        assert_eq!(sanitise_block_name("a.b c*"), "a_b c_");
    }
}
