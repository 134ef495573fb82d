//! `vibemesh ls-files`, `cat` and `cp`: files on a peer from the command line.

use std::{
    borrow::Cow,
    ffi::OsStr,
    io::IsTerminal,
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use vibemesh_core::{
    ErrorCode,
    client::{self, ClientError, DownloadEvent, UploadEvent},
    proto::{
        files::{DirEntry, FileKind, UploadRequest, Version, path_from_wire, path_to_wire},
        git::GitMark,
        local::Target,
    },
    text::inert,
};

use super::{
    local, output,
    stdout::{AsyncOut, outln},
};
use vibemesh_agent::config::Home;

/// `ls-files --json`: the folder as the agent resolved it, and its entries.
#[derive(serde::Serialize)]
struct Listing {
    path: String,
    entries: Vec<DirEntry>,
}

/// `vibemesh ls-files <peer> [path]`: a folder's entries with sizes, times and git marks,
/// however many (fetched a page at a time). Names are printed inert, as `ls` does on a
/// terminal (`--json` keeps them exact).
pub async fn ls_files(
    home: &Home,
    target: Target,
    path: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let control = local::control(home, target).await?;
    let (path, entries) = control.list_dir(path).await?;
    let _ = control.finish().await;
    if json {
        output::json(&Listing { path, entries })?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        outln!("{} is empty.", inert(&path))?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|e| {
            let (marker, suffix) = match e.kind {
                FileKind::Dir => ("d", "/"),
                FileKind::File => ("-", ""),
                FileKind::Symlink => ("l", "@"),
                FileKind::Other => ("?", ""),
            };
            [
                marker.into(),
                if e.kind == FileKind::File {
                    human(e.size)
                } else {
                    "-".into()
                },
                output::age(e.modified_ms),
                e.git.map_or(" ", git_letter).into(),
                format!("{}{suffix}", inert(&e.name)),
            ]
        })
        .collect();
    let size_w = rows.iter().map(|r| r[1].len()).max().unwrap_or(0);
    let age_w = rows.iter().map(|r| r[2].len()).max().unwrap_or(0);
    for r in rows {
        outln!(
            "{} {:>size_w$} {:>age_w$} {} {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4]
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One letter per git state, as in `git status --short`.
fn git_letter(m: GitMark) -> &'static str {
    match m {
        GitMark::Staged => "A",
        GitMark::Modified | GitMark::StagedModified => "M",
        GitMark::Untracked => "?",
        GitMark::Renamed => "R",
        GitMark::Deleted => "D",
        GitMark::Conflicted => "U",
        GitMark::Ignored => "!",
        GitMark::Dirty => "*",
    }
}

/// "512", "1.5K", "20M", "3.1G".
fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    match u {
        0 => n.to_string(),
        _ if v < 10.0 => format!("{v:.1}{}", UNITS[u]),
        _ => format!("{v:.0}{}", UNITS[u]),
    }
}

/// `vibemesh cat <peer> <path>`: a file's bytes to stdout (streamed, any size). They are
/// data, printed as they are, as cat(1) does.
pub async fn cat(home: &Home, target: Target, path: &str) -> anyhow::Result<ExitCode> {
    let (_, r, w) = local::route(home, target).await?;
    let (_, mut down) = client::open_download(r, w, path).await?;
    let mut out = AsyncOut::new();
    while let Some(chunk) = down.next().await? {
        out.write(&chunk).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A path typed on the command line as it travels: its bytes need not be UTF-8.
pub fn wire_arg(arg: &OsStr) -> Cow<'_, str> {
    path_to_wire(arg.as_bytes())
}

/// `peer:path` when the part before the first `:` names a peer (no `/` in it).
fn remote(spec: &OsStr) -> Option<(Target, Cow<'_, str>)> {
    let bytes = spec.as_bytes();
    let colon = bytes.iter().position(|&b| b == b':')?;
    let peer = std::str::from_utf8(&bytes[..colon]).ok()?;
    if peer.is_empty() || peer.contains('/') {
        return None;
    }
    Some((super::target(peer), path_to_wire(&bytes[colon + 1..])))
}

/// The last name of a path as the other side writes it.
fn base_name(path: &str) -> anyhow::Result<&str> {
    match path.trim_end_matches('/').rsplit('/').next() {
        Some(n) if !n.is_empty() && n != "~" && n != "." && n != ".." => Ok(n),
        _ => anyhow::bail!("{path:?} does not name a file"),
    }
}

/// `vibemesh cp <from> <to>`: one side is `peer:path`, the other a local path.
pub async fn cp(home: &Home, from: &OsStr, to: &OsStr) -> anyhow::Result<ExitCode> {
    match (remote(from), remote(to)) {
        (Some((target, path)), None) => download(home, target, &path, Path::new(to)).await?,
        (None, Some((target, path))) => upload(home, Path::new(from), target, &path).await?,
        (Some(_), Some(_)) => anyhow::bail!(
            "both sides are remote; one must be a local path (`local:` names this machine)"
        ),
        (None, None) => anyhow::bail!(
            "neither side is remote; write one as peer:path (for example build-box:~/notes.txt)"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// How a `cp` retries a lost connection: as terminals do, but it gives up after three
/// tries in a row (each may wait out the agent's dial timeout to a peer that is down:
/// about half a minute in all) and says so, rather than hang a script.
fn transfer_backoff() -> client::Backoff {
    client::Backoff {
        max_tries: Some(3),
        ..client::Backoff::default()
    }
}

/// Downloads on core's reconnecting download: into a temporary file next to `to`,
/// renamed into place only once the whole file's hash matched; a lost connection
/// resumes from the bytes already written.
pub(super) async fn download(
    home: &Home,
    target: Target,
    path: &str,
    to: &Path,
) -> anyhow::Result<()> {
    let dest = if to.is_dir() {
        to.join(OsStr::from_bytes(&path_from_wire(base_name(path)?)))
    } else {
        to.to_path_buf()
    };
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let peer = match &target {
        Target::Peer(p) => p.clone(),
        Target::Local => "local".into(),
    };
    let dial = super::attach::dialler(home, target);
    let (_handle, mut events, driver) =
        client::redownload(dial, path.to_string(), transfer_backoff());
    let driver = tokio::spawn(driver);
    let result = receive(&mut events, &peer, &dir).await;
    driver.abort();
    let (temp, mut progress) = result?;
    progress.done();
    temp.persist(&dest)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}

/// Writes what a download reports into a temporary file in `dir` until it is all in.
/// The temporary file is removed if anything fails (it is dropped).
async fn receive(
    events: &mut tokio::sync::mpsc::Receiver<DownloadEvent>,
    peer: &str,
    dir: &Path,
) -> anyhow::Result<(tempfile::TempPath, Progress)> {
    let mut open: Option<(tokio::fs::File, tempfile::TempPath, Progress)> = None;
    let mut written = 0u64;
    loop {
        let ev = events.recv().await;
        match ev {
            Some(DownloadEvent::Started { meta, offset, .. }) => {
                let (file, _, progress) = match &mut open {
                    Some(o) => o,
                    None => {
                        let (file, temp) = temp_in(dir)?;
                        let name = format!("{peer}:{}", meta.path);
                        open.insert((file, temp, Progress::new(&name, meta.size)))
                    }
                };
                if written > 0 {
                    if offset == 0 {
                        progress.note(&format!(
                            "the file changed on {peer} while the connection was down; \
                             starting over from byte 0"
                        ));
                    } else {
                        progress.note(&format!(
                            "reconnected; resuming at byte {offset} of {}",
                            meta.size
                        ));
                    }
                }
                if offset != written {
                    file.set_len(offset).await?;
                    file.seek(std::io::SeekFrom::Start(offset)).await?;
                    written = offset;
                }
                progress.set_total(meta.size);
            }
            Some(DownloadEvent::Data(b)) => {
                let Some((file, _, progress)) = &mut open else {
                    anyhow::bail!("the download sent bytes before its start");
                };
                file.write_all(&b).await?;
                written += b.len() as u64;
                progress.update(written);
            }
            Some(DownloadEvent::Reconnecting { error, .. }) => match &mut open {
                Some((_, _, progress)) => progress.reconnecting(&error),
                None => eprintln!("{}; reconnecting…", inert(&error)),
            },
            Some(DownloadEvent::Done) => {
                let Some((file, temp, progress)) = open else {
                    anyhow::bail!("the download ended before its start");
                };
                file.sync_all().await?;
                return Ok((temp, progress));
            }
            Some(DownloadEvent::Closed(e)) => return Err(e.into()),
            Some(DownloadEvent::Detached) | None => anyhow::bail!("the download stopped"),
        }
    }
}

/// A fresh temporary file in `dir`, named so that it is plainly ours.
fn temp_in(dir: &Path) -> anyhow::Result<(tokio::fs::File, tempfile::TempPath)> {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::Builder::new()
        .prefix(".vibemesh-cp.")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let (file, temp) = temp.into_parts();
    Ok((tokio::fs::File::from_std(file), temp))
}

/// Uploads on core's reconnecting upload: a lost connection sends the file again from
/// the start (the agent keeps nothing of a cut upload), and an upload that landed but
/// whose answer was lost is recognised, not reported as a conflict.
async fn upload(home: &Home, from: &Path, target: Target, path: &str) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(from)
        .await
        .with_context(|| format!("cannot read {}", from.display()))?;
    let local_meta = file.metadata().await?;
    drop(file);
    if !local_meta.is_file() {
        anyhow::bail!("{} is not a regular file", from.display());
    }
    let size = local_meta.len();
    let name = from
        .file_name()
        .map(wire_arg)
        .context("the source does not name a file")?;
    // Where it goes: into an existing folder under its own name; over an existing file
    // only if it does not change meanwhile.
    let control = local::control(home, target.clone()).await?;
    let (dest, expected) = match control.stat(path).await {
        Ok(m) if m.kind == FileKind::Dir => {
            let dest = format!("{}/{name}", m.path.trim_end_matches('/'));
            match control.stat(&dest).await {
                Ok(m) => (dest, m.version),
                Err(e) if is_not_found(&e) => (dest, None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(m) => (path.to_string(), m.version),
        Err(e) if is_not_found(&e) => (path.to_string(), None),
        Err(e) => return Err(e.into()),
    };
    let _ = control.finish().await;
    send_file(home, from, target, &dest, size, expected).await
}

/// Sends the local file `from` (of `size` bytes) to `dest` on `target`, replacing the
/// version `expected` there (`None`: it must not exist), on core's resumable upload.
pub(super) async fn send_file(
    home: &Home,
    from: &Path,
    target: Target,
    dest: &str,
    size: u64,
    expected: Option<Version>,
) -> anyhow::Result<()> {
    let peer = match &target {
        Target::Peer(p) => p.clone(),
        Target::Local => "local".into(),
    };
    let req = UploadRequest {
        path: dest.to_string(),
        size,
        expected,
    };
    let source = {
        let from = from.to_path_buf();
        move || {
            let from = from.clone();
            async move {
                let f = tokio::fs::File::open(&from).await?;
                Ok(Box::new(f) as client::BoxRead)
            }
        }
    };
    let dial = super::attach::dialler(home, target);
    let (_handle, mut events, driver) = client::reupload(dial, source, req, transfer_backoff());
    let driver = tokio::spawn(driver);
    let mut progress = Progress::new(&format!("{peer}:{dest}"), size);
    let result = loop {
        match events.recv().await {
            Some(UploadEvent::Started { reconnected: true }) => {
                progress.note("reconnected; sending it again from the start");
            }
            Some(UploadEvent::Started { .. }) => {}
            Some(UploadEvent::Sent(n)) => progress.update(n),
            Some(UploadEvent::Reconnecting { error, .. }) => progress.reconnecting(&error),
            Some(UploadEvent::Done(_)) => break Ok(()),
            Some(UploadEvent::Closed(e)) => break Err(e.into()),
            Some(UploadEvent::Detached) | None => break Err(anyhow::anyhow!("the upload stopped")),
        }
    };
    driver.abort();
    result?;
    progress.done();
    Ok(())
}

pub(super) fn is_not_found(e: &ClientError) -> bool {
    e.wire().is_some_and(|w| w.code == ErrorCode::NotFound)
}

/// A transfer's progress line on stderr, for files over 1 MiB when stderr is a terminal
/// (indicatif draws it, at most a few times a second). Notes go to stderr either way.
struct Progress {
    name: String,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(name: &str, total: u64) -> Self {
        let name = inert(name).into_owned();
        let bar = (total > 1 << 20 && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let style = indicatif::ProgressStyle::with_template(
                "{prefix}  {percent:>3}%  {binary_bytes}/{binary_total_bytes}  \
                 {binary_bytes_per_sec}  {msg}",
            )
            .expect("a valid template");
            bar.set_style(style);
            bar.set_prefix(name.clone());
            bar
        });
        Self { name, bar }
    }

    /// The size, once the peer said it.
    fn set_total(&mut self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    fn update(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message("");
            bar.set_position(done);
        }
    }

    /// Says on the progress line that the connection is down and being tried again
    /// (on a line of its own when there is no progress line).
    fn reconnecting(&mut self, error: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("reconnecting… ({})", inert(error))),
            None => eprintln!("{}: {}; reconnecting…", self.name, inert(error)),
        }
    }

    /// Says something about the transfer on a line of its own.
    fn note(&mut self, what: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("{}: {what}", self.name)),
            None => eprintln!("{}: {what}", self.name),
        }
    }

    fn done(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_specs() {
        let remote = |s: &[u8]| remote(OsStr::from_bytes(s)).map(|(t, p)| (t, p.into_owned()));
        assert!(
            matches!(remote(b"box:~/a"), Some((Target::Peer(p), a)) if p == "box" && a == "~/a")
        );
        assert!(matches!(remote(b"local:/x"), Some((Target::Local, x)) if x == "/x"));
        assert!(matches!(remote(b"box:/\xff"), Some((_, x)) if x == "/\0ff"));
        assert!(remote(b"./a:b").is_none());
        assert!(remote(b"/tmp/a").is_none());
        assert_eq!(human(512), "512");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(base_name("/a/b.txt").unwrap(), "b.txt");
        assert!(base_name("~").is_err());
    }
}
