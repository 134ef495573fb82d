//! One attached terminal that survives a lost connection: core's `client::reattach` (the
//! same retry rules, key numbering and acknowledgements every client uses) runs in the
//! page, its events go to the page's callback, keys and size go to the agent. Keys are
//! drawn ahead of their echo on a slow link by the same [`LocalEcho`] the CLI uses: the
//! output the page writes to xterm.js comes through it.

use std::{cell::RefCell, rc::Rc, time::Duration};

use n0_future::time::Instant;

use bytes::Bytes;
use js_sys::Function;
use serde::{Serialize, Serializer};
use tokio::sync::Notify;
use tsify::Tsify;
use vibemesh_core::{
    client::{AttachEvent, Backoff, ReattachHandle, Redialer, reattach},
    predict::Mode,
    proto::{TermSize, attach::AttachRequest},
    text::inert,
};
use vibemesh_term::LocalEcho;
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
    echo: Echo,
}

/// The page's terminal as [`LocalEcho`] mirrors it, shared by the event pump and the
/// page's calls (one thread: a page).
#[derive(Clone)]
struct Echo {
    local: Rc<RefCell<LocalEcho>>,
    /// A key was typed: the pump's expiry timer may be due sooner.
    typed: Rc<Notify>,
    /// What the echo's times count from (`performance.now()` underneath).
    epoch: Instant,
}

impl Echo {
    /// What to write to xterm for output `bytes`.
    fn output(&self, bytes: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(bytes.len());
        self.local.borrow_mut().output(bytes, self.now(), &mut out);
        out.into()
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

impl Term {
    /// Attaches with `req` over streams from `dial`, calling `on_event` with what happens.
    pub(crate) fn start(dial: Redialer, req: AttachRequest, on_event: Function) -> Term {
        let open = move || {
            let dial = dial.clone();
            async move { dial.open_stream().await }
        };
        let size = req.size.unwrap_or(TermSize::DEFAULT);
        let echo = Echo {
            local: Rc::new(RefCell::new(LocalEcho::new(
                size.rows,
                size.cols,
                Mode::Auto,
            ))),
            typed: Rc::new(Notify::new()),
            epoch: Instant::now(),
        };
        let (handle, events, driver) = reattach(open, req, Backoff::default());
        wasm_bindgen_futures::spawn_local(driver);
        wasm_bindgen_futures::spawn_local(pump(events, on_event, echo.clone()));
        Term { handle, echo }
    }
}

/// Hands every event to the page until the last one, the output through the echo's
/// mirror; and takes overdue guesses off when their time comes.
async fn pump(
    mut events: tokio::sync::mpsc::Receiver<AttachEvent>,
    on_event: Function,
    echo: Echo,
) {
    let call = |ev: TermEvent| {
        let v: JsValue = to_js(&ev).map(Into::into).unwrap_or_else(|e| e);
        // A throwing callback is the page's bug; keep the stream going.
        let _ = on_event.call1(&JsValue::NULL, &v);
    };
    loop {
        let due = echo.local.borrow().deadline();
        let expired = async {
            match due {
                Some(due) => n0_future::time::sleep(due.saturating_sub(echo.now())).await,
                None => std::future::pending().await,
            }
        };
        let ev = tokio::select! {
            ev = events.recv() => ev,
            () = expired => {
                let mut out = Vec::new();
                echo.local.borrow_mut().expire(echo.now(), &mut out);
                if !out.is_empty() {
                    call(TermEvent::Output { data: out.into() });
                }
                continue;
            }
            () = echo.typed.notified() => continue,
        };
        let Some(ev) = ev else { break };
        let ev = match ev {
            // The page resets xterm before a snapshot: so does the mirror (RIS).
            AttachEvent::Screen(data) => {
                let mut all = b"\x1bc".to_vec();
                all.extend_from_slice(&data);
                TermEvent::Snapshot {
                    data: echo.output(&all),
                }
            }
            AttachEvent::Output(data) => TermEvent::Output {
                data: echo.output(&data),
            },
            AttachEvent::Resized(size) => {
                let mut out = Vec::new();
                echo.local
                    .borrow_mut()
                    .resize(size.rows, size.cols, echo.now(), &mut out);
                if !out.is_empty() {
                    call(TermEvent::Output { data: out.into() });
                }
                TermEvent::from(AttachEvent::Resized(size))
            }
            ev => TermEvent::from(ev),
        };
        call(ev);
    }
    call(TermEvent::End);
}

#[wasm_bindgen]
impl Term {
    /// Sends keys or pasted text. Keys typed while no connection is up are not sent and
    /// are reported (`notsent`); keys the agent never confirmed before a drop are
    /// reported too (`unconfirmed`) and never sent twice. Returns what to write to the
    /// terminal now: the keys guessed ahead of their echo (often nothing).
    pub fn input(&self, data: Vec<u8>) -> Vec<u8> {
        let mut draw = Vec::new();
        self.echo
            .local
            .borrow_mut()
            .typed(&data, self.echo.now(), &mut draw);
        self.echo.typed.notify_one();
        self.handle.input(data);
        draw
    }

    /// Tells the agent the page's terminal size (kept for the next re-attach). Returns
    /// what to write to the terminal first (guesses taken off).
    pub fn resize(&self, cols: u16, rows: u16) -> Vec<u8> {
        let size = TermSize { rows, cols };
        let mut draw = Vec::new();
        if size.is_valid() {
            self.echo
                .local
                .borrow_mut()
                .resize(rows, cols, self.echo.now(), &mut draw);
            self.handle.resize(size);
        }
        draw
    }

    /// When keys are drawn ahead of their echo: `auto` (when the round trip is over
    /// 30 ms, the default), `always` or `never`. Returns what to write to the terminal
    /// (guesses taken off).
    #[wasm_bindgen(js_name = setPredict)]
    pub fn set_predict(&self, mode: &str) -> Vec<u8> {
        let mode = match mode {
            "always" => Mode::Always,
            "never" => Mode::Never,
            _ => Mode::Auto,
        };
        let mut draw = Vec::new();
        self.echo.local.borrow_mut().set_mode(mode, &mut draw);
        draw
    }

    /// The echo's round trip in milliseconds (0 until timed), for the status line.
    #[wasm_bindgen(js_name = echoMs)]
    pub fn echo_ms(&self) -> f64 {
        let rtt = self.echo.local.borrow().rtt();
        rtt.map_or(0.0, |r| r.as_secs_f64() * 1000.0)
    }

    /// Whether keys are drawn ahead of their echo now.
    pub fn predicting(&self) -> bool {
        self.echo.local.borrow().active()
    }

    /// Detaches; the session keeps running on the agent.
    pub fn detach(&self) {
        self.handle.detach();
    }
}
