//! Opening a checked path so that what is opened is exactly what was checked.
//!
//! The guard decides on a path by resolving it (symlinks followed) to a real path under a
//! root. Another process may rename or swap a folder of that path for a symlink a moment
//! later; opening the path by name would then follow the link out of the root. So every
//! open starts at the root's own folder and follows no symlink at all on the way down:
//! Linux 5.6+ does that in one call (`openat2` with `RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS`), other systems (older kernels, macOS) open one folder at a time
//! from the last with `O_NOFOLLOW`. A symlink met on the way is an error (`ELOOP`),
//! never followed; the operation is refused and nothing is read or written.
//!
//! Why not `cap-std`: it confines a path to a folder but follows symlinks that stay
//! inside it, so a swap could still redirect a read to a secret file in the same root
//! (`~/.ssh` under a home root). What is needed here is stricter and smaller: no symlink,
//! anywhere, on a path already resolved.
//!
//! Everything here blocks: run it on the blocking pool.

use std::{
    ffi::{OsStr, OsString},
    io,
    os::fd::{AsFd, OwnedFd},
    path::{Component, Path, PathBuf},
};

use rustix::fs::{AtFlags, Mode, OFlags};

/// A real path under a root: the root's folder and the names below it, none of them
/// `..`, `.` or empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneath {
    root: PathBuf,
    rel: Vec<OsString>,
}

impl Beneath {
    /// `real` under `root`; `None` when `real` is not below (or at) `root`.
    pub fn new(root: &Path, real: &Path) -> Option<Self> {
        let rest = real.strip_prefix(root).ok()?;
        let mut rel = Vec::new();
        for c in rest.components() {
            match c {
                Component::Normal(n) => rel.push(n.to_os_string()),
                Component::CurDir => {}
                _ => return None,
            }
        }
        Some(Self {
            root: root.to_path_buf(),
            rel,
        })
    }

    /// The whole path, for messages and for what is not opened by descriptor (git).
    pub fn path(&self) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(&self.rel);
        p
    }

    /// Opens the path itself with `flags` (`O_NOFOLLOW` and `O_CLOEXEC` are added).
    pub fn open(&self, flags: OFlags) -> io::Result<OwnedFd> {
        let root = open_root(&self.root)?;
        open_rel(&root, &self.rel, flags)
    }

    /// Opens the folder holding the path (to act on its last name without following
    /// it: a rename, a delete, a new file). Fails for the root itself.
    pub fn open_parent(&self) -> io::Result<(OwnedFd, &OsStr)> {
        let Some((name, parents)) = self.rel.split_last() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a shared root has no folder above it to act in",
            ));
        };
        let root = open_root(&self.root)?;
        let dir = open_rel(&root, parents, dir_flags())?;
        Ok((dir, name.as_os_str()))
    }

    /// Opens the path as a folder, creating it and any missing folder above it (each
    /// created by name in the folder above, never through a link).
    pub fn create_dirs(&self) -> io::Result<OwnedFd> {
        let mut cur = open_root(&self.root)?;
        for name in &self.rel {
            cur = match rustix::fs::openat(&cur, name.as_os_str(), dir_flags(), Mode::empty()) {
                Ok(fd) => fd,
                Err(e) if e == rustix::io::Errno::NOENT => {
                    match rustix::fs::mkdirat(&cur, name.as_os_str(), Mode::from_raw_mode(0o777)) {
                        Ok(()) => {}
                        // Someone else made it meanwhile: fine, it is opened below.
                        Err(e) if e == rustix::io::Errno::EXIST => {}
                        Err(e) => return Err(e.into()),
                    }
                    rustix::fs::openat(&cur, name.as_os_str(), dir_flags(), Mode::empty())?
                }
                Err(e) => return Err(e.into()),
            };
        }
        Ok(cur)
    }
}

/// Flags for a folder opened only to open or act on names inside it.
fn dir_flags() -> OFlags {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let search = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let search = OFlags::RDONLY;
    search | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Opens a root folder by its absolute path. The roots are the owner's configuration:
/// the folders above them are not any client's to change.
fn open_root(root: &Path) -> io::Result<OwnedFd> {
    let flags = dir_flags() & !OFlags::NOFOLLOW;
    Ok(rustix::fs::open(root, flags, Mode::empty())?)
}

/// Opens `rel` below the folder `dir` with no symlink followed.
fn open_rel(dir: &OwnedFd, rel: &[OsString], flags: OFlags) -> io::Result<OwnedFd> {
    let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if rel.is_empty() {
        return Ok(rustix::fs::openat(dir, ".", flags, Mode::empty())?);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(fd) = openat2_beneath(dir, rel, flags)? {
        return Ok(fd);
    }
    walk(dir, rel, flags)
}

/// Whether `openat2` was found missing (a kernel before 5.6, or a sandbox that hides it).
#[cfg(any(target_os = "linux", target_os = "android"))]
static NO_OPENAT2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One `openat2` call; `Ok(None)` where the kernel lacks it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn openat2_beneath(dir: &OwnedFd, rel: &[OsString], flags: OFlags) -> io::Result<Option<OwnedFd>> {
    use std::sync::atomic::Ordering;

    use rustix::fs::ResolveFlags;
    if NO_OPENAT2.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let mut path = PathBuf::new();
    path.extend(rel);
    let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    match rustix::fs::openat2(dir, &path, flags, Mode::empty(), how) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e == rustix::io::Errno::NOSYS || e == rustix::io::Errno::PERM => {
            NO_OPENAT2.store(true, Ordering::Relaxed);
            Ok(None)
        }
        // The path changed between two lookups of the kernel's own; one more try.
        Err(e) if e == rustix::io::Errno::AGAIN => Ok(Some(rustix::fs::openat2(
            dir,
            &path,
            flags,
            Mode::empty(),
            how,
        )?)),
        Err(e) => Err(e.into()),
    }
}

/// One folder at a time, each opened from the last with `O_NOFOLLOW`.
fn walk(dir: &OwnedFd, rel: &[OsString], flags: OFlags) -> io::Result<OwnedFd> {
    let Some((last, folders)) = rel.split_last() else {
        return Ok(rustix::fs::openat(dir, ".", flags, Mode::empty())?);
    };
    let mut cur: Option<OwnedFd> = None;
    for name in folders {
        let at = cur.as_ref().map_or(dir.as_fd(), |f| f.as_fd());
        cur = Some(rustix::fs::openat(
            at,
            name.as_os_str(),
            dir_flags(),
            Mode::empty(),
        )?);
    }
    let at = cur.as_ref().map_or(dir.as_fd(), |f| f.as_fd());
    Ok(rustix::fs::openat(
        at,
        last.as_os_str(),
        flags,
        Mode::empty(),
    )?)
}

/// `lstat` of `name` in the folder `dir`.
pub fn stat_at(dir: &OwnedFd, name: &OsStr) -> io::Result<rustix::fs::Stat> {
    Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?)
}

/// Whether an error means a symlink stood where the checked path had a folder or file
/// (the path changed after it was checked).
pub fn is_link_in_the_way(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EXDEV))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn opens_below_the_root_and_never_through_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), b"inside").unwrap();
        std::fs::write(tmp.path().join("outside"), b"outside").unwrap();
        let b = Beneath::new(&root, &root.join("a/b/f")).unwrap();
        let fd = b.open(OFlags::RDONLY).unwrap();
        let text = std::io::read_to_string(std::fs::File::from(fd)).unwrap();
        assert_eq!(text, "inside");
        assert_eq!(b.path(), root.join("a/b/f"));

        // A folder on the way swapped for a link: refused, whether it leads out or in.
        std::fs::rename(root.join("a/b"), root.join("a/real")).unwrap();
        symlink(root.join("a/real"), root.join("a/b")).unwrap();
        let e = b.open(OFlags::RDONLY).unwrap_err();
        assert!(is_link_in_the_way(&e), "{e}");
        std::fs::remove_file(root.join("a/b")).unwrap();
        symlink(tmp.path(), root.join("a/b")).unwrap();
        let e = b.open(OFlags::RDONLY).unwrap_err();
        assert!(is_link_in_the_way(&e), "{e}");
        // The walk (kernels without openat2) refuses the same.
        let root_fd = open_root(&root).unwrap();
        let e = walk(&root_fd, &b.rel, OFlags::RDONLY | OFlags::NOFOLLOW).unwrap_err();
        assert!(
            is_link_in_the_way(&e) || e.raw_os_error() == Some(libc::ENOTDIR),
            "{e}"
        );

        // The last name as a link: refused too.
        std::fs::write(root.join("target"), b"t").unwrap();
        symlink(root.join("target"), root.join("link")).unwrap();
        let l = Beneath::new(&root, &root.join("link")).unwrap();
        let e = l.open(OFlags::RDONLY).unwrap_err();
        assert!(is_link_in_the_way(&e), "{e}");
        // ...but its folder opens, to act on the link itself.
        let (dir, name) = l.open_parent().unwrap();
        assert_eq!(name, "link");
        assert!(stat_at(&dir, name).is_ok());

        assert!(Beneath::new(&root, tmp.path()).is_none());
        assert!(Beneath::new(&root, &root.join("../x")).is_none());
    }

    #[test]
    fn creates_missing_folders_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let b = Beneath::new(&root, &root.join("x/y/z")).unwrap();
        b.create_dirs().unwrap();
        assert!(root.join("x/y/z").is_dir());
        // Again: nothing to do, no error.
        b.create_dirs().unwrap();
        // Through a link: refused.
        symlink(tmp.path(), root.join("up")).unwrap();
        let b = Beneath::new(&root, &root.join("up/evil")).unwrap();
        assert!(b.create_dirs().is_err());
        assert!(!tmp.path().join("evil").exists());
    }
}
