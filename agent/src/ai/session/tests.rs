//! The session's queue of typed-ahead messages, without a provider process.

use std::sync::Arc;

use vibemesh_core::{
    ErrorCode,
    proto::{Provider, SessionId, ai::AiEvent},
};

use super::Conv;
use crate::ai::{history::History, log::Meta, queue::MAX_QUEUED};

#[test]
fn prompts_during_a_turn_are_queued_up_to_a_bound() {
    let meta = Meta {
        id: SessionId(4),
        provider: Provider::Claude,
        cwd: "/tmp".into(),
        title: "t".into(),
        created_ms: 1,
        provider_session: None,
    };
    let conv = Conv::new(
        meta,
        History::default(),
        None,
        Arc::default(),
        Box::new(|_| {}),
    );
    // A turn runs (as if a driver had started it).
    conv.record(AiEvent::User { text: "a".into() });
    for n in 0..MAX_QUEUED {
        conv.prompt(format!("m{n}")).unwrap();
    }
    let full = conv.prompt("one too many".into()).unwrap_err();
    assert_eq!(full.code, ErrorCode::Conflict);
    assert!(full.message.contains("wait"), "{}", full.message);
    let (entries, _rx) = conv.subscribe(1);
    assert_eq!(entries.len(), MAX_QUEUED);
    assert!(
        entries
            .iter()
            .enumerate()
            .all(|(n, e)| matches!(&e.event, AiEvent::Queued { text } if *text == format!("m{n}")))
    );
    // An empty message is refused, not queued.
    assert_eq!(
        conv.prompt("  ".into()).unwrap_err().code,
        ErrorCode::BadRequest
    );
}
