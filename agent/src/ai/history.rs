//! What a session keeps of its conversation in memory: the newest entries, up to a
//! byte budget, and what it needs to know about the older ones. The log on disk keeps
//! every entry; a replay that reaches further back reads them from there.

use vibemesh_core::proto::ai::{AiEvent, Entry};

use super::entries::push_compacted;

/// The bytes of entries one session keeps in memory (about; see [`weight`]).
pub const BUDGET: usize = 4 * 1024 * 1024;

/// A conversation's newest entries and a summary of all of them.
#[derive(Debug)]
pub struct History {
    entries: Vec<Entry>,
    bytes: usize,
    budget: usize,
    /// Entries up to this number are on disk only.
    on_disk_upto: u64,
    last_seq: u64,
    had_turns: bool,
    last_turn_ended: bool,
    open_turn: bool,
    unsent: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new(BUDGET)
    }
}

/// About how much memory an entry takes: its texts and a little more.
fn weight(e: &Entry) -> usize {
    let texts = match &e.event {
        AiEvent::Started {
            provider_session,
            model,
            ..
        } => {
            provider_session.as_ref().map_or(0, String::len) + model.as_ref().map_or(0, String::len)
        }
        AiEvent::User { text }
        | AiEvent::Queued { text }
        | AiEvent::AssistantDelta { text }
        | AiEvent::Assistant { text }
        | AiEvent::Notice { text } => text.len(),
        AiEvent::ToolCall { id, name, input } => id.len() + name.len() + input.len(),
        AiEvent::ToolResult { id, output, .. } => id.len() + output.len(),
        AiEvent::Approval {
            id,
            tool,
            input,
            description,
        } => id.len() + tool.len() + input.len() + description.as_ref().map_or(0, String::len),
        AiEvent::Settled { id, .. } => id.len(),
        AiEvent::TurnEnd { message, .. } => message.as_ref().map_or(0, String::len),
        AiEvent::Error { message } => message.len(),
        AiEvent::QueueDropped { reason } => reason.len(),
        AiEvent::Unknown { raw, .. } => raw.len(),
        AiEvent::ProcessEnded { reason, stderr, .. } => {
            reason.len() + stderr.iter().map(String::len).sum::<usize>()
        }
        AiEvent::Interrupted => 0,
    };
    texts + 64
}

impl History {
    /// An empty history keeping about `budget` bytes in memory.
    pub fn new(budget: usize) -> Self {
        Self {
            entries: Vec::new(),
            bytes: 0,
            budget,
            on_disk_upto: 0,
            last_seq: 0,
            had_turns: false,
            last_turn_ended: false,
            open_turn: false,
            unsent: 0,
        }
    }

    /// Keeps every entry in memory (there is no log to read older ones from).
    pub fn keep_all(&mut self) {
        self.budget = usize::MAX;
    }

    /// Adds the next entry; a finished assistant message replaces the deltas before it,
    /// and the oldest entries leave memory when it holds more than its budget.
    pub fn push(&mut self, e: Entry) {
        match e.event {
            AiEvent::User { .. } => {
                self.last_turn_ended = false;
                self.open_turn = true;
                self.unsent = self.unsent.saturating_sub(1);
            }
            AiEvent::TurnEnd { .. } => {
                self.had_turns = true;
                self.last_turn_ended = true;
                self.open_turn = false;
            }
            AiEvent::ProcessEnded { .. } => self.open_turn = false,
            AiEvent::Queued { .. } => self.unsent += 1,
            AiEvent::QueueDropped { .. } => self.unsent = 0,
            _ => {}
        }
        self.last_seq = e.seq;
        if matches!(e.event, AiEvent::Assistant { .. }) {
            // The deltas it replaces give their bytes back.
            let deltas: usize = self
                .entries
                .iter()
                .rev()
                .take_while(is_delta)
                .map(weight)
                .sum();
            self.bytes -= deltas;
        }
        self.bytes += weight(&e);
        push_compacted(&mut self.entries, e);
        if self.bytes > self.budget {
            // Trim to three quarters, so trimming (which moves the rest) is rare.
            let target = self.budget / 4 * 3;
            let mut cut = 0;
            while self.bytes > target && cut + 1 < self.entries.len() {
                self.bytes -= weight(&self.entries[cut]);
                cut += 1;
            }
            if cut > 0 {
                self.on_disk_upto = self.entries[cut - 1].seq;
                self.entries.drain(..cut);
            }
        }
    }

    /// The number of the newest entry (0 when there is none).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Whether any turn ever ended (then the provider's session is worth resuming).
    pub fn had_turns(&self) -> bool {
        self.had_turns
    }

    /// Whether the newest turn ended (the session waits for a reply).
    pub fn last_turn_ended(&self) -> bool {
        self.last_turn_ended
    }

    /// Whether a turn was started and neither ended nor lost with its process.
    pub fn open_turn(&self) -> bool {
        self.open_turn
    }

    /// How many queued messages were never sent (nor dropped).
    pub fn unsent(&self) -> usize {
        self.unsent
    }

    /// The entries after `after` held in memory, and, when the replay reaches further
    /// back than memory, the newest number to read from disk first.
    pub fn after(&self, after: u64) -> (Vec<Entry>, Option<u64>) {
        let start = self.entries.partition_point(|e| e.seq <= after);
        let disk = (after < self.on_disk_upto).then_some(self.on_disk_upto);
        (self.entries[start..].to_vec(), disk)
    }
}

fn is_delta(e: &&Entry) -> bool {
    matches!(e.event, AiEvent::AssistantDelta { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, event: AiEvent) -> Entry {
        Entry {
            seq,
            at_ms: 0,
            event,
        }
    }

    #[test]
    fn memory_stays_within_its_budget_and_says_what_is_on_disk_only() {
        let mut h = History::new(10_000);
        for seq in 1..=1000 {
            let text = "x".repeat(100);
            let ev = match seq % 3 {
                0 => AiEvent::AssistantDelta { text },
                1 => AiEvent::User { text },
                _ => AiEvent::TurnEnd {
                    usage: Default::default(),
                    cost_usd: None,
                    is_error: false,
                    message: None,
                },
            };
            h.push(entry(seq, ev));
            assert!(h.bytes <= 10_000, "{} bytes at {seq}", h.bytes);
        }
        assert_eq!(h.bytes, h.entries.iter().map(weight).sum::<usize>());
        assert!(h.entries.len() < 200);
        assert_eq!(h.last_seq(), 1000);
        assert!(h.had_turns());
        // A replay from the start must read the older entries from disk.
        let (mem, disk) = h.after(0);
        let upto = disk.expect("older entries are on disk only");
        assert_eq!(mem[0].seq, upto + 1);
        assert_eq!(mem.last().map(|e| e.seq), Some(1000));
        // A client that is up to date needs nothing from disk.
        assert_eq!(
            h.after(999),
            (vec![h.entries.last().unwrap().clone()], None)
        );
    }

    #[test]
    fn finished_messages_give_back_the_bytes_of_their_deltas() {
        let mut h = History::new(usize::MAX);
        h.push(entry(1, AiEvent::User { text: "q".into() }));
        let one = h.bytes;
        h.push(entry(2, AiEvent::AssistantDelta { text: "ab".into() }));
        h.push(entry(3, AiEvent::AssistantDelta { text: "cd".into() }));
        h.push(entry(
            4,
            AiEvent::Assistant {
                text: "abcd".into(),
            },
        ));
        assert_eq!(h.entries.len(), 2);
        assert_eq!(h.bytes, one + 4 + 64);
        assert!(h.open_turn());
    }
}
