//! BLAKE3 of files, the one place the store hashes what is on disk (verify, `show --raw`, the
//! map's fingerprint).
//!
//! A regular file is hashed as BLAKE3's own tree: split at the tree's power-of-two boundaries
//! into subtrees, each read with positional reads into a small buffer and hashed on whichever
//! core is free, and their chaining values merged (`blake3::hazmat`). Every core both reads and
//! hashes, the bytes are hashed while still in the core's cache, and memory stays at one small
//! buffer per core whatever the file's size. This is faster than hashing a memory map (b3sum's
//! way) on this machine, and a file truncated meanwhile is an error here instead of a SIGBUS.

use std::fs::File;
use std::io;

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, left_subtree_len, merge_subtrees_non_root, merge_subtrees_root,
};

/// A subtree this long or shorter is read and hashed by one core. A power of two, so that
/// every split below it lands on the tree's own boundaries.
const LEAF_LEN: u64 = 1 << 20;

/// Bytes read at a time within a leaf: small enough to be hashed from the core's cache.
const READ_LEN: usize = 256 << 10;

/// BLAKE3 of the first `len` bytes of `file`, on every core. A file shorter than `len` (one
/// truncated while read) is an error.
pub fn hash_positional(file: &File, len: u64) -> io::Result<blake3::Hash> {
    if len <= LEAF_LEN {
        let mut hasher = blake3::Hasher::new();
        hash_range(file, 0, len, &mut hasher)?;
        return Ok(hasher.finalize());
    }
    let (left, right) = split(file, 0, len)?;
    Ok(merge_subtrees_root(&left, &right, Mode::Hash))
}

/// The chaining values of the two children of the subtree at `offset` of `len` bytes (longer
/// than one chunk), hashed in parallel.
fn split(file: &File, offset: u64, len: u64) -> io::Result<(ChainingValue, ChainingValue)> {
    let left_len = left_subtree_len(len);
    let (left, right) = rayon::join(
        || subtree(file, offset, left_len),
        || subtree(file, offset + left_len, len - left_len),
    );
    Ok((left?, right?))
}

fn subtree(file: &File, offset: u64, len: u64) -> io::Result<ChainingValue> {
    if len <= LEAF_LEN {
        let mut hasher = blake3::Hasher::new();
        hasher.set_input_offset(offset);
        hash_range(file, offset, len, &mut hasher)?;
        return Ok(hasher.finalize_non_root());
    }
    let (left, right) = split(file, offset, len)?;
    Ok(merge_subtrees_non_root(&left, &right, Mode::Hash))
}

/// Feeds `len` bytes of `file` from `offset` to `hasher`, [`READ_LEN`] at a time.
fn hash_range(file: &File, offset: u64, len: u64, hasher: &mut blake3::Hasher) -> io::Result<()> {
    let mut buffer = vec![0u8; READ_LEN.min(len as usize)];
    let mut done = 0u64;
    while done < len {
        let want = buffer.len().min((len - done) as usize);
        read_exact_at(file, &mut buffer[..want], offset + done)?;
        hasher.update(&buffer[..want]);
        done += want as u64;
    }
    Ok(())
}

fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buffer.is_empty() {
        match read_at(file, buffer, offset) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was read",
                ));
            }
            Ok(n) => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        let reopened = file.reopen().unwrap();
        (file, reopened)
    }

    /// Lengths on and around every boundary that changes the tree's shape: empty, one chunk,
    /// one leaf, uneven splits several levels deep.
    #[test]
    fn hashes_as_blake3_does_at_every_tree_shape() {
        let bytes: Vec<u8> = (0..9 * LEAF_LEN + 3 * 1024 + 7)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let leaf = LEAF_LEN as usize;
        for len in [
            0,
            1,
            1024,
            1025,
            READ_LEN + 1,
            leaf - 1,
            leaf,
            leaf + 1,
            2 * leaf + 1,
            3 * leaf + 5000,
            4 * leaf,
            bytes.len(),
        ] {
            let (_keep, file) = file_of(&bytes[..len]);
            let positional = hash_positional(&file, len as u64).unwrap();
            assert_eq!(positional, blake3::hash(&bytes[..len]), "length {len}");
        }
    }

    #[test]
    fn a_file_shorter_than_asked_is_an_error_not_a_shorter_hash() {
        let (_keep, file) = file_of(&vec![7u8; 3 * LEAF_LEN as usize]);
        for asked in [10 * 1024, 5 * LEAF_LEN] {
            let e = hash_positional(&file, 3 * LEAF_LEN + asked).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
            assert!(e.to_string().contains("shrank"), "{e}");
        }
    }
}
