//! Messages a user sends while a turn runs: they wait, in order, and each is sent as
//! its own turn when the one before it ends. Bounded, so no client can grow the
//! agent's memory through it.

use std::collections::VecDeque;

use vibemesh_core::{ErrorCode, WireError};

/// The most messages that may wait.
pub const MAX_QUEUED: usize = 16;
/// The most text (bytes) that may wait, all messages together.
pub const MAX_QUEUED_BYTES: usize = 1024 * 1024;

/// The waiting messages, oldest first.
#[derive(Debug, Default)]
pub struct Queue {
    msgs: VecDeque<String>,
    bytes: usize,
}

impl Queue {
    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Adds a message at the end; refused (and not added) when the queue is full.
    pub fn push(&mut self, text: String) -> Result<(), WireError> {
        if self.msgs.len() >= MAX_QUEUED || self.bytes + text.len() > MAX_QUEUED_BYTES {
            return Err(WireError::new(
                ErrorCode::Conflict,
                format!(
                    "{} messages already wait for this turn to end; wait or interrupt it",
                    self.msgs.len()
                ),
            ));
        }
        self.bytes += text.len();
        self.msgs.push_back(text);
        Ok(())
    }

    /// Takes the oldest message.
    pub fn pop(&mut self) -> Option<String> {
        let m = self.msgs.pop_front()?;
        self.bytes -= m.len();
        Some(m)
    }

    /// Drops every message; returns how many there were.
    pub fn clear(&mut self) -> usize {
        self.bytes = 0;
        std::mem::take(&mut self.msgs).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_refuses_past_its_bounds() {
        let mut q = Queue::default();
        for n in 0..MAX_QUEUED {
            q.push(n.to_string()).unwrap();
        }
        let full = q.push("one more".into()).unwrap_err();
        assert_eq!(full.code, ErrorCode::Conflict);
        assert_eq!(q.pop().as_deref(), Some("0"));
        assert_eq!(q.pop().as_deref(), Some("1"));
        assert_eq!(q.clear(), MAX_QUEUED - 2);
        assert!(q.is_empty());
        // Bytes count too: one big message leaves no room for a second.
        q.push("x".repeat(MAX_QUEUED_BYTES)).unwrap();
        assert!(q.push("y".into()).is_err());
        assert_eq!(q.pop().map(|m| m.len()), Some(MAX_QUEUED_BYTES));
        assert!(q.pop().is_none());
    }
}
