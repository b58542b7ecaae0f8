//! `verify`: every content hashes to its address, every entry's contents exist, the log reads
//! cleanly. Garbage (contents nothing references) is reported apart from errors.

use super::error::Result;
use super::fs::ItemKind;
use super::notebook::{Issue, Notebook, Severity};
use super::objects;
use super::pack;
use crate::model::ContentHash;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

#[derive(Debug, Default, Clone, Serialize)]
pub struct VerifyReport {
    pub notebook: String,
    pub entries: usize,
    pub contents_checked: usize,
    pub bytes_hashed: u64,
    pub garbage_contents: usize,
    pub garbage_bytes: u64,
    pub problems: Vec<Issue>,
}

impl VerifyReport {
    /// The report of a notebook folder that cannot be read at all.
    pub fn unreadable(notebook: &str, problem: crate::Located) -> VerifyReport {
        VerifyReport {
            notebook: notebook.to_string(),
            problems: vec![Issue {
                severity: Severity::Error,
                at: problem,
            }],
            ..VerifyReport::default()
        }
    }

    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }
}

#[derive(Debug, Clone, Copy)]
struct Found {
    size: u64,
}

impl Notebook {
    /// Checks the folder; reads every content once.
    pub fn verify(&self) -> Result<VerifyReport> {
        let ctx = self.context().clone();
        let fs = ctx.fs.as_ref();
        let paths = self.paths();
        let mut report = VerifyReport {
            notebook: self.key().to_string(),
            entries: self.index().len(),
            ..VerifyReport::default()
        };
        report.problems.extend(self.issues().iter().cloned());
        let error = |path: PathBuf, message: String| Issue::error(&path, None, message);
        // Links, FIFOs and devices where segments and packs live are never read: say so.
        for dir in [paths.log_dir(), paths.packs_dir()] {
            for item in fs.read_dir(&dir).unwrap_or_default() {
                if matches!(item.kind, ItemKind::Symlink | ItemKind::Other) {
                    report.problems.push(Issue::warning(
                        &dir.join(&item.name),
                        "not a regular file; ignored (celltime never reads or deletes it)",
                    ));
                }
            }
        }
        let referenced = self.index().referenced_contents();
        // No content is longer than the map records; a longer one is damage, not read whole.
        let longest = referenced
            .values()
            .copied()
            .max()
            .unwrap_or(0)
            .max(ctx.config.inline_threshold);
        let mut found: HashMap<ContentHash, Found> = HashMap::new();
        // Damaged contents are reported once, where they are, not again as missing.
        let mut damaged: HashSet<ContentHash> = HashSet::new();
        let packs_dir = paths.packs_dir();
        for name in pack::list(fs, &packs_dir)? {
            let path = packs_dir.join(&name);
            let mut bad = Vec::new();
            let visited = pack::for_each_row(&path, longest, |hash, size, bytes| {
                let bytes = match bytes {
                    Ok(bytes) => bytes,
                    Err(len) => {
                        if let Ok(h) = hash.parse::<ContentHash>() {
                            damaged.insert(h);
                        }
                        bad.push(format!(
                            "content {hash} holds {len} bytes, more than any content the map records; it was not read"
                        ));
                        return Ok(());
                    }
                };
                report.contents_checked += 1;
                report.bytes_hashed += bytes.len() as u64;
                match hash.parse::<ContentHash>() {
                    Ok(h) if ContentHash::of(bytes) == h && size == bytes.len() as u64 => {
                        found.insert(h, Found { size });
                    }
                    Ok(h) => {
                        damaged.insert(h);
                        bad.push(format!("content {hash} does not match its hash or size"));
                    }
                    Err(_) => bad.push(format!("row with invalid hash {hash:?}")),
                }
                Ok(())
            });
            if let Err(e) = visited {
                report
                    .problems
                    .push(error(path.clone(), format!("unreadable pack: {e}")));
            }
            for message in bad {
                report.problems.push(error(path.clone(), message));
            }
        }
        for object in objects::list(fs, &paths.objects_dir())? {
            match (object.hash, object.kind) {
                (Some(hash), ItemKind::File) => {
                    let recorded = match referenced.get(&hash) {
                        // Garbage: counted from its length; gc sweeps it and nothing reads it.
                        None => {
                            found.insert(hash, Found { size: object.len });
                            continue;
                        }
                        Some(&recorded) if object.len != recorded => {
                            damaged.insert(hash);
                            report.problems.push(error(
                                object.path,
                                format!(
                                    "holds {} bytes where the map records {recorded}; it was not read",
                                    object.len
                                ),
                            ));
                            continue;
                        }
                        Some(&recorded) => recorded,
                    };
                    // Streamed, and never past the recorded size: memory does not grow with
                    // the object, and an object that grew meanwhile is not read on for ever.
                    let hashed = fs.hash_file(&object.path, recorded.saturating_add(1));
                    let (actual, len) = match hashed {
                        Ok(hashed) => hashed,
                        Err(e) => {
                            report
                                .problems
                                .push(error(object.path, format!("unreadable: {e}")));
                            continue;
                        }
                    };
                    report.contents_checked += 1;
                    report.bytes_hashed += len;
                    if ContentHash(*actual.as_bytes()) == hash {
                        found.insert(hash, Found { size: len });
                    } else {
                        damaged.insert(hash);
                        report
                            .problems
                            .push(error(object.path, "content does not match its name".into()));
                    }
                }
                _ if object.temp => report.problems.push(Issue::new(
                    Severity::Info,
                    &object.path,
                    None,
                    "leftover temp file of an interrupted write; gc removes it",
                )),
                _ => report.problems.push(Issue::warning(
                    &object.path,
                    "not a store object (celltime never deletes it)",
                )),
            }
        }
        for view in self.index().views() {
            for (hash, size) in self.index().contents_of(&view) {
                match found.get(&hash) {
                    None if damaged.contains(&hash) => {}
                    None => report.problems.push(error(
                        paths.dir.clone(),
                        format!(
                            "entry {} ({}): content {} is missing",
                            view.id.short(),
                            view.cell,
                            hash.short()
                        ),
                    )),
                    Some(f) if f.size != size => report.problems.push(error(
                        paths.dir.clone(),
                        format!(
                            "entry {} ({}): content {} has {} bytes, the map says {size}",
                            view.id.short(),
                            view.cell,
                            hash.short(),
                            f.size
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
        for (hash, f) in &found {
            if !referenced.contains_key(hash) {
                report.garbage_contents += 1;
                report.garbage_bytes += f.size;
            }
        }
        Ok(report)
    }
}
