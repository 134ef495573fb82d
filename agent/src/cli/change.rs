//! `vibemesh rm`, `mv`, `mkdir` and `edit`: changing files on a peer (owners only; the
//! agent refuses viewers and paths outside its shared folders).

use std::{ffi::OsStr, os::unix::ffi::OsStrExt, path::Path, process::ExitCode};

use anyhow::Context;
use vibemesh_core::{
    ErrorCode,
    proto::files::{FileKind, FileRequest, FileResponse, path_from_wire},
    text::inert,
};

use super::{files, local, stdout::outln};
use vibemesh_agent::config::Home;

/// `peer:path` as the messages print it.
fn shown(peer: &str, path: &str) -> String {
    format!("{peer}:{}", inert(path))
}

/// `vibemesh rm <peer> <path>`: moves a file or folder to the peer's trash (removes it
/// where the platform has none, and says which).
pub async fn rm(home: &Home, peer: &str, path: &str) -> anyhow::Result<ExitCode> {
    let control = local::control(home, super::target(peer)).await?;
    let answer = control
        .files(FileRequest::Delete { path: path.into() })
        .await?;
    let _ = control.finish().await;
    match answer {
        FileResponse::Deleted { trashed: true } => {
            outln!("Moved {} to the trash.", shown(peer, path))?
        }
        _ => outln!("Removed {} (there is no trash there).", shown(peer, path))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `vibemesh mv <peer> <from> <to>`: renames or moves; never replaces what is at `to`.
pub async fn mv(home: &Home, peer: &str, from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let control = local::control(home, super::target(peer)).await?;
    let answer = control
        .files(FileRequest::Rename {
            from: from.into(),
            to: to.into(),
        })
        .await;
    let _ = control.finish().await;
    match answer {
        Ok(FileResponse::Done(meta)) => outln!(
            "Moved {} to {}.",
            shown(peer, from),
            shown(peer, &meta.path)
        )?,
        Ok(_) => anyhow::bail!("the agent answered a move with something else"),
        Err(e) if e.wire().is_some_and(|w| w.code == ErrorCode::Conflict) => {
            anyhow::bail!("{} already exists; mv never replaces", shown(peer, to))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `vibemesh mkdir <peer> <path>`: creates a folder and its missing parents.
pub async fn mkdir(home: &Home, peer: &str, path: &str) -> anyhow::Result<ExitCode> {
    let control = local::control(home, super::target(peer)).await?;
    let answer = control
        .files(FileRequest::Mkdir { path: path.into() })
        .await?;
    let _ = control.finish().await;
    let FileResponse::Done(meta) = answer else {
        anyhow::bail!("the agent answered mkdir with something else");
    };
    outln!("Created {}.", shown(peer, &meta.path))?;
    Ok(ExitCode::SUCCESS)
}

/// `vibemesh edit <peer> <path>`: opens `$VISUAL` (or `$EDITOR`, or `vi`) on a copy of the
/// file here and writes it back when the editor exits with changes, only if the file did
/// not change there meanwhile. Nothing is lost: when the write is refused, the edited copy
/// stays where it was and the error says where.
pub async fn edit(home: &Home, peer: &str, path: &str) -> anyhow::Result<ExitCode> {
    let target = super::target(peer);
    let control = local::control(home, target.clone()).await?;
    let meta = control.stat(path).await;
    let _ = control.finish().await;
    let (remote, expected) = match meta {
        Ok(m) if m.kind == FileKind::File => (m.path, m.version),
        Ok(_) => anyhow::bail!("{} is not a regular file", shown(peer, path)),
        // A new file: written only if it still does not exist.
        Err(e) if files::is_not_found(&e) => (path.to_string(), None),
        Err(e) => return Err(e.into()),
    };
    let dir = tempfile::Builder::new()
        .prefix("vibemesh-edit-")
        .tempdir()?;
    let name = remote
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("file");
    let copy = dir.path().join(OsStr::from_bytes(&path_from_wire(name)));
    match expected {
        Some(_) => files::download(home, target.clone(), &remote, &copy).await?,
        None => std::fs::File::create_new(&copy).map(drop)?,
    }
    let before = std::fs::read(&copy)?;
    run_editor(&copy).await?;
    let after = std::fs::read(&copy)?;
    if after == before && expected.is_some() {
        outln!("No changes; {} left as it was.", shown(peer, &remote))?;
        return Ok(ExitCode::SUCCESS);
    }
    // Asked first, so the usual conflict is said plainly; the agent checks again as it
    // writes, for one that lands in between.
    let sent = match changed_meanwhile(home, &target, &remote, expected).await {
        true => Err(vibemesh_core::WireError::new(ErrorCode::Conflict, "changed").into()),
        false => {
            let size = after.len() as u64;
            files::send_file(home, &copy, target, &remote, size, expected).await
        }
    };
    if let Err(e) = sent {
        // Keep the user's work: the temporary folder is not removed.
        let kept = dir.keep();
        let copy = kept.join(copy.file_name().unwrap_or_default());
        let conflict = e
            .downcast_ref::<vibemesh_core::WireError>()
            .is_some_and(|w| w.code == ErrorCode::Conflict);
        let why = match conflict {
            true => format!("{} changed there while you edited", shown(peer, &remote)),
            false => format!("{e:#}"),
        };
        anyhow::bail!(
            "{why}; nothing was written. Your edit is kept in {}",
            copy.display()
        );
    }
    outln!("Saved {}.", shown(peer, &remote))?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `remote` is no longer the version `expected` (`None`: it did not exist).
/// An answer that cannot be had counts as unchanged: the write's own check decides.
async fn changed_meanwhile(
    home: &Home,
    target: &vibemesh_core::proto::local::Target,
    remote: &str,
    expected: Option<vibemesh_core::proto::files::Version>,
) -> bool {
    let Ok(control) = local::control(home, target.clone()).await else {
        return false;
    };
    let now = control.stat(remote).await;
    let _ = control.finish().await;
    match now {
        Ok(meta) => meta.version != expected,
        Err(e) => expected.is_some() && files::is_not_found(&e),
    }
}

/// Runs the user's editor on `file` in this terminal and waits for it.
async fn run_editor(file: &Path) -> anyhow::Result<()> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    // `$EDITOR` may carry arguments (`code --wait`): let the shell split it, as git does.
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("vibemesh-edit")
        .arg(file)
        .status()
        .await
        .with_context(|| format!("cannot run the editor {editor}"))?;
    if !status.success() {
        anyhow::bail!("the editor {editor} exited with {status}; nothing was written");
    }
    Ok(())
}
