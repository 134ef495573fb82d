//! One attached terminal that survives a lost connection: core's `client::reattach` (the
//! same retry rules, key numbering and acknowledgements every client uses) runs in the
//! page, its events go to the page's callback, keys and size go to the agent.

use js_sys::{Function, Uint8Array};
use vibemesh_core::{
    client::{AttachEvent, Backoff, ReattachHandle, Redialer, reattach},
    proto::{TermSize, attach::AttachRequest},
};
use wasm_bindgen::prelude::*;

use crate::json;

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
    let call = |kind: &str, data: JsValue| {
        // A throwing callback is the page's bug; keep the stream going.
        let _ = on_event.call2(&JsValue::NULL, &JsValue::from_str(kind), &data);
    };
    let text = |v: Result<String, JsValue>| v.map(JsValue::from).unwrap_or_else(|e| e);
    while let Some(ev) = events.recv().await {
        match ev {
            AttachEvent::Attached { info, reconnected } => call(
                "attached",
                text(json(
                    &serde_json::json!({ "info": info, "reconnected": reconnected }),
                )),
            ),
            AttachEvent::Screen(b) => call("snapshot", Uint8Array::from(&b[..]).into()),
            AttachEvent::Output(b) => call("output", Uint8Array::from(&b[..]).into()),
            AttachEvent::Resized(s) => call("resized", format!("{}x{}", s.cols, s.rows).into()),
            AttachEvent::Notice(e) => call("notice", e.to_string().into()),
            AttachEvent::Reconnecting {
                attempt,
                delay,
                error,
            } => call(
                "reconnecting",
                text(json(&serde_json::json!({
                    "attempt": attempt,
                    "delay_ms": delay.as_millis() as f64,
                    "error": error,
                }))),
            ),
            AttachEvent::NotSent { bytes } => call("notsent", (bytes as f64).into()),
            AttachEvent::Unconfirmed { bytes } => call("unconfirmed", (bytes as f64).into()),
            // Written into the terminal by the page: inert, like any text from the agent.
            AttachEvent::Exited(x) => call("exited", crate::inert(&x.to_string()).into()),
            AttachEvent::Closed(e) => call("closed", e.to_string().into()),
            AttachEvent::Detached => call("detached", JsValue::UNDEFINED),
        }
    }
    call("end", JsValue::UNDEFINED);
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
