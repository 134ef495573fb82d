//! Folder listings a page at a time, so a folder of any size lists completely and every
//! answer fits in one frame.
//!
//! Entries come folders first, then by name (the name's bytes: for UTF-8 names, the
//! order of their text). A page holds the entries after a cursor, as many as fit in
//! [`PAGE_BYTES`]; its `next` cursor names the last entry it covered. Each page reads the
//! folder again (by descriptor, like every operation here) but keeps only the
//! [`PAGE_ENTRIES`] smallest names after the cursor, so memory stays bounded however
//! large the folder, and entries added or removed between pages neither repeat nor
//! shift the pages that follow.

use std::{collections::BinaryHeap, ffi::OsStr, os::unix::ffi::OsStrExt};

use rustix::fs::{FileType, OFlags};
use vibemesh_core::{
    ErrorCode, WireError,
    proto::files::{DirEntry, FileKind, path_to_wire},
};

use super::{
    beneath::{Beneath, stat_at},
    guard::io_error,
    meta_of,
    ops::read_flags,
    secrets::Secrets,
};

/// Bytes of entries in one page, counted generously ([`ENTRY_OVERHEAD`] per entry beyond
/// its name), so a page, its folder's path and its cursor always fit in one frame.
const PAGE_BYTES: usize = 768 * 1024;
/// What an entry costs in a frame beyond its name, at most: the name's length, kind,
/// size, time and git mark.
const ENTRY_OVERHEAD: usize = 32;
/// The most entries in one page: the names a page is chosen from are held in memory.
const PAGE_ENTRIES: usize = 16_384;

/// Where an entry sorts: folders first, then by the bytes of its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    not_dir: bool,
    name: Vec<u8>,
}

impl Key {
    /// The cursor that names this entry: `d` or `f`, then the name's bytes in hex (names
    /// need not be UTF-8).
    fn cursor(&self) -> String {
        let kind = if self.not_dir { 'f' } else { 'd' };
        format!("{kind}{}", data_encoding::HEXLOWER.encode(&self.name))
    }

    fn parse(cursor: &str) -> Result<Self, WireError> {
        let bad = || {
            WireError::new(
                ErrorCode::BadRequest,
                format!("{cursor:?} is not where a page of this listing ended"),
            )
        };
        let (not_dir, hex) = match cursor.split_at_checked(1) {
            Some(("d", hex)) => (false, hex),
            Some(("f", hex)) => (true, hex),
            _ => return Err(bad()),
        };
        let name = data_encoding::HEXLOWER
            .decode(hex.as_bytes())
            .map_err(|_| bad())?;
        Ok(Self { not_dir, name })
    }
}

/// One page of a listing.
#[derive(Debug)]
pub(super) struct Page {
    /// Its entries, in listing order (git marks are added by the caller).
    pub entries: Vec<DirEntry>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<String>,
}

/// The page of `b`'s entries after `after` (from the start when `None`). What is never
/// shared is left out.
pub(super) fn page(secrets: &Secrets, b: &Beneath, after: Option<&str>) -> Result<Page, WireError> {
    let after = after.map(Key::parse).transpose()?;
    let path = b.path();
    let fd = b
        .open(read_flags() | OFlags::DIRECTORY)
        .map_err(|e| io_error(&path, e))?;
    let dir = rustix::fs::Dir::read_from(&fd).map_err(|e| io_error(&path, e.into()))?;
    let secrets = secrets.resolve();
    // The smallest keys after the cursor (a max-heap that drops its largest), and
    // whether any were dropped.
    let mut heap = BinaryHeap::new();
    let mut more = false;
    for e in dir {
        let e = e.map_err(|e| io_error(&path, e.into()))?;
        let raw = e.file_name().to_bytes();
        if raw == b"." || raw == b".." {
            continue;
        }
        let name = OsStr::from_bytes(raw);
        let not_dir = match e.file_type() {
            FileType::Directory => false,
            // Some file systems do not say in the listing.
            FileType::Unknown => stat_at(&fd, name).map_or(true, |st| {
                super::kind_of(super::mode_of(&st)) != FileKind::Dir
            }),
            _ => true,
        };
        let key = Key {
            not_dir,
            name: raw.to_vec(),
        };
        if after.as_ref().is_some_and(|a| key <= *a) || secrets.covers(&path.join(name)) {
            continue;
        }
        heap.push(key);
        if heap.len() > PAGE_ENTRIES {
            heap.pop();
            more = true;
        }
    }
    let mut entries = Vec::new();
    let mut bytes = 0;
    let mut last: Option<Key> = None;
    for key in heap.into_sorted_vec() {
        let name = OsStr::from_bytes(&key.name);
        // An entry that vanished since it was listed is skipped (but counts as covered).
        if let Ok(st) = stat_at(&fd, name) {
            let meta = meta_of(&path.join(name), &st);
            let shown = path_to_wire(&key.name).into_owned();
            let cost = shown.len() + ENTRY_OVERHEAD;
            if bytes + cost > PAGE_BYTES && !entries.is_empty() {
                more = true;
                break;
            }
            bytes += cost;
            entries.push(DirEntry {
                name: shown,
                kind: meta.kind,
                size: if meta.kind == FileKind::File {
                    meta.size
                } else {
                    0
                },
                modified_ms: meta.modified_ms,
                git: None,
            });
        }
        last = Some(key);
    }
    let next = if more { last.map(|k| k.cursor()) } else { None };
    Ok(Page { entries, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order_folders_first() {
        let dir = Key {
            not_dir: false,
            name: b"zz".to_vec(),
        };
        let file = Key {
            not_dir: true,
            name: b"a\xff".to_vec(),
        };
        assert!(dir < file);
        for k in [&dir, &file] {
            assert_eq!(&Key::parse(&k.cursor()).unwrap(), k);
        }
        for bad in ["", "x00", "dzz", "f0"] {
            assert_eq!(Key::parse(bad).unwrap_err().code, ErrorCode::BadRequest);
        }
    }
}
