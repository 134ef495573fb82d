//! One open structured AI session: core's reconnecting conversation
//! (`client::reattach_conversation`, the one every client uses: it re-attaches by
//! itself after a lost connection, asking only for the entries after the last one that
//! came), its entries reduced by core's `client::Conversation`, handed to the page as
//! what changed since it last asked; prompts, approval answers and interrupts back to
//! the agent.
//!
//! A background task applies every event as it comes, so when the page is busy
//! drawing, the events that arrive meanwhile reach it as one update.

use std::{cell::RefCell, rc::Rc};

use tokio::sync::{Notify, mpsc};
use tsify::Ts;
use vibemesh_core::{
    WireError,
    client::{
        Backoff, ClientError, ConvEvent, ConvHandle, Conversation, Item, Redialer, is_final,
        reattach_conversation,
    },
    proto::{
        SessionId, SessionInfo,
        ai::{ConvClientFrame, ConversationOpen, Decision},
    },
};
use wasm_bindgen::prelude::*;

use crate::{
    client_err,
    conv_view::{Changed, Closed, ConvUpdate, ItemView},
    js_err,
    view::{SessionRow, to_js},
};

/// What the event task shares with the page's calls.
#[derive(Default)]
struct Shared {
    conv: Conversation,
    /// The items as the page last got them.
    sent: Vec<Item>,
    /// Something changed since the page last asked.
    dirty: bool,
    /// The session as it was when last (re-)attached.
    info: Option<SessionInfo>,
    /// Attaches so far: more than one means the connection was lost and made again.
    attaches: u32,
    /// Why the connection is down and when the next try comes, while it is down.
    reconnecting: Option<String>,
    /// Notices for this client (a refused prompt, a late answer, a message not sent).
    notices: Vec<String>,
    /// Why the stream ended for good, if the agent ended it.
    closed: Option<Closed>,
    /// No more events come.
    ended: bool,
}

impl Shared {
    /// Takes one event of the reconnecting conversation in.
    fn take(&mut self, ev: ConvEvent) {
        match ev {
            ConvEvent::Attached { info, .. } => {
                self.info = Some(info);
                self.attaches += 1;
                self.reconnecting = None;
            }
            ConvEvent::Entry(e) => {
                if !self.conv.apply(&e) {
                    // Replayed, already applied.
                    return;
                }
            }
            ConvEvent::Notice(e) => self.notices.push(e.to_string()),
            ConvEvent::Reconnecting {
                attempt,
                delay,
                error,
            } => {
                let next = delay.as_secs_f64();
                self.reconnecting = Some(format!("try {attempt}, next in {next:.1} s: {error}"));
            }
            ConvEvent::NotSent(_) => self
                .notices
                .push("not sent: the connection is down; send it again once back".into()),
            ConvEvent::Unconfirmed(_) => self
                .notices
                .push("the connection dropped while sending: it may not have arrived".into()),
            ConvEvent::Closed(e) => {
                self.closed = Some(Closed {
                    message: e.to_string(),
                    fin: is_final(&e),
                })
            }
            ConvEvent::Detached => return,
        }
        self.dirty = true;
    }

    /// The update since the last one, or `None` when nothing changed.
    fn take_update(&mut self) -> Option<ConvUpdate> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let items = &self.conv.items;
        let changed: Vec<(usize, &Item)> = items
            .iter()
            .enumerate()
            .filter(|(i, it)| self.sent.get(*i) != Some(*it))
            .collect();
        let usage = self.conv.total_usage;
        let out = ConvUpdate {
            len: items.len(),
            changed: changed
                .iter()
                .map(|&(index, item)| Changed {
                    index,
                    item: ItemView::from(item),
                })
                .collect(),
            busy: self.conv.busy,
            queued: self.conv.queued(),
            // Token counts stay far below 2^53.
            tokens: (usage.input_tokens + usage.output_tokens) as f64,
            cost_usd: self.conv.total_cost_usd,
            attaches: self.attaches,
            reconnecting: self.reconnecting.clone(),
            notices: std::mem::take(&mut self.notices),
            closed: self.closed.clone(),
        };
        self.sent.truncate(items.len());
        for (i, it) in changed {
            match self.sent.get_mut(i) {
                Some(s) => *s = it.clone(),
                None => self.sent.push(it.clone()),
            }
        }
        Some(out)
    }
}

/// An open conversation; it re-attaches by itself until the session is gone, access is
/// refused, or the page closes it.
#[wasm_bindgen]
pub struct Conv {
    shared: Rc<RefCell<Shared>>,
    wake: Rc<Notify>,
    handle: ConvHandle,
}

/// Applies every event to `shared` and wakes the page, until the last one.
async fn pump(
    mut events: mpsc::Receiver<ConvEvent>,
    shared: Rc<RefCell<Shared>>,
    wake: Rc<Notify>,
) {
    while let Some(ev) = events.recv().await {
        shared.borrow_mut().take(ev);
        wake.notify_one();
    }
    shared.borrow_mut().ended = true;
    wake.notify_one();
}

impl Conv {
    /// Opens session `session`'s conversation over streams from `redial`, the whole
    /// conversation replayed, then live. Resolves once attached; a first try that
    /// fails is the page's to retry (the error says whether that is pointless).
    pub(crate) async fn open(
        redial: Redialer,
        session: SessionId,
        watch_only: bool,
    ) -> Result<Conv, JsValue> {
        let dial = move || {
            let redial = redial.clone();
            async move { redial.open_stream().await }
        };
        let req = ConversationOpen {
            session,
            after: None,
            watch_only,
        };
        let (handle, mut events, driver) = reattach_conversation(dial, req, Backoff::default());
        wasm_bindgen_futures::spawn_local(driver);
        let mut shared = Shared::default();
        loop {
            let failed = |e: WireError| {
                handle.detach();
                Err(client_err(ClientError::Remote(e)))
            };
            match events.recv().await {
                Some(ev @ ConvEvent::Attached { .. }) => {
                    shared.take(ev);
                    break;
                }
                Some(ConvEvent::Closed(e)) => return failed(e),
                Some(ConvEvent::Reconnecting { error, .. }) => {
                    handle.detach();
                    return Err(client_err(ClientError::Connect(error)));
                }
                Some(_) => continue,
                None => return Err(js_err("ConnectionError", "the conversation ended")),
            }
        }
        let conv = Conv {
            shared: Rc::new(RefCell::new(shared)),
            wake: Rc::default(),
            handle,
        };
        wasm_bindgen_futures::spawn_local(pump(events, conv.shared.clone(), conv.wake.clone()));
        Ok(conv)
    }
}

#[wasm_bindgen]
impl Conv {
    /// The session as it was when (re-)attached.
    pub fn info(&self) -> Result<Ts<SessionRow>, JsValue> {
        match &self.shared.borrow().info {
            Some(info) => to_js(&SessionRow::from(info)),
            None => Err(js_err("ConnectionError", "not attached yet")),
        }
    }

    /// The newest entry applied: a re-attach replays only what comes after it.
    #[wasm_bindgen(js_name = lastSeq)]
    pub fn last_seq(&self) -> f64 {
        // Entry numbers count events of one session: far below 2^53.
        self.shared.borrow().conv.last_seq as f64
    }

    /// Waits for the next change and resolves to it (a [`ConvUpdate`]: the items that
    /// are new or changed, in the shape the page draws, `attaches` counting attaches
    /// and `reconnecting` saying why the connection is down while it is). Lost
    /// connections are made again by themselves; resolves to `undefined` once the
    /// conversation ended for good (`closed` says why) or was closed.
    pub async fn next(&self) -> Result<Option<Ts<ConvUpdate>>, JsValue> {
        loop {
            {
                let mut s = self.shared.borrow_mut();
                if let Some(update) = s.take_update() {
                    return to_js(&update).map(Some);
                }
                if s.ended {
                    return Ok(None);
                }
            }
            self.wake.notified().await;
        }
    }

    /// Sends a message (the agent refuses it with a notice while a turn runs; while
    /// the connection is down it is not sent, and a notice says so).
    pub async fn prompt(&self, text: String) -> Result<(), JsValue> {
        self.handle.send(ConvClientFrame::Prompt(text));
        Ok(())
    }

    /// Answers approval request `id` with `decision` (core's `Decision`).
    pub async fn answer(&self, id: String, decision: Ts<Decision>) -> Result<(), JsValue> {
        let decision: Decision = decision
            .to_rust()
            .map_err(|e| js_err("BadRequest", format!("not a decision: {e}")))?;
        self.handle.send(ConvClientFrame::Answer {
            approval: id,
            decision,
        });
        Ok(())
    }

    /// Stops the current turn.
    pub async fn interrupt(&self) -> Result<(), JsValue> {
        self.handle.send(ConvClientFrame::Interrupt);
        Ok(())
    }

    /// Detaches; the session goes on.
    pub async fn close(&self) -> Result<(), JsValue> {
        self.handle.detach();
        // A waiting `next` resolves.
        self.shared.borrow_mut().ended = true;
        self.wake.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use vibemesh_core::proto::ai::{AiEvent, Entry};

    use super::*;
    use crate::conv_view::ToolResult;

    fn apply(s: &mut Shared, seq: u64, event: AiEvent) {
        s.take(ConvEvent::Entry(Entry {
            seq,
            at_ms: 0,
            event,
        }));
    }

    fn update(s: &mut Shared) -> Option<ConvUpdate> {
        s.take_update()
    }

    /// The page gets each item once, then only the ones that change; a replay that
    /// overlaps (a re-attach) gives it nothing.
    #[test]
    fn updates_carry_only_what_changed() {
        let mut s = Shared::default();
        let call = AiEvent::ToolCall {
            id: "t1".into(),
            name: "Bash".into(),
            input: "{}".into(),
        };
        apply(&mut s, 1, AiEvent::User { text: "hi".into() });
        apply(&mut s, 2, call.clone());
        let u = update(&mut s).expect("first update");
        assert_eq!(u.len, 2);
        assert_eq!(u.changed[0].index, 0);
        assert_eq!(u.changed[0].item, ItemView::User { text: "hi".into() });
        assert_eq!(u.changed[1].index, 1);
        assert!(u.busy);
        assert!(update(&mut s).is_none(), "nothing new, no update");

        apply(&mut s, 1, AiEvent::User { text: "hi".into() });
        apply(&mut s, 2, call);
        assert!(update(&mut s).is_none(), "a replay changes nothing");

        apply(
            &mut s,
            3,
            AiEvent::ToolResult {
                id: "t1".into(),
                output: "ok".into(),
                is_error: false,
            },
        );
        let u = update(&mut s).expect("the result");
        assert_eq!(u.changed.len(), 1);
        assert_eq!(u.changed[0].index, 1);
        let ItemView::Tool { input, result, .. } = &u.changed[0].item else {
            panic!("not a tool: {:?}", u.changed[0].item);
        };
        assert_eq!(input, "{}", "the input arrives pretty-printed");
        assert_eq!(
            result,
            &Some(ToolResult {
                output: "ok".into(),
                failed: false
            })
        );
        assert_eq!(s.conv.last_seq, 3);
    }
}
