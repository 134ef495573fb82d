//! Live change events for watched folders: file changes, and git state changes for the
//! repository around them, debounced and pushed on the control stream that asked.

use std::{
    collections::{BTreeSet, HashMap},
    os::fd::OwnedFd,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use vibemesh_core::{
    EndpointId, ErrorCode, WireError,
    proto::control::{Event, WatchId},
};

use crate::files::Files;
use vibemesh_core::sync::lock;

/// Changes within this window are sent as one event.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// Most watches one control stream may hold.
pub const MAX_WATCHES: usize = 16;
/// Most watches one peer may hold on this agent, over all its connections: each is an
/// inotify instance and a thread here.
pub const MAX_WATCHES_PER_PEER: usize = 16;
/// Most folders one watch may span: each is a kernel watch, and the user's own programs
/// (editors, build tools) need theirs from the same per-user limit.
pub const MAX_FOLDERS: usize = 10_000;
/// Raw notifications queued before the oldest are merged away.
const RAW_QUEUE: usize = 1024;

/// How many watches each peer may still open, shared by all its connections.
#[derive(Debug, Default)]
pub struct WatchBudget(Mutex<HashMap<Option<EndpointId>, Arc<Semaphore>>>);

impl WatchBudget {
    /// The budget of `peer` (`None`: this machine's owner on the local socket).
    pub fn of(&self, peer: Option<EndpointId>) -> Arc<Semaphore> {
        let mut map = lock(&self.0);
        map.entry(peer)
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_WATCHES_PER_PEER)))
            .clone()
    }
}

struct Active {
    _watcher: RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
    /// The watched folder, open: its `/proc/self/fd` name stays valid for new subfolders.
    _dir: OwnedFd,
    _permit: OwnedSemaphorePermit,
}

/// The watches of one control stream; dropping it stops them all.
pub struct Watches {
    next: u64,
    active: HashMap<WatchId, Active>,
    events: mpsc::Sender<Event>,
    files: Files,
    budget: Arc<Semaphore>,
}

impl Watches {
    /// Watches of folders under `files`, pushing their events into `events`, taking
    /// from the peer's `budget`.
    pub fn new(events: mpsc::Sender<Event>, files: Files, budget: Arc<Semaphore>) -> Self {
        Self {
            next: 1,
            active: HashMap::new(),
            events,
            files,
            budget,
        }
    }

    /// Starts watching the folder at the client's `path` and, when it is in a git
    /// repository, that repository's state.
    ///
    /// The folder is opened from its root with no symlink followed and watched through
    /// its descriptor (`/proc/self/fd/N`), so a folder swapped for a link meanwhile
    /// cannot put the watch elsewhere; links inside are not followed, and events for
    /// paths that are never shared are dropped.
    pub async fn add(&mut self, path: &str) -> Result<WatchId, WireError> {
        if self.active.len() >= MAX_WATCHES {
            return Err(WireError::new(
                ErrorCode::Limit,
                format!("at most {MAX_WATCHES} watches per connection"),
            ));
        }
        let permit = self.budget.clone().try_acquire_owned().map_err(|_| {
            WireError::new(
                ErrorCode::Limit,
                format!(
                    "this device holds {MAX_WATCHES_PER_PEER} watches on this agent already; \
                     stop one first"
                ),
            )
        })?;
        let (fd, dir) = self.files.open_dir(path).await?;
        let watched = watch_path(&fd).unwrap_or_else(|| dir.clone());
        let counted = watched.clone();
        let folders = tokio::task::spawn_blocking(move || count_folders(&counted, MAX_FOLDERS))
            .await
            .unwrap_or(usize::MAX);
        if folders > MAX_FOLDERS {
            return Err(WireError::new(
                ErrorCode::TooLarge,
                format!(
                    "{} holds more than {MAX_FOLDERS} folders; watch a smaller folder",
                    dir.display()
                ),
            ));
        }
        let id = WatchId(self.next);
        self.next += 1;
        let root = crate::git::repo_root(&self.files, &dir).await;
        let (raw_tx, raw_rx) = mpsc::channel::<notify::Result<notify::Event>>(RAW_QUEUE);
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut watcher = RecommendedWatcher::new(
            move |ev| {
                // A full queue already means "something changed": dropping more is fine.
                let _ = raw_tx.try_send(ev);
            },
            config,
        )
        .map_err(watch_error)?;
        watcher
            .watch(&watched, RecursiveMode::Recursive)
            .map_err(watch_error)?;
        if let Some(root) = &root {
            // HEAD and the index live directly in .git: enough to see commits, stages
            // and checkouts without following every object write.
            let git_dir = root.join(".git");
            if git_dir.is_dir() && !git_dir.starts_with(&dir) {
                let _ = watcher.watch(&git_dir, RecursiveMode::NonRecursive);
            }
        }
        let names = Names {
            watched,
            real: dir,
            files: self.files.clone(),
        };
        let task = tokio::spawn(debounce(id, root, raw_rx, self.events.clone(), names));
        self.active.insert(
            id,
            Active {
                _watcher: watcher,
                task,
                _dir: fd,
                _permit: permit,
            },
        );
        Ok(id)
    }

    /// Stops a watch.
    pub fn remove(&mut self, id: WatchId) -> Result<(), WireError> {
        match self.active.remove(&id) {
            Some(a) => {
                a.task.abort();
                Ok(())
            }
            None => Err(WireError::new(
                ErrorCode::NotFound,
                format!("no watch {}", id.0),
            )),
        }
    }
}

impl Drop for Watches {
    fn drop(&mut self) {
        for (_, a) in self.active.drain() {
            a.task.abort();
        }
    }
}

fn watch_error(e: notify::Error) -> WireError {
    WireError::new(ErrorCode::Internal, format!("cannot watch: {e}"))
}

fn in_git_dir(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == ".git")
}

/// The descriptor's own name in `/proc` (Linux), which always means the folder it has
/// open; `None` where there is no such name.
fn watch_path(fd: &OwnedFd) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    if !cfg!(target_os = "linux") {
        return None;
    }
    // The trailing `.` makes the watcher see a folder, not the link that names it.
    let p = PathBuf::from(format!("/proc/self/fd/{}/.", fd.as_raw_fd()));
    std::fs::metadata(&p).is_ok_and(|m| m.is_dir()).then_some(p)
}

/// The folders at and below `dir` (links not followed), counting no further than
/// `limit + 1`.
fn count_folders(dir: &Path, limit: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        count += 1;
        if count > limit {
            break;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    count
}

/// Turns the watcher's paths back into the real paths clients know, and drops what is
/// never shown.
struct Names {
    /// The path the watcher was given (`/proc/self/fd/N`, or the real path).
    watched: PathBuf,
    /// The folder's real path.
    real: PathBuf,
    files: Files,
}

impl Names {
    fn real(&self, p: &Path) -> Option<PathBuf> {
        let rest = p.strip_prefix(&self.watched).ok()?;
        Some(if rest.as_os_str().is_empty() {
            self.real.clone()
        } else {
            self.real.join(rest)
        })
    }
}

/// Gathers raw notifications for [`DEBOUNCE`] after the first, then sends one event for
/// the files and one for git.
async fn debounce(
    id: WatchId,
    root: Option<PathBuf>,
    mut raw: mpsc::Receiver<notify::Result<notify::Event>>,
    out: mpsc::Sender<Event>,
    names: Names,
) {
    while let Some(first) = raw.recv().await {
        let mut found = Vec::new();
        let mut any = false;
        let mut take = |ev: notify::Result<notify::Event>| {
            any = true;
            if let Ok(ev) = ev {
                found.extend(ev.paths.iter().filter_map(|p| names.real(p)));
            }
        };
        take(first);
        let deadline = tokio::time::Instant::now() + DEBOUNCE;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, raw.recv()).await {
            take(ev);
        }
        let visible = names.files.visible();
        let paths: BTreeSet<String> = found
            .iter()
            .filter(|p| !in_git_dir(p) && visible.shows(p))
            .map(|p| crate::files::wire(p))
            .collect();
        if !paths.is_empty() {
            let ev = Event::FilesChanged {
                watch: id,
                paths: paths.into_iter().collect(),
            };
            if out.send(ev).await.is_err() {
                return;
            }
        }
        if any && let Some(root) = &root {
            let ev = Event::GitChanged {
                watch: id,
                root: crate::files::wire(root),
            };
            if out.send(ev).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::Secrets;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_name_real_paths_and_never_secrets() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".ssh")).unwrap();
        let secrets = Secrets::new(vec![], Some(&root), vec![]);
        let files = Files::new(vec![root.clone()], secrets);
        let (tx, mut rx) = mpsc::channel(16);
        let mut w = Watches::new(tx, files, Arc::new(Semaphore::new(4)));
        w.add(root.to_str().unwrap()).await.unwrap();
        std::fs::write(root.join(".ssh/id_ed25519"), "k").unwrap();
        std::fs::write(root.join("notes.md"), "x").unwrap();
        let want = root.join("notes.md").display().to_string();
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("an event in time")
                .expect("open");
            let Event::FilesChanged { paths, .. } = ev else {
                continue;
            };
            assert!(!paths.iter().any(|p| p.contains(".ssh")), "{paths:?}");
            if paths.contains(&want) {
                break;
            }
        }
    }
}
