//! SQLite packs: `packs/<segment-like name>.sqlite`, holding small contents in one table
//! `contents(hash TEXT PRIMARY KEY, size INTEGER, content BLOB)`. A pack is only written by
//! the process that created it, under the notebook lock; compaction writes a new pack and
//! deletes old ones, never editing a pack in place. Rollback-journal mode keeps one file at
//! rest, which sync tools and git handle safely.
//!
//! SQLite opens no path longer than 512 bytes (its unix VFS limit, after making the path
//! absolute and resolving links); notebook keys may be 1,024 bytes and workspaces live deep.
//! Packs beyond the limit are read into memory and written whole, atomically, through [`Fs`].

use super::config::check_format;
use super::error::{IoContext, Result, StoreError};
use super::fs::{Fs, ItemKind, open_regular, write_atomic};
use crate::Located;
use crate::model::ContentHash;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const PACK_SUFFIX: &str = ".sqlite";
/// A writer continues the newest pack of its machine until the pack reaches this size, so
/// processes that write one entry and exit do not leave a pack each, while a pack that git or
/// a sync tool must copy again after a change stays small.
pub const PACK_ROLLOVER: u64 = 8 << 20;
/// `PRAGMA application_id`: "ctm1".
const APPLICATION_ID: i32 = 0x6374_6d31;
/// `PRAGMA user_version`: the pack layout this celltime reads and writes.
const PACK_VERSION: i64 = 1;
/// The longest path SQLite's unix VFS opens (`MAX_PATHNAME`), with room for `-journal`.
const SQLITE_MAX_PATH: usize = 512 - "-journal".len();

fn sql_error(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::invalid(path, None, format!("SQLite: {e}"))
}

/// Is `path`, as SQLite would resolve it, too long for SQLite to open?
pub fn beyond_sqlite(path: &Path) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    let dir = std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf());
    dir.join(name).as_os_str().len() > SQLITE_MAX_PATH
}

/// A pack too far down for SQLite, as an in-memory database; writable ones are written back
/// with [`save_in_memory`].
fn open_in_memory(path: &Path, writable: bool) -> Result<Connection> {
    let mut conn = Connection::open_in_memory().map_err(|e| sql_error(path, e))?;
    match open_regular(path) {
        Ok((file, len)) => {
            let len =
                usize::try_from(len).map_err(|_| sql_error(path, rusqlite::Error::InvalidQuery))?;
            conn.deserialize_read_exact(rusqlite::MAIN_DB, file, len, !writable)
                .map_err(|e| sql_error(path, e))?;
        }
        Err(e) if writable && e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).at(path),
    }
    Ok(conn)
}

fn save_in_memory(fs: &dyn Fs, path: &Path, conn: &mut Connection) -> Result<()> {
    let image = conn
        .serialize(rusqlite::MAIN_DB)
        .map_err(|e| sql_error(path, e))?;
    write_atomic(fs, path, &image).at(path)
}

/// Refuses a pack written in a newer layout than this celltime reads.
fn check_version(path: &Path, conn: &Connection) -> Result<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| sql_error(path, e))?;
    check_format(path, version, PACK_VERSION)
}

fn open_read(path: &Path) -> Result<Connection> {
    if beyond_sqlite(path) {
        let conn = open_in_memory(path, false)?;
        check_version(path, &conn)?;
        return Ok(conn);
    }
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
    check_version(path, &conn)?;
    Ok(conn)
}

const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A connection for writing. Only a new pack gets its identity and table: on an existing one,
/// each of those statements would be a write transaction of its own, with its own syncs; its
/// layout is only checked.
fn open_write(path: &Path, new: bool) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| sql_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error(path, e))?;
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE;
         PRAGMA synchronous = FULL;",
    )
    .map_err(|e| sql_error(path, e))?;
    match new {
        true => create_schema(path, &conn)?,
        false => check_version(path, &conn)?,
    }
    Ok(conn)
}

fn create_schema(path: &Path, conn: &Connection) -> Result<()> {
    check_version(path, conn)?;
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {PACK_VERSION};
         CREATE TABLE IF NOT EXISTS contents(
             hash TEXT PRIMARY KEY, size INTEGER NOT NULL, content BLOB NOT NULL);"
    ))
    .map_err(|e| sql_error(path, e))
}

/// Inserts contents in one durable transaction (FULL sync), creating the pack if needed.
///
/// A new pack is built under a temporary name and renamed into place once its first batch is
/// committed, so a crash while creating it never leaves a pack without its table.
pub fn insert(fs: &dyn Fs, path: &Path, items: &[(ContentHash, &[u8])]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    if beyond_sqlite(path) {
        let mut conn = open_in_memory(path, true)?;
        create_schema(path, &conn)?;
        insert_rows(fs, path, &mut conn, items)?;
        return save_in_memory(fs, path, &mut conn);
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
    let mut conn = open_write(path, new)?;
    insert_rows(fs, path, &mut conn, items)
}

/// A write connection kept open between commits to one existing pack, so a long-lived
/// writer pays for opening it (and reading its schema) once, not at every put. Packs beyond
/// SQLite's path limit have none (they are written whole by [`insert`]).
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
        insert_rows(fs, &self.path, &mut self.conn, items)
    }
}

fn insert_rows(
    fs: &dyn Fs,
    path: &Path,
    conn: &mut Connection,
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

/// Every row of a pack: (hash text as stored, size, content), streamed to `visit`. A content
/// longer than `max_len` is not read: `visit` gets `Err(its length)` instead.
pub fn for_each_row(
    path: &Path,
    max_len: u64,
    mut visit: impl FnMut(&str, u64, std::result::Result<&[u8], u64>) -> Result<()>,
) -> Result<()> {
    let conn = open_read(path)?;
    let mut query = conn
        .prepare(
            "SELECT hash, size, length(content),
                    CASE WHEN length(content) <= ?1 THEN content END
             FROM contents",
        )
        .map_err(|e| sql_error(path, e))?;
    let max_len = i64::try_from(max_len).unwrap_or(i64::MAX);
    let mut rows = query.query([max_len]).map_err(|e| sql_error(path, e))?;
    while let Some(row) = rows.next().map_err(|e| sql_error(path, e))? {
        let hash: String = row.get(0).map_err(|e| sql_error(path, e))?;
        let size: i64 = row.get(1).map_err(|e| sql_error(path, e))?;
        let len: i64 = row.get(2).map_err(|e| sql_error(path, e))?;
        let content = row.get_ref(3).map_err(|e| sql_error(path, e))?;
        let bytes = match content.as_blob_or_null() {
            Ok(Some(bytes)) => Ok(bytes),
            _ => Err(len.max(0) as u64),
        };
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
    connections: Mutex<HashMap<String, Open>>,
}

/// An open pack. One read into memory (beyond SQLite's path limit) keeps the stamp of the
/// file it was read from, and is read again once the file changed.
#[derive(Debug)]
struct Open {
    conn: Connection,
    in_memory: Option<Stamp>,
}

type Stamp = (u64, Option<std::time::SystemTime>, u64);

fn stamp(fs: &dyn Fs, path: &Path) -> Option<Stamp> {
    fs.metadata(path).ok().map(|m| (m.len, m.modified, m.inode))
}

impl PackReader {
    pub fn new(dir: PathBuf) -> PackReader {
        PackReader {
            dir,
            connections: Mutex::new(HashMap::new()),
        }
    }

    /// The content `hash` from whichever pack holds it. The packs already open (and still
    /// there: a compacted pack is deleted, and what only it held is gone) are asked first; the
    /// folder is listed again only when none has it, so a reader that hits costs one `stat`,
    /// not a listing. A row holding more or fewer bytes than `size` (the length the map
    /// records) is damage, reported without reading it.
    pub fn read(&self, fs: &dyn Fs, hash: ContentHash, size: u64) -> Result<Option<Vec<u8>>> {
        let mut connections = self.connections.lock().expect("pack connections");
        connections.retain(|name, _| fs.metadata(&self.dir.join(name)).is_ok());
        if let Some(found) = query_open(&self.dir, &connections, hash, size) {
            return Ok(Some(found));
        }
        // A pack may vanish under us when another process compacts; the listing is retried once.
        for _ in 0..2 {
            let names = list(fs, &self.dir)?;
            connections.retain(|name, _| names.contains(name));
            let mut vanished = false;
            for name in &names {
                let path = self.dir.join(name);
                let Some(open) = open_current(fs, &mut connections, &path, name)? else {
                    vanished = true;
                    continue;
                };
                if let Some(found) = query(&path, &open.conn, hash, size)? {
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

/// The open pack `name`, opened now if it was not open or was read into memory before it
/// changed; `None` when it vanished (another process compacted it).
fn open_current<'c>(
    fs: &dyn Fs,
    connections: &'c mut HashMap<String, Open>,
    path: &Path,
    name: &str,
) -> Result<Option<&'c Open>> {
    let stale = connections
        .get(name)
        .is_some_and(|open| open.in_memory.is_some_and(|s| Some(s) != stamp(fs, path)));
    if stale || !connections.contains_key(name) {
        let in_memory = beyond_sqlite(path).then(|| stamp(fs, path)).flatten();
        match open_read(path) {
            Ok(conn) => {
                connections.insert(name.to_string(), Open { conn, in_memory });
            }
            Err(_) if !path.exists() => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(connections.get(name))
}

fn query(path: &Path, conn: &Connection, hash: ContentHash, size: u64) -> Result<Option<Vec<u8>>> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let found: Option<(i64, Option<Vec<u8>>)> = conn
        .prepare_cached(
            "SELECT length(content), CASE WHEN length(content) = ?2 THEN content END
             FROM contents WHERE hash = ?1",
        )
        .and_then(|mut q| {
            q.query_row(params![hash.to_hex(), size], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
        })
        .map_err(|e| sql_error(path, e))?;
    match found {
        Some((_, Some(bytes))) => Ok(Some(bytes)),
        Some((len, None)) => Err(StoreError::Corrupt(Located::new(
            path,
            None,
            format!(
                "content {} holds {len} bytes where the map records {size}; it was not read",
                hash.short()
            ),
        ))),
        None => Ok(None),
    }
}

/// Asks the packs already open; a failing query counts as not found (the listing follows and
/// reports it).
fn query_open(
    dir: &Path,
    connections: &HashMap<String, Open>,
    hash: ContentHash,
    size: u64,
) -> Option<Vec<u8>> {
    connections.iter().find_map(|(name, open)| {
        query(&dir.join(name), &open.conn, hash, size)
            .ok()
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::RealFs;

    #[test]
    fn a_pack_of_a_newer_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join(format!("w-1{PACK_SUFFIX}"));
        let hash = ContentHash::of(b"alpha");
        insert(&RealFs, &pack, &[(hash, b"alpha")]).unwrap();
        Connection::open(&pack)
            .unwrap()
            .execute_batch("PRAGMA user_version = 2;")
            .unwrap();
        let reader = PackReader::new(dir.path().to_path_buf());
        let err = reader.read(&RealFs, hash, 5).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::FormatTooNew {
                    found: 2,
                    supported: 1,
                    ..
                }
            ),
            "{err}"
        );
        let err = insert(&RealFs, &pack, &[(ContentHash::of(b"b"), b"b")]).unwrap_err();
        assert!(matches!(err, StoreError::FormatTooNew { .. }), "{err}");
        assert!(for_each_row(&pack, u64::MAX, |_, _, _| Ok(())).is_err());
    }

    #[test]
    fn insert_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join(format!("w-1{PACK_SUFFIX}"));
        let a = b"alpha".as_slice();
        let hash = ContentHash::of(a);
        insert(&RealFs, &pack, &[(hash, a)]).unwrap();
        insert(&RealFs, &pack, &[(hash, a)]).unwrap();
        let reader = PackReader::new(dir.path().to_path_buf());
        assert_eq!(reader.read(&RealFs, hash, 5).unwrap().unwrap(), a);
        assert!(
            reader
                .read(&RealFs, ContentHash::of(b"other"), 5)
                .unwrap()
                .is_none()
        );
        let err = reader.read(&RealFs, hash, 4).unwrap_err();
        assert!(
            err.to_string()
                .contains("holds 5 bytes where the map records 4"),
            "{err}"
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
