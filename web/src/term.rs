//! One attached terminal that survives a lost connection: core's `client::reattach` (the
//! same retry rules, key numbering and acknowledgements every client uses) runs in the
//! page, its events go to the page's callback, keys and size go to the agent.

use bytes::Bytes;
use js_sys::Function;
use serde::{Serialize, Serializer};
use tsify::Tsify;
use vibemesh_core::{
    client::{AttachEvent, Backoff, ReattachHandle, Redialer, reattach},
    proto::{TermSize, attach::AttachRequest},
    text::inert,
};
use wasm_bindgen::prelude::*;

use crate::view::to_js;

/// What happens to an attached terminal, as the page's callback gets it (core's
/// `client::AttachEvent` in the shape the page shows), told apart by `kind`.
#[derive(Serialize, Tsify)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TermEvent {
    /// Attached (again, when `reconnected`).
    Attached {
        /// The session's title, inert.
        title: String,
        /// Not the first attach: the connection was lost and made again.
        reconnected: bool,
    },
    /// The whole screen: reset the terminal, then write it.
    Snapshot {
        /// Terminal output.
        #[serde(serialize_with = "bytes")]
        #[tsify(type = "Uint8Array")]
        data: Bytes,
    },
    /// Output to write.
    Output {
        /// Terminal output.
        #[serde(serialize_with = "bytes")]
        #[tsify(type = "Uint8Array")]
        data: Bytes,
    },
    /// Someone resized the session.
    Resized {
        /// Columns.
        cols: u16,
        /// Lines.
        rows: u16,
    },
    /// Something the agent wants said (a refused resize, say).
    Notice {
        /// What it said.
        message: String,
    },
    /// The connection was lost; the next try comes after `delayMs`.
    Reconnecting {
        /// The try that comes next (1, 2, ...).
        attempt: u32,
        /// Milliseconds until it.
        #[serde(rename = "delayMs")]
        delay_ms: f64,
        /// Why the last one failed.
        error: String,
    },
    /// Keys typed while no connection was up: refused, never sent.
    NotSent {
        /// How many bytes.
        bytes: f64,
    },
    /// Keys the agent never confirmed before a drop: never sent twice.
    Unconfirmed {
        /// How many bytes.
        bytes: f64,
    },
    /// The program ended.
    Exited {
        /// How, inert (`exit 0`, `killed by SIGTERM`).
        message: String,
    },
    /// The agent ended the attach for good (the session is gone, access refused).
    Closed {
        /// The agent's error code (`Revoked`, `NotPaired`, `NotFound`, ...), so the page
        /// can say what to do about it.
        code: String,
        /// Why.
        message: String,
    },
    /// The page detached.
    Detached,
    /// The last event.
    End,
}

/// Bytes as a `Uint8Array` (serde-wasm-bindgen's form of serde bytes).
fn bytes<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(b)
}

impl From<AttachEvent> for TermEvent {
    fn from(ev: AttachEvent) -> Self {
        match ev {
            AttachEvent::Attached { info, reconnected } => TermEvent::Attached {
                title: inert(&info.title).into_owned(),
                reconnected,
            },
            AttachEvent::Screen(data) => TermEvent::Snapshot { data },
            AttachEvent::Output(data) => TermEvent::Output { data },
            AttachEvent::Resized(s) => TermEvent::Resized {
                cols: s.cols,
                rows: s.rows,
            },
            AttachEvent::Notice(e) => TermEvent::Notice {
                message: e.to_string(),
            },
            AttachEvent::Reconnecting {
                attempt,
                delay,
                error,
            } => TermEvent::Reconnecting {
                attempt,
                delay_ms: delay.as_millis() as f64,
                error,
            },
            AttachEvent::NotSent { bytes } => TermEvent::NotSent {
                bytes: bytes as f64,
            },
            AttachEvent::Unconfirmed { bytes } => TermEvent::Unconfirmed {
                bytes: bytes as f64,
            },
            // Written into the terminal by the page: inert, like any text from the agent.
            AttachEvent::Exited(x) => TermEvent::Exited {
                message: inert(&x.to_string()).into_owned(),
            },
            AttachEvent::Closed(e) => TermEvent::Closed {
                code: format!("{:?}", e.code),
                message: e.to_string(),
            },
            AttachEvent::Detached => TermEvent::Detached,
        }
    }
}

/// An attached terminal session; it re-attaches by itself until the program ends, the
/// session is gone, access is refused, or the page detaches.
#[wasm_bindgen]
pub struct Term {
    handle: ReattachHandle,
}

impl Term {
    /// Attaches with `req` over streams from `dial`, calling `on_event` with what happens.
    pub(crate) fn start(dial: Redialer, req: AttachRequest, on_event: Function) -> Term {
        let open = move || {
            let dial = dial.clone();
            async move { dial.open_stream().await }
        };
        let (handle, events, driver) = reattach(open, req, Backoff::default());
        wasm_bindgen_futures::spawn_local(driver);
        wasm_bindgen_futures::spawn_local(pump(events, on_event));
        Term { handle }
    }
}

/// Hands every event to the page until the last one.
async fn pump(mut events: tokio::sync::mpsc::Receiver<AttachEvent>, on_event: Function) {
    let call = |ev: TermEvent| {
        let v: JsValue = to_js(&ev).map(Into::into).unwrap_or_else(|e| e);
        // A throwing callback is the page's bug; keep the stream going.
        let _ = on_event.call1(&JsValue::NULL, &v);
    };
    while let Some(ev) = events.recv().await {
        call(TermEvent::from(ev));
    }
    call(TermEvent::End);
}

#[wasm_bindgen]
impl Term {
    /// Sends keys or pasted text. Keys typed while no connection is up are not sent and
    /// are reported (`notsent`); keys the agent never confirmed before a drop are
    /// reported too (`unconfirmed`) and never sent twice.
    pub fn input(&self, data: Vec<u8>) {
        self.handle.input(data);
    }

    /// Tells the agent the page's terminal size (kept for the next re-attach).
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = TermSize { rows, cols };
        if size.is_valid() {
            self.handle.resize(size);
        }
    }

    /// Detaches; the session keeps running on the agent.
    pub fn detach(&self) {
        self.handle.detach();
    }
}
