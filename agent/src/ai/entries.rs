//! What a session keeps of its conversation: events cut to a size a frame can carry,
//! and finished messages in place of their deltas.

use vibemesh_core::proto::ai::{AiEvent, Entry};

/// The longest text one event carries; more is cut (frames are at most 1 MiB).
pub const MAX_TEXT: usize = 256 * 1024;

/// Cuts a text longer than [`MAX_TEXT`].
pub fn clamp(s: &mut String) {
    if s.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[... cut by vibemesh]");
    }
}

/// Cuts every text an event carries to [`MAX_TEXT`].
pub fn clamp_event(ev: &mut AiEvent) {
    match ev {
        AiEvent::User { text }
        | AiEvent::Queued { text }
        | AiEvent::AssistantDelta { text }
        | AiEvent::Assistant { text }
        | AiEvent::Notice { text } => clamp(text),
        AiEvent::ToolCall { input, .. } | AiEvent::Approval { input, .. } => clamp(input),
        AiEvent::ToolResult { output, .. } => clamp(output),
        AiEvent::Error { message } => clamp(message),
        AiEvent::QueueDropped { reason } => clamp(reason),
        AiEvent::Unknown { raw, .. } => clamp(raw),
        _ => {}
    }
}

/// Appends `e`; a finished assistant message replaces the deltas just before it, so
/// what is kept and replayed stays small (numbers may then skip, which clients allow).
pub fn push_compacted(entries: &mut Vec<Entry>, e: Entry) {
    if matches!(e.event, AiEvent::Assistant { .. }) {
        while matches!(
            entries.last(),
            Some(Entry {
                event: AiEvent::AssistantDelta { .. },
                ..
            })
        ) {
            entries.pop();
        }
    }
    entries.push(e);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_messages_replace_their_deltas_in_memory() {
        let e = |seq, event| Entry {
            seq,
            at_ms: 0,
            event,
        };
        let mut v = Vec::new();
        push_compacted(&mut v, e(1, AiEvent::User { text: "q".into() }));
        push_compacted(&mut v, e(2, AiEvent::AssistantDelta { text: "a".into() }));
        push_compacted(&mut v, e(3, AiEvent::AssistantDelta { text: "b".into() }));
        push_compacted(&mut v, e(4, AiEvent::Assistant { text: "ab".into() }));
        assert_eq!(v.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 4]);
        // A client that saw up to a delta gets what follows it, gap and all.
        let mut c = vibemesh_core::client::Conversation::new();
        for x in &v {
            c.apply(x);
        }
        assert_eq!(c.last_assistant_text(), Some("ab"));
    }
}
