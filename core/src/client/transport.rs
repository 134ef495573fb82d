//! The QUIC transport settings every VibeMesh endpoint uses, native or in the browser
//! (wasm): a dead path or a vanished agent is noticed in seconds, not iroh's defaults.

use std::time::Duration;

use iroh::endpoint::QuicTransportConfig;

/// A network path (direct or relayed) silent for this long is given up, and the session
/// moves to another path: losing a direct path costs about this long before the relay
/// carries the session (iroh's default is 15 s).
pub const PATH_IDLE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often an idle path is probed, so a live path is never mistaken for a dead one.
pub const PATH_KEEPALIVE: Duration = Duration::from_secs(1);
/// A connection with no path left for this long is closed, and reconnecting clients
/// dial again (iroh's default is 30 s).
pub const CONNECTION_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The transport settings every VibeMesh endpoint uses: interactive sessions want a dead
/// path noticed in seconds (it costs a keep-alive packet a second per path).
pub fn transport_config() -> QuicTransportConfig {
    let mut builder = QuicTransportConfig::builder()
        .default_path_max_idle_timeout(PATH_IDLE_TIMEOUT)
        .default_path_keep_alive_interval(PATH_KEEPALIVE)
        .keep_alive_interval(PATH_KEEPALIVE);
    if let Ok(idle) = CONNECTION_IDLE_TIMEOUT.try_into() {
        builder = builder.max_idle_timeout(Some(idle));
    }
    builder.build()
}
