//! File transfers both ways, and names as they travel (bytes that are not UTF-8
//! escaped): any name's bytes come back exactly, and any string a client sends is read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::proto::files::{TransferFrame, path_from_wire, path_to_wire};
use vibemesh_fuzz::{frames, pick};

fuzz_target!(|data: &[u8]| match pick(data) {
    Some((k, rest)) if k % 2 == 0 => frames::<TransferFrame>(rest),
    Some((_, rest)) => {
        // Names hold no NUL (the escape's first byte), so a NUL in the input is no name.
        if !rest.contains(&0) {
            assert_eq!(&*path_from_wire(&path_to_wire(rest)), rest);
        }
        if let Ok(s) = std::str::from_utf8(rest) {
            let _ = path_from_wire(s);
        }
    }
    None => {}
});
