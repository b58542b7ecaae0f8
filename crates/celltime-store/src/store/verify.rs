//! `verify`: every content hashes to its address, every entry's contents exist, the log reads
//! cleanly. Garbage (contents nothing references) is reported apart from errors.

use super::error::Result;
use super::fs::{ItemKind, hash_file};
use super::notebook::{Notebook, Severity};
use super::objects;
use super::pack;
use crate::model::ContentHash;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct VerifyReport {
    pub notebook: String,
    pub entries: usize,
    pub contents_checked: usize,
    pub bytes_hashed: u64,
    pub garbage_contents: usize,
    pub garbage_bytes: u64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
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
        for issue in self.issues() {
            report.problems.push(Problem {
                severity: issue.severity,
                path: issue.path.clone(),
                line: issue.line,
                message: issue.message.clone(),
            });
        }
        let error = |path: PathBuf, message: String| Problem {
            severity: Severity::Error,
            path,
            line: None,
            message,
        };
        let mut found: HashMap<ContentHash, Found> = HashMap::new();
        // Damaged contents are reported once, where they are, not again as missing.
        let mut damaged: HashSet<ContentHash> = HashSet::new();
        let packs_dir = paths.packs_dir();
        for name in pack::list(fs, &packs_dir)? {
            let path = packs_dir.join(&name);
            let mut bad = Vec::new();
            let visited = pack::for_each_row(&path, |hash, size, bytes| {
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
                    // Streamed: memory does not grow with the object.
                    let (actual, len) = match hash_file(fs, &object.path) {
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
                _ if object.temp => report.problems.push(Problem {
                    severity: Severity::Info,
                    path: object.path,
                    line: None,
                    message: "leftover temp file of an interrupted write; gc removes it".into(),
                }),
                _ => report.problems.push(Problem {
                    severity: Severity::Warning,
                    path: object.path,
                    line: None,
                    message: "not a store object (celltime never deletes it)".into(),
                }),
            }
        }
        let referenced = self.index().referenced_contents();
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
