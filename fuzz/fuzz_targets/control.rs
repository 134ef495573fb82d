//! Control streams: requests (agent side, whole frames and one body at a time),
//! responses and events (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::control::{ControlFrame, Request};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) if k % 3 == 0 => frames::<Request>(rest),
    Some((k, rest)) if k % 3 == 1 => frames::<ControlFrame>(rest),
    // The agent's reading of one request frame's body, which answers what it cannot
    // decode by the request's id.
    Some((_, rest)) => {
        if let Ok(req) = Request::decode(rest) {
            vibemesh_fuzz::round_trip(&req);
        }
    }
    None => {}
});
