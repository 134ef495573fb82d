//! The Codex fallback where `codex app-server` is not available: one `codex exec --json`
//! per message (`codex exec resume <thread>` after the first). It cannot ask for
//! approvals: commands run inside Codex's `workspace-write` sandbox without asking.

use std::{collections::VecDeque, sync::Arc};

use serde_json::{Value, json};
use vibemesh_core::proto::{
    ExitInfo, Provider,
    ai::{AiEvent, Usage},
};

use super::{
    driver::{Cmds, Driver, Out, Ran, drive},
    session::{Conv, DriverCmd, Spawn},
};

/// Set to `1` to use this driver even where `codex app-server` exists.
pub const FORCE_ENV: &str = "VIBEMESH_CODEX_EXEC";

/// What one line of `codex exec --json` means.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Record this event.
    Event(AiEvent),
    /// The thread's id.
    Thread(String),
    /// The turn is over (completed or failed).
    TurnOver,
}

/// What the translator remembers between lines.
#[derive(Debug, Default)]
pub struct Translator {
    started: bool,
    /// Whether an earlier thread was resumed.
    pub resumed: bool,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn unknown(line: &str) -> Action {
    Action::Event(AiEvent::Unknown {
        provider: Provider::Codex,
        raw: line.to_string(),
    })
}

impl Translator {
    /// Turns one line into actions.
    pub fn line(&mut self, line: &str) -> Vec<Action> {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return vec![unknown(line)];
        };
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "thread.started" => {
                let Some(id) = s(&v, "thread_id") else {
                    return vec![unknown(line)];
                };
                let mut out = vec![Action::Thread(id.clone())];
                if !self.started {
                    self.started = true;
                    out.push(Action::Event(AiEvent::Started {
                        provider: Provider::Codex,
                        provider_session: Some(id),
                        model: None,
                        resumed: self.resumed,
                    }));
                }
                out
            }
            "turn.started" => vec![],
            "turn.completed" => {
                let u = v.get("usage").unwrap_or(&Value::Null);
                let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
                vec![
                    Action::Event(AiEvent::TurnEnd {
                        usage: Usage {
                            input_tokens: n("input_tokens"),
                            output_tokens: n("output_tokens"),
                            cache_read_tokens: n("cached_input_tokens"),
                            cache_write_tokens: n("cache_write_input_tokens"),
                        },
                        cost_usd: None,
                        is_error: false,
                        message: None,
                    }),
                    Action::TurnOver,
                ]
            }
            "turn.failed" => {
                let message = v
                    .get("error")
                    .and_then(|e| s(e, "message"))
                    .unwrap_or_else(|| "the turn failed".into());
                vec![
                    Action::Event(AiEvent::Error {
                        message: message.clone(),
                    }),
                    Action::Event(AiEvent::TurnEnd {
                        usage: Usage::default(),
                        cost_usd: None,
                        is_error: true,
                        message: Some(message),
                    }),
                    Action::TurnOver,
                ]
            }
            "error" => vec![Action::Event(AiEvent::Notice {
                text: s(&v, "message").unwrap_or_else(|| v.to_string()),
            })],
            "item.started" | "item.updated" => self.item(&v, false, line),
            "item.completed" => self.item(&v, true, line),
            _ => vec![unknown(line)],
        }
    }

    fn item(&mut self, v: &Value, done: bool, line: &str) -> Vec<Action> {
        let item = v.get("item").unwrap_or(&Value::Null);
        let id = s(item, "id").unwrap_or_default();
        let started = v["type"] == "item.started";
        let ev = match (s(item, "type").unwrap_or_default().as_str(), done) {
            ("agent_message", true) => AiEvent::Assistant {
                text: s(item, "text").unwrap_or_default(),
            },
            ("command_execution", false) if started => AiEvent::ToolCall {
                id,
                name: "command".into(),
                input: json!({"command": item.get("command")}).to_string(),
            },
            ("command_execution", true) => {
                let status = s(item, "status").unwrap_or_default();
                let ok = status == "completed"
                    && item.get("exit_code").and_then(Value::as_i64).unwrap_or(0) == 0;
                AiEvent::ToolResult {
                    id,
                    output: s(item, "aggregated_output").unwrap_or_default(),
                    is_error: !ok,
                }
            }
            ("file_change", true) => {
                // Reported once it is applied: the call and its result together.
                let status = s(item, "status").unwrap_or_default();
                return vec![
                    Action::Event(AiEvent::ToolCall {
                        id: id.clone(),
                        name: "edit".into(),
                        input: json!({"changes": item.get("changes")}).to_string(),
                    }),
                    Action::Event(AiEvent::ToolResult {
                        id,
                        output: status.clone(),
                        is_error: status != "completed",
                    }),
                ];
            }
            ("error", true) => AiEvent::Error {
                message: s(item, "message").unwrap_or_default(),
            },
            (
                "agent_message" | "reasoning" | "command_execution" | "file_change" | "todo_list"
                | "web_search" | "mcp_tool_call" | "error",
                _,
            ) => return vec![],
            (_, true) => return vec![unknown(line)],
            (_, false) => return vec![],
        };
        vec![Action::Event(ev)]
    }
}

/// `codex exec`'s part of the run loop ([`super::driver`]), which runs once per
/// message: the messages waiting, and how the running turn went.
struct Exec {
    tr: Translator,
    thread: Option<String>,
    pending: VecDeque<String>,
    /// The message the next process is started with.
    next: Option<String>,
    /// The running turn said it is over.
    over: bool,
    /// The user interrupted the running turn (its process was killed).
    interrupted: bool,
    /// The session asked to end: once the waiting messages have run.
    ending: bool,
    /// The session asked to end at once, or is gone.
    killed: bool,
}

impl Driver for Exec {
    fn args(&mut self, _spawn: &Spawn) -> Vec<String> {
        let mut args: Vec<String> = [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-s",
            "workspace-write",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        if let Some(t) = &self.thread {
            args.extend(["resume".into(), t.clone()]);
        }
        args.extend(self.next.take());
        self.over = false;
        self.interrupted = false;
        args
    }

    fn start(&mut self, _spawn: &Spawn, out: &mut Out) {
        // The message is in its arguments; it gets nothing on stdin.
        out.close = true;
    }

    fn line(&mut self, line: &str, conv: &Conv, _out: &mut Out) {
        for a in self.tr.line(line) {
            match a {
                Action::Event(ev) => conv.record(ev),
                Action::Thread(t) => {
                    conv.set_provider_session(&t);
                    self.thread = Some(t);
                }
                Action::TurnOver => self.over = true,
            }
        }
    }

    fn command(&mut self, cmd: DriverCmd, out: &mut Out) {
        match cmd {
            DriverCmd::Prompt(text) => self.pending.push_back(text),
            // No approvals in this mode: nothing ever waits for an answer.
            DriverCmd::Answer { .. } => {}
            DriverCmd::Interrupt => {
                self.interrupted = true;
                out.kill = true;
            }
            DriverCmd::End | DriverCmd::Kill => {}
        }
    }

    fn ending(&mut self, kill: bool) {
        self.ending = true;
        self.killed |= kill;
    }
}

impl Exec {
    /// Waits, between turns, for the next message; false when the session ends.
    async fn next_message(&mut self, cmds: &mut Cmds) -> bool {
        loop {
            if let Some(text) = self.pending.pop_front() {
                self.next = Some(text);
                return true;
            }
            if self.ending {
                return false;
            }
            match cmds.recv().await {
                Some(DriverCmd::Prompt(text)) => self.pending.push_back(text),
                Some(DriverCmd::Answer { .. } | DriverCmd::Interrupt) => {}
                Some(DriverCmd::End) => self.ending = true,
                Some(DriverCmd::Kill) | None => return false,
            }
        }
    }
}

/// Runs Codex for `conv` one `exec` per message until asked to end; `queued` are
/// messages that arrived before (the app-server that was tried first took them).
pub async fn run(
    conv: Arc<Conv>,
    generation: u64,
    spawn: Spawn,
    mut cmds: Cmds,
    queued: Vec<String>,
) {
    let mut exec = Exec {
        tr: Translator {
            resumed: spawn.resume.is_some(),
            ..Translator::default()
        },
        thread: spawn.resume.clone(),
        pending: queued.into(),
        next: None,
        over: false,
        interrupted: false,
        ending: false,
        killed: false,
    };
    let mut crash = None;
    while exec.next_message(&mut cmds).await {
        let (exit, tail) = match drive(&conv, &spawn, &mut cmds, &mut exec).await {
            Ran::NotStarted(exit, why) => {
                crash = Some((exit, why));
                break;
            }
            Ran::Ended(exit, tail) => (exit, tail),
        };
        if exec.killed {
            break;
        }
        if exec.over {
            continue;
        }
        if exec.interrupted {
            conv.record(AiEvent::Interrupted);
            conv.record(AiEvent::TurnEnd {
                usage: Usage::default(),
                cost_usd: None,
                is_error: true,
                message: Some("interrupted".into()),
            });
            continue;
        }
        // The turn's process died without finishing its turn: a crash.
        crash = Some((exit, tail));
        break;
    }
    let (exit, tail) = crash.unwrap_or((
        ExitInfo {
            code: Some(0),
            signal: None,
        },
        Vec::new(),
    ));
    conv.process_ended(generation, exit, tail);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_lines_become_events_and_unknown_ones_are_kept() {
        let mut tr = Translator::default();
        let a = tr.line(r#"{"type":"thread.started","thread_id":"t1"}"#);
        assert_eq!(a[0], Action::Thread("t1".into()));
        let c = tr.line(r#"{"type":"item.started","item":{"id":"i","type":"command_execution","command":"touch x","status":"in_progress"}}"#);
        assert!(
            matches!(&c[0], Action::Event(AiEvent::ToolCall { name, .. }) if name == "command")
        );
        let m = tr.line(
            r#"{"type":"item.completed","item":{"id":"m","type":"agent_message","text":"hi"}}"#,
        );
        assert_eq!(
            m,
            vec![Action::Event(AiEvent::Assistant { text: "hi".into() })]
        );
        let u = tr.line(r#"{"type":"something.new"}"#);
        assert!(matches!(&u[0], Action::Event(AiEvent::Unknown { .. })));
        let e =
            tr.line(r#"{"type":"turn.completed","usage":{"input_tokens":3,"output_tokens":4}}"#);
        assert_eq!(e[1], Action::TurnOver);
    }
}
