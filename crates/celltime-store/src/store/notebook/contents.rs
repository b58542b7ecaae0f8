//! Contents as a set, for programs that move them between stores (a remote's push and pull,
//! the read-through fetch): which contents the folder holds, reading many at once, and
//! storing contents that came from elsewhere, each checked against its hash first.

use super::Notebook;
use crate::Located;
use crate::model::ContentHash;
use crate::store::Context;
use crate::store::error::{IoContext, Result, StoreError};
use crate::store::fs::{ItemKind, random_hex};
use crate::store::layout::NotebookPaths;
use crate::store::lock::{self, LockMode};
use crate::store::objects;
use crate::store::pack::{self, PACK_SUFFIX};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Stores contents fetched from elsewhere: small ones into one pack of this process (created
/// on first use), large ones as objects. Cheap to clone; shared by a notebook and its reader.
#[derive(Debug, Clone)]
pub struct Importer {
    ctx: Arc<Context>,
    paths: NotebookPaths,
    pack: Arc<Mutex<Option<String>>>,
}

impl Importer {
    pub(super) fn new(ctx: Arc<Context>, paths: NotebookPaths) -> Importer {
        Importer {
            ctx,
            paths,
            pack: Arc::new(Mutex::new(None)),
        }
    }

    /// Stores `items` under the notebook's exclusive lock, waiting at most `lock_wait` for it.
    /// A content whose bytes do not match its hash is refused before anything is written.
    pub fn store(&self, items: &[(ContentHash, &[u8])], lock_wait: Duration) -> Result<()> {
        for (hash, bytes) in items {
            if ContentHash::of(bytes) != *hash {
                return Err(StoreError::Corrupt(Located::new(
                    &self.paths.dir,
                    None,
                    format!("content {} does not match its hash", hash.short()),
                )));
            }
        }
        let threshold = self.ctx.config.inline_threshold;
        let (small, large): (Vec<_>, Vec<_>) = items
            .iter()
            .copied()
            .partition(|(_, bytes)| bytes.len() as u64 <= threshold);
        let fs = self.ctx.fs.as_ref();
        let objects_dir = self.paths.objects_dir();
        for (hash, bytes) in large {
            objects::write(fs, &objects_dir, hash, bytes)?;
        }
        if small.is_empty() {
            return Ok(());
        }
        let _lock = lock::acquire(&self.paths.lock(), LockMode::Exclusive, lock_wait)?;
        let dir = self.paths.packs_dir();
        fs.create_dir_all(&dir).at(&dir)?;
        let mut name = self.pack.lock().expect("import pack name");
        let path = match name.as_ref().map(|n| dir.join(n)) {
            Some(path) if path.exists() => path,
            _ => {
                let fresh = format!("{}{PACK_SUFFIX}", self.ctx.new_file_stem());
                *name = Some(fresh.clone());
                dir.join(fresh)
            }
        };
        pack::insert(fs, &path, &small)
    }

    /// Starts writing a large content straight to its object file, for contents too large to
    /// hold in memory: the same recipe as every object (temp file, fsync, rename, fsync the
    /// folder), and the bytes must hash to `hash` or nothing is kept.
    pub fn object_writer(&self, hash: ContentHash) -> Result<ObjectWriter> {
        let path = self.paths.object(hash);
        let dir = path
            .parent()
            .expect("objects have a fan-out folder")
            .to_path_buf();
        self.ctx.fs.create_dir_all(&dir).at(&dir)?;
        let temp = dir.join(format!(".tmp-{}", random_hex(12)));
        let file = std::fs::File::create_new(&temp).at(&temp)?;
        Ok(ObjectWriter {
            file: Some(file),
            temp,
            path,
            hash,
            hasher: blake3::Hasher::new(),
        })
    }
}

/// A large content being written to its object file; see [`Importer::object_writer`].
#[derive(Debug)]
pub struct ObjectWriter {
    file: Option<std::fs::File>,
    temp: PathBuf,
    path: PathBuf,
    hash: ContentHash,
    hasher: blake3::Hasher,
}

impl ObjectWriter {
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        let file = self.file.as_mut().expect("open until commit");
        file.write_all(bytes).at(&self.temp)
    }

    /// Keeps the object if its bytes hash right; an existing object is left as it is.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("open until commit");
        if ContentHash(*self.hasher.finalize().as_bytes()) != self.hash {
            return Err(StoreError::Corrupt(Located::new(
                &self.path,
                None,
                "the bytes received do not match the content's hash",
            )));
        }
        file.sync_all().at(&self.temp)?;
        drop(file);
        let dir = self.path.parent().expect("fan-out folder").to_path_buf();
        std::fs::rename(&self.temp, &self.path).at(&self.path)?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .at(&dir)
    }
}

impl Drop for ObjectWriter {
    /// An abandoned or refused write leaves no temp file (after a commit there is none).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

impl Notebook {
    /// Every content the folder holds (pack rows and object files), without reading any.
    pub fn held_contents(&self) -> Result<HashSet<ContentHash>> {
        let fs = self.ctx.fs.as_ref();
        let mut held = HashSet::new();
        let dir = self.paths.packs_dir();
        for name in pack::list(fs, &dir)? {
            for (hash, _) in pack::index(&dir.join(name))? {
                if let Ok(hash) = hash.parse() {
                    held.insert(hash);
                }
            }
        }
        for object in objects::list(fs, &self.paths.objects_dir())? {
            if let (Some(hash), ItemKind::File) = (object.hash, object.kind) {
                held.insert(hash);
            }
        }
        Ok(held)
    }

    /// Streams the pack rows whose hash is in `wanted` (with the size the map records) to
    /// `visit`, each once and checked against its hash; a row longer than its recorded size is
    /// not read. Contents held only as objects are not visited: read them with
    /// [`Notebook::object_file`].
    pub fn read_packed(
        &self,
        wanted: &HashMap<ContentHash, u64>,
        mut visit: impl FnMut(ContentHash, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let dir = self.paths.packs_dir();
        let longest = wanted.values().copied().max().unwrap_or(0);
        let mut seen = HashSet::new();
        for name in pack::list(self.ctx.fs.as_ref(), &dir)? {
            pack::for_each_row(&dir.join(name), longest, |hash, _, bytes| {
                if let (Ok(h), Ok(bytes)) = (hash.parse::<ContentHash>(), bytes)
                    && wanted.get(&h) == Some(&(bytes.len() as u64))
                    && !seen.contains(&h)
                    && ContentHash::of(bytes) == h
                {
                    seen.insert(h);
                    visit(h, bytes)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The object file a large content lives in (it may not exist).
    pub fn object_file(&self, hash: ContentHash) -> PathBuf {
        self.paths.object(hash)
    }

    /// Stores contents that came from elsewhere (see [`Importer::store`]).
    pub fn store_contents(&self, items: &[(ContentHash, &[u8])]) -> Result<()> {
        self.importer.store(items, self.ctx.lock_timeout)
    }

    pub fn importer(&self) -> Importer {
        self.importer.clone()
    }
}
