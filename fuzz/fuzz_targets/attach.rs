//! Terminal streams: keys and sizes (agent side), screens and output (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::attach::{AttachRequest, ClientFrame, ServerFrame};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) => match k % 3 {
        0 => frames::<ClientFrame>(rest),
        1 => frames::<ServerFrame>(rest),
        _ => frames::<AttachRequest>(rest),
    },
    None => {}
});
