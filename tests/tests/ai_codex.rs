//! Structured Codex sessions with the real `codex` CLI against a fake model API on
//! 127.0.0.1 (`vibemesh_tests::fake_model`); the scenarios are in
//! `vibemesh_tests::ai_scenarios`, shared by every provider.

use vibemesh_core::proto::Provider;
use vibemesh_tests::ai_scenarios as s;

const P: Provider = Provider::Codex;

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
