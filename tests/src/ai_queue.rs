//! Scenario: messages sent while a turn runs are queued, shown to every client, and
//! sent one per turn when the running one ends (`tests/ai_claude.rs`, `ai_codex.rs`).

use vibemesh_core::{client::Item, proto::Provider};

use crate::{
    FakeModel,
    ai::{AiWorld, ConvClient, turn_ended, turns},
    fake_model::last_input,
};

/// The user messages, in the order the conversation shows them.
fn users(c: &vibemesh_core::client::Conversation) -> Vec<&str> {
    c.items
        .iter()
        .filter_map(|i| match i {
            Item::User(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// Scenario: two messages typed ahead during a turn are queued, seen by a second
/// client, kept when that turn is interrupted, and become the next two turns, in order.
pub async fn messages_sent_during_a_turn_are_queued_and_run_in_order(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    // A turn that runs until it is interrupted.
    let first = "[[hang]]";
    c.writer.prompt(first).await.unwrap();
    let streaming = |c: &vibemesh_core::client::Conversation| {
        matches!(c.last_assistant_text(), Some(t) if !t.is_empty()) && c.busy
    };
    c.wait_for("the answer to start", streaming).await;
    c.writer.prompt("second question").await.unwrap();
    c.writer.prompt("third question").await.unwrap();
    c.wait_for("two queued messages", |c| c.queued() == 2).await;
    assert!(c.conv.busy);
    assert!(c.notices.is_empty(), "refused: {:?}", c.notices);
    let n = c.conv.items.len();
    assert_eq!(
        c.conv.items[n - 2..],
        [
            Item::Queued("second question".into()),
            Item::Queued("third question".into())
        ]
    );
    // Another client attaching now sees them queued too.
    let mut other = w.attach(id).await;
    other
        .wait_for("the replay", |x| x.last_seq == c.conv.last_seq)
        .await;
    assert_eq!(other.conv.queued(), 2, "{}", other.dump());

    // Interrupting the turn keeps the queue: the next message runs at once.
    c.writer.interrupt().await.unwrap();
    let all_done =
        |c: &vibemesh_core::client::Conversation| turns(c) == 3 && turn_ended(c) && c.queued() == 0;
    c.wait_for("the three turns", all_done).await;
    other.wait_for("the three turns (other)", all_done).await;
    c.assert_understood();
    assert_eq!(
        users(&c.conv),
        [first, "second question", "third question"],
        "{}",
        c.dump()
    );
    assert_eq!(
        c.conv.last_assistant_text(),
        Some("Hello from the fake model. You said: third question"),
        "{}",
        c.dump()
    );
    // Each queued message came after the turn before it ended, as its own turn.
    let turn_ends: Vec<usize> = c
        .conv
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| matches!(it, Item::TurnEnd { .. }).then_some(i))
        .collect();
    let user_at = |t: &str| c.conv.items.iter().position(|i| *i == Item::User(t.into()));
    assert!(
        user_at("second question") > Some(turn_ends[0]),
        "{}",
        c.dump()
    );
    assert!(
        user_at("third question") > Some(turn_ends[1]),
        "{}",
        c.dump()
    );
    assert_eq!(other.conv, c.conv);
    assert_eq!(other.duplicates, 0);

    // The model got each as its own turn, in order.
    let typed: Vec<String> = w
        .fake
        .turns()
        .iter()
        .map(last_input)
        .filter(|(_, tool_result)| !tool_result)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(typed, [first, "second question", "third question"]);

    // A fresh attach replays the same conversation, nothing duplicated.
    drop(other);
    let mut again = ConvClient::attach(&w.conn, id, None, false).await;
    again
        .wait_for("the replay", |x| x.last_seq == c.conv.last_seq)
        .await;
    assert_eq!(again.conv, c.conv);
    assert_eq!(again.duplicates, 0);
}

/// Scenario: when the CLI process ends (here: it is killed) with messages still
/// queued, they are dropped, unsent, and the conversation says so.
pub async fn queued_messages_are_dropped_with_a_notice_when_the_process_ends(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("[[hang]]").await.unwrap();
    c.wait_for("the turn to start", |c| {
        c.busy && c.last_assistant_text().is_some()
    })
    .await;
    c.writer.prompt("never sent").await.unwrap();
    c.wait_for("the queued message", |c| c.queued() == 1).await;
    let name = p.to_string();
    let kids = crate::ai_scenarios::children_named(w.agent.pid(), &name);
    assert_eq!(kids.len(), 1, "one {name} process under the agent");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(kids[0]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let dropped = |c: &vibemesh_core::client::Conversation| {
        c.queued() == 0
            && c.items
                .iter()
                .any(|i| matches!(i, Item::Notice(n) if n.contains("queued message(s) not sent")))
    };
    c.wait_for("the queue to be dropped", dropped).await;
    assert!(!c.conv.busy, "{}", c.dump());
    assert_eq!(users(&c.conv), ["[[hang]]"]);
    // The model never saw it.
    assert!(
        w.fake
            .turns()
            .iter()
            .all(|t| !last_input(t).0.contains("never sent"))
    );
}
