//! Structured Claude sessions with the real `claude` CLI against a fake model API on
//! 127.0.0.1 (`vibemesh_tests::fake_model`); the scenarios are in
//! `vibemesh_tests::ai_scenarios`, shared by every provider.

use vibemesh_core::proto::Provider;
use vibemesh_tests::ai_scenarios as s;

const P: Provider = Provider::Claude;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_answer_streams_to_the_client() {
    s::a_plain_answer_streams_to_the_client(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_tool_call_runs_while_a_viewer_watches() {
    s::an_approved_tool_call_runs_while_a_viewer_watches(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_tool_call_changes_nothing() {
    s::a_denied_tool_call_changes_nothing(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_stops_the_turn_and_the_session_goes_on() {
    s::an_interrupt_stops_the_turn_and_the_session_goes_on(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_survives_detach_process_end_and_agent_restart() {
    s::a_conversation_survives_detach_process_end_and_agent_restart(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_is_a_clear_error_not_a_hang() {
    s::no_key_is_a_clear_error_not_a_hang(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_ends_the_session_with_its_reason() {
    s::a_crash_ends_the_session_with_its_reason(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_always_holds_for_the_session() {
    s::allow_always_holds_for_the_session(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_during_a_turn_are_queued_and_run_in_order() {
    vibemesh_tests::ai_queue::messages_sent_during_a_turn_are_queued_and_run_in_order(P).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_messages_are_dropped_with_a_notice_when_the_process_ends() {
    vibemesh_tests::ai_queue::queued_messages_are_dropped_with_a_notice_when_the_process_ends(P)
        .await;
}

/// A newer CLI that says something this build does not know: kept and shown, and the
/// session goes on. (`claude` here is configured as a wrapper that adds such a line
/// before the real CLI's output.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_output_is_kept_and_shown_and_the_session_goes_on() {
    use vibemesh_core::client::Item;
    use vibemesh_tests::{
        FakeModel,
        ai::{AiWorld, tools_bin, turn_ended},
    };
    let dir = tempfile::tempdir().unwrap();
    let wrapper = dir.path().join("claude-from-the-future");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho '{{\"type\":\"hologram\",\"shape\":\"cube\"}}'\nexec {} \"$@\"\n",
            tools_bin().join("claude").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = format!("claude = \"{}\"", wrapper.display());
    let w = AiWorld::start_config(FakeModel::start().await, true, &[], &config).await;
    let id = w.start_session(P).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("are you there?").await.unwrap();
    c.wait_for("the answer", turn_ended).await;
    assert!(
        c.conv
            .items
            .iter()
            .any(|i| matches!(i, Item::Unknown { raw, .. } if raw.contains("hologram"))),
        "{}",
        c.dump()
    );
    assert_eq!(
        c.conv.last_assistant_text(),
        Some("Hello from the fake model. You said: are you there?")
    );
    // The check every other test makes fails, and says why.
    let why = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.assert_understood()))
        .expect_err("unknown output must fail the check");
    let why = why.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        why.contains("version drift") && why.contains("hologram"),
        "{why}"
    );
}

/// When the CLI's own record of a session is gone, resuming fails once, says so, and the
/// next message starts a fresh provider session (the conversation view keeps it all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_provider_session_is_replaced_not_retried_forever() {
    use vibemesh_core::{client::Item, proto::ai::ConvClientFrame};
    use vibemesh_tests::{
        FakeModel,
        ai::{AiWorld, turn_ended, turns},
    };
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(P).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("first").await.unwrap();
    c.wait_for("the first answer", turn_ended).await;
    c.writer.send(ConvClientFrame::End).await.unwrap();
    c.wait_for(
        "the process to end",
        |c| matches!(c.items.last(), Some(Item::Notice(n)) if n.contains("ended")),
    )
    .await;
    std::fs::remove_dir_all(w.user_home.path().join(".claude/projects")).unwrap();
    c.writer.prompt("second").await.unwrap();
    c.wait_for("the failed resume", |c| {
        c.items.iter().any(
            |i| matches!(i, Item::Error(e) | Item::Notice(e) if e.contains("could not resume")),
        )
    })
    .await;
    c.writer.prompt("third").await.unwrap();
    c.wait_for("a fresh answer", |c| turns(c) >= 2 && turn_ended(c))
        .await;
    assert_eq!(
        c.conv.last_assistant_text(),
        Some("Hello from the fake model. You said: third")
    );
}

/// An agent killed in the middle of a turn: after its restart the turn is closed (no
/// client waits for it forever) and the next message resumes the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_cut_by_an_agent_crash_is_closed_and_resumed() {
    use vibemesh_core::client::Item;
    use vibemesh_tests::{
        FakeModel, TestAgent,
        ai::{AiWorld, ConvClient, ai_env, turn_ended},
    };
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(P).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("first question").await.unwrap();
    c.wait_for("the first answer", turn_ended).await;
    c.writer.prompt("[[hang]]").await.unwrap();
    c.wait_for("the answer to start", |c| {
        c.busy
            && matches!(
                c.items.last(),
                Some(Item::Assistant {
                    streaming: true,
                    ..
                })
            )
    })
    .await;
    drop(c);
    let AiWorld {
        fake,
        agent,
        user_home,
        work: _work,
        ..
    } = w;
    let home = agent.crash();
    let env = ai_env(&fake.url(), user_home.path(), true);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let agent = TestAgent::spawn_env(home, "ai", &env);
    // A fresh client: the old one's connection to the killed agent is only timing out.
    let peer = vibemesh_tests::InProcPeer::bind().await;
    peer.pair(&agent, "owner").await.unwrap();
    let conn = peer.connect(&agent).await.unwrap();
    let mut back = ConvClient::attach(&conn, id, None, false).await;
    back.wait_for("the closed turn", |c| {
        !c.busy && matches!(c.items.last(), Some(Item::Notice(n)) if n.contains("agent stopped"))
    })
    .await;
    back.writer.prompt("still there?").await.unwrap();
    back.wait_for("the resumed answer", |c| {
        turn_ended(c)
            && c.last_assistant_text() == Some("Hello from the fake model. You said: still there?")
    })
    .await;
    back.assert_understood();
}
