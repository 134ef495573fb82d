//! Control streams: requests (agent side), responses and events (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::control::{ControlFrame, Request};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) if k % 2 == 0 => frames::<Request>(rest),
    Some((_, rest)) => frames::<ControlFrame>(rest),
    None => {}
});
