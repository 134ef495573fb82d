//! The agent's network side: its iroh endpoint, the protocols it accepts, and the
//! connections it makes to the agents it paired with.

pub mod endpoint;
pub mod lan;
pub mod links;
pub mod main_proto;
pub mod pairing;
pub mod proxy;
pub mod relay_watch;
