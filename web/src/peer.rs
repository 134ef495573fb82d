//! One agent the browser is connected to: its sessions, kept up to date by its pushed
//! events, and attaching.

use std::{cell::RefCell, rc::Rc};

use tsify::Ts;
use vibemesh_core::{
    client::{ControlClient, Events, PeerConnection, Redialer},
    proto::{
        Provider, SessionId, SessionInfo, TermSize,
        ai::StartConversation,
        attach::AttachRequest,
        control::{CreateSession, Event},
    },
};
use wasm_bindgen::prelude::*;

use crate::{
    Conv, SessionPreview, Term, client_err, js_err,
    view::{AgentView, SessionList, SessionRow, to_js},
};

/// A connection to one agent, with its control stream open.
#[wasm_bindgen]
pub struct Peer {
    conn: PeerConnection,
    control: ControlClient,
    events: Rc<tokio::sync::Mutex<Events>>,
    /// The agent's sessions as last listed, kept current by its events.
    sessions: RefCell<Vec<SessionInfo>>,
    /// Streams for attached terminals: over `conn` while it lives, then a fresh one.
    redial: Redialer,
}

impl Peer {
    pub(crate) async fn open(conn: PeerConnection, redial: Redialer) -> Result<Peer, JsValue> {
        // An agent that refuses us (not paired, revoked) accepts the connection and
        // closes it saying why: the error carries that reason, not a bare "closed".
        let (control, events, driver) = conn
            .control()
            .await
            .map_err(|e| client_err(conn.closed_or(e)))?;
        wasm_bindgen_futures::spawn_local(async move {
            let _ = driver.run().await;
        });
        Ok(Peer {
            conn,
            control,
            events: Rc::new(tokio::sync::Mutex::new(events)),
            sessions: RefCell::default(),
            redial,
        })
    }

    /// Lists the sessions afresh and keeps the list.
    async fn relist(&self) -> Result<(), JsValue> {
        let list = self.control.list_sessions().await.map_err(client_err)?;
        *self.sessions.borrow_mut() = list;
        Ok(())
    }

    /// Applies a pushed event to the kept list; `false` when it does not touch it.
    fn apply(&self, ev: Event) -> bool {
        let mut list = self.sessions.borrow_mut();
        match ev {
            Event::SessionCreated(s) | Event::SessionUpdated(s) => {
                match list.iter_mut().find(|x| x.id == s.id) {
                    Some(x) => *x = s,
                    None => list.push(s),
                }
            }
            Event::SessionRemoved(id) => list.retain(|x| x.id != id),
            Event::Lagged | Event::FilesChanged { .. } | Event::GitChanged { .. } => return false,
        }
        true
    }

    fn rows(&self) -> Result<Ts<SessionList>, JsValue> {
        to_js(&SessionList::of(&self.sessions.borrow()))
    }
}

fn size(cols: u16, rows: u16) -> TermSize {
    let s = TermSize { rows, cols };
    if s.is_valid() { s } else { TermSize::DEFAULT }
}

/// A provider by the name the page uses (`Provider`'s display form).
fn provider(name: &str) -> Result<Provider, JsValue> {
    match name {
        "shell" | "" => Ok(Provider::Shell),
        "claude" => Ok(Provider::Claude),
        "codex" => Ok(Provider::Codex),
        other => Err(js_err("BadRequest", format!("unknown provider {other:?}"))),
    }
}

/// What an attach asks for: the screen at the page's size, and `scrollback` lines.
pub(crate) fn attach_request(
    id: &str,
    cols: u16,
    rows: u16,
    scrollback: u32,
) -> Result<AttachRequest, JsValue> {
    Ok(AttachRequest {
        session: session_id(id)?,
        size: Some(size(cols, rows)),
        scrollback,
        watch_only: false,
    })
}

fn session_id(id: &str) -> Result<SessionId, JsValue> {
    id.parse()
        .map_err(|_| js_err("BadRequest", format!("{id:?} is not a session id")))
}

#[wasm_bindgen]
impl Peer {
    /// Who the agent is.
    pub async fn info(&self) -> Result<Ts<AgentView>, JsValue> {
        to_js(&AgentView::from(
            &self.control.info().await.map_err(client_err)?,
        ))
    }

    /// The agent's sessions, newest first (listed afresh).
    #[wasm_bindgen(js_name = listSessions)]
    pub async fn list_sessions(&self) -> Result<Ts<SessionList>, JsValue> {
        self.relist().await?;
        self.rows()
    }

    /// Waits until the agent's sessions change (its pushed events: one started, ended,
    /// was renamed or removed) and resolves to them all, newest first; `undefined` once
    /// the connection ended. A client that fell behind lists them afresh.
    #[wasm_bindgen(js_name = nextSessions)]
    pub async fn next_sessions(&self) -> Result<Option<Ts<SessionList>>, JsValue> {
        loop {
            let ev = self.events.lock().await.recv().await;
            match ev {
                None => return Ok(None),
                Some(Event::Lagged) => self.relist().await?,
                Some(ev) => {
                    if !self.apply(ev) {
                        continue;
                    }
                }
            }
            return self.rows().map(Some);
        }
    }

    /// Starts a session in `cwd` (the agent's home when empty) with `provider`
    /// (`shell`, `claude`, `codex`); resolves to its row.
    #[wasm_bindgen(js_name = createSession)]
    pub async fn create_session(
        &self,
        cwd: String,
        provider_name: String,
        cols: u16,
        rows: u16,
    ) -> Result<Ts<SessionRow>, JsValue> {
        let req = CreateSession {
            provider: provider(&provider_name)?,
            cwd: Some(cwd).filter(|c| !c.trim().is_empty()),
            command: Vec::new(),
            size: size(cols, rows),
            title: None,
            env: vec![("TERM".into(), "xterm-256color".into())],
        };
        let s = self.control.create_session(req).await.map_err(client_err)?;
        to_js(&SessionRow::from(&s))
    }

    /// Starts a structured AI session (`claude` or `codex`) in `cwd` (the agent's home
    /// when empty), titled `title` (the provider and folder when empty), sending `prompt`
    /// first when it is not empty; resolves to its row.
    #[wasm_bindgen(js_name = startConversation)]
    pub async fn start_conversation(
        &self,
        provider_name: String,
        cwd: String,
        title: String,
        prompt: String,
    ) -> Result<Ts<SessionRow>, JsValue> {
        let nonempty = |s: String| Some(s).filter(|s| !s.trim().is_empty());
        let req = StartConversation {
            provider: provider(&provider_name)?,
            cwd: nonempty(cwd),
            title: nonempty(title),
            prompt: nonempty(prompt),
        };
        let s = self
            .control
            .start_conversation(req)
            .await
            .map_err(client_err)?;
        to_js(&SessionRow::from(&s))
    }

    /// Opens structured session `id`: the whole conversation is replayed, then live, and
    /// re-attached after a lost connection (see [`Conv`]).
    /// With `watch_only` (or as a viewer) the agent refuses steering with a notice.
    #[wasm_bindgen(js_name = openConversation)]
    pub async fn open_conversation(&self, id: String, watch_only: bool) -> Result<Conv, JsValue> {
        Conv::open(self.redial.clone(), session_id(&id)?, watch_only).await
    }

    /// Folder completions for `text` (see `ControlClient::complete_folder`): paths
    /// ending in `/`.
    #[wasm_bindgen(js_name = completeFolder)]
    pub async fn complete_folder(&self, text: String) -> Result<Vec<String>, JsValue> {
        self.control
            .complete_folder(&text, 12)
            .await
            .map_err(client_err)
    }

    /// Stops a session, or forgets an exited one.
    #[wasm_bindgen(js_name = killSession)]
    pub async fn kill_session(&self, id: String) -> Result<(), JsValue> {
        self.control
            .kill_session(session_id(&id)?)
            .await
            .map(drop)
            .map_err(client_err)
    }

    /// How the browser reaches the agent now: `relay` or `direct`.
    pub fn path(&self) -> String {
        let direct = self
            .conn
            .connection()
            .paths()
            .iter()
            .any(|p| p.is_selected() && p.is_ip());
        if direct { "direct" } else { "relay" }.into()
    }

    /// Attaches to a session and keeps it attached across lost connections (see
    /// [`Term`]). `on_event` is called with each [`crate::term::TermEvent`]: `attached`,
    /// `snapshot` (redraws the whole screen: reset first), `output`, `resized`, `notice`,
    /// `reconnecting`, `notSent` or `unconfirmed`, then one of `exited`, `closed`
    /// (retrying is pointless) or `detached`, and finally `end`.
    pub fn attach(
        &self,
        id: String,
        cols: u16,
        rows: u16,
        scrollback: u32,
        #[wasm_bindgen(unchecked_param_type = "(ev: TermEvent) => void")]
        on_event: js_sys::Function,
    ) -> Result<Term, JsValue> {
        let req = attach_request(&id, cols, rows, scrollback)?;
        Ok(Term::start(self.redial.clone(), req, on_event))
    }

    /// Watches session `id` for its card's preview (see [`SessionPreview`]): `on_change`
    /// is called when its screen changed since the page last read its lines.
    pub fn preview(
        &self,
        id: String,
        #[wasm_bindgen(unchecked_param_type = "() => void")] on_change: js_sys::Function,
    ) -> Result<SessionPreview, JsValue> {
        Ok(SessionPreview::start(
            self.redial.clone(),
            session_id(&id)?,
            on_change,
        ))
    }

    /// Closes the connection to this agent.
    pub fn close(&self) {
        self.conn
            .connection()
            .close(0u32.into(), b"closed by the page");
    }
}
