//! SQLite packs: `packs/<segment-like name>.sqlite`, holding small contents in one table
//! `contents(hash TEXT PRIMARY KEY, size INTEGER, content BLOB)`. A pack is only written by
//! the process that created it, under the notebook lock; compaction writes a new pack and
//! deletes old ones, never editing a pack in place. Rollback-journal mode keeps one file at
//! rest, which sync tools and git handle safely.

use super::error::{IoContext, Result, StoreError};
use super::fs::{Fs, ItemKind};
use crate::model::ContentHash;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const PACK_SUFFIX: &str = ".sqlite";
/// A writer continues the newest pack of its machine until the pack reaches this size, so
/// processes that write one entry and exit do not leave a pack each, while a pack that git or
/// a sync tool must copy again after a change stays small.
pub const PACK_ROLLOVER: u64 = 8 << 20;
/// `PRAGMA application_id`: "ctm1".
const APPLICATION_ID: i32 = 0x6374_6d31;

fn sql_error(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::invalid(path, None, format!("SQLite: {e}"))
}

fn open_read(path: &Path) -> Result<Connection> {
    // A pack whose writer died mid-commit keeps a hot journal next to it; only a read-write
    // connection may roll it back, and a read-only one would fail every query.
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    let flags = if Path::new(&journal).exists() {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    };
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| sql_error(path, e))?;
    // In rollback-journal mode a reader waits while a writer commits to the same pack.
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error(path, e))?;
    Ok(conn)
}

const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A connection for writing. Only a new pack gets its identity and table: on an existing one,
/// each of those statements would be a write transaction of its own, with its own syncs.
fn open_write(path: &Path, new: bool) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| sql_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error(path, e))?;
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;")
        .map_err(|e| sql_error(path, e))?;
    if new {
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = 1;
             CREATE TABLE IF NOT EXISTS contents(
                 hash TEXT PRIMARY KEY, size INTEGER NOT NULL, content BLOB NOT NULL);"
        ))
        .map_err(|e| sql_error(path, e))?;
    }
    Ok(conn)
}

/// Inserts contents in one durable transaction (FULL sync), creating the pack if needed.
///
/// A new pack is built under a temporary name and renamed into place once its first batch is
/// committed, so a crash while creating it never leaves a pack without its table.
pub fn insert(fs: &dyn Fs, path: &Path, items: &[(ContentHash, &[u8])]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    if path.exists() {
        return insert_into(fs, path, false, items);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".tmp-{name}"));
    let created = insert_into(fs, &temp, true, items)
        .and_then(|()| fs.rename(&temp, path).at(path))
        .and_then(|()| fs.sync_dir(dir).at(dir));
    if created.is_err() {
        let _ = fs.remove_file(&temp);
    }
    created
}

fn insert_into(fs: &dyn Fs, path: &Path, new: bool, items: &[(ContentHash, &[u8])]) -> Result<()> {
    commit_rows(fs, &mut open_write(path, new)?, path, items)
}

/// A write connection kept open between commits to one existing pack, so a long-lived
/// writer pays for opening it (and reading its schema) once, not at every put.
pub struct PackWriter {
    path: PathBuf,
    inode: u64,
    conn: Connection,
}

impl std::fmt::Debug for PackWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackWriter")
            .field("path", &self.path)
            .finish()
    }
}

impl PackWriter {
    pub fn open(fs: &dyn Fs, path: &Path) -> Result<PackWriter> {
        Ok(PackWriter {
            inode: fs.metadata(path).at(path)?.inode,
            path: path.to_path_buf(),
            conn: open_write(path, false)?,
        })
    }

    /// Is this the connection to the pack at `path` as it is now (not to a file another
    /// process replaced or deleted meanwhile)?
    pub fn is_for(&self, fs: &dyn Fs, path: &Path) -> bool {
        self.path == path && fs.metadata(path).is_ok_and(|m| m.inode == self.inode)
    }

    /// Inserts contents in one durable transaction.
    pub fn insert(&mut self, fs: &dyn Fs, items: &[(ContentHash, &[u8])]) -> Result<()> {
        commit_rows(fs, &mut self.conn, &self.path, items)
    }
}

fn commit_rows(
    fs: &dyn Fs,
    conn: &mut Connection,
    path: &Path,
    items: &[(ContentHash, &[u8])],
) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| sql_error(path, e))?;
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO contents(hash, size, content) VALUES (?1, ?2, ?3)",
            )
            .map_err(|e| sql_error(path, e))?;
        for (hash, bytes) in items {
            insert
                .execute(params![hash.to_hex(), bytes.len() as i64, bytes])
                .map_err(|e| sql_error(path, e))?;
        }
    }
    fs.sqlite_commit(path).at(path)?;
    tx.commit().map_err(|e| sql_error(path, e))
}

/// Every row of a pack: (hash text as stored, size, content), streamed to `visit`.
pub fn for_each_row(
    path: &Path,
    mut visit: impl FnMut(&str, u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let conn = open_read(path)?;
    let mut query = conn
        .prepare("SELECT hash, size, content FROM contents")
        .map_err(|e| sql_error(path, e))?;
    let mut rows = query.query([]).map_err(|e| sql_error(path, e))?;
    while let Some(row) = rows.next().map_err(|e| sql_error(path, e))? {
        let hash: String = row.get(0).map_err(|e| sql_error(path, e))?;
        let size: i64 = row.get(1).map_err(|e| sql_error(path, e))?;
        let content = row.get_ref(2).map_err(|e| sql_error(path, e))?;
        let bytes = content.as_blob().unwrap_or_default();
        visit(&hash, size.max(0) as u64, bytes)?;
    }
    Ok(())
}

/// Hashes and sizes in a pack, without reading contents.
pub fn index(path: &Path) -> Result<Vec<(String, u64)>> {
    let conn = open_read(path)?;
    let mut query = conn
        .prepare("SELECT hash, size FROM contents")
        .map_err(|e| sql_error(path, e))?;
    let rows = query
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .map_err(|e| sql_error(path, e))?;
    rows.map(|r| {
        r.map(|(h, s)| (h, s.max(0) as u64))
            .map_err(|e| sql_error(path, e))
    })
    .collect()
}

/// Pack file names in `dir` (regular files only; symlinks and other files are not ours).
pub fn list(fs: &dyn Fs, dir: &Path) -> Result<Vec<String>> {
    match fs.read_dir(dir) {
        Ok(items) => Ok(items
            .into_iter()
            .filter(|i| {
                i.kind == ItemKind::File
                    && i.name.ends_with(PACK_SUFFIX)
                    && !i.name.starts_with('.')
            })
            .map(|i| i.name)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).at(dir),
    }
}

/// Reads contents from whichever pack holds them, keeping connections open between reads.
#[derive(Debug)]
pub struct PackReader {
    dir: PathBuf,
    connections: Mutex<HashMap<String, Connection>>,
}

impl PackReader {
    pub fn new(dir: PathBuf) -> PackReader {
        PackReader {
            dir,
            connections: Mutex::new(HashMap::new()),
        }
    }

    /// Which of `hashes` the packs named `names` hold (primary-key lookups through the
    /// connections kept open; no content is read).
    pub fn holding(
        &self,
        names: &[String],
        hashes: &HashSet<ContentHash>,
    ) -> Result<HashSet<ContentHash>> {
        let mut connections = self.connections.lock().expect("pack connections");
        let mut held = HashSet::new();
        for name in names {
            let path = self.dir.join(name);
            if !connections.contains_key(name) {
                connections.insert(name.clone(), open_read(&path)?);
            }
            let mut query = connections[name]
                .prepare_cached("SELECT 1 FROM contents WHERE hash = ?1")
                .map_err(|e| sql_error(&path, e))?;
            for hash in hashes {
                if !held.contains(hash)
                    && query
                        .exists([hash.to_hex()])
                        .map_err(|e| sql_error(&path, e))?
                {
                    held.insert(*hash);
                }
            }
        }
        Ok(held)
    }

    /// Reads a content from the packs. The packs already open (and still there: a compacted
    /// pack is deleted, and what only it held is gone) are asked first; the folder is listed
    /// again only when none has it, so a reader that hits costs one `stat`, not a listing.
    pub fn read(&self, fs: &dyn Fs, hash: ContentHash) -> Result<Option<Vec<u8>>> {
        let hex = hash.to_hex();
        let mut connections = self.connections.lock().expect("pack connections");
        connections.retain(|name, _| fs.metadata(&self.dir.join(name)).is_ok());
        if let Some(found) = query_open(&self.dir, &connections, &hex) {
            return Ok(Some(found));
        }
        // A pack may vanish under us when another process compacts; the listing is retried once.
        for _ in 0..2 {
            let names = list(fs, &self.dir)?;
            connections.retain(|name, _| names.contains(name));
            let mut vanished = false;
            for name in &names {
                let path = self.dir.join(name);
                if !connections.contains_key(name) {
                    match open_read(&path) {
                        Ok(conn) => {
                            connections.insert(name.clone(), conn);
                        }
                        Err(_) if !path.exists() => {
                            vanished = true;
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                if let Some(found) = query(&path, &connections[name], &hex)? {
                    return Ok(Some(found));
                }
            }
            if !vanished {
                break;
            }
        }
        Ok(None)
    }
}

fn query(path: &Path, conn: &Connection, hex: &str) -> Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT content FROM contents WHERE hash = ?1")
        .and_then(|mut q| q.query_row([hex], |row| row.get(0)).optional())
        .map_err(|e| sql_error(path, e))
}

/// Asks the packs already open; a failing query counts as not found (the listing follows).
fn query_open(dir: &Path, connections: &HashMap<String, Connection>, hex: &str) -> Option<Vec<u8>> {
    connections
        .iter()
        .find_map(|(name, conn)| query(&dir.join(name), conn, hex).ok().flatten())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::RealFs;

    #[test]
    fn insert_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join(format!("w-1{PACK_SUFFIX}"));
        let a = b"alpha".as_slice();
        let hash = ContentHash::of(a);
        insert(&RealFs, &pack, &[(hash, a)]).unwrap();
        insert(&RealFs, &pack, &[(hash, a)]).unwrap();
        let reader = PackReader::new(dir.path().to_path_buf());
        assert_eq!(reader.read(&RealFs, hash).unwrap().unwrap(), a);
        assert!(
            reader
                .read(&RealFs, ContentHash::of(b"other"))
                .unwrap()
                .is_none()
        );
        assert_eq!(index(&pack).unwrap(), vec![(hash.to_hex(), 5)]);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [format!("w-1{PACK_SUFFIX}")],
            "no journal left at rest"
        );
    }
}
