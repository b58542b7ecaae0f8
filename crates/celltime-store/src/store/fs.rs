//! Every file operation of the store goes through [`Fs`], so tests can count syncs, check their
//! order, and inject I/O errors at any step. [`RealFs`] is the real file system.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::SystemTime;

/// What [`Fs::read_dir`] reports about one directory item (symlinks are not followed).
#[derive(Debug, Clone)]
pub struct DirItem {
    pub name: String,
    pub kind: ItemKind,
    pub len: u64,
    pub modified: Option<SystemTime>,
    /// The inode number where the platform has one (0 elsewhere): a replaced file gets a new one.
    pub inode: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    File,
    Dir,
    Symlink,
    Other,
}

impl ItemKind {
    fn of(file_type: fs::FileType) -> ItemKind {
        if file_type.is_symlink() {
            ItemKind::Symlink
        } else if file_type.is_file() {
            ItemKind::File
        } else if file_type.is_dir() {
            ItemKind::Dir
        } else {
            ItemKind::Other
        }
    }
}

pub trait Fs: Send + Sync + fmt::Debug {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Reads from `offset` to the end of the file.
    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>>;
    /// Reads at most the first `max` bytes.
    fn read_head(&self, path: &Path, max: usize) -> io::Result<Vec<u8>>;
    /// Reads at most `len` bytes from `offset`.
    fn read_range(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut bytes = self.read_from(path, offset)?;
        bytes.truncate(len);
        Ok(bytes)
    }
    /// A file to read as a stream, for contents of any size.
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(io::Cursor::new(self.read(path)?)))
    }
    /// BLAKE3 of a file's first `limit` bytes (all of it when shorter) and how many bytes that
    /// was, without holding the file in memory.
    fn hash_file(&self, path: &Path, limit: u64) -> io::Result<(blake3::Hash, u64)>;
    /// Creates a file that must not exist yet and writes `bytes` to it (not synced).
    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Appends to a file, creating it if needed (not synced).
    fn append(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Makes a file's data and metadata durable.
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    /// Makes a directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirItem>>;
    /// Metadata of the path itself (a symlink is reported as a symlink).
    fn metadata(&self, path: &Path) -> io::Result<DirItem>;
    /// Announces a SQLite commit to `path`: SQLite does its own I/O, so this is where tests
    /// observe or fail it.
    fn sqlite_commit(&self, path: &Path) -> io::Result<()>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl Fs for RealFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read_from(path, 0)
    }

    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>> {
        let (mut file, len) = open_regular(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::with_capacity(len.saturating_sub(offset).min(1 << 24) as usize);
        // Never past the length the file had when opened: a file still growing is read next time.
        file.take(len.saturating_sub(offset))
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn read_head(&self, path: &Path, max: usize) -> io::Result<Vec<u8>> {
        let (file, _) = open_regular(path)?;
        let mut bytes = Vec::with_capacity(max.min(1 << 16));
        file.take(max as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn read_range(&self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let (mut file, file_len) = open_regular(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let len = (len as u64).min(file_len.saturating_sub(offset));
        let mut bytes = Vec::with_capacity(len.min(1 << 24) as usize);
        file.take(len).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        // As for `read_from`: a regular file only, and no further than its length when opened.
        let (file, len) = open_regular(path)?;
        Ok(Box::new(file.take(len)))
    }

    fn hash_file(&self, path: &Path, limit: u64) -> io::Result<(blake3::Hash, u64)> {
        // Never past the length the file had when opened, as for `open`.
        let (file, len) = open_regular(path)?;
        let len = len.min(limit);
        Ok((super::file_hash::hash_positional(&file, len)?, len))
    }

    fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
        file.write_all(bytes)
    }

    fn append(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut file = OpenOptions::new().append(true).create(true).open(path)?;
        file.write_all(bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        OpenOptions::new().read(true).open(path)?.sync_all()
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        match File::open(path)?.sync_all() {
            // Some file systems (network ones) refuse to sync directories; borg ignores it too.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirItem>> {
        let mut items = Vec::new();
        for item in fs::read_dir(path)? {
            let item = item?;
            let meta = item.metadata()?;
            items.push(DirItem {
                name: item.file_name().to_string_lossy().into_owned(),
                kind: ItemKind::of(item.file_type()?),
                len: meta.len(),
                modified: meta.modified().ok(),
                inode: inode(&meta),
            });
        }
        items.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(items)
    }

    fn metadata(&self, path: &Path) -> io::Result<DirItem> {
        let meta = fs::symlink_metadata(path)?;
        Ok(DirItem {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            kind: ItemKind::of(meta.file_type()),
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: inode(&meta),
        })
    }

    fn sqlite_commit(&self, _path: &Path) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &fs::Metadata) -> u64 {
    0
}

/// Opens a file for reading only if it is a regular file, never through a symbolic link; a
/// FIFO, device or socket (which can block for ever or never end) is refused without blocking.
/// Returns the file and its length.
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let mut options = OpenOptions::new();
    options.read(true);
    no_links_no_blocking(&mut options);
    let file = options.open(path).map_err(|e| explain_link(path, e))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    Ok((file, meta.len()))
}

/// Reads a regular file of at most `max` bytes (see [`open_regular`]); a longer one is an
/// error, read no further than the limit.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    if len > max {
        return Err(too_large(len, max));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64, max));
    }
    Ok(bytes)
}

/// Reads a file of at most `max` bytes through `fs` (a longer one is an error, read no further).
pub fn read_limited(fs: &dyn Fs, path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let bytes = fs.read_head(
        path,
        usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX),
    )?;
    if bytes.len() as u64 > max {
        return Err(too_large_at_least(max));
    }
    Ok(bytes)
}

/// Opening flags that make `open` fail on a symbolic link (the last component) and return at
/// once on a FIFO instead of waiting for a writer.
pub fn no_links_no_blocking(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Why a link in a store is refused, wherever one is found.
pub const LINK_REFUSED: &str = "is a symbolic link; celltime never follows links in __marimo__/";

/// The error of opening `path` with [`no_links_no_blocking`], said plainly when it was a link
/// (the system's own words are "too many levels of symbolic links").
pub fn explain_link(path: &Path, e: io::Error) -> io::Error {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && e.kind() != io::ErrorKind::NotFound {
        io::Error::new(io::ErrorKind::InvalidInput, LINK_REFUSED)
    } else {
        e
    }
}

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a FIFO, device or socket); celltime reads only regular files",
    )
}

fn too_large_at_least(max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("over the {max}-byte limit for this file"),
    )
}

fn too_large(len: u64, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("{len} bytes, over the {max}-byte limit for this file"),
    )
}

/// Is `dir` a real folder (not a link to one elsewhere)? The store deletes only inside such
/// folders, so a link placed in the store can never lead a deletion outside it.
pub fn is_real_dir(fs: &dyn Fs, dir: &Path) -> bool {
    fs.metadata(dir).is_ok_and(|m| m.kind == ItemKind::Dir)
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file:
/// temp file in the same directory, fsync, rename, fsync the directory.
pub fn write_atomic(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".tmp-{name}-{}", random_hex(8)));
    let result = fs
        .write_new(&temp, bytes)
        .and_then(|()| fs.sync_file(&temp))
        .and_then(|()| fs.rename(&temp, path))
        .and_then(|()| fs.sync_dir(dir));
    if result.is_err() {
        let _ = fs.remove_file(&temp);
    }
    result
}

/// Bytes read at a time when a file is streamed: memory stays at this, whatever the file's
/// size, while each block is still large enough to hash on every core.
pub const STREAM_BLOCK: usize = 4 << 20;

/// Reads `reader` to its end a block at a time, handing each block to `visit`.
pub fn for_each_block(
    reader: &mut dyn Read,
    mut visit: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<u64> {
    let mut block = vec![0u8; STREAM_BLOCK];
    let mut total = 0u64;
    loop {
        let mut filled = 0;
        while filled < block.len() {
            match reader.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok(total);
        }
        visit(&block[..filled])?;
        total += filled as u64;
        if filled < block.len() {
            return Ok(total);
        }
    }
}

/// `n` random lower-case hex digits, for unique file names.
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        out.push_str(&format!("{:016x}", rand::random::<u64>()));
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read_and_never_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("map.toml");
        fs::write(&file, b"abc").unwrap();
        assert_eq!(RealFs.read(&file).unwrap(), b"abc");
        assert_eq!(read_regular(&file, 3).unwrap(), b"abc");
        let e = read_regular(&file, 2).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let e = RealFs.read(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(RealFs.read(&zero).is_err());
        let e = RealFs.read_head(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert_eq!(
            RealFs.read(&dir.path().join("missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.toml");
        write_atomic(&RealFs, &path, b"one").unwrap();
        write_atomic(&RealFs, &path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
