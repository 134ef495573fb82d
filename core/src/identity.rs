//! A peer's identity: its ed25519 secret key, kept in a file only its owner can read.

use std::{io::Write, path::Path};

use crate::SecretKey;

/// Why the key could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a key.
    #[error("key file {0} is damaged: expected 32 bytes")]
    Damaged(String),
    /// Others can read the key file.
    #[error("key file {0} is readable by other users; run `chmod 600 {0}`")]
    Permissions(String),
}

/// Loads the key at `path`, or creates one there (mode 0600, written atomically) when the
/// file does not exist.
pub fn load_or_create(path: &Path) -> Result<SecretKey, IdentityError> {
    let shown = path.display().to_string();
    let io = |source| IdentityError::Io {
        path: shown.clone(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            check_private(path).map_err(|e| match e {
                Some(err) => io(err),
                None => IdentityError::Permissions(shown.clone()),
            })?;
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| IdentityError::Damaged(shown.clone()))?;
            Ok(SecretKey::from_bytes(&arr))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_private(path, &key.to_bytes()).map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), Option<std::io::Error>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(Some)?.permissions().mode();
    if mode & 0o077 != 0 { Err(None) } else { Ok(()) }
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), Option<std::io::Error>> {
    Ok(())
}

/// Creates `dir` and any missing folder above it, each new one for the owner only
/// (0700); a folder that exists is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates `dir` for the owner only, and takes away what others may do with it where
/// it exists already (a folder made by an older version, or by hand).
pub fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` readable only by the owner, atomically (see
/// [`write_whole`]), in a folder created for the owner only if it is missing. This is
/// the one writer of every state file (keys, `peers.json`).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    create_private_dir(path.parent().unwrap_or(Path::new(".")))?;
    write_whole(path, bytes, 0o600)
}

/// Writes `bytes` to `path` with permission bits `mode` (before the umask), atomically:
/// to a fresh temporary file in the same folder, synced, renamed over the old file, and
/// the folder synced. A crash (even `kill -9` or power loss) at any moment leaves either
/// the old file or the new one, never half of one.
pub fn write_whole(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Unique per write, so concurrent writers never share a temporary file.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}.{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // Make the rename itself durable; not every filesystem allows syncing a folder.
    let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_private_and_reloaded_the_same() {
        let dir = std::env::temp_dir().join(format!("vm-id-{}", std::process::id()));
        let path = dir.join("key");
        let _ = std::fs::remove_dir_all(&dir);
        let a = load_or_create(&path).unwrap();
        let b = load_or_create(&path).unwrap();
        assert_eq!(a.public(), b.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load_or_create(&path),
                Err(IdentityError::Permissions(_))
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(IdentityError::Damaged(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
