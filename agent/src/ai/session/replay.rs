//! Replaying a conversation to a client: the newest entries from memory, older ones
//! from the log on disk.

use std::path::PathBuf;

use tokio::sync::broadcast;
use vibemesh_core::proto::ai::Entry;

use super::{Conv, Inner, lock};
use crate::ai::log::read_range;

impl Conv {
    /// The entries after `after` and a receiver for those that follow, with no gap and
    /// no overlap between them.
    pub fn subscribe(&self, after: u64) -> (Vec<Entry>, broadcast::Receiver<Entry>) {
        let (rx, replay) = {
            let i = lock(&self.inner);
            (self.tx.subscribe(), Self::after(&i, after))
        };
        (self.with_older(after, replay), rx)
    }

    /// The entries after `after` (to catch up a viewer that fell behind).
    pub fn entries_after(&self, after: u64) -> Vec<Entry> {
        let replay = Self::after(&lock(&self.inner), after);
        self.with_older(after, replay)
    }

    /// What memory has after `after`, and where to read older ones when it has not all.
    fn after(i: &Inner, after: u64) -> (Vec<Entry>, Option<(PathBuf, u64)>) {
        let (entries, disk) = i.entries.after(after);
        let older = disk
            .zip(i.log.as_ref())
            .map(|(upto, l)| (l.events_path(), upto));
        (entries, older)
    }

    /// Puts the entries only the log still has before those from memory. Read outside
    /// the lock: logged entries never change, so nothing can slip in between.
    fn with_older(
        &self,
        after: u64,
        (entries, older): (Vec<Entry>, Option<(PathBuf, u64)>),
    ) -> Vec<Entry> {
        let Some((path, upto)) = older else {
            return entries;
        };
        match read_range(&path, after, upto) {
            Ok(mut all) => {
                all.extend(entries);
                all
            }
            Err(e) => {
                tracing::warn!("session {}: cannot replay older entries: {e}", self.id);
                entries
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vibemesh_core::proto::{Provider, SessionId, ai::AiEvent};

    use super::*;
    use crate::ai::{
        history::History,
        log::{Log, Meta},
    };

    #[test]
    fn a_replay_from_the_start_reads_what_memory_dropped_from_disk() {
        let root = tempfile::tempdir().unwrap();
        let meta = Meta {
            id: SessionId(3),
            provider: Provider::Claude,
            cwd: "/tmp".into(),
            title: "t".into(),
            created_ms: 1,
            provider_session: None,
        };
        let log = Log::create(root.path(), &meta).unwrap();
        let conv = Conv::new(
            meta,
            History::new(20_000),
            Some(log),
            Arc::default(),
            Box::new(|_| {}),
        );
        for n in 0..500 {
            conv.record(AiEvent::Notice {
                text: format!("{n:0>100}"),
            });
        }
        let (all, _rx) = conv.subscribe(0);
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=500).collect::<Vec<_>>());
        assert_eq!(conv.entries_after(490).len(), 10);
        // Memory kept only the newest.
        let (in_memory, older) = Conv::after(&lock(&conv.inner), 0);
        assert!(in_memory.len() < 200, "{}", in_memory.len());
        assert!(older.is_some());
    }
}
