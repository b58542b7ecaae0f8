//! `verify --remote`: every content the local maps reference is on the remote (and, reading,
//! hashes right); the remote's own objects are readable.

use super::catalog::Catalog;
use super::{CONCURRENCY, Core, Remote, Result};
use crate::model::ContentHash;
use crate::store::{Notebook, Severity, Store};
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

#[derive(Debug, Clone, Serialize)]
pub struct RemoteProblem {
    pub severity: Severity,
    /// The remote object (or notebook folder) concerned, as a URL.
    pub object: String,
    pub message: String,
}

/// What `verify --remote` found for one notebook.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteVerifyReport {
    pub notebook: String,
    pub entries: usize,
    /// Contents the map references.
    pub contents: usize,
    pub on_remote: usize,
    /// Bytes read and hashed (with `--read`).
    pub bytes_read: u64,
    pub problems: Vec<RemoteProblem>,
}

impl RemoteVerifyReport {
    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }
}

impl Remote {
    /// Checks the selected notebooks against the remote; `read` also downloads every content
    /// and checks its hash.
    pub fn verify(
        &self,
        store: &Store,
        notebooks: &[String],
        read: bool,
    ) -> Result<Vec<RemoteVerifyReport>> {
        if !self.check_marker()? {
            return Err(self.object_error(
                &self.path([super::MARKER]),
                "this remote holds no celltime contents yet: push to it first",
            ));
        }
        let mut reports = Vec::new();
        for key in self.select(store, notebooks)? {
            let notebook = store.notebook(&key)?;
            let catalog = self.block_on(self.catalog(&key))?;
            let mut report = self.check_references(&notebook, &catalog);
            if read {
                self.block_on(self.read_back(&notebook, &catalog, &mut report))?;
            }
            reports.push(report);
        }
        Ok(reports)
    }

    fn check_references(&self, notebook: &Notebook, catalog: &Catalog) -> RemoteVerifyReport {
        let key = notebook.key();
        let folder = self.describe_path(&self.path(key.components()));
        let index = notebook.index();
        let referenced = index.referenced_contents();
        let mut report = RemoteVerifyReport {
            notebook: key.to_string(),
            entries: index.len(),
            contents: referenced.len(),
            on_remote: 0,
            bytes_read: 0,
            problems: Vec::new(),
        };
        let problem = |severity, object: String, message: String| RemoteProblem {
            severity,
            object,
            message,
        };
        for bundle in &catalog.bundles {
            if let Err(why) = &bundle.table {
                report.problems.push(problem(
                    Severity::Error,
                    self.describe_path(&bundle.listed.path),
                    format!("damaged bundle: {why}"),
                ));
            }
        }
        for (listed, why) in &catalog.bad_marks {
            report.problems.push(problem(
                Severity::Warning,
                self.describe_path(&listed.path),
                format!("unreadable gc mark ({why}); it condemns nothing"),
            ));
        }
        for listed in &catalog.unknown {
            report.problems.push(problem(
                Severity::Info,
                self.describe_path(&listed.path),
                "not a celltime object (left alone)".into(),
            ));
        }
        let mut reported = HashSet::new();
        for view in index.views() {
            for (hash, size) in index.contents_of(&view) {
                if !reported.insert(hash) {
                    continue;
                }
                let at = format!("entry {} ({})", view.id.short(), view.cell);
                let locations = catalog.locations(hash);
                let Some((bundle, range)) = locations.first() else {
                    report.problems.push(problem(
                        Severity::Error,
                        folder.clone(),
                        format!(
                            "{at}: content {} is not on the remote; push it from a machine that has it",
                            hash.to_hex()
                        ),
                    ));
                    continue;
                };
                report.on_remote += 1;
                if range.end - range.start != size {
                    report.problems.push(problem(
                        Severity::Error,
                        self.describe_path(&bundle.listed.path),
                        format!(
                            "{at}: content {} has {} bytes there, the map says {size}",
                            hash.to_hex(),
                            range.end - range.start
                        ),
                    ));
                } else if !catalog.present(hash) {
                    report.problems.push(problem(
                        Severity::Error,
                        self.describe_path(&bundle.listed.path),
                        format!(
                            "{at}: content {} is only in bundles a gc condemned; push again to keep it",
                            hash.to_hex()
                        ),
                    ));
                }
            }
        }
        report
    }
}

impl Core {
    /// Reads every referenced content from its first location and checks its hash.
    async fn read_back(
        &self,
        notebook: &Notebook,
        catalog: &Catalog,
        report: &mut RemoteVerifyReport,
    ) -> Result<()> {
        let mut by_bundle: HashMap<ObjectPath, Vec<(ContentHash, Range<u64>)>> = HashMap::new();
        for hash in notebook.index().referenced_contents().keys() {
            if let Some((bundle, range)) = catalog.locations(*hash).into_iter().next() {
                by_bundle
                    .entry(bundle.listed.path.clone())
                    .or_default()
                    .push((*hash, range));
            }
        }
        let checks = futures::stream::iter(by_bundle.into_iter().map(|(path, items)| async move {
            let ranges: Vec<Range<u64>> = items.iter().map(|(_, r)| r.clone()).collect();
            let parts = self.get_ranges(&path, &ranges).await?;
            let mut bytes = 0u64;
            let mut bad = Vec::new();
            for ((hash, _), part) in items.iter().zip(parts) {
                bytes += part.len() as u64;
                if ContentHash::of(&part) != *hash {
                    bad.push(*hash);
                }
            }
            Ok::<_, super::RemoteError>((path, bytes, bad))
        }))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
        for checked in checks {
            let (path, bytes, bad) = checked?;
            report.bytes_read += bytes;
            for hash in bad {
                report.problems.push(RemoteProblem {
                    severity: Severity::Error,
                    object: self.describe_path(&path),
                    message: format!("content {} does not match its hash", hash.to_hex()),
                });
            }
        }
        Ok(())
    }
}
