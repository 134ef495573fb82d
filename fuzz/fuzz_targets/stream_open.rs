//! The first frame of every stream a peer opens on the main protocol.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::StreamOpen;

fuzz_target!(|data: &[u8]| vibemesh_fuzz::frames::<StreamOpen>(data));
