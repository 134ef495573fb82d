//! One attached terminal: output to the page's callback, keys and size to the agent.

use std::rc::Rc;

use js_sys::{Function, Uint8Array};
use vibemesh_core::{
    client::{AttachReader, AttachWriter},
    proto::{SessionInfo, TermSize, attach::ServerFrame},
};
use wasm_bindgen::prelude::*;

use crate::{client_err, json};

/// An attached terminal session.
#[wasm_bindgen]
pub struct Term {
    info: SessionInfo,
    writer: Rc<tokio::sync::Mutex<AttachWriter>>,
}

impl Term {
    pub(crate) fn start(
        info: SessionInfo,
        reader: AttachReader,
        writer: AttachWriter,
        on_frame: Function,
    ) -> Term {
        wasm_bindgen_futures::spawn_local(pump(reader, on_frame));
        Term {
            info,
            writer: Rc::new(tokio::sync::Mutex::new(writer)),
        }
    }
}

/// Hands every frame to the page until the stream ends.
async fn pump(mut reader: AttachReader, on_frame: Function) {
    let call = |kind: &str, data: JsValue| {
        // A throwing callback is the page's bug; keep the stream going.
        let _ = on_frame.call2(&JsValue::NULL, &JsValue::from_str(kind), &data);
    };
    loop {
        match reader.next().await {
            Ok(Some(ServerFrame::Snapshot(b))) => call("snapshot", Uint8Array::from(&b[..]).into()),
            Ok(Some(ServerFrame::Output(b))) => call("output", Uint8Array::from(&b[..]).into()),
            Ok(Some(ServerFrame::Resized(s))) => {
                call("resized", format!("{}x{}", s.cols, s.rows).into())
            }
            Ok(Some(ServerFrame::Notice(e))) => call("notice", e.to_string().into()),
            Ok(Some(ServerFrame::Exited(x))) => call("exited", x.to_string().into()),
            Ok(Some(ServerFrame::Closed(e))) | Ok(Some(ServerFrame::Refused(e))) => {
                call("closed", e.to_string().into());
                break;
            }
            // Acknowledgements of numbered keys; this client sends plain input.
            Ok(Some(ServerFrame::Typed(_))) | Ok(Some(ServerFrame::Attached(_))) => {}
            Ok(None) => break,
            Err(e) => {
                call("closed", e.to_string().into());
                break;
            }
        }
    }
    call("end", JsValue::UNDEFINED);
}

#[wasm_bindgen]
impl Term {
    /// The session as it was when attached, as JSON (`SessionInfo`).
    pub fn info(&self) -> Result<String, JsValue> {
        json(&self.info)
    }

    /// Sends keys or pasted text.
    pub async fn input(&self, data: Vec<u8>) -> Result<(), JsValue> {
        self.writer
            .lock()
            .await
            .input(data)
            .await
            .map_err(client_err)
    }

    /// Tells the agent the page's terminal size.
    pub async fn resize(&self, cols: u16, rows: u16) -> Result<(), JsValue> {
        let size = TermSize { rows, cols };
        if !size.is_valid() {
            return Ok(());
        }
        self.writer
            .lock()
            .await
            .resize(size)
            .await
            .map_err(client_err)
    }

    /// Detaches; the session keeps running on the agent.
    pub async fn detach(&self) -> Result<(), JsValue> {
        self.writer.lock().await.finish().await.map_err(client_err)
    }
}
