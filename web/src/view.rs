//! What the page gets: small view types in the shapes it draws, handed over as JS values
//! (serde-wasm-bindgen) with TypeScript declarations generated from them (tsify) that
//! the page's JS is checked against (`web/build.sh` runs `tsc`).
//!
//! Why views and not core's wire types: the page should not know how the wire spells a
//! session's status or an agent's providers (`{"exited": {"code": 0}}`,
//! `"not_logged_in"`), nor make names inert itself. Each view is built here from core's
//! types, so core stays the one definition of the wire and a change there is a compile
//! error here, not a silent `undefined` in the page. Names and titles arrive already
//! inert (core's `text::inert`).

use serde::Serialize;
use tsify::{Ts, Tsify};
use vibemesh_core::{
    proto::{
        SessionInfo, SessionStatus,
        ai::Waiting,
        control::{AgentInfo, ProviderStatus},
    },
    text::inert,
    ticket::Ticket,
};
use wasm_bindgen::JsValue;

use crate::js_err;

/// `v` as the typed JS value the page gets.
pub(crate) fn to_js<T: Tsify + Serialize>(v: &T) -> Result<Ts<T>, JsValue> {
    v.into_ts().map_err(|e| js_err("Internal", e))
}

/// What a ticket names.
#[derive(Serialize, Tsify)]
pub struct TicketView {
    /// The agent's id.
    pub id: String,
    /// The relay it named, if any.
    pub relay: Option<String>,
    /// The direct addresses it named.
    pub addrs: Vec<String>,
}

impl From<&Ticket> for TicketView {
    fn from(t: &Ticket) -> Self {
        TicketView {
            id: t.id.to_string(),
            relay: t.relay.clone(),
            addrs: t.addrs.iter().map(ToString::to_string).collect(),
        }
    }
}

/// An agent this browser paired with, as the page stores it.
#[derive(Serialize, Tsify)]
pub struct PairedAgent {
    /// The agent's id.
    pub id: String,
    /// Its name, as the agent gave it (made inert where shown).
    pub name: String,
    /// What this browser may do there: `owner` or `viewer`.
    pub role: String,
    /// The relay to reach it through.
    pub relay: String,
}

/// Who an agent is, as the machine page shows it.
#[derive(Serialize, Tsify)]
pub struct AgentView {
    /// Its id.
    pub id: String,
    /// Its name, inert.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its operating system.
    pub os: String,
    /// This browser may only watch.
    pub viewer: bool,
    /// What a new terminal session can run, by the names `Peer.createSession` takes.
    pub providers: Vec<String>,
    /// Each AI provider, and why it cannot run when it cannot.
    pub ai: Vec<AiProvider>,
}

/// One AI provider of an agent.
#[derive(Serialize, Tsify)]
pub struct AiProvider {
    /// By the name `Peer.startConversation` takes (`claude`, `codex`).
    pub name: String,
    /// Why it cannot run (`not logged in`), or `undefined` when it can.
    pub unavailable: Option<String>,
}

impl From<&ProviderStatus> for AiProvider {
    fn from(p: &ProviderStatus) -> Self {
        AiProvider {
            name: p.provider.to_string(),
            unavailable: p.unavailable.as_ref().map(ToString::to_string),
        }
    }
}

impl From<&AgentInfo> for AgentView {
    fn from(a: &AgentInfo) -> Self {
        AgentView {
            id: a.id.to_string(),
            name: inert(&a.name).into_owned(),
            version: a.version.clone(),
            os: a.os.clone(),
            viewer: a.your_role == vibemesh_core::proto::Role::Viewer,
            providers: a.providers.iter().map(ToString::to_string).collect(),
            ai: a.provider_status.iter().map(AiProvider::from).collect(),
        }
    }
}

/// One row of a machine's session list.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    /// Its id (hex), as `Peer.attach` and `Peer.killSession` take it.
    pub id: String,
    /// Its title, inert.
    pub title: String,
    /// The folder it started in, inert.
    pub cwd: String,
    /// `running`, `exited (0)`, `unreachable: why`.
    pub status: String,
    /// Its program runs.
    pub running: bool,
    /// Its program ended (it can be removed).
    pub exited: bool,
    /// A structured AI session (open it as a conversation, not a terminal).
    pub conversation: bool,
    /// What it is: `80×24` for a terminal, `claude conversation` for a conversation.
    pub what: String,
    /// Why a conversation waits for you, if it does.
    pub waiting: Option<WaitingBadge>,
    /// When it started, in milliseconds since the Unix epoch.
    pub created_ms: f64,
}

/// Why a conversation waits for you, as its badge says it.
#[derive(Serialize, Tsify)]
pub struct WaitingBadge {
    /// `approve Bash` or `your turn`.
    pub text: String,
    /// An approval (it blocks the agent), not just its turn.
    pub urgent: bool,
}

impl From<&SessionInfo> for SessionRow {
    fn from(s: &SessionInfo) -> Self {
        let status = match &s.status {
            SessionStatus::Running => "running".to_string(),
            SessionStatus::Unreachable(why) => format!("unreachable: {}", inert(why)),
            SessionStatus::Exited(x) => match x.code {
                Some(code) => format!("exited ({code})"),
                None => "exited (?)".to_string(),
            },
        };
        let what = match &s.conversation {
            Some(_) => format!("{} conversation", s.provider),
            None => format!("{}×{}", s.size.cols, s.size.rows),
        };
        let waiting = s
            .conversation
            .as_ref()
            .and_then(|c| c.waiting.as_ref())
            .map(|w| match w {
                Waiting::Approval { tool } => WaitingBadge {
                    text: format!("approve {}", inert(tool)),
                    urgent: true,
                },
                Waiting::Reply => WaitingBadge {
                    text: "your turn".into(),
                    urgent: false,
                },
            });
        SessionRow {
            id: s.id.to_string(),
            title: inert(&s.title).into_owned(),
            cwd: inert(&s.cwd).into_owned(),
            status,
            running: s.status == SessionStatus::Running,
            exited: matches!(s.status, SessionStatus::Exited(_)),
            conversation: s.conversation.is_some(),
            what,
            waiting,
            // Milliseconds since 1970 are far below 2^53.
            created_ms: s.created_ms as f64,
        }
    }
}

/// A machine's sessions, newest first.
#[derive(Serialize, Tsify)]
#[serde(transparent)]
pub struct SessionList(pub Vec<SessionRow>);

impl SessionList {
    /// The rows of `sessions`, newest first.
    pub fn of(sessions: &[SessionInfo]) -> Self {
        let mut rows: Vec<&SessionInfo> = sessions.iter().collect();
        rows.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
        SessionList(rows.into_iter().map(SessionRow::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use vibemesh_core::proto::{
        ExitInfo, Provider, SessionId, TermSize,
        ai::{ConversationInfo, Waiting},
    };

    use super::*;

    fn session(status: SessionStatus, conversation: Option<ConversationInfo>) -> SessionInfo {
        SessionInfo {
            id: SessionId(0xab),
            title: "t\u{1b}[31m".into(),
            provider: Provider::Claude,
            command: Vec::new(),
            cwd: "/w".into(),
            size: TermSize { rows: 24, cols: 80 },
            created_ms: 5,
            status,
            viewers: 0,
            recording: None,
            conversation,
            recording_error: None,
            recording_state: None,
        }
    }

    /// A row says what the page shows, in words, with the title made inert.
    #[test]
    fn rows_say_status_kind_and_waiting() {
        let r = SessionRow::from(&session(SessionStatus::Running, None));
        assert_eq!(r.id, "000000ab");
        assert_eq!(r.title, "t\\e[31m");
        assert_eq!(
            (r.status.as_str(), r.running, r.exited),
            ("running", true, false)
        );
        assert_eq!(r.what, "80×24");
        assert!(r.waiting.is_none());

        let exited = SessionStatus::Exited(ExitInfo {
            code: Some(3),
            signal: None,
        });
        let conv = ConversationInfo {
            waiting: Some(Waiting::Approval {
                tool: "Bash".into(),
            }),
            live: true,
            last_seq: 1,
        };
        let r = SessionRow::from(&session(exited, Some(conv)));
        assert_eq!(
            (r.status.as_str(), r.running, r.exited),
            ("exited (3)", false, true)
        );
        assert_eq!(r.what, "claude conversation");
        let w = r.waiting.expect("waiting");
        assert_eq!((w.text.as_str(), w.urgent), ("approve Bash", true));
    }
}
