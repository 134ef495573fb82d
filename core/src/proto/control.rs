//! The control stream: requests with ids, their responses, and pushed events.

use serde::{Deserialize, Serialize};

use super::{
    Provider, Role, SessionId, SessionInfo, TermSize,
    files::{FileRequest, FileResponse},
    git::{GitRequest, GitResponse},
};
use crate::{EndpointId, WireError, frame::FrameError};

/// A client's request; `id` comes back on the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client, unique among its outstanding requests.
    pub id: u64,
    /// What is asked.
    pub body: RequestBody,
}

impl Request {
    /// Decodes a request frame's body. When that fails (a string that is not UTF-8, a
    /// kind of request from a newer client), returns the request's id as well when that
    /// much could be read: the id comes first, so the agent can refuse that request
    /// alone and go on serving the stream.
    pub fn decode(body: &[u8]) -> Result<Request, (Option<u64>, FrameError)> {
        postcard::from_bytes(body).map_err(|e| {
            let id = postcard::take_from_bytes::<u64>(body)
                .ok()
                .map(|(id, _)| id);
            (id, e.into())
        })
    }
}

/// What a client can ask on the control stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    /// Who the agent is and what it can run.
    Info,
    /// Every session on the agent.
    ListSessions,
    /// Start a session (owners only).
    CreateSession(CreateSession),
    /// Stop a running session, or forget an exited one (owners only).
    KillSession(SessionId),
    /// Files on the agent's machine.
    Files(FileRequest),
    /// Git, for the repository around a path.
    Git(GitRequest),
    /// Push [`Event::FilesChanged`] (and [`Event::GitChanged`]) for a folder and what is
    /// below it, until [`RequestBody::Unwatch`] or the end of this control stream.
    Watch {
        /// The folder.
        path: String,
    },
    /// Stop a watch.
    Unwatch(WatchId),
    /// Start a structured AI session (owners only); answered with
    /// [`ResponseBody::Created`]. Attach with [`super::StreamOpen::Conversation`].
    StartConversation(super::ai::StartConversation),
}

/// A watch on one control stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WatchId(pub u64);

/// How to start a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateSession {
    /// What runs.
    pub provider: Provider,
    /// The folder to start in; the agent's home folder when `None`. A leading `~` means
    /// the agent user's home.
    pub cwd: Option<String>,
    /// The command line; the provider's default (the login shell) when empty.
    pub command: Vec<String>,
    /// The initial terminal size.
    pub size: TermSize,
    /// A title; the command's name when `None`.
    pub title: Option<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

/// The agent's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The request's id.
    pub id: u64,
    /// The answer, or why there is none.
    pub result: Result<ResponseBody, WireError>,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResponseBody {
    /// Answer to [`RequestBody::Info`].
    Info(AgentInfo),
    /// Answer to [`RequestBody::ListSessions`].
    Sessions(Vec<SessionInfo>),
    /// Answer to [`RequestBody::CreateSession`].
    Created(SessionInfo),
    /// Answer to [`RequestBody::KillSession`]: what the agent did, in words ("stopped",
    /// "killed with SIGKILL after 2 s", "its holder did not answer; killed ...").
    Killed(String),
    /// Answer to [`RequestBody::Files`].
    Files(FileResponse),
    /// Answer to [`RequestBody::Git`].
    Git(GitResponse),
    /// Answer to [`RequestBody::Watch`].
    Watching(WatchId),
    /// Answer to [`RequestBody::Unwatch`].
    Unwatched,
}

/// Who an agent is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Its public key.
    pub id: EndpointId,
    /// Its display name.
    pub name: String,
    /// The agent's version.
    pub version: String,
    /// The operating system it runs on.
    pub os: String,
    /// The providers it can run.
    pub providers: Vec<Provider>,
    /// Each AI provider, found or not, and why not.
    pub provider_status: Vec<ProviderStatus>,
    /// What the asking client may do.
    pub your_role: Role,
}

/// Whether an agent can run an AI provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderStatus {
    /// Which.
    pub provider: Provider,
    /// The program that runs it, when found.
    pub program: Option<String>,
    /// Why it cannot run; `None` when it can.
    pub unavailable: Option<Unavailable>,
}

/// Why an AI provider cannot run on an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// Its CLI is neither on `PATH` nor configured.
    NotInstalled,
    /// Its CLI is there, but no key or login was found.
    NotLoggedIn,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unavailable::NotInstalled => "not installed",
            Unavailable::NotLoggedIn => "not logged in",
        })
    }
}

/// Something that happened on the agent, pushed to every control stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A session started.
    SessionCreated(SessionInfo),
    /// A session's title, size, viewers or status changed.
    SessionUpdated(SessionInfo),
    /// A session was removed.
    SessionRemoved(SessionId),
    /// This client fell behind and missed events; list again to catch up.
    Lagged,
    /// Files changed under a watched folder (debounced; paths are absolute).
    FilesChanged {
        /// The watch.
        watch: WatchId,
        /// What changed.
        paths: Vec<String>,
    },
    /// The git state of the repository around a watched folder may have changed.
    GitChanged {
        /// The watch.
        watch: WatchId,
        /// The repository's top folder.
        root: String,
    },
}

/// Everything the agent sends on a control stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ControlFrame {
    /// The answer to a request.
    Response(Response),
    /// A pushed event.
    Event(Event),
    /// The stream is being closed for this reason.
    Closing(WireError),
}
