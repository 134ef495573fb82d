//! What a conversation item says, independent of how it is drawn: the one place that
//! knows Claude's and Codex's tool-argument names. Every front end (the desktop, the
//! browser, the phone, the CLI) draws these values instead of reading a tool's JSON
//! itself.
//!
//! A tool call's one-line [`summary`] is made [`inert`]: it is meant for a header or a
//! terminal line, where an escape sequence or a line break from the model must not act.

use serde::Serialize;
use serde_json::Value;

use super::Conversation;
use crate::{
    proto::ai::{Decision, Usage},
    text::{cut, inert, inert_text},
};

/// The longest [`summary`], in bytes (about a line of a wide terminal).
const SUMMARY_MAX: usize = 160;

/// A tool call's input on one line: the command for a shell call, the file for a read
/// or an edit, the pattern of a search, the address of a fetch; for a tool this build
/// does not know, a well-known field of its input or the input itself. Inert, one line,
/// at most [`SUMMARY_MAX`] bytes.
pub fn summary(tool: &str, input: &str) -> String {
    let said = serde_json::from_str::<Value>(input)
        .ok()
        .and_then(|v| known(tool, &v).or_else(|| any_field(&v)));
    let line = said.unwrap_or_else(|| input.to_string());
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&inert(&line), SUMMARY_MAX).into_owned()
}

/// The summary of a tool whose arguments this build knows (Claude's tools by their
/// names, Codex's `command` and `edit`).
fn known(tool: &str, v: &Value) -> Option<String> {
    match tool {
        "Bash" | "command" | "shell" | "exec_command" => {
            text(v, "command").or_else(|| text(v, "cmd"))
        }
        "Read" | "Write" | "Edit" | "MultiEdit" => text(v, "file_path"),
        "NotebookEdit" | "NotebookRead" => text(v, "notebook_path"),
        "Grep" | "Glob" => {
            let pattern = text(v, "pattern")?;
            Some(match text(v, "path") {
                Some(p) => format!("{pattern} in {p}"),
                None => pattern,
            })
        }
        "LS" => text(v, "path"),
        "WebFetch" => text(v, "url"),
        "WebSearch" => text(v, "query"),
        "Task" => text(v, "description"),
        "TodoWrite" => Some(format!(
            "{} to-dos",
            v.get("todos").and_then(Value::as_array)?.len()
        )),
        "edit" | "apply_patch" => changed_paths(v),
        _ => None,
    }
}

/// The first well-known field of an unknown tool's input (MCP tools often name theirs
/// like the built-in ones).
fn any_field(v: &Value) -> Option<String> {
    const FIELDS: [&str; 9] = [
        "command",
        "cmd",
        "file_path",
        "notebook_path",
        "path",
        "pattern",
        "url",
        "query",
        "description",
    ];
    FIELDS
        .iter()
        .find_map(|k| text(v, k))
        .or_else(|| changed_paths(v))
}

/// Field `k` as text: a string as it is, an argument vector joined by spaces.
fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

/// The files a Codex edit changes (`{"changes":[{"path",...}]}`), comma-separated.
fn changed_paths(v: &Value) -> Option<String> {
    let paths: Vec<String> = v
        .get("changes")?
        .as_array()?
        .iter()
        .filter_map(|c| text(c, "path"))
        .collect();
    Some(paths.join(", "))
}

/// What a line of an edit's diff is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum LineKind {
    /// The file it changes (and how, for Codex: `update`, `add`, `delete`).
    File,
    /// A unified diff's `@@` hunk header.
    Hunk,
    /// A line taken out.
    Removed,
    /// A line put in.
    Added,
    /// A line around the change.
    Context,
}

/// One line of an edit's diff: its text (with its `-`/`+` mark), made inert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct DiffLine {
    /// What the line is.
    pub kind: LineKind,
    /// The line, without its line break.
    pub text: String,
}

impl DiffLine {
    fn new(kind: LineKind, text: &str) -> Self {
        Self {
            kind,
            text: inert_text(text).into_owned(),
        }
    }
}

/// The edit a tool call makes, as diff lines; `None` when the call is not a file edit
/// this build knows: Claude's `Edit`/`MultiEdit`/`Write` (`file_path`, `old_string`,
/// `new_string` / `content`, or `edits`), Codex's `edit`
/// (`{"changes":[{"path","kind","diff"}]}` with unified diffs).
pub fn edit_diff(tool: &str, input: &str) -> Option<Vec<DiffLine>> {
    let v: Value = serde_json::from_str(input).ok()?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut lines = Vec::new();
    match tool {
        "Edit" | "MultiEdit" | "Write" => {
            lines.push(DiffLine::new(LineKind::File, v.get("file_path")?.as_str()?));
            let edits = match v.get("edits").and_then(Value::as_array) {
                Some(e) => e.clone(),
                None => vec![v.clone()],
            };
            for e in &edits {
                for l in s(e, "old_string").lines() {
                    lines.push(DiffLine::new(LineKind::Removed, &format!("-{l}")));
                }
                for l in s(e, "new_string").lines().chain(s(e, "content").lines()) {
                    lines.push(DiffLine::new(LineKind::Added, &format!("+{l}")));
                }
            }
        }
        "edit" | "apply_patch" => {
            for c in v.get("changes")?.as_array()? {
                // `kind` is a word, or `{"type": word, ...}` in some Codex versions.
                let kind = match c.get("kind") {
                    Some(Value::String(k)) => k.clone(),
                    Some(other) => s(other, "type"),
                    None => String::new(),
                };
                let head = format!("{} ({kind})", s(c, "path"));
                lines.push(DiffLine::new(LineKind::File, head.trim_end_matches(" ()")));
                for l in s(c, "diff").lines() {
                    lines.push(DiffLine::new(diff_kind(l), l));
                }
            }
        }
        _ => return None,
    }
    Some(lines)
}

/// What a line of a unified diff is.
fn diff_kind(l: &str) -> LineKind {
    if l.starts_with("+++") || l.starts_with("---") {
        LineKind::File
    } else if l.starts_with("@@") {
        LineKind::Hunk
    } else if l.starts_with('+') {
        LineKind::Added
    } else if l.starts_with('-') {
        LineKind::Removed
    } else {
        LineKind::Context
    }
}

/// A tool's input to read in full: JSON pretty-printed, anything else as it is.
pub fn pretty(input: &str) -> String {
    serde_json::from_str::<Value>(input)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| input.to_string())
}

/// What a settled approval says.
pub fn decided(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "allowed",
        Decision::AllowAlways => "allowed (always: this tool, this session)",
        Decision::Deny => "denied",
    }
}

/// One answer to an approval request, as a button or a command shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The answer.
    pub decision: Decision,
    /// Its label (the CLI's command is its lower case: `/allow`).
    pub label: &'static str,
    /// What it does.
    pub hint: &'static str,
}

/// The answers to an approval request, in the order they are offered.
pub const CHOICES: [Choice; 3] = [
    Choice {
        decision: Decision::Allow,
        label: "Allow",
        hint: "Run it, this once",
    },
    Choice {
        decision: Decision::AllowAlways,
        label: "Always",
        hint: "Run it, and every later call of this tool in this session",
    },
    Choice {
        decision: Decision::Deny,
        label: "Deny",
        hint: "Do not run it",
    },
];

/// What a structured session is doing, for a badge and the buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Status {
    /// A turn runs (offer to interrupt it).
    Working,
    /// A tool call waits for an answer.
    NeedsApproval,
    /// Nothing runs: the next message is the user's.
    YourTurn,
}

impl Status {
    /// The status in words.
    pub fn words(self) -> &'static str {
        match self {
            Status::Working => "working",
            Status::NeedsApproval => "needs approval",
            Status::YourTurn => "your turn",
        }
    }
}

impl Conversation {
    /// What the session is doing: an open approval comes first, then a running turn.
    pub fn status(&self) -> Status {
        if !self.pending_approvals().is_empty() {
            Status::NeedsApproval
        } else if self.busy {
            Status::Working
        } else {
            Status::YourTurn
        }
    }
}

/// Tokens (and the cost, when known) in words: `12 in / 3 out tokens · $0.0100`.
pub fn usage_words(usage: &Usage, cost_usd: Option<f64>) -> String {
    let mut s = format!(
        "{} in / {} out tokens",
        usage.input_tokens, usage.output_tokens
    );
    if usage.cache_read_tokens > 0 {
        s += &format!(" · {} cached", usage.cache_read_tokens);
    }
    if let Some(c) = cost_usd {
        s += &format!(" · ${c:.4}");
    }
    s
}

mod item;
pub use item::{ItemView, ToolResult};

#[cfg(test)]
mod tests;
