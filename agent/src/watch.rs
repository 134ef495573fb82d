//! Live change events for watched folders: file changes, and git state changes for the
//! repository around them, debounced and pushed on the control stream that asked.

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
    time::Duration,
};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use vibemesh_core::{
    ErrorCode, WireError,
    proto::control::{Event, WatchId},
};

/// Changes within this window are sent as one event.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// Most watches one control stream may hold.
pub const MAX_WATCHES: usize = 16;
/// Raw notifications queued before the oldest are merged away.
const RAW_QUEUE: usize = 1024;

struct Active {
    _watcher: RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

/// The watches of one control stream; dropping it stops them all.
pub struct Watches {
    next: u64,
    active: HashMap<WatchId, Active>,
    events: mpsc::Sender<Event>,
}

impl Watches {
    /// Watches that push their events into `events`.
    pub fn new(events: mpsc::Sender<Event>) -> Self {
        Self {
            next: 1,
            active: HashMap::new(),
            events,
        }
    }

    /// Starts watching `dir` (already resolved and checked) and, when it is in a git
    /// repository, that repository's state.
    pub async fn add(&mut self, dir: PathBuf) -> Result<WatchId, WireError> {
        if self.active.len() >= MAX_WATCHES {
            return Err(WireError::new(
                ErrorCode::Limit,
                format!("at most {MAX_WATCHES} watches per connection"),
            ));
        }
        let id = WatchId(self.next);
        self.next += 1;
        let root = crate::git::repo_root(&dir).await;
        let (raw_tx, raw_rx) = mpsc::channel::<notify::Result<notify::Event>>(RAW_QUEUE);
        let mut watcher = notify::recommended_watcher(move |ev| {
            // A full queue already means "something changed": dropping more is fine.
            let _ = raw_tx.try_send(ev);
        })
        .map_err(watch_error)?;
        watcher
            .watch(&dir, RecursiveMode::Recursive)
            .map_err(watch_error)?;
        if let Some(root) = &root {
            // HEAD and the index live directly in .git: enough to see commits, stages
            // and checkouts without following every object write.
            let git_dir = root.join(".git");
            if git_dir.is_dir() && !git_dir.starts_with(&dir) {
                let _ = watcher.watch(&git_dir, RecursiveMode::NonRecursive);
            }
        }
        let task = tokio::spawn(debounce(id, root, raw_rx, self.events.clone()));
        self.active.insert(
            id,
            Active {
                _watcher: watcher,
                task,
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

/// Gathers raw notifications for [`DEBOUNCE`] after the first, then sends one event for
/// the files and one for git.
async fn debounce(
    id: WatchId,
    root: Option<PathBuf>,
    mut raw: mpsc::Receiver<notify::Result<notify::Event>>,
    out: mpsc::Sender<Event>,
) {
    while let Some(first) = raw.recv().await {
        let mut paths = BTreeSet::new();
        let mut any = false;
        let mut take = |ev: notify::Result<notify::Event>| {
            any = true;
            if let Ok(ev) = ev {
                for p in ev.paths {
                    if !in_git_dir(&p) {
                        paths.insert(p.display().to_string());
                    }
                }
            }
        };
        take(first);
        let deadline = tokio::time::Instant::now() + DEBOUNCE;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, raw.recv()).await {
            take(ev);
        }
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
                root: root.display().to_string(),
            };
            if out.send(ev).await.is_err() {
                return;
            }
        }
    }
}
