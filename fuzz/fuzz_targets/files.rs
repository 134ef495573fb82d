//! File transfers both ways.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::files::TransferFrame;

fuzz_target!(|data: &[u8]| vibemesh_fuzz::frames::<TransferFrame>(data));
