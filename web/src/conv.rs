//! One open structured AI session: its frames reduced by core's `client::Conversation`
//! (the one reducer every client uses), handed to the page as what changed since it last
//! asked; prompts, approval answers and interrupts back to the agent.
//!
//! A background task reads the stream and applies every frame as it comes, so when the
//! page is busy drawing, the frames that arrive meanwhile reach it as one update.

use std::{cell::RefCell, rc::Rc};

use tokio::sync::{Mutex, Notify};
use tsify::Ts;
use vibemesh_core::{
    client::{ConvReader, ConvWriter, Conversation, Item, PeerConnection, is_final},
    proto::{
        SessionId, SessionInfo,
        ai::{ConvClientFrame, ConvServerFrame, ConversationOpen, Decision},
    },
};
use wasm_bindgen::prelude::*;

use crate::{
    client_err,
    conv_view::{Changed, Closed, ConvUpdate, ItemView},
    js_err,
    view::{SessionRow, to_js},
};

/// What the reader task shares with the page's calls.
#[derive(Default)]
struct Shared {
    conv: Conversation,
    /// The items as the page last got them.
    sent: Vec<Item>,
    /// Something changed since the page last asked.
    dirty: bool,
    /// Notices the agent sent this client (a refused prompt, a late answer).
    notices: Vec<String>,
    /// Why the agent closed the stream, if it did.
    closed: Option<Closed>,
    /// The current stream ended.
    ended: bool,
    /// Bumped by every (re)attach, so a stale reader task changes nothing.
    stream: u64,
}

impl Shared {
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

/// An open conversation.
#[wasm_bindgen]
pub struct Conv {
    session: SessionId,
    watch_only: bool,
    info: RefCell<SessionInfo>,
    shared: Rc<RefCell<Shared>>,
    wake: Rc<Notify>,
    /// Swapped on re-attach; a send holds the one it took.
    writer: RefCell<Rc<Mutex<ConvWriter>>>,
}

/// Opens a conversation stream that replays entries after `after`.
async fn open_stream(
    conn: &PeerConnection,
    session: SessionId,
    after: u64,
    watch_only: bool,
) -> Result<(SessionInfo, ConvReader, ConvWriter), JsValue> {
    let req = ConversationOpen {
        session,
        after: (after > 0).then_some(after),
        watch_only,
    };
    conn.conversation(req).await.map_err(client_err)
}

/// Applies every frame of one stream until it ends, then says so.
async fn pump(mut reader: ConvReader, shared: Rc<RefCell<Shared>>, wake: Rc<Notify>, stream: u64) {
    loop {
        let frame = reader.next().await;
        let mut s = shared.borrow_mut();
        if s.stream != stream {
            // A re-attach replaced this stream.
            return;
        }
        match frame {
            Ok(Some(f)) => match s.conv.apply_frame(&f) {
                Ok(true) => s.dirty = true,
                // A replayed entry already applied, or the `Attached` answer.
                Ok(false) => {}
                Err(e) if matches!(f, ConvServerFrame::Notice(_)) => {
                    s.notices.push(e.to_string());
                    s.dirty = true;
                }
                Err(e) => {
                    s.closed = Some(Closed {
                        message: e.to_string(),
                        fin: is_final(&e),
                    });
                    s.dirty = true;
                    s.ended = true;
                }
            },
            Ok(None) | Err(_) => s.ended = true,
        }
        let ended = s.ended;
        drop(s);
        wake.notify_one();
        if ended {
            return;
        }
    }
}

impl Conv {
    pub(crate) async fn open(
        conn: &PeerConnection,
        session: SessionId,
        watch_only: bool,
    ) -> Result<Conv, JsValue> {
        let (info, reader, writer) = open_stream(conn, session, 0, watch_only).await?;
        let conv = Conv {
            session,
            watch_only,
            info: RefCell::new(info),
            shared: Rc::default(),
            wake: Rc::default(),
            writer: RefCell::new(Rc::new(Mutex::new(writer))),
        };
        conv.start(reader);
        Ok(conv)
    }

    fn start(&self, reader: ConvReader) {
        let stream = {
            let mut s = self.shared.borrow_mut();
            s.stream += 1;
            s.ended = false;
            s.closed = None;
            s.stream
        };
        wasm_bindgen_futures::spawn_local(pump(
            reader,
            self.shared.clone(),
            self.wake.clone(),
            stream,
        ));
    }

    async fn send(&self, frame: ConvClientFrame) -> Result<(), JsValue> {
        let writer = self.writer.borrow().clone();
        let mut w = writer.lock().await;
        w.send(frame).await.map_err(client_err)
    }
}

#[wasm_bindgen]
impl Conv {
    /// The session as it was when (re-)attached.
    pub fn info(&self) -> Result<Ts<SessionRow>, JsValue> {
        to_js(&SessionRow::from(&*self.info.borrow()))
    }

    /// The newest entry applied: a re-attach replays only what comes after it.
    #[wasm_bindgen(js_name = lastSeq)]
    pub fn last_seq(&self) -> f64 {
        // Entry numbers count events of one session: far below 2^53.
        self.shared.borrow().conv.last_seq as f64
    }

    /// Waits for the next change and resolves to it (a [`ConvUpdate`]: the items that
    /// are new or changed, in the shape the page draws). Resolves to `undefined` once
    /// the stream ended; `closed` says why when the agent ended it. Unless that is
    /// `final`, [`Conv::reattach`] picks up where it stopped.
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

    /// Attaches again over `peer` (a fresh connection), asking only for the entries
    /// after the last one applied, so nothing is drawn twice.
    pub async fn reattach(&self, peer: &crate::Peer) -> Result<(), JsValue> {
        let after = self.shared.borrow().conv.last_seq;
        let (info, reader, writer) =
            open_stream(peer.connection(), self.session, after, self.watch_only).await?;
        *self.info.borrow_mut() = info;
        *self.writer.borrow_mut() = Rc::new(Mutex::new(writer));
        self.start(reader);
        // Wake a `next` still waiting on the old stream.
        self.wake.notify_one();
        Ok(())
    }

    /// Sends a message (the agent refuses it with a notice while a turn runs).
    pub async fn prompt(&self, text: String) -> Result<(), JsValue> {
        self.send(ConvClientFrame::Prompt(text)).await
    }

    /// Answers approval request `id` with `decision` (core's `Decision`).
    pub async fn answer(&self, id: String, decision: Ts<Decision>) -> Result<(), JsValue> {
        let decision: Decision = decision
            .to_rust()
            .map_err(|e| js_err("BadRequest", format!("not a decision: {e}")))?;
        self.send(ConvClientFrame::Answer {
            approval: id,
            decision,
        })
        .await
    }

    /// Stops the current turn.
    pub async fn interrupt(&self) -> Result<(), JsValue> {
        self.send(ConvClientFrame::Interrupt).await
    }

    /// Detaches; the session goes on.
    pub async fn close(&self) -> Result<(), JsValue> {
        // No re-attach may revive it, and a waiting `next` resolves.
        {
            let mut s = self.shared.borrow_mut();
            s.stream += 1;
            s.ended = true;
        }
        self.wake.notify_one();
        let writer = self.writer.borrow().clone();
        let mut w = writer.lock().await;
        w.finish().await.map_err(client_err)
    }
}

#[cfg(test)]
mod tests {
    use vibemesh_core::proto::ai::{AiEvent, Entry};

    use super::*;
    use crate::conv_view::ToolResult;

    fn apply(s: &mut Shared, seq: u64, event: AiEvent) {
        let frame = ConvServerFrame::Entry(Entry {
            seq,
            at_ms: 0,
            event,
        });
        if s.conv.apply_frame(&frame) == Ok(true) {
            s.dirty = true;
        }
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
