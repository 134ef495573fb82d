//! Codex through the `codex exec --json` fallback (forced here with
//! `VIBEMESH_CODEX_EXEC=1`; it is used by itself where `codex app-server` is missing):
//! one process per message, no approvals, resume by thread id.

use vibemesh_core::{
    client::Item,
    proto::{Provider, ai::ConvClientFrame},
};
use vibemesh_tests::{
    FakeModel,
    ai::{AiWorld, turn_ended, turns},
};

async fn world() -> AiWorld {
    AiWorld::start_env(
        FakeModel::start().await,
        true,
        &[("VIBEMESH_CODEX_EXEC", "1")],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_commands_run_without_asking() {
    let w = world().await;
    let id = w.start_session(Provider::Codex).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("say hello").await.unwrap();
    c.wait_for("the answer", turn_ended).await;
    assert_eq!(
        c.conv.last_assistant_text(),
        Some("Hello from the fake model. You said: say hello")
    );
    c.writer.prompt("[[run touch by-exec.txt]]").await.unwrap();
    c.wait_for("the second turn", |c| turns(c) == 2 && turn_ended(c))
        .await;
    c.assert_understood();
    assert!(w.work.path().join("by-exec.txt").exists(), "{}", c.dump());
    assert!(c.conv.pending_approvals().is_empty());
    assert!(
        c.conv.items.iter().any(
            |i| matches!(i, Item::Tool { name, result: Some((_, false)), .. } if name == "command")
        ),
        "{}",
        c.dump()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_and_resume_after_the_process_ended() {
    let w = world().await;
    let id = w.start_session(Provider::Codex).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("first question").await.unwrap();
    c.wait_for("the first answer", turn_ended).await;
    c.writer.prompt("[[hang]]").await.unwrap();
    // Nothing is shown while exec waits for the model: wait on the model itself.
    w.fake.wait_turns(2).await;
    c.writer.interrupt().await.unwrap();
    c.wait_for("the interrupted turn to end", |c| {
        turns(c) == 2 && turn_ended(c)
    })
    .await;
    assert!(
        matches!(
            c.conv.items.last(),
            Some(Item::TurnEnd { error: Some(_), .. })
        ),
        "{}",
        c.dump()
    );
    c.writer.send(ConvClientFrame::End).await.unwrap();
    c.wait_for(
        "the process to end",
        |c| matches!(c.items.last(), Some(Item::Notice(n)) if n.contains("ended")),
    )
    .await;
    c.writer.prompt("second question").await.unwrap();
    c.wait_for("the resumed answer", |c| turns(c) == 3 && turn_ended(c))
        .await;
    let carried = serde_json::to_string(w.fake.turns().last().unwrap()).unwrap();
    assert!(
        carried.contains("first question"),
        "the resumed thread lost the first turn"
    );
    c.assert_understood();
}
