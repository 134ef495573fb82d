//! The session holder's socket: what reaches a holder, and what the agent reads back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::holder::{FromHolder, HolderSpawn, ToHolder};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) => match k % 3 {
        0 => frames::<ToHolder>(rest),
        1 => frames::<FromHolder>(rest),
        _ => frames::<HolderSpawn>(rest),
    },
    None => {}
});
