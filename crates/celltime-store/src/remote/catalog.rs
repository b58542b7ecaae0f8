//! What a remote holds for one notebook: its bundles (with their tables), push roots and gc
//! marks, read fresh from a listing. Which bundle to read a content from is decided here.

use super::bundle::{self, BundleError, BundleTable};
use super::records::{MARK_SCHEMA, Mark};
use super::{
    BUNDLE_SUFFIX, CONCURRENCY, Core, LOG, MARK_SUFFIX, PACKS, ROOTS_SUFFIX, RemoteError, Result,
};
use crate::model::{ContentHash, NotebookKey};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStoreExt};
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// One object of the notebook's remote folder.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub path: ObjectPath,
    pub size: u64,
    pub modified: DateTime<Utc>,
}

impl Listed {
    fn of(meta: ObjectMeta) -> Listed {
        Listed {
            name: meta.location.filename().unwrap_or_default().to_string(),
            path: meta.location,
            size: meta.size,
            modified: meta.last_modified,
        }
    }

    /// The writer a file of this machine's naming (`<writer>-<time>-<hex>.<suffix>`) belongs to.
    pub fn writer(&self) -> &str {
        self.name.split('-').next().unwrap_or_default()
    }

    /// The writer's time in the name of a roots file (`<writer>-<YYYYMMDDTHHMMSSmmmZ>-…`),
    /// which orders one writer's roots: it never goes back (see `push::commit_roots`).
    pub fn named_time(&self) -> Option<DateTime<Utc>> {
        let stamp = self.name.split('-').nth(1)?;
        chrono::NaiveDateTime::parse_from_str(stamp, ROOTS_TIME)
            .ok()
            .map(|t| t.and_utc())
    }
}

/// How roots names write their time: UTC to the millisecond.
pub const ROOTS_TIME: &str = "%Y%m%dT%H%M%S%3fZ";

#[derive(Debug, Clone)]
pub struct Bundle {
    pub listed: Listed,
    /// The table, or why the bundle cannot be used (bad header, wrong size).
    pub table: std::result::Result<BundleTable, String>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub bundles: Vec<Bundle>,
    pub roots: Vec<Listed>,
    pub marks: Vec<(Listed, Mark)>,
    /// Objects of the folder that are none of the above (left alone, reported).
    pub unknown: Vec<Listed>,
    /// Marks that could not be read (they condemn nothing).
    pub bad_marks: Vec<(Listed, String)>,
    located: HashMap<ContentHash, Vec<(usize, Range<u64>)>>,
    condemned: HashSet<String>,
}

impl Catalog {
    pub fn is_condemned(&self, bundle: &str) -> bool {
        self.condemned.contains(bundle)
    }

    /// Where a content can be read, bundles no mark condemns first.
    pub fn locations(&self, hash: ContentHash) -> Vec<(&Bundle, Range<u64>)> {
        let mut found: Vec<(&Bundle, Range<u64>)> = self
            .located
            .get(&hash)
            .map(|v| {
                v.iter()
                    .map(|(i, r)| (&self.bundles[*i], r.clone()))
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by_key(|(b, _)| self.is_condemned(&b.listed.name));
        found
    }

    /// Is the content in a bundle that no mark condemns? What a push may rely on.
    pub fn present(&self, hash: ContentHash) -> bool {
        self.located.get(&hash).is_some_and(|v| {
            v.iter()
                .any(|(i, _)| !self.is_condemned(&self.bundles[*i].listed.name))
        })
    }

    /// Is the content anywhere (even in a condemned bundle)? What a reader may use.
    pub fn readable(&self, hash: ContentHash) -> bool {
        self.located.contains_key(&hash)
    }

    fn index(&mut self) {
        self.located.clear();
        for (i, bundle) in self.bundles.iter().enumerate() {
            if let Ok(table) = &bundle.table {
                for (hash, range) in &table.rows {
                    self.located
                        .entry(*hash)
                        .or_default()
                        .push((i, range.clone()));
                }
            }
        }
        self.condemned = self
            .marks
            .iter()
            .flat_map(|(_, m)| m.bundles.iter().cloned())
            .collect();
    }
}

impl Core {
    /// Lists the notebook's remote folder and reads every bundle's table and every mark.
    pub(crate) async fn catalog(&self, key: &NotebookKey) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for listed in self.list(&self.notebook_folder(key, PACKS)).await? {
            if listed.name.ends_with(BUNDLE_SUFFIX) {
                catalog.bundles.push(Bundle {
                    listed,
                    table: Err(String::new()),
                });
            } else {
                catalog.unknown.push(listed);
            }
        }
        let mut marks = Vec::new();
        for listed in self.list(&self.notebook_folder(key, LOG)).await? {
            if listed.name.ends_with(ROOTS_SUFFIX) {
                catalog.roots.push(listed);
            } else if listed.name.ends_with(MARK_SUFFIX) {
                marks.push(listed);
            } else {
                catalog.unknown.push(listed);
            }
        }
        let tables: Vec<std::result::Result<BundleTable, String>> =
            futures::stream::iter(catalog.bundles.iter().map(|b| self.read_table(&b.listed)))
                .buffered(CONCURRENCY)
                .try_collect()
                .await?;
        for (bundle, table) in catalog.bundles.iter_mut().zip(tables) {
            bundle.table = table;
        }
        let read: Vec<std::result::Result<Mark, String>> =
            futures::stream::iter(marks.iter().map(|m| self.read_mark(m)))
                .buffered(CONCURRENCY)
                .try_collect()
                .await?;
        for (listed, mark) in marks.into_iter().zip(read) {
            match mark {
                Ok(mark) => catalog.marks.push((listed, mark)),
                Err(why) => catalog.bad_marks.push((listed, why)),
            }
        }
        catalog.index();
        Ok(catalog)
    }

    pub(crate) async fn list(&self, folder: &ObjectPath) -> Result<Vec<Listed>> {
        let mut found: Vec<Listed> = self
            .endpoint
            .client
            .list(Some(folder))
            .map_ok(Listed::of)
            .try_collect()
            .await
            .map_err(|e| self.request_error(folder, &e))?;
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// The table of a bundle, or why it is unusable (a request failure is an error).
    async fn read_table(
        &self,
        listed: &Listed,
    ) -> Result<std::result::Result<BundleTable, String>> {
        let mut want = bundle::HEAD_PROBE.min(listed.size);
        loop {
            if want == 0 {
                return Ok(Err("empty object".into()));
            }
            let head = self.get_range(&listed.path, 0..want).await?;
            match bundle::parse_table(&head) {
                Ok(table) if table.total == listed.size => return Ok(Ok(table)),
                Ok(table) => {
                    return Ok(Err(format!(
                        "its table describes {} bytes but the object holds {} (truncated or extended)",
                        table.total, listed.size
                    )));
                }
                Err(BundleError::Short(needed)) if needed <= listed.size && needed > want => {
                    want = needed;
                }
                Err(BundleError::Short(needed)) => {
                    return Ok(Err(format!(
                        "its table needs {needed} bytes but the object holds {}",
                        listed.size
                    )));
                }
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
    }

    async fn read_mark(&self, listed: &Listed) -> Result<std::result::Result<Mark, String>> {
        let bytes = self.get_range(&listed.path, 0..listed.size).await;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(RemoteError::Object { .. }) if listed.size == 0 => return Ok(Err("empty".into())),
            Err(e) => return Err(e),
        };
        Ok(serde_json::from_slice::<Mark>(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                if m.schema == MARK_SCHEMA {
                    Ok(m)
                } else {
                    Err(format!("unknown schema {:?}", m.schema))
                }
            }))
    }

    pub(crate) async fn get_range(
        &self,
        path: &ObjectPath,
        range: Range<u64>,
    ) -> Result<bytes::Bytes> {
        self.fetch_range(path, range)
            .await
            .map_err(|e| self.request_error(path, &e))
    }

    /// A range of an object, or `None` when the object is gone (a gc swept it since it was
    /// listed): that says nothing about whether the remote can be reached.
    pub(crate) async fn get_range_if_there(
        &self,
        path: &ObjectPath,
        range: Range<u64>,
    ) -> Result<Option<bytes::Bytes>> {
        match self.fetch_range(path, range).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.request_error(path, &e)),
        }
    }

    async fn fetch_range(
        &self,
        path: &ObjectPath,
        range: Range<u64>,
    ) -> object_store::Result<bytes::Bytes> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        self.endpoint
            .client
            .get_opts(path, options)
            .await?
            .bytes()
            .await
    }

    pub(crate) async fn get_ranges(
        &self,
        path: &ObjectPath,
        ranges: &[Range<u64>],
    ) -> Result<Vec<bytes::Bytes>> {
        self.endpoint
            .client
            .get_ranges(path, ranges)
            .await
            .map_err(|e| self.request_error(path, &e))
    }

    pub(crate) async fn put_object(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<()> {
        self.endpoint
            .client
            .put(path, bytes.into())
            .await
            .map(|_| ())
            .map_err(|e| self.request_error(path, &e))
    }

    pub(crate) async fn delete_object(&self, path: &ObjectPath) -> Result<()> {
        match self.endpoint.client.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.request_error(path, &e)),
        }
    }

    /// The server's clock now: the modification time of an object written for the purpose
    /// (and deleted again). Every time gc compares comes from this one clock.
    pub(crate) async fn server_now(&self, key: &NotebookKey) -> Result<DateTime<Utc>> {
        let name = format!("{}.clock", self.new_stem());
        let path = self.notebook_path(key, LOG, &name);
        self.put_object(&path, Vec::new()).await?;
        // The listing's time, as for every object gc compares it with (a HEAD may round).
        let listed = self.list(&self.notebook_folder(key, LOG)).await?;
        self.delete_object(&path).await?;
        listed
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.modified)
            .ok_or_else(|| self.object_error(&path, "an object just written is not listed"))
    }
}
