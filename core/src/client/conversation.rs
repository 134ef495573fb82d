//! The client side of a structured AI session: the stream, and the reducer every front
//! end uses to turn its events into a conversation to draw.

use super::{BoxRead, BoxWrite, ClientError};
use crate::{
    WireError,
    frame::{FrameReader, FrameWriter},
    proto::{
        Provider, SessionInfo, StreamOpen,
        ai::{AiEvent, ConvClientFrame, ConvServerFrame, ConversationOpen, Decision, Entry, Usage},
    },
};

pub mod view;

/// Receives a conversation's entries (replayed, then live).
#[derive(Debug)]
pub struct ConvReader {
    reader: FrameReader<BoxRead>,
}

/// Sends prompts, approvals and interrupts.
#[derive(Debug)]
pub struct ConvWriter {
    writer: FrameWriter<BoxWrite>,
}

/// Opens a conversation stream on a fresh stream and waits for the agent's answer.
pub async fn open_conversation(
    reader: BoxRead,
    writer: BoxWrite,
    req: ConversationOpen,
) -> Result<(SessionInfo, ConvReader, ConvWriter), ClientError> {
    let mut writer = FrameWriter::new(writer);
    writer.send(&StreamOpen::Conversation(req)).await?;
    let mut reader = FrameReader::new(reader);
    match reader.recv::<ConvServerFrame>().await? {
        Some(ConvServerFrame::Attached(info)) => {
            Ok((info, ConvReader { reader }, ConvWriter { writer }))
        }
        Some(ConvServerFrame::Refused(e)) | Some(ConvServerFrame::Closed(e)) => {
            Err(ClientError::Remote(e))
        }
        Some(_) => Err(ClientError::Unexpected("expected a conversation answer")),
        None => Err(ClientError::Closed),
    }
}

impl ConvReader {
    /// The next frame; `None` when the stream ended.
    pub async fn next(&mut self) -> Result<Option<ConvServerFrame>, ClientError> {
        Ok(self.reader.recv().await?)
    }
}

impl ConvWriter {
    /// Sends a user message.
    pub async fn prompt(&mut self, text: impl Into<String>) -> Result<(), ClientError> {
        self.send(ConvClientFrame::Prompt(text.into())).await
    }

    /// Answers an approval request.
    pub async fn answer(
        &mut self,
        approval: impl Into<String>,
        decision: Decision,
    ) -> Result<(), ClientError> {
        self.send(ConvClientFrame::Answer {
            approval: approval.into(),
            decision,
        })
        .await
    }

    /// Stops the current turn.
    pub async fn interrupt(&mut self) -> Result<(), ClientError> {
        self.send(ConvClientFrame::Interrupt).await
    }

    /// Sends any client frame.
    pub async fn send(&mut self, frame: ConvClientFrame) -> Result<(), ClientError> {
        Ok(self.writer.send(&frame).await?)
    }

    /// Detaches; the session goes on.
    pub async fn finish(&mut self) -> Result<(), ClientError> {
        Ok(self.writer.finish().await?)
    }
}

/// One thing a conversation view draws. Serializable so that clients drawing in
/// another language (the browser's JavaScript) get it as JSON, in this one shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Item {
    /// What the user said.
    User(String),
    /// A message the user sent while a turn ran: it waits and is sent when the turn
    /// ends (then it becomes a [`Item::User`] in its place). Queued items always stay
    /// at the end of [`Conversation::items`], oldest first.
    Queued(String),
    /// What the assistant said (markdown); `streaming` while it is being written.
    Assistant {
        /// The text so far.
        text: String,
        /// Still being written.
        streaming: bool,
    },
    /// A tool call, folded with its result once it came.
    Tool {
        /// The call's id.
        id: String,
        /// The tool.
        name: String,
        /// Its input as JSON text.
        input: String,
        /// Its output and whether it failed, once known.
        result: Option<(String, bool)>,
    },
    /// An approval request; buttons while `decision` is `None`.
    Approval {
        /// Answer with this id.
        id: String,
        /// The tool.
        tool: String,
        /// Its input as JSON text.
        input: String,
        /// What the provider says it does.
        description: Option<String>,
        /// The answer, once given (by anyone).
        decision: Option<Decision>,
    },
    /// A turn ended.
    TurnEnd {
        /// Tokens used.
        usage: Usage,
        /// Its cost, when known.
        cost_usd: Option<f64>,
        /// The error it ended with, if any.
        error: Option<String>,
    },
    /// An error to show.
    Error(String),
    /// A notice to show (process started, resumed, interrupted, ended).
    Notice(String),
    /// Provider output this build did not understand, shown raw.
    Unknown {
        /// Whose.
        provider: Provider,
        /// The raw line.
        raw: String,
    },
}

/// A conversation as a UI draws it, built from [`Entry`]s in order. Applying an entry
/// twice (a replay overlapping live events) changes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// What to draw, oldest first.
    pub items: Vec<Item>,
    /// The newest entry applied; re-attach with it as `after`.
    pub last_seq: u64,
    /// Tokens used by all turns.
    pub total_usage: Usage,
    /// Cost of all turns, when known.
    pub total_cost_usd: f64,
    /// Whether a turn runs now (show the interrupt button).
    pub busy: bool,
}

impl Conversation {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one entry; returns `false` (and changes nothing) for one already seen.
    pub fn apply(&mut self, entry: &Entry) -> bool {
        if entry.seq <= self.last_seq {
            return false;
        }
        self.last_seq = entry.seq;
        self.apply_event(&entry.event);
        true
    }

    /// Applies a frame from the stream; `Err` for a notice or the reason it closed.
    pub fn apply_frame(&mut self, frame: &ConvServerFrame) -> Result<bool, WireError> {
        match frame {
            ConvServerFrame::Entry(e) => Ok(self.apply(e)),
            ConvServerFrame::Attached(_) => Ok(false),
            ConvServerFrame::Refused(e)
            | ConvServerFrame::Notice(e)
            | ConvServerFrame::Closed(e) => Err(e.clone()),
        }
    }

    /// Approval requests nobody answered yet: (id, tool, input).
    pub fn pending_approvals(&self) -> Vec<(&str, &str, &str)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Approval {
                    id,
                    tool,
                    input,
                    decision: None,
                    ..
                } => Some((id.as_str(), tool.as_str(), input.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The last finished or streaming assistant text.
    pub fn last_assistant_text(&self) -> Option<&str> {
        self.items.iter().rev().find_map(|i| match i {
            Item::Assistant { text, .. } => Some(text.as_str()),
            _ => None,
        })
    }

    /// How many messages wait for the running turn to end.
    pub fn queued(&self) -> usize {
        self.items
            .iter()
            .rev()
            .take_while(|i| matches!(i, Item::Queued(_)))
            .count()
    }

    /// Adds an item before the queued messages, which stay last.
    fn push(&mut self, item: Item) {
        let at = self.items.len() - self.queued();
        self.items.insert(at, item);
    }

    fn streaming_assistant(&mut self) -> Option<&mut String> {
        let last = self.items.len() - self.queued();
        match last.checked_sub(1).and_then(|i| self.items.get_mut(i)) {
            Some(Item::Assistant {
                text,
                streaming: true,
            }) => Some(text),
            _ => None,
        }
    }

    fn apply_event(&mut self, ev: &AiEvent) {
        match ev {
            AiEvent::Started {
                provider,
                provider_session,
                resumed,
                ..
            } => {
                let verb = if *resumed { "resumed" } else { "started" };
                let sid = provider_session.as_deref().unwrap_or("new session");
                self.push(Item::Notice(format!("{provider} {verb} ({sid})")));
            }
            AiEvent::User { text } => {
                self.busy = true;
                // The agent sends queued messages in order: this is the oldest one.
                let first = self.items.len() - self.queued();
                match self.items.get_mut(first) {
                    Some(it @ Item::Queued(_)) => *it = Item::User(text.clone()),
                    _ => self.push(Item::User(text.clone())),
                }
            }
            AiEvent::Queued { text } => self.items.push(Item::Queued(text.clone())),
            AiEvent::QueueDropped { reason } => {
                self.items.retain(|i| !matches!(i, Item::Queued(_)));
                self.push(Item::Notice(reason.clone()));
            }
            AiEvent::AssistantDelta { text } => match self.streaming_assistant() {
                Some(t) => t.push_str(text),
                None => self.push(Item::Assistant {
                    text: text.clone(),
                    streaming: true,
                }),
            },
            AiEvent::Assistant { text } => match self.streaming_assistant() {
                Some(t) => {
                    *t = text.clone();
                    self.end_streaming();
                }
                None => self.push(Item::Assistant {
                    text: text.clone(),
                    streaming: false,
                }),
            },
            AiEvent::ToolCall { id, name, input } => self.push(Item::Tool {
                id: id.clone(),
                name: name.clone(),
                input: input.clone(),
                result: None,
            }),
            AiEvent::ToolResult {
                id,
                output,
                is_error,
            } => {
                let call = self.items.iter_mut().rev().find_map(|i| match i {
                    Item::Tool {
                        id: cid, result, ..
                    } if cid == id => Some(result),
                    _ => None,
                });
                match call {
                    Some(r) => *r = Some((output.clone(), *is_error)),
                    None => self.push(Item::Tool {
                        id: id.clone(),
                        name: "tool".into(),
                        input: String::new(),
                        result: Some((output.clone(), *is_error)),
                    }),
                }
            }
            AiEvent::Approval {
                id,
                tool,
                input,
                description,
            } => self.push(Item::Approval {
                id: id.clone(),
                tool: tool.clone(),
                input: input.clone(),
                description: description.clone(),
                decision: None,
            }),
            AiEvent::Settled { id, decision } => {
                for i in self.items.iter_mut().rev() {
                    if let Item::Approval {
                        id: aid,
                        decision: d,
                        ..
                    } = i
                        && aid == id
                    {
                        *d = Some(*decision);
                        break;
                    }
                }
            }
            AiEvent::TurnEnd {
                usage,
                cost_usd,
                is_error,
                message,
            } => {
                self.busy = false;
                self.end_streaming();
                self.total_usage.input_tokens += usage.input_tokens;
                self.total_usage.output_tokens += usage.output_tokens;
                self.total_usage.cache_read_tokens += usage.cache_read_tokens;
                self.total_usage.cache_write_tokens += usage.cache_write_tokens;
                self.total_cost_usd += cost_usd.unwrap_or(0.0);
                self.push(Item::TurnEnd {
                    usage: *usage,
                    cost_usd: *cost_usd,
                    error: is_error.then(|| message.clone().unwrap_or_else(|| "failed".into())),
                });
            }
            AiEvent::Interrupted => {
                self.end_streaming();
                self.push(Item::Notice("interrupted".into()));
            }
            AiEvent::Error { message } => self.push(Item::Error(message.clone())),
            AiEvent::Notice { text } => self.push(Item::Notice(text.clone())),
            AiEvent::Unknown { provider, raw } => self.push(Item::Unknown {
                provider: *provider,
                raw: raw.clone(),
            }),
            AiEvent::ProcessEnded {
                reason,
                stderr,
                clean,
            } => {
                self.busy = false;
                self.end_streaming();
                // Settled by nobody: the process that asked is gone.
                for i in &mut self.items {
                    if let Item::Approval { decision, .. } = i
                        && decision.is_none()
                    {
                        *decision = Some(Decision::Deny);
                    }
                }
                if *clean {
                    self.push(Item::Notice(reason.clone()));
                } else {
                    let mut msg = reason.clone();
                    for l in stderr {
                        msg.push('\n');
                        msg.push_str(l);
                    }
                    self.push(Item::Error(msg));
                }
            }
        }
    }

    fn end_streaming(&mut self) {
        for i in self.items.iter_mut().rev() {
            if let Item::Assistant { streaming, .. } = i {
                *streaming = false;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(seq: u64, event: AiEvent) -> Entry {
        Entry {
            seq,
            at_ms: 0,
            event,
        }
    }

    #[test]
    fn deltas_build_a_message_and_replays_do_not_duplicate() {
        let entries = vec![
            e(1, AiEvent::User { text: "hi".into() }),
            e(2, AiEvent::AssistantDelta { text: "Hel".into() }),
            e(3, AiEvent::AssistantDelta { text: "lo".into() }),
            e(
                4,
                AiEvent::Assistant {
                    text: "Hello".into(),
                },
            ),
        ];
        let mut c = Conversation::new();
        for x in &entries {
            assert!(c.apply(x));
        }
        // A re-attach replays what overlaps: nothing changes.
        for x in &entries {
            assert!(!c.apply(x));
        }
        assert_eq!(
            c.items,
            vec![
                Item::User("hi".into()),
                Item::Assistant {
                    text: "Hello".into(),
                    streaming: false
                }
            ]
        );
        assert!(c.busy);
    }

    #[test]
    fn approvals_settle_and_tools_fold_their_results() {
        let mut c = Conversation::new();
        let evs = [
            AiEvent::ToolCall {
                id: "t1".into(),
                name: "Bash".into(),
                input: r#"{"command":"touch x"}"#.into(),
            },
            AiEvent::Approval {
                id: "a1".into(),
                tool: "Bash".into(),
                input: r#"{"command":"touch x"}"#.into(),
                description: None,
            },
        ];
        for (i, ev) in evs.into_iter().enumerate() {
            c.apply(&e(i as u64 + 1, ev));
        }
        assert_eq!(c.pending_approvals().len(), 1);
        c.apply(&e(
            3,
            AiEvent::Settled {
                id: "a1".into(),
                decision: Decision::Allow,
            },
        ));
        c.apply(&e(
            4,
            AiEvent::ToolResult {
                id: "t1".into(),
                output: "ok".into(),
                is_error: false,
            },
        ));
        assert!(c.pending_approvals().is_empty());
        assert!(matches!(&c.items[0], Item::Tool { result: Some((o, false)), .. } if o == "ok"));
    }

    #[test]
    fn queued_messages_stay_last_and_turn_into_the_next_turn() {
        let user = |t: &str| AiEvent::User { text: t.into() };
        let queued = |t: &str| AiEvent::Queued { text: t.into() };
        let end = AiEvent::TurnEnd {
            usage: Usage::default(),
            cost_usd: None,
            is_error: false,
            message: None,
        };
        let evs = [
            user("a"),
            AiEvent::AssistantDelta { text: "x".into() },
            queued("b"),
            queued("c"),
            AiEvent::AssistantDelta { text: "y".into() },
            end.clone(),
            user("b"),
        ];
        let mut c = Conversation::new();
        for (i, ev) in evs.into_iter().enumerate() {
            c.apply(&e(i as u64 + 1, ev));
        }
        assert_eq!(c.queued(), 1);
        assert_eq!(c.items[0], Item::User("a".into()));
        // The delta after the queued messages still joins the message being written.
        assert_eq!(c.last_assistant_text(), Some("xy"));
        assert!(matches!(c.items[2], Item::TurnEnd { .. }));
        assert_eq!(c.items[3], Item::User("b".into()));
        assert_eq!(c.items[4], Item::Queued("c".into()));
        assert_eq!(c.items.len(), 5);
        c.apply(&e(
            8,
            AiEvent::QueueDropped {
                reason: "dropped".into(),
            },
        ));
        assert_eq!(c.queued(), 0);
        assert_eq!(c.items[4], Item::Notice("dropped".into()));
    }
}
