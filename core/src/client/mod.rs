//! The client API: what every front end uses to talk to an agent.
//!
//! The protocol code works over any pair of byte streams, so the same client drives an
//! iroh stream to a remote agent ([`connect`]) and the Unix socket to the agent on this
//! machine ([`local`]); a [`Peer`] is one agent reached either way. A control stream gives a [`ControlClient`] for requests, an [`Events`]
//! receiver for pushed events and a [`ControlDriver`] the caller runs on its executor
//! (so this crate needs no runtime of its own, and works in a browser).
//!
//! ```no_run
//! # async fn demo(conn: vibemesh_core::client::PeerConnection) -> Result<(), vibemesh_core::client::ClientError> {
//! let (control, _events, driver) = conn.control().await?;
//! tokio::spawn(driver.run());
//! for s in control.list_sessions().await? {
//!     println!("{} {}", s.id, s.title);
//! }
//! # Ok(()) }
//! ```

mod attach;
#[cfg(feature = "net")]
mod connect;
mod control;
mod conversation;
#[cfg(all(feature = "net", not(target_arch = "wasm32")))]
mod endpoint;
mod files;
#[cfg(all(feature = "net", not(target_arch = "wasm32")))]
pub mod local;
#[cfg(feature = "net")]
mod peer;
#[cfg(feature = "net")]
mod peers;
mod reattach;
mod reconverse;
mod redownload;
#[cfg(all(feature = "net", not(target_arch = "wasm32")))]
pub mod relays;
mod resume;
mod reupload;
#[cfg(feature = "net")]
mod silence;
#[cfg(feature = "net")]
mod transport;
mod watch;

pub use attach::{AttachReader, AttachWriter, open_attach};
#[cfg(feature = "net")]
pub use connect::{PeerConnection, Redialer, close_reason, dial_addr, pair};
pub use control::{ControlClient, ControlDriver, Events, open_control};
pub use conversation::{ConvReader, ConvWriter, Conversation, Item, open_conversation, view};
#[cfg(all(feature = "net", not(target_arch = "wasm32")))]
pub use endpoint::{EndpointError, bind_endpoint};
pub use files::{Download, Upload, open_download, open_upload};
#[cfg(all(feature = "net", not(target_arch = "wasm32")))]
pub use local::LocalRoute;
#[cfg(feature = "net")]
pub use peer::Peer;
#[cfg(feature = "net")]
pub use peers::Peers;
pub use reattach::{AttachEvent, ReattachHandle, TermCmd, reattach};
pub use reconverse::{ConvEvent, ConvHandle, reattach_conversation};
pub use redownload::{DownloadEvent, DownloadStart, redownload};
#[cfg(all(feature = "net", not(target_arch = "wasm32")))]
pub use relays::RelaySetting;
pub use resume::{
    Backoff, Command, DIAL_TIMEOUT, Ended, Resumable, Status, StreamHandle, is_final, reconnecting,
};
pub use reupload::{UploadEvent, reupload};
#[cfg(feature = "net")]
pub use silence::{Heard, WatchedSend};
#[cfg(feature = "net")]
pub use transport::{CONNECTION_IDLE_TIMEOUT, PATH_IDLE_TIMEOUT, PATH_KEEPALIVE, transport_config};
pub use watch::{WatchEvent, WatchHandle, Watched, watch};

use crate::{WireError, frame::FrameError};

/// A boxed read half of a stream.
pub type BoxRead = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
/// A boxed write half of a stream.
pub type BoxWrite = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent refused, with its reason.
    #[error(transparent)]
    Remote(#[from] WireError),
    /// The stream failed or carried garbage.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The stream ended before the answer came.
    #[error("the connection closed before the agent answered")]
    Closed,
    /// The agent answered with something that does not fit the question.
    #[error("unexpected answer from the agent: {0}")]
    Unexpected(&'static str),
    /// Connecting failed.
    #[error("could not connect: {0}")]
    Connect(String),
    /// No agent answers on this machine's socket (the path in the message).
    #[error(
        "no agent is running here (nothing answers on {}); start one with `vibemesh agent`",
        .0.display()
    )]
    NotRunning(std::path::PathBuf),
}

impl ClientError {
    /// The wire error behind this failure, when the agent gave one: in an answer, or as
    /// its reason for closing the connection a stream was on.
    pub fn wire(&self) -> Option<&WireError> {
        match self {
            ClientError::Remote(e) => Some(e),
            ClientError::Frame(FrameError::Io(io)) => io.get_ref()?.downcast_ref::<WireError>(),
            _ => None,
        }
    }
}

/// A client failure as a wire error, for a front end that reports every failure the
/// same way: the agent's own refusal as it came, anything else as
/// [`crate::ErrorCode::Unreachable`] (the agent may answer a later try).
impl From<ClientError> for WireError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Remote(w) => w,
            other => WireError::new(crate::ErrorCode::Unreachable, other.to_string()),
        }
    }
}
