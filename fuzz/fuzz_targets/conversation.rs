//! Structured AI conversations: prompts and decisions (agent side), entries (client side).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::ai::{ConvClientFrame, ConvServerFrame, ConversationOpen};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) => match k % 3 {
        0 => frames::<ConvClientFrame>(rest),
        1 => frames::<ConvServerFrame>(rest),
        _ => frames::<ConversationOpen>(rest),
    },
    None => {}
});
