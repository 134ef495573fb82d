//! The Codex fallback where `codex app-server` is not available: one `codex exec --json`
//! per message (`codex exec resume <thread>` after the first). It cannot ask for
//! approvals: commands run inside Codex's `workspace-write` sandbox without asking.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use vibemesh_core::proto::{
    ExitInfo, Provider,
    ai::{AiEvent, Usage},
};

use super::{
    process::{Proc, Stdout},
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

/// Pends forever when no turn runs.
async fn next_line(turn: &mut Option<(Proc, Stdout)>) -> Option<String> {
    match turn {
        Some((_, out)) => out.next_line().await.ok().flatten(),
        None => std::future::pending().await,
    }
}

/// Runs Codex for `conv` one `exec` per message until asked to end; `queued` are
/// messages that arrived before (the app-server that was tried first took them).
pub async fn run(
    conv: Arc<Conv>,
    generation: u64,
    spawn: Spawn,
    mut cmds: mpsc::UnboundedReceiver<DriverCmd>,
    queued: Vec<String>,
) {
    let mut thread = spawn.resume.clone();
    let mut tr = Translator {
        resumed: thread.is_some(),
        ..Translator::default()
    };
    let mut pending: std::collections::VecDeque<String> = queued.into();
    let mut turn: Option<(Proc, Stdout)> = None;
    let mut over = false;
    let mut interrupted = false;
    let mut ending = false;
    let mut crash: Option<(ExitInfo, Vec<String>)> = None;
    loop {
        if turn.is_none() {
            if let Some(text) = pending.pop_front() {
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
                if let Some(t) = &thread {
                    args.extend(["resume".into(), t.clone()]);
                }
                args.push(text);
                match Proc::spawn(&spawn.program, &args, &spawn.cwd, &[]) {
                    Ok((mut p, out)) => {
                        p.stdin = None;
                        turn = Some((p, out));
                        over = false;
                        interrupted = false;
                    }
                    Err(e) => {
                        crash = Some(super::process::not_started(&spawn.program, &e));
                        break;
                    }
                }
            } else if ending {
                break;
            }
        }
        tokio::select! {
            line = next_line(&mut turn) => match line {
                Some(line) if line.trim().is_empty() => {}
                Some(line) => {
                    for a in tr.line(&line) {
                        match a {
                            Action::Event(ev) => conv.record(ev),
                            Action::Thread(t) => {
                                conv.set_provider_session(&t);
                                thread = Some(t);
                            }
                            Action::TurnOver => over = true,
                        }
                    }
                }
                None => {
                    let Some((p, _)) = turn.take() else { continue };
                    let (exit, tail) = p.wait().await;
                    if over {
                        continue;
                    }
                    if interrupted {
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
            },
            cmd = cmds.recv() => match cmd {
                Some(DriverCmd::Prompt(text)) => pending.push_back(text),
                // No approvals in this mode: nothing ever waits for an answer.
                Some(DriverCmd::Answer { .. }) => {}
                Some(DriverCmd::Interrupt) => {
                    if let Some((p, _)) = &turn {
                        interrupted = true;
                        p.kill();
                    }
                }
                Some(DriverCmd::End) => ending = true,
                Some(DriverCmd::Kill) | None => {
                    if let Some((p, _)) = &turn {
                        p.kill();
                    }
                    break;
                }
            },
        }
    }
    let (exit, tail) = match crash {
        Some(c) => c,
        None => {
            if let Some((p, _)) = turn.take() {
                p.kill();
                let _ = p.wait().await;
            }
            (
                ExitInfo {
                    code: Some(0),
                    signal: None,
                },
                Vec::new(),
            )
        }
    };
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
