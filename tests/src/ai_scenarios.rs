//! The scenarios every AI provider must pass, with its real CLI against the fake model
//! API; `tests/ai_claude.rs` and `tests/ai_codex.rs` run them for each provider.

use vibemesh_core::{
    client::Item,
    proto::{
        Provider, SessionStatus,
        ai::{Decision, Waiting},
        control::{Event, Unavailable},
    },
};

use crate::{
    FakeModel, InProcPeer,
    ai::{AiWorld, ConvClient, turn_ended, turns},
};

/// The name a provider gives its shell tool.
fn tool_name(p: Provider) -> &'static str {
    if p == Provider::Claude {
        "Bash"
    } else {
        "command"
    }
}

fn streaming(c: &vibemesh_core::client::Conversation) -> bool {
    matches!(
        c.items.last(),
        Some(Item::Assistant {
            streaming: true,
            ..
        })
    )
}

/// Scenario: a plain answer streams to the client.
pub async fn a_plain_answer_streams_to_the_client(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let (control, mut events, driver) = w.conn.control().await.unwrap();
    tokio::spawn(driver.run());
    let info = control.info().await.unwrap();
    assert!(info.providers.contains(&p), "{info:?}");
    let st = info
        .provider_status
        .iter()
        .find(|s| s.provider == p)
        .unwrap();
    assert_eq!(st.unavailable, None, "{st:?}");

    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("say hello").await.unwrap();
    c.wait_for("the answer to start streaming", streaming).await;
    c.wait_for("the answer", turn_ended).await;
    c.assert_understood();
    assert_eq!(
        c.conv.last_assistant_text(),
        Some("Hello from the fake model. You said: say hello")
    );
    // Every client is told, without asking, that it waits for the user...
    loop {
        let ev = tokio::time::timeout(crate::TIMEOUT, events.recv())
            .await
            .expect("a pushed event in time")
            .expect("events");
        if let Event::SessionUpdated(s) = ev
            && s.id == id
            && s.conversation.as_ref().and_then(|c| c.waiting.clone()) == Some(Waiting::Reply)
        {
            break;
        }
    }
    // ...and the session list says so too.
    let s = control.list_sessions().await.unwrap();
    let s = s.iter().find(|s| s.id == id).unwrap();
    assert_eq!(
        s.conversation.as_ref().unwrap().waiting,
        Some(Waiting::Reply)
    );
}

/// Scenario: "always" answers every later call of the same tool in the session, and
/// killing the session ends it and forgets its conversation.
pub async fn allow_always_holds_for_the_session(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("[[run touch one.txt]]").await.unwrap();
    c.wait_for("the approval request", |c| {
        !c.pending_approvals().is_empty()
    })
    .await;
    let aid = c.conv.pending_approvals()[0].0.to_string();
    c.writer.answer(&aid, Decision::AllowAlways).await.unwrap();
    c.wait_for("the first turn", turn_ended).await;
    c.writer.prompt("[[run touch two.txt]]").await.unwrap();
    c.wait_for("the second turn", |c| turns(c) == 2 && turn_ended(c))
        .await;
    c.assert_understood();
    assert!(w.work.path().join("one.txt").exists());
    assert!(w.work.path().join("two.txt").exists(), "{}", c.dump());
    let always = c
        .conv
        .items
        .iter()
        .filter(|i| {
            matches!(
                i,
                Item::Approval {
                    decision: Some(Decision::AllowAlways),
                    ..
                }
            )
        })
        .count();
    assert_eq!(always, 2, "{}", c.dump());

    let conversations = w.agent.path().join("conversations");
    assert_eq!(std::fs::read_dir(&conversations).unwrap().count(), 1);
    w.agent.ok(&["kill", "local", &id.to_string()]);
    assert!(w.agent.ok(&["ls", "local"]).contains("No sessions"));
    assert_eq!(std::fs::read_dir(&conversations).unwrap().count(), 0);
}

/// Scenario: an approved tool call runs while a viewer watches.
pub async fn an_approved_tool_call_runs_while_a_viewer_watches(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut owner = w.attach(id).await;
    let viewer_peer = InProcPeer::bind().await;
    viewer_peer.pair(&w.agent, "viewer").await.unwrap();
    let vconn = viewer_peer.connect(&w.agent).await.unwrap();
    let mut viewer = ConvClient::attach(&vconn, id, None, false).await;

    owner
        .writer
        .prompt("make a file [[run touch created.txt]]")
        .await
        .unwrap();
    let asked = |c: &vibemesh_core::client::Conversation| !c.pending_approvals().is_empty();
    owner.wait_for("the approval request", asked).await;
    viewer
        .wait_for("the approval request (viewer)", asked)
        .await;
    let (aid, tool, input) = owner.conv.pending_approvals()[0];
    let aid = aid.to_string();
    assert_eq!(tool, tool_name(p));
    assert!(input.contains("touch created.txt"), "{input}");
    assert!(!w.work.path().join("created.txt").exists());
    // Every client's session list shows it waiting for an approval.
    let (control, _ev, driver) = vconn.control().await.unwrap();
    tokio::spawn(driver.run());
    let listed = control.list_sessions().await.unwrap();
    let waiting = listed[0].conversation.as_ref().unwrap().waiting.clone();
    assert_eq!(
        waiting,
        Some(Waiting::Approval {
            tool: tool_name(p).into()
        })
    );

    // A viewer may not answer; the owner may.
    viewer.writer.answer(&aid, Decision::Allow).await.unwrap();
    owner.writer.answer(&aid, Decision::Allow).await.unwrap();
    owner.wait_for("the turn to end", turn_ended).await;
    viewer
        .wait_for("the turn to end (viewer)", turn_ended)
        .await;
    assert!(
        viewer.notices.iter().any(|n| n.contains("watching")),
        "{:?}",
        viewer.notices
    );
    assert!(
        w.work.path().join("created.txt").exists(),
        "{}",
        owner.dump()
    );
    for c in [&owner, &viewer] {
        c.assert_understood();
        assert!(c.conv.pending_approvals().is_empty());
        assert!(
            c.conv.items.iter().any(|i| matches!(
                i,
                Item::Approval {
                    decision: Some(Decision::Allow),
                    ..
                }
            )),
            "{}",
            c.dump()
        );
        assert!(
            c.conv.items.iter().any(|i| matches!(i,
            Item::Tool { name, result: Some((_, false)), .. } if name == tool_name(p))),
            "{}",
            c.dump()
        );
    }
    // A late second answer is refused, not applied twice.
    owner.writer.answer(&aid, Decision::Deny).await.unwrap();
    owner.writer.prompt("and now?").await.unwrap();
    owner
        .wait_for("the second turn", |c| turns(c) == 2 && turn_ended(c))
        .await;
    assert!(
        owner.notices.iter().any(|n| n.contains("already answered")),
        "{:?}",
        owner.notices
    );
}

/// Scenario: a denied tool call changes nothing.
pub async fn a_denied_tool_call_changes_nothing(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("[[run touch denied.txt]]").await.unwrap();
    c.wait_for("the approval request", |c| {
        !c.pending_approvals().is_empty()
    })
    .await;
    let aid = c.conv.pending_approvals()[0].0.to_string();
    c.writer.answer(&aid, Decision::Deny).await.unwrap();
    c.wait_for("the turn to end", turn_ended).await;
    c.assert_understood();
    assert!(!w.work.path().join("denied.txt").exists());
    assert!(
        c.conv.items.iter().any(|i| matches!(
            i,
            Item::Tool {
                result: Some((_, true)),
                ..
            }
        )),
        "{}",
        c.dump()
    );
}

/// Scenario: an interrupt stops the turn and the session goes on.
pub async fn an_interrupt_stops_the_turn_and_the_session_goes_on(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("[[hang]]").await.unwrap();
    c.wait_for("the answer to start", streaming).await;
    c.writer.interrupt().await.unwrap();
    c.wait_for("the turn to end", turn_ended).await;
    assert!(
        matches!(
            c.conv.items.last(),
            Some(Item::TurnEnd { error: Some(_), .. })
        ),
        "{}",
        c.dump()
    );
    c.writer.prompt("still there?").await.unwrap();
    c.wait_for("the next answer", |c| turns(c) == 2 && turn_ended(c))
        .await;
    c.assert_understood();
    assert_eq!(
        c.conv.last_assistant_text(),
        Some("Hello from the fake model. You said: still there?")
    );
}

/// Scenario: a conversation survives detach process end and agent restart.
pub async fn a_conversation_survives_detach_process_end_and_agent_restart(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("first question").await.unwrap();
    c.wait_for("the first answer", turn_ended).await;
    let first = c.conv.clone();
    drop(c);

    // Re-attach: the same conversation, no duplicates; after the last seen entry, nothing.
    let mut again = w.attach(id).await;
    again
        .wait_for("the replay", |c| c.last_seq == first.last_seq)
        .await;
    assert_eq!(again.conv, first);
    assert_eq!(again.duplicates, 0);
    assert!(again.received > 0);

    // End the CLI process; the next message resumes its session.
    again
        .writer
        .send(vibemesh_core::proto::ai::ConvClientFrame::End)
        .await
        .unwrap();
    again
        .wait_for(
            "the process to end",
            |c| matches!(c.items.last(), Some(Item::Notice(n)) if n.contains("ended")),
        )
        .await;
    again.writer.prompt("second question").await.unwrap();
    again
        .wait_for("the second answer", |c| turns(c) == 2 && turn_ended(c))
        .await;
    assert!(
        again
            .conv
            .items
            .iter()
            .any(|i| matches!(i, Item::Notice(n) if n.contains("resumed"))),
        "{}",
        again.dump()
    );
    let carried = serde_json::to_string(w.fake.turns().last().unwrap()).unwrap();
    assert!(
        carried.contains("first question"),
        "the resumed session lost the first turn"
    );
    again.assert_understood();
    let before = again.conv.clone();
    drop(again);

    // Restart the agent: the conversation comes back from disk and resumes.
    let w = w.restart().await;
    let mut back = ConvClient::attach(&w.conn, id, None, false).await;
    back.wait_for("the replay after restart", |c| {
        c.last_seq >= before.last_seq
    })
    .await;
    assert_eq!(back.conv.items[..before.items.len()], before.items[..]);
    back.writer.prompt("third question").await.unwrap();
    back.wait_for("the third answer", |c| turns(c) == 3 && turn_ended(c))
        .await;
    let carried = serde_json::to_string(w.fake.turns().last().unwrap()).unwrap();
    assert!(
        carried.contains("second question"),
        "the session after restart lost earlier turns"
    );
    back.assert_understood();
}

/// Scenario: no key is a clear error not a hang.
pub async fn no_key_is_a_clear_error_not_a_hang(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, false).await;
    let (control, _ev, driver) = w.conn.control().await.unwrap();
    tokio::spawn(driver.run());
    let info = control.info().await.unwrap();
    let st = info
        .provider_status
        .iter()
        .find(|s| s.provider == p)
        .unwrap();
    // Codex with a model provider of one's own needs no login; only Claude can tell.
    if p == Provider::Claude {
        assert_eq!(st.unavailable, Some(Unavailable::NotLoggedIn), "{st:?}");
    }
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("hello?").await.unwrap();
    c.wait_for("an error", |c| {
        c.items.iter().any(|i| matches!(i, Item::Error(_))) && !c.busy
    })
    .await;
    let err = c
        .conv
        .items
        .iter()
        .find_map(|i| match i {
            Item::Error(e) => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    let expect = if p == Provider::Claude {
        "log"
    } else {
        "environment variable"
    };
    assert!(err.to_lowercase().contains(expect), "{err}");
    c.assert_understood();
}

/// The child processes of `pid` whose command line mentions `name`.
pub(crate) fn children_named(pid: u32, name: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for k in kids
            .split_whitespace()
            .filter_map(|k| k.parse::<i32>().ok())
        {
            let cmd = std::fs::read(format!("/proc/{k}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmd).contains(name) {
                out.push(k);
            }
        }
    }
    out
}

/// Scenario: a crash ends the session with its reason.
pub async fn a_crash_ends_the_session_with_its_reason(p: Provider) {
    let w = AiWorld::start(FakeModel::start().await, true).await;
    let id = w.start_session(p).await;
    let mut c = w.attach(id).await;
    c.writer.prompt("[[hang]]").await.unwrap();
    c.wait_for("the answer to start", streaming).await;
    let name = p.to_string();
    let kids = children_named(w.agent.pid(), &name);
    assert_eq!(kids.len(), 1, "one {name} process under the agent");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(kids[0]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    c.wait_for("the crash", |c| {
        c.items
            .iter()
            .any(|i| matches!(i, Item::Error(e) if e.contains("crashed")))
    })
    .await;
    let err = c
        .conv
        .items
        .iter()
        .find_map(|i| match i {
            Item::Error(e) if e.contains("crashed") => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert!(err.contains("SIGKILL"), "{err}");
    let (control, _ev, driver) = w.conn.control().await.unwrap();
    tokio::spawn(driver.run());
    let s = control.list_sessions().await.unwrap();
    assert!(matches!(s[0].status, SessionStatus::Exited(_)), "{s:?}");
    // The agent is unaffected: a new session works.
    let id2 = w.start_session(p).await;
    let mut c2 = w.attach(id2).await;
    c2.writer.prompt("hi").await.unwrap();
    c2.wait_for("an answer", turn_ended).await;
}
