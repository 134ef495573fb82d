use super::*;
use crate::proto::ai::{AiEvent, Entry};

#[test]
fn claude_tools_are_summed_up_by_what_they_touch() {
    let cases = [
        (
            "Bash",
            r#"{"command":"ls -l\n  more","description":"list"}"#,
            "ls -l more",
        ),
        ("Read", r#"{"file_path":"/a/b.rs","limit":10}"#, "/a/b.rs"),
        (
            "Write",
            r#"{"file_path":"/a/new.txt","content":"x"}"#,
            "/a/new.txt",
        ),
        (
            "Edit",
            r#"{"file_path":"/a/b.rs","old_string":"x","new_string":"y"}"#,
            "/a/b.rs",
        ),
        (
            "MultiEdit",
            r#"{"file_path":"/a/c.rs","edits":[]}"#,
            "/a/c.rs",
        ),
        (
            "NotebookEdit",
            r#"{"notebook_path":"/n.ipynb","new_source":"x"}"#,
            "/n.ipynb",
        ),
        (
            "Grep",
            r#"{"pattern":"fn main","path":"src"}"#,
            "fn main in src",
        ),
        ("Glob", r#"{"pattern":"**/*.rs"}"#, "**/*.rs"),
        ("LS", r#"{"path":"/w"}"#, "/w"),
        (
            "WebFetch",
            r#"{"url":"https://x.test/a","prompt":"p"}"#,
            "https://x.test/a",
        ),
        ("WebSearch", r#"{"query":"rust egui"}"#, "rust egui"),
        (
            "Task",
            r#"{"description":"find the bug","prompt":"long"}"#,
            "find the bug",
        ),
        (
            "TodoWrite",
            r#"{"todos":[{"content":"a"},{"content":"b"}]}"#,
            "2 to-dos",
        ),
    ];
    for (tool, input, want) in cases {
        assert_eq!(summary(tool, input), want, "{tool}");
    }
}

#[test]
fn codex_tools_are_summed_up_by_what_they_touch() {
    // The app server sends a command line, `codex exec` an argument vector.
    assert_eq!(
        summary("command", r#"{"command":"cargo test","cwd":"/w"}"#),
        "cargo test"
    );
    assert_eq!(
        summary("command", r#"{"command":["bash","-lc","ls"]}"#),
        "bash -lc ls"
    );
    let edit = r#"{"changes":[{"path":"src/a.rs","kind":"update"},{"path":"b.md","kind":"add"}]}"#;
    assert_eq!(summary("edit", edit), "src/a.rs, b.md");
}

#[test]
fn unknown_tools_show_a_known_field_or_their_input() {
    assert_eq!(
        summary("github/search", r#"{"query":"is:open"}"#),
        "is:open"
    );
    assert_eq!(summary("mystery", r#"{"n":1}"#), r#"{"n":1}"#);
    assert_eq!(summary("mystery", "not json\nat all"), "not json at all");
    // A known tool whose input lacks its field falls back the same way.
    assert_eq!(summary("Bash", r#"{"path":"/x"}"#), "/x");
    let long = format!(r#"{{"command":"{}"}}"#, "x".repeat(500));
    let s = summary("Bash", &long);
    assert!(
        s.len() <= SUMMARY_MAX && s.ends_with(crate::text::CUT_MARK),
        "{s}"
    );
}

#[test]
fn summaries_and_diffs_are_inert() {
    let evil = r#"{"command":"ls \u001b]52;c;eA==\u0007 \u202e x"}"#;
    assert_eq!(summary("Bash", evil), "ls \\e]52;c;eA==\\x07 \\u{202e} x");
    let edit = r#"{"file_path":"/a\u001b[2J","old_string":"a\u0007","new_string":"b"}"#;
    let d = edit_diff("Edit", edit).expect("an edit");
    assert_eq!(d[0].text, "/a\\e[2J");
    assert_eq!(d[1].text, "-a\\x07");
}

fn texts(d: Option<Vec<DiffLine>>) -> Vec<(LineKind, String)> {
    d.expect("a diff")
        .into_iter()
        .map(|l| (l.kind, l.text))
        .collect()
}

#[test]
fn claude_edits_and_writes_and_codex_changes_become_diffs() {
    use LineKind::*;
    let l = |k, t: &str| (k, t.to_string());
    let edit = r#"{"file_path":"/w/a.rs","old_string":"let x = 1;","new_string":"let x = 2;"}"#;
    assert_eq!(
        texts(edit_diff("Edit", edit)),
        [
            l(File, "/w/a.rs"),
            l(Removed, "-let x = 1;"),
            l(Added, "+let x = 2;")
        ]
    );
    let write = r#"{"file_path":"/w/new.txt","content":"one\ntwo"}"#;
    assert_eq!(
        texts(edit_diff("Write", write)),
        [l(File, "/w/new.txt"), l(Added, "+one"), l(Added, "+two")]
    );
    let multi = r#"{"file_path":"/w/b","edits":[{"old_string":"a","new_string":"b"},{"old_string":"c","new_string":"d"}]}"#;
    assert_eq!(texts(edit_diff("MultiEdit", multi)).len(), 5);
    let codex = r#"{"changes":[{"path":"src/x.rs","kind":{"type":"update"},"diff":"@@ -1 +1 @@\n-a\n+b\n c"}]}"#;
    assert_eq!(
        texts(edit_diff("edit", codex)),
        [
            l(File, "src/x.rs (update)"),
            l(Hunk, "@@ -1 +1 @@"),
            l(Removed, "-a"),
            l(Added, "+b"),
            l(Context, " c")
        ]
    );
    assert_eq!(edit_diff("Bash", r#"{"command":"ls"}"#), None);
    assert_eq!(edit_diff("Edit", "not json"), None);
    assert_eq!(edit_diff("Edit", r#"{"old_string":"no path"}"#), None);
}

#[test]
fn status_and_items_say_what_a_front_end_shows() {
    let mut c = Conversation::new();
    assert_eq!(c.status(), Status::YourTurn);
    let events = [
        AiEvent::User { text: "go".into() },
        AiEvent::Approval {
            id: "a1".into(),
            tool: "Bash".into(),
            input: r#"{"command":"touch x"}"#.into(),
            description: None,
        },
    ];
    for (i, event) in events.into_iter().enumerate() {
        c.apply(&Entry {
            seq: i as u64 + 1,
            at_ms: 0,
            event,
        });
        assert_eq!(c.status(), [Status::Working, Status::NeedsApproval][i]);
    }
    assert_eq!(Status::NeedsApproval.words(), "needs approval");
    let ItemView::Approval {
        summary, answer, ..
    } = ItemView::from(&c.items[1])
    else {
        panic!("not an approval: {:?}", c.items[1]);
    };
    assert_eq!((summary.as_str(), answer), ("touch x", None));
    let usage = Usage {
        input_tokens: 12,
        output_tokens: 3,
        cache_read_tokens: 5,
        cache_write_tokens: 0,
    };
    assert_eq!(
        usage_words(&usage, Some(0.01)),
        "12 in / 3 out tokens · 5 cached · $0.0100"
    );
    assert_eq!(
        CHOICES.map(|c| c.decision),
        [Decision::Allow, Decision::AllowAlways, Decision::Deny]
    );
}
