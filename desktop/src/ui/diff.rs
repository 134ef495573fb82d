//! File edits as coloured diffs: Claude's `Edit`/`MultiEdit`/`Write` inputs carry
//! `file_path`, `old_string`, `new_string` / `content` (or `edits`), Codex's `edit` input
//! is `{"changes":[{"path","kind","diff"}]}` with unified diffs.

use egui::{Frame, Ui};
use serde_json::Value;

use super::conv_items::{GREEN, RED};

/// The diff a tool call's input describes, or `None` when it is not a file edit.
pub fn diff_text(tool: &str, input: &str) -> Option<String> {
    let v: Value = serde_json::from_str(input).ok()?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut text = String::new();
    match tool {
        "Edit" | "MultiEdit" | "Write" => {
            text += &format!("--- {}\n", s(&v, "file_path"));
            let edits = match v.get("edits").and_then(Value::as_array) {
                Some(e) => e.clone(),
                None => vec![v.clone()],
            };
            for e in &edits {
                for l in s(e, "old_string").lines() {
                    text += &format!("-{l}\n");
                }
                for l in s(e, "new_string").lines().chain(s(e, "content").lines()) {
                    text += &format!("+{l}\n");
                }
            }
        }
        "edit" => {
            for c in v.get("changes")?.as_array()? {
                let kind = match c.get("kind") {
                    Some(Value::String(k)) => k.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                text += &format!("--- {} ({kind})\n{}\n", s(c, "path"), s(c, "diff"));
            }
        }
        _ => return None,
    }
    Some(text)
}

/// Draws the diff of a file edit; `false` (nothing drawn) when `input` is not one.
pub fn show(ui: &mut Ui, tool: &str, input: &str) -> bool {
    let Some(text) = diff_text(tool, input) else {
        return false;
    };
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    let plain = ui.visuals().text_color();
    let mut job = egui::text::LayoutJob::default();
    for line in text.lines() {
        let color = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => GREEN,
            Some(b'-') if !line.starts_with("---") => RED,
            _ => plain,
        };
        job.append(
            &format!("{line}\n"),
            0.0,
            egui::TextFormat::simple(mono.clone(), color),
        );
    }
    Frame::NONE
        .fill(ui.visuals().extreme_bg_color)
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(job);
        });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_edits_and_writes_and_codex_changes_become_diffs() {
        let edit = r#"{"file_path":"/w/a.rs","old_string":"let x = 1;","new_string":"let x = 2;"}"#;
        assert_eq!(
            diff_text("Edit", edit).as_deref(),
            Some("--- /w/a.rs\n-let x = 1;\n+let x = 2;\n")
        );
        let write = r#"{"file_path":"/w/new.txt","content":"one\ntwo"}"#;
        assert_eq!(
            diff_text("Write", write).as_deref(),
            Some("--- /w/new.txt\n+one\n+two\n")
        );
        let multi = r#"{"file_path":"/w/b","edits":[{"old_string":"a","new_string":"b"},{"old_string":"c","new_string":"d"}]}"#;
        assert_eq!(
            diff_text("MultiEdit", multi).as_deref(),
            Some("--- /w/b\n-a\n+b\n-c\n+d\n")
        );
        let codex =
            r#"{"changes":[{"path":"src/x.rs","kind":"update","diff":"@@ -1 +1 @@\n-a\n+b"}]}"#;
        assert_eq!(
            diff_text("edit", codex).as_deref(),
            Some("--- src/x.rs (update)\n@@ -1 +1 @@\n-a\n+b\n")
        );
        assert_eq!(diff_text("Bash", r#"{"command":"ls"}"#), None);
        assert_eq!(diff_text("Edit", "not json"), None);
    }
}
