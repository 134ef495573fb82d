//! The local socket: what a local process sends the agent, and the agent's answers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::local::{AdminResponse, LocalOpen, RouteReply};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) => match k % 3 {
        0 => frames::<LocalOpen>(rest),
        1 => frames::<AdminResponse>(rest),
        _ => frames::<RouteReply>(rest),
    },
    None => {}
});
