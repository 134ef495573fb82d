//! What every fuzz target checks: decoding hostile bytes as a message type never panics,
//! never allocates past the frame limit, and whatever decodes re-encodes to bytes that
//! decode to the same message (so nothing a peer sends is misread on a second hop).

use serde::{Serialize, de::DeserializeOwned};
use vibemesh_core::frame;

/// Decodes `data` as a stream of `T` frames, and checks each decoded message round-trips.
pub fn frames<T: Serialize + DeserializeOwned>(data: &[u8]) {
    let mut cursor = data;
    // Decode frame by frame, as a reader does, until the first error.
    while let Ok(Some(msg)) = frame::read_blocking::<T>(&mut cursor) {
        round_trip(&msg);
    }
}

/// Checks that `msg` encodes, and decodes back to the same encoding.
pub fn round_trip<T: Serialize + DeserializeOwned>(msg: &T) {
    let Ok(bytes) = frame::encode(msg) else {
        // Only an over-limit message may fail to encode.
        return;
    };
    let back: Vec<T> = frame::decode_all(&bytes).expect("an encoded message decodes");
    assert_eq!(back.len(), 1);
    let again = frame::encode(&back[0]).expect("re-encodes");
    assert_eq!(bytes, again, "a message changed on a round trip");
}

/// Splits the input: the first byte picks a decoder, the rest is its input.
pub fn pick(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(k, rest)| (*k, rest))
}
