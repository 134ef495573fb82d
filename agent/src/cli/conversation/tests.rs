//! The printer: inert output, and each change printed once, in order.

use vibemesh_core::proto::{Provider, ai::Usage};

use super::*;

fn printed(events: Vec<AiEvent>) -> String {
    let mut p = Printer::default();
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            p.entry(&Entry {
                seq: i as u64 + 1,
                at_ms: 0,
                event,
            })
        })
        .collect()
}

#[test]
fn everything_a_model_or_tool_says_is_printed_inert() {
    // Escape sequences in every field a model, a tool or the agent fills: a clipboard
    // write, a window title, a screen clear, a C1 CSI, a DEL, a line overwrite, a
    // bidi override. A sequence split across two deltas too.
    let evil = "\x1b]52;c;ZWNobyBwd25lZAo=\x07\x1b]0;t\x07\x1b[2J\u{9b}H\x7f\rX\u{202e}";
    let s = |t: &str| format!("{t}{evil}");
    let out = printed(vec![
        AiEvent::Started {
            provider: Provider::Claude,
            provider_session: Some(s("sess")),
            model: None,
            resumed: false,
        },
        AiEvent::User { text: s("hi") },
        AiEvent::Queued { text: s("queued") },
        AiEvent::QueueDropped {
            reason: s("dropped"),
        },
        AiEvent::AssistantDelta {
            text: "split \x1b".into(),
        },
        AiEvent::AssistantDelta {
            text: "]0;half\x07 done".into(),
        },
        // Ends the streamed message (already printed).
        AiEvent::Assistant {
            text: "split \x1b]0;half\x07 done".into(),
        },
        AiEvent::Assistant { text: s("final") },
        AiEvent::Assistant {
            text: format!("line 1\n\tcode\r\n{evil}"),
        },
        AiEvent::ToolCall {
            id: "t1".into(),
            name: s("Bash"),
            input: s("{\"command\":\"ls\"}"),
        },
        AiEvent::ToolResult {
            id: "t1".into(),
            output: s("file list"),
            is_error: false,
        },
        AiEvent::Approval {
            id: "a1".into(),
            tool: s("Edit"),
            input: s("{\"file_path\":\"x\"}"),
            description: Some(s("edits x")),
        },
        AiEvent::TurnEnd {
            usage: Usage::default(),
            cost_usd: None,
            is_error: true,
            message: Some(s("failed")),
        },
        AiEvent::Error {
            message: s("error"),
        },
        AiEvent::Notice { text: s("notice") },
        AiEvent::Unknown {
            provider: Provider::Codex,
            raw: s("raw"),
        },
        AiEvent::ProcessEnded {
            reason: s("ended"),
            stderr: vec![s("stderr")],
            clean: false,
        },
    ]);
    let active: Vec<char> = out
        .chars()
        .filter(|&c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}')
        .collect();
    assert_eq!(active, ['\r'], "only the CR of a CR LF is left:\n{out}");
    assert!(out.contains("\tcode\r\n"), "{out}");
    let shown = "\\e]52;c;ZWNobyBwd25lZAo=\\x07\\e]0;t\\x07\\e[2J\\u{9b}H\\x7f\\rX\\u{202e}";
    for what in [
        "sess",
        "hi",
        "queued",
        "dropped",
        "final",
        "Bash",
        "file list",
        "Edit",
        "edits x",
        "failed",
        "error",
        "notice",
        "raw",
        "ended",
        "stderr",
    ] {
        assert!(out.contains(&format!("{what}{shown}")), "{what}: {out}");
    }
    // A tool's input is summed up on one line: white space (the lone CR too) folds
    // into a space, the rest is escaped all the same.
    let one_line = shown.replace("\\rX", " X");
    for input in [r#"{"command":"ls"}"#, r#"{"file_path":"x"}"#] {
        assert!(
            out.contains(&format!("{input}{one_line}")),
            "{input}: {out}"
        );
    }
    assert!(out.contains("split \\e]0;half\\x07 done"), "{out}");
    assert!(out.contains("line 1\n\tcode"), "{out}");
}

#[test]
fn what_changes_in_the_conversation_is_printed_once_in_order() {
    let mut p = Printer::default();
    let mut seq = 0;
    let mut feed = |p: &mut Printer, event: AiEvent| {
        seq += 1;
        p.entry(&Entry {
            seq,
            at_ms: 0,
            event,
        })
    };
    let user = |t: &str| AiEvent::User { text: t.into() };
    let delta = |t: &str| AiEvent::AssistantDelta { text: t.into() };
    let mut out = feed(&mut p, user("a"));
    out += &feed(&mut p, delta("Hel"));
    out += &feed(&mut p, AiEvent::Queued { text: "b".into() });
    out += &feed(&mut p, delta("lo"));
    out += &feed(
        &mut p,
        AiEvent::Assistant {
            text: "Hello".into(),
        },
    );
    out += &feed(
        &mut p,
        AiEvent::ToolCall {
            id: "t".into(),
            name: "Bash".into(),
            input: "ls".into(),
        },
    );
    out += &feed(
        &mut p,
        AiEvent::Approval {
            id: "a1".into(),
            tool: "Bash".into(),
            input: "ls".into(),
            description: None,
        },
    );
    assert_eq!(p.oldest_open_approval().as_deref(), Some("a1"));
    out += &feed(
        &mut p,
        AiEvent::Settled {
            id: "a1".into(),
            decision: Decision::Allow,
        },
    );
    out += &feed(
        &mut p,
        AiEvent::ToolResult {
            id: "t".into(),
            output: "x.txt".into(),
            is_error: false,
        },
    );
    out += &feed(
        &mut p,
        AiEvent::TurnEnd {
            usage: Usage::default(),
            cost_usd: None,
            is_error: false,
            message: None,
        },
    );
    // The queued message goes out as its own turn.
    out += &feed(&mut p, user("b"));
    assert_eq!(
        out,
        "\n> a\nHel\n[queued, sent when this turn ends] > b\nlo\n\
         [tool Bash] ls\n\
         [approval needed] Bash: ls\n  answer with /allow, /always or /deny\n\
         [approval allowed]\n\
         [result] x.txt\n\
         [turn ended: 0 in / 0 out tokens; your turn]\n\
         \n> b\n"
    );
    assert_eq!(p.oldest_open_approval(), None);
    // A replayed entry prints nothing.
    let again = p.entry(&Entry {
        seq: 1,
        at_ms: 0,
        event: user("a"),
    });
    assert_eq!(again, "");
}
