//! Pairing: the request an unknown peer sends, and the agent's answer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::pair::{PairRequest, PairResponse};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) if k % 2 == 0 => frames::<PairRequest>(rest),
    Some((_, rest)) => frames::<PairResponse>(rest),
    None => {}
});
