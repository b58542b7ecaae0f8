//! Large contents: immutable files `objects/<first 2 hex>/<64 hex>`, plain bytes that tools
//! like git-annex or DVC can take over.

use super::error::{IoContext, Result};
use super::fs::{Fs, ItemKind, random_hex};
use crate::model::ContentHash;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Writes one object durably (temp file, fsync, rename, fsync the folder). Returns false when
/// an object with that name already existed, in which case it is left as it is.
pub fn write(fs: &dyn Fs, objects_dir: &Path, hash: ContentHash, bytes: &[u8]) -> Result<bool> {
    let hex = hash.to_hex();
    let dir = objects_dir.join(&hex[..2]);
    let path = dir.join(&hex);
    if fs.metadata(&path).is_ok() {
        return Ok(false);
    }
    fs.create_dir_all(&dir).at(&dir)?;
    let temp = dir.join(format!(".tmp-{}", random_hex(12)));
    let written = fs
        .write_new(&temp, bytes)
        .and_then(|()| fs.sync_file(&temp))
        .and_then(|()| fs.rename(&temp, &path))
        .and_then(|()| fs.sync_dir(&dir));
    if written.is_err() {
        let _ = fs.remove_file(&temp);
    }
    written.at(&path)?;
    Ok(true)
}

/// One file found under `objects/`.
#[derive(Debug, Clone)]
pub struct ObjectFile {
    pub path: PathBuf,
    /// The hash its name claims, if the name is a well-formed object name in the right folder.
    pub hash: Option<ContentHash>,
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub kind: ItemKind,
    /// A leftover temp file of an interrupted write.
    pub temp: bool,
}

/// Every item in the fan-out folders, for gc and verify. Unknown items are reported, not hidden.
pub fn list(fs: &dyn Fs, objects_dir: &Path) -> Result<Vec<ObjectFile>> {
    let mut found = Vec::new();
    let fanouts = match fs.read_dir(objects_dir) {
        Ok(items) => items,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).at(objects_dir),
    };
    for fanout in fanouts {
        let dir = objects_dir.join(&fanout.name);
        if fanout.kind != ItemKind::Dir {
            found.push(ObjectFile {
                path: dir,
                hash: None,
                len: fanout.len,
                modified: fanout.modified,
                kind: fanout.kind,
                temp: false,
            });
            continue;
        }
        for item in fs.read_dir(&dir).at(&dir)? {
            let hash =
                item.name.parse::<ContentHash>().ok().filter(|h| {
                    h.to_hex().starts_with(&fanout.name) && item.kind == ItemKind::File
                });
            found.push(ObjectFile {
                path: dir.join(&item.name),
                hash,
                len: item.len,
                modified: item.modified,
                kind: item.kind,
                temp: item.name.starts_with(".tmp-") && item.kind == ItemKind::File,
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::RealFs;

    #[test]
    fn write_is_idempotent_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = vec![7u8; 100_000];
        let hash = ContentHash::of(&bytes);
        assert!(write(&RealFs, dir.path(), hash, &bytes).unwrap());
        assert!(!write(&RealFs, dir.path(), hash, &bytes).unwrap());
        let listed = list(&RealFs, dir.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].hash, Some(hash));
        assert_eq!(std::fs::read(&listed[0].path).unwrap(), bytes);
    }
}
