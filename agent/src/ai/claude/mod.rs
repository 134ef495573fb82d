//! The Claude Code driver: `claude -p` with stream-json both ways and permission
//! prompts on stdio (the Agent SDK's protocol), one process per session, many turns.

use std::{collections::HashMap, sync::Arc};

use serde_json::{Value, json};
use tokio::sync::mpsc;
mod translate;

pub use translate::{Action, Translator};

use super::{
    driver::{Cmds, Driver, Out, drive},
    session::{Conv, DriverCmd, Spawn},
};

/// Set for the CLI unless the agent's own environment says otherwise: no self-update,
/// and a bounded number of API retries (it retries for minutes by default).
const DEFAULT_ENV: &[(&str, &str)] = &[
    ("DISABLE_AUTOUPDATER", "1"),
    ("CLAUDE_CODE_MAX_RETRIES", "2"),
];

fn control_success(id: &str, response: Value) -> Value {
    json!({"type":"control_response","response":{"subtype":"success","request_id":id,"response":response}})
}

fn permission(input: Value, allow: bool) -> Value {
    if allow {
        json!({"behavior":"allow","updatedInput":input})
    } else {
        json!({"behavior":"deny","message":"The user denied this in VibeMesh.","interrupt":false})
    }
}

/// Claude's part of the run loop ([`super::driver`]).
struct Claude {
    tr: Translator,
    /// The input of each permission prompt waiting for the user, by request id.
    inputs: HashMap<String, Value>,
    next_req: u64,
}

impl Claude {
    fn request(&mut self, request: Value) -> Value {
        self.next_req += 1;
        json!({"type":"control_request","request_id":format!("vibemesh-{}", self.next_req),
            "request":request})
    }
}

impl Driver for Claude {
    fn args(&mut self, spawn: &Spawn) -> Vec<String> {
        let mut args: Vec<String> = [
            "-p",
            "--input-format",
            "stream-json",
            "--output-format",
            "stream-json",
            "--verbose",
            "--include-partial-messages",
            "--permission-prompt-tool",
            "stdio",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(r) = &spawn.resume {
            args.extend(["--resume".into(), r.clone()]);
        } else if let Some(id) = &spawn.new_id {
            args.extend(["--session-id".into(), id.clone()]);
        }
        args
    }

    fn env(&self) -> Vec<(String, String)> {
        DEFAULT_ENV
            .iter()
            .filter(|(k, _)| std::env::var_os(k).is_none())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn start(&mut self, _spawn: &Spawn, out: &mut Out) {
        out.send(self.request(json!({"subtype":"initialize","hooks":null})));
    }

    fn line(&mut self, line: &str, conv: &Conv, out: &mut Out) {
        for action in self.tr.line(line) {
            match action {
                Action::Event(ev) => conv.record(ev),
                Action::SessionId(id) => conv.set_provider_session(&id),
                Action::Approval {
                    id,
                    tool,
                    input,
                    description,
                } => {
                    match conv.request_approval(id.clone(), tool, input.to_string(), description) {
                        Some(allow) => out.send(control_success(&id, permission(input, allow))),
                        None => {
                            self.inputs.insert(id, input);
                        }
                    }
                }
                Action::Cancel(id) => {
                    self.inputs.remove(&id);
                    conv.cancel_approval(&id);
                }
                Action::Refuse(id) => out.send(json!({"type":"control_response","response":{
                    "subtype":"error","request_id":id,"error":"not supported by vibemesh"}})),
                Action::Interrupt => out.send(self.request(json!({"subtype":"interrupt"}))),
            }
        }
    }

    fn command(&mut self, cmd: DriverCmd, out: &mut Out) {
        match cmd {
            DriverCmd::Prompt(text) => out.send(json!({"type":"user",
                "message":{"role":"user","content":text},
                "parent_tool_use_id":null,"session_id":"default"})),
            DriverCmd::Answer { id, allow } => {
                let input = self.inputs.remove(&id).unwrap_or(json!({}));
                out.send(control_success(&id, permission(input, allow)));
            }
            DriverCmd::Interrupt => out.send(self.request(json!({"subtype":"interrupt"}))),
            DriverCmd::End | DriverCmd::Kill => {}
        }
    }
}

/// Runs one Claude process for `conv` until it ends.
pub async fn run(
    conv: Arc<Conv>,
    generation: u64,
    spawn: Spawn,
    cmds: mpsc::UnboundedReceiver<DriverCmd>,
) {
    let mut claude = Claude {
        tr: Translator::new(spawn.resume.is_some()),
        inputs: HashMap::new(),
        next_req: 0,
    };
    let ran = drive(&conv, &spawn, &mut Cmds::new(cmds), &mut claude).await;
    let (exit, tail) = ran.into_parts();
    conv.process_ended(generation, exit, tail);
}
