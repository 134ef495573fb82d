//! The path guard: every client path becomes a real path inside the allowed roots, or
//! is refused.

use std::{
    ffi::OsStr,
    io,
    os::unix::ffi::OsStrExt,
    path::{Component, Path, PathBuf},
};

use vibemesh_core::{ErrorCode, WireError, proto::files::path_from_wire};

/// The user's home folder.
pub(super) fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
}

/// Turns a disk error about `path` into a wire error a person can read.
pub(super) fn io_error(path: &Path, e: io::Error) -> WireError {
    let p = path.display();
    if super::beneath::is_link_in_the_way(&e) {
        return WireError::new(
            ErrorCode::Conflict,
            format!(
                "{p} changed while it was being opened (a link now stands on its way); \
                 nothing was read or written, try again"
            ),
        );
    }
    match e.kind() {
        io::ErrorKind::NotFound => {
            WireError::new(ErrorCode::NotFound, format!("{p} does not exist"))
        }
        io::ErrorKind::PermissionDenied => {
            WireError::new(ErrorCode::Forbidden, format!("{p}: permission denied"))
        }
        io::ErrorKind::AlreadyExists => {
            WireError::new(ErrorCode::Conflict, format!("{p} already exists"))
        }
        io::ErrorKind::IsADirectory => {
            WireError::new(ErrorCode::BadRequest, format!("{p} is a folder"))
        }
        io::ErrorKind::NotADirectory => {
            WireError::new(ErrorCode::BadRequest, format!("{p}: not a folder"))
        }
        _ => WireError::new(ErrorCode::Internal, format!("{p}: {e}")),
    }
}

/// Canonicalizes the roots that exist (a root that does not is skipped, with a warning).
pub(super) fn canonical_roots(roots: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for root in roots {
        match std::fs::canonicalize(&root) {
            Ok(r) if !out.contains(&r) => out.push(r),
            Ok(_) => {}
            Err(e) => tracing::warn!("file root {} is skipped: {e}", root.display()),
        }
    }
    out
}

/// A client's path as an absolute path on this machine (`~` expanded), not yet checked.
/// Bytes that are not UTF-8 come escaped ([`path_from_wire`]).
pub(super) fn expand(path: &str) -> Result<PathBuf, WireError> {
    let home = || {
        home_dir().ok_or_else(|| {
            WireError::new(ErrorCode::Internal, "this machine has no home folder for ~")
        })
    };
    let raw = path_from_wire(path);
    if raw.contains(&0) {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            "a path may not hold NUL",
        ));
    }
    if *raw == *b"~" {
        return home();
    }
    if let Some(rest) = raw.strip_prefix(b"~/") {
        let start = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
        return Ok(home()?.join(OsStr::from_bytes(&rest[start..])));
    }
    let p = PathBuf::from(OsStr::from_bytes(&raw));
    if !p.is_absolute() {
        return Err(WireError::new(
            ErrorCode::BadRequest,
            format!("{path:?} is not an absolute path; start it with / or ~"),
        ));
    }
    Ok(p)
}

pub(super) fn outside(shown: &str) -> WireError {
    WireError::new(
        ErrorCode::OutsideRoots,
        format!("{shown} is outside the folders this agent shares"),
    )
}

/// Resolves `path` against `roots`: the deepest existing ancestor is canonicalized
/// (symlinks followed), the rest appended (no `..` allowed there), and the result must be
/// inside a root.
pub(super) fn resolve(roots: &[PathBuf], path: &str) -> Result<PathBuf, WireError> {
    let abs = expand(path)?;
    let comps: Vec<Component> = abs.components().collect();
    // The longest prefix that exists (as anything, even a dangling link).
    let mut split = comps.len();
    let existing = loop {
        let prefix: PathBuf = comps[..split].iter().collect();
        match std::fs::symlink_metadata(&prefix) {
            Ok(_) => break prefix,
            Err(e) if e.kind() == io::ErrorKind::NotFound && split > 1 => split -= 1,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory && split > 1 => split -= 1,
            Err(e) => return Err(io_error(&prefix, e)),
        }
    };
    let mut real = match std::fs::canonicalize(&existing) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A symlink whose target is missing: where it points is unknown territory.
            return Err(WireError::new(
                ErrorCode::NotFound,
                format!(
                    "{} is a link to something that does not exist",
                    existing.display()
                ),
            ));
        }
        Err(e) => return Err(io_error(&existing, e)),
    };
    // Nothing above the missing part may be a file either.
    if split < comps.len() && !real.is_dir() {
        return Err(WireError::new(
            ErrorCode::NotFound,
            format!(
                "{path} does not exist ({} is not a folder)",
                existing.display()
            ),
        ));
    }
    for c in &comps[split..] {
        match c {
            Component::Normal(name) => real.push(name),
            Component::CurDir => {}
            _ => return Err(outside(path)),
        }
    }
    if roots.iter().any(|r| real.starts_with(r)) {
        Ok(real)
    } else {
        Err(outside(path))
    }
}

/// Resolves the folder holding `path` and appends its last name without following it:
/// what rename and delete act on (a link itself, not what it points to).
pub(super) fn resolve_entry(roots: &[PathBuf], path: &str) -> Result<PathBuf, WireError> {
    let abs = expand(path)?;
    let name = match abs.components().next_back() {
        Some(Component::Normal(n)) => n.to_os_string(),
        _ => {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("{path} does not name a file or folder"),
            ));
        }
    };
    let is_link = std::fs::symlink_metadata(&abs).is_ok_and(|m| m.file_type().is_symlink());
    let real = if is_link {
        None
    } else {
        resolve(roots, path).ok()
    };
    if let Some(real) = real.filter(|r| roots.contains(r)) {
        return Err(WireError::new(
            ErrorCode::Forbidden,
            format!(
                "{} is a shared root; it cannot be moved or deleted",
                real.display()
            ),
        ));
    }
    let parent = abs.parent().unwrap_or(Path::new("/"));
    let dir = resolve(roots, &super::wire(parent))?;
    let entry = dir.join(name);
    if !roots.iter().any(|r| entry.starts_with(r)) {
        return Err(outside(path));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/f"), b"x").unwrap();
        let roots = canonical_roots(vec![root.clone()]);
        let r = |p: &Path| resolve(&roots, p.to_str().unwrap());
        assert!(r(&root.join("sub/f")).is_ok());
        assert!(r(&root.join("sub/new/deeper")).is_ok());
        assert!(r(&root.join("sub/../sub/f")).is_ok());
        let code = |p: &Path| r(p).unwrap_err().code;
        assert_eq!(code(&root.join("..")), ErrorCode::OutsideRoots);
        assert_eq!(code(&root.join("sub/../../x")), ErrorCode::OutsideRoots);
        assert_eq!(code(&root.join("nope/../../x")), ErrorCode::OutsideRoots);
        assert_eq!(code(&tmp.path().join("other")), ErrorCode::OutsideRoots);
        std::os::unix::fs::symlink(tmp.path(), root.join("up")).unwrap();
        assert_eq!(code(&root.join("up")), ErrorCode::OutsideRoots);
        assert!(r(&root.join("up/root/sub/f")).is_ok());
        assert_eq!(code(&root.join("up/new")), ErrorCode::OutsideRoots);
        assert_eq!(
            resolve(&roots, "relative/path").unwrap_err().code,
            ErrorCode::BadRequest
        );
    }
}
