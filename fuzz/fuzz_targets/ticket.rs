//! Pairing tickets as pasted or scanned text: parse, and print back the same ticket.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vibemesh_core::ticket::Ticket;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Ticket::parse(text) {
        let again = Ticket::parse(&t.to_text()).expect("a printed ticket parses");
        assert_eq!(
            again.to_text(),
            t.to_text(),
            "a ticket changed on a round trip"
        );
    }
});
