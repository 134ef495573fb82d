//! Deleting to the platform's trash.
//!
//! Linux follows the freedesktop.org trash specification for the home trash:
//! `$XDG_DATA_HOME/Trash` (default `~/.local/share/Trash`) with `files/<name>` and
//! `info/<name>.trashinfo` holding the original path and the deletion date. A file on
//! another filesystem goes to that filesystem's `.Trash-$uid` at its top folder; only
//! where neither works (a read-only top folder, say) is it removed instead.
//! macOS moves to `~/.Trash`. Everything here is blocking: run it on the blocking pool.

use std::{
    ffi::{OsStr, OsString},
    io,
    os::fd::OwnedFd,
    path::{Path, PathBuf},
};

use rustix::fs::{Mode, OFlags};

use super::beneath::stat_at;

/// Moves `name` in the folder `dir` (whose whole path is `path`) to the trash;
/// `Ok(false)` when it was removed instead. The entry is moved by name from its folder's
/// descriptor, so it is always the one the guard checked.
pub fn delete(dir: &OwnedFd, name: &OsStr, path: &Path) -> io::Result<bool> {
    let st = stat_at(dir, name)?;
    let ((dev, _), _) = super::identity_of(&st);
    if let Some(trash) = trash_dir()
        && same_filesystem(dev, &trash)
    {
        move_to_trash(dir, name, path, &trash)?;
        return Ok(true);
    }
    // Another filesystem: the spec's per-volume trash at its top, `.Trash-$uid`.
    if let Some(trash) = volume_trash(path, dev)
        && move_to_trash(dir, name, path, &trash).is_ok()
    {
        return Ok(true);
    }
    super::ops::remove_all_at(dir, name, 0)?;
    Ok(false)
}

/// The trash folder of this user, where the platform has one.
fn trash_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return super::guard::home_dir().map(|h| h.join(".Trash"));
    }
    if cfg!(target_os = "linux") {
        let data = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| super::guard::home_dir().map(|h| h.join(".local/share")))?;
        return Some(data.join("Trash"));
    }
    None
}

/// `$topdir/.Trash-$uid` for the filesystem `path` is on (Linux), where `$topdir` is the
/// highest folder above `path` on the same device.
fn volume_trash(path: &Path, dev: u64) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    if !cfg!(target_os = "linux") {
        return None;
    }
    let top = path
        .ancestors()
        .skip(1)
        .take_while(|p| std::fs::metadata(p).is_ok_and(|m| m.dev() == dev))
        .last()?;
    Some(top.join(format!(".Trash-{}", nix::unistd::getuid())))
}

/// Whether device `dev` holds the trash (or its nearest existing ancestor).
fn same_filesystem(dev: u64, trash: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    trash
        .ancestors()
        .find_map(|p| std::fs::metadata(p).ok())
        .is_some_and(|t| t.dev() == dev)
}

/// Opens a trash folder (the user's own, not under any client's control).
fn open_dir(p: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        p,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

fn move_to_trash(dir: &OwnedFd, entry: &OsStr, path: &Path, trash: &Path) -> io::Result<()> {
    if cfg!(target_os = "macos") {
        std::fs::create_dir_all(trash)?;
        let dest = unique(path, |name| !trash.join(name).exists())?;
        return super::ops::rename_noreplace(dir, entry, &open_dir(trash)?, &dest);
    }
    let files = trash.join("files");
    let info = trash.join("info");
    for d in [trash, &files, &info] {
        if !d.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)?;
        }
    }
    let content = format!(
        "[Trash Info]\nPath={}\nDeletionDate={}\n",
        encode_path(path),
        local_now()
    );
    // Reserve a name by creating its info file exclusively, as the spec asks.
    let mut reserved = None;
    unique(path, |name| {
        if files.join(name).exists() {
            return false;
        }
        let mut info_name = name.to_os_string();
        info_name.push(".trashinfo");
        let p = info.join(info_name);
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p);
        match created {
            Ok(mut f) => {
                use std::io::Write;
                if f.write_all(content.as_bytes()).is_ok() {
                    reserved = Some((name.to_os_string(), p));
                    true
                } else {
                    let _ = std::fs::remove_file(&p);
                    false
                }
            }
            Err(_) => false,
        }
    })?;
    let Some((name, info_file)) = reserved else {
        return Err(io::Error::other("no free name in the trash"));
    };
    let moved = open_dir(&files).and_then(|f| super::ops::rename_noreplace(dir, entry, &f, &name));
    if let Err(e) = moved {
        let _ = std::fs::remove_file(&info_file);
        return Err(e);
    }
    Ok(())
}

/// The first name `free` accepts: the file's own, then `name.2`, `name.3`, ...
fn unique(path: &Path, mut free: impl FnMut(&OsString) -> bool) -> io::Result<OsString> {
    let base = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "unnamed".into());
    for n in 1..10_000u32 {
        let mut name = base.clone();
        if n > 1 {
            name.push(format!(".{n}"));
        }
        if free(&name) {
            return Ok(name);
        }
    }
    Err(io::Error::other("no free name in the trash"))
}

/// The path percent-encoded as the spec asks (RFC 2396 escaping, `/` kept).
fn encode_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Now as `YYYY-MM-DDThh:mm:ss` in local time, as the spec asks.
fn local_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: `localtime_r` only writes into the `tm` we give it and reads `secs`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return "1970-01-01T00:00:00".into();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(
            encode_path(Path::new("/a b/ü%.txt")),
            "/a%20b/%C3%BC%25.txt"
        );
        let now = local_now();
        assert_eq!(now.len(), 19, "{now}");
        assert_eq!(&now[10..11], "T");
    }
}
