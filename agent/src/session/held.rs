//! One terminal session as the agent knows it: what its holder said of it, and the link
//! that carries its output, keys and sizes.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use tokio::sync::watch;
use vibemesh_core::{
    ErrorCode, WireError,
    proto::{
        ExitInfo, Provider, RecordingState, SessionId, SessionInfo, SessionStatus, TermSize,
        bounds::TITLE_MAX,
        holder::{HolderState, ToHolder},
    },
    text::cut,
};

use super::{hub::Subscription, link::Link};

/// One session.
pub struct Session {
    pub(super) id: SessionId,
    pub(super) link: Arc<Link>,
    pub(super) meta: Mutex<Meta>,
    /// Held by a holder process: it survives this agent.
    pub(super) detached: bool,
    /// Where its holder process listens.
    pub(super) socket: Option<PathBuf>,
    pub(super) exited: watch::Receiver<Option<ExitInfo>>,
}

/// What the holder told of the session (all of it placeholders until it greets, when
/// adoption could not wait for it), and what the agent counts itself.
pub(super) struct Meta {
    /// Whether the holder has said hello: the fields below are its.
    pub greeted: bool,
    pub provider: Provider,
    pub command: Vec<String>,
    pub cwd: String,
    pub created_ms: u64,
    /// The program's process id, also its process group.
    pub pid: Option<u32>,
    pub recording: Option<String>,
    pub title: String,
    pub size: TermSize,
    pub viewers: u32,
    pub recording_error: Option<String>,
    /// The recording's parts and size, as the holder last said (protocol 2).
    pub recording_state: Option<Box<RecordingState>>,
    /// The holder's protocol version (0 until it greets).
    pub version: u32,
}

impl Meta {
    /// What an adopting agent shows until the holder greets: `?` for what it does not
    /// know.
    pub fn unknown(created_ms: u64) -> Self {
        Self {
            greeted: false,
            provider: Provider::Shell,
            command: vec!["?".into()],
            cwd: "?".into(),
            created_ms,
            pid: None,
            recording: None,
            title: "?".into(),
            size: TermSize::DEFAULT,
            viewers: 0,
            recording_error: None,
            recording_state: None,
            version: 0,
        }
    }

    /// Takes in what the holder says of the session (its hello).
    pub fn learn(&mut self, st: HolderState) {
        self.greeted = true;
        self.provider = st.provider;
        self.command = st.command;
        self.cwd = st.cwd;
        self.created_ms = st.created_ms;
        self.pid = st.pid;
        self.recording = st.recording;
        self.set_title(&st.title);
        self.size = st.size;
        self.recording_error = st.recording_error;
    }

    /// Keeps a title, cut to [`TITLE_MAX`] (older holders send them whole).
    pub fn set_title(&mut self, title: &str) {
        self.title = cut(title, TITLE_MAX).into_owned();
    }
}

pub(super) use vibemesh_core::sync::lock;

impl Session {
    /// What a listing shows, cut to fit a frame on its own.
    pub fn info(&self) -> SessionInfo {
        let m = lock(&self.meta);
        let status = match (self.link.exit_info(), self.link.trouble()) {
            (Some(info), _) => SessionStatus::Exited(info),
            (None, Some(why)) => SessionStatus::Unreachable(why),
            (None, None) if !m.greeted => {
                SessionStatus::Unreachable("its holder has not answered yet".into())
            }
            (None, None) => SessionStatus::Running,
        };
        SessionInfo {
            id: self.id,
            title: m.title.clone(),
            provider: m.provider,
            command: m.command.clone(),
            cwd: m.cwd.clone(),
            size: m.size,
            created_ms: m.created_ms,
            status,
            viewers: m.viewers,
            recording: m.recording.clone(),
            recording_error: m.recording_error.clone(),
            recording_state: m.recording_state.clone(),
            conversation: None,
        }
        .bounded()
    }

    /// The screen and a subscription to what follows it; an error when its holder does
    /// not answer.
    pub async fn snapshot(&self, scrollback: u32) -> Result<(Bytes, Subscription), WireError> {
        let shown = self.link.snapshot(scrollback).await;
        shown.map_err(|why| self.cannot_show(why))
    }

    /// For an attach that may be the session's first: the program's output from its
    /// first byte, once ([`super::head`]); the screen after `scrollback` lines of
    /// history, as [`Session::snapshot`], for later ones and from holders too old to
    /// keep it (protocol before 3).
    pub async fn replay(&self, scrollback: u32) -> Result<(Bytes, Subscription), WireError> {
        let replays = lock(&self.meta).version >= 3;
        let shown = if replays {
            self.link.replay(scrollback).await
        } else {
            self.link.snapshot(scrollback).await
        };
        shown.map_err(|why| self.cannot_show(why))
    }

    fn cannot_show(&self, why: String) -> WireError {
        WireError::new(
            ErrorCode::Unreachable,
            format!("cannot show session {}: {why}", self.id),
        )
    }

    /// Types `bytes` into the program. Resolves once the holder has them: from then on
    /// they are typed even if this agent dies.
    pub async fn write_input(&self, bytes: Bytes) -> Result<(), WireError> {
        if self.exited.borrow().is_some() {
            return Ok(());
        }
        if self.link.input(bytes).await {
            Ok(())
        } else {
            Err(WireError::new(
                ErrorCode::Internal,
                "cannot type into the session: its holder is gone",
            ))
        }
    }

    /// Changes the terminal size; returns whether it changed.
    pub fn resize(&self, size: TermSize) -> Result<bool, WireError> {
        if !size.is_valid() {
            return Err(WireError::new(
                ErrorCode::BadRequest,
                format!("invalid size {size}"),
            ));
        }
        let mut m = lock(&self.meta);
        if m.size == size || self.exited.borrow().is_some() {
            return Ok(false);
        }
        self.link.send(ToHolder::Resize(size));
        m.size = size;
        Ok(true)
    }

    /// Counts a viewer in or out.
    pub fn add_viewers(&self, delta: i32) {
        let mut m = lock(&self.meta);
        m.viewers = m.viewers.saturating_add_signed(delta);
    }

    /// Resolves when the program has ended (as its holder says).
    pub async fn wait_exit(&self) -> ExitInfo {
        let mut rx = self.exited.clone();
        let said = rx.wait_for(|e| e.is_some()).await.map(|e| e.clone());
        match said {
            Ok(Some(info)) => info,
            // The link is gone and will never say: wait for other news.
            Ok(None) | Err(_) => std::future::pending().await,
        }
    }
}
