//! A session's live preview for its card on the home page: the session watched (never
//! typed into, never sized) and its screen kept in a small [`vibemesh_term::Preview`],
//! so the page can show its last few lines as they change.

use std::{cell::RefCell, rc::Rc};

use js_sys::Function;
use tokio::sync::Notify;
use vibemesh_core::{
    client::{Redialer, open_attach},
    proto::{SessionId, TermSize, attach::AttachRequest, attach::ServerFrame},
    text::inert,
};
use wasm_bindgen::prelude::*;

/// What the watch keeps: the screen, and whether the page has been told it changed.
struct Shared {
    screen: vibemesh_term::Preview,
    /// Changed since the page last read it (one call to the page per read, however
    /// much output comes in between).
    told: bool,
    /// The watch ended (the program exited, the connection went, the page closed it).
    ended: bool,
}

/// A session watched for its card: `lines` gives what it shows now.
#[wasm_bindgen]
pub struct SessionPreview {
    shared: Rc<RefCell<Shared>>,
    stop: Rc<Notify>,
}

impl SessionPreview {
    /// Watches `session` over `dial`; `on_change` is called once after each change the
    /// page has not read yet, and once when the watch ends.
    pub(crate) fn start(dial: Redialer, session: SessionId, on_change: Function) -> Self {
        let size = TermSize::DEFAULT;
        let shared = Rc::new(RefCell::new(Shared {
            screen: vibemesh_term::Preview::new(size.rows, size.cols),
            told: false,
            ended: false,
        }));
        let stop = Rc::new(Notify::new());
        let watch = Watch {
            shared: shared.clone(),
            on_change,
        };
        let req = AttachRequest {
            session,
            // A watcher: its size does not count, and it types nothing.
            size: None,
            scrollback: 0,
            watch_only: true,
        };
        let stopped = stop.clone();
        wasm_bindgen_futures::spawn_local(async move {
            tokio::select! {
                () = watch.run(dial, req) => {}
                () = stopped.notified() => {}
            }
            watch.shared.borrow_mut().ended = true;
            watch.changed();
        });
        SessionPreview { shared, stop }
    }
}

/// The task that feeds a preview.
struct Watch {
    shared: Rc<RefCell<Shared>>,
    on_change: Function,
}

impl Watch {
    async fn run(&self, dial: Redialer, req: AttachRequest) {
        let Ok((r, w)) = dial.open_stream().await else {
            return;
        };
        let Ok((info, mut reader, mut writer)) = open_attach(r, w, req).await else {
            return;
        };
        self.shared
            .borrow_mut()
            .screen
            .resize(info.size.rows, info.size.cols);
        while let Ok(Some(frame)) = reader.next().await {
            {
                let mut s = self.shared.borrow_mut();
                match frame {
                    ServerFrame::Snapshot(b) => s.screen.snapshot(&b),
                    ServerFrame::Output(b) => s.screen.output(&b),
                    ServerFrame::Resized(size) => s.screen.resize(size.rows, size.cols),
                    ServerFrame::Exited(_) | ServerFrame::Closed(_) | ServerFrame::Refused(_) => {
                        break;
                    }
                    ServerFrame::Attached(_) | ServerFrame::Notice(_) | ServerFrame::Typed(_) => {
                        continue;
                    }
                }
            }
            self.changed();
        }
        let _ = writer.finish().await;
    }

    /// Tells the page, unless it was told and has not looked since.
    fn changed(&self) {
        if std::mem::replace(&mut self.shared.borrow_mut().told, true) {
            return;
        }
        // A throwing callback is the page's bug; keep watching.
        let _ = self.on_change.call0(&JsValue::NULL);
    }
}

#[wasm_bindgen]
impl SessionPreview {
    /// The last `n` lines the session's screen shows, down to its cursor, each inert
    /// (control characters and bidi overrides shown as escapes).
    pub fn lines(&self, n: usize) -> Vec<String> {
        let mut s = self.shared.borrow_mut();
        s.told = false;
        s.screen
            .lines(n)
            .iter()
            .map(|l| inert(l).into_owned())
            .collect()
    }

    /// The watch ended: the lines are the last the session showed.
    pub fn ended(&self) -> bool {
        self.shared.borrow().ended
    }

    /// Stops watching.
    pub fn close(&self) {
        self.stop.notify_one();
    }
}
