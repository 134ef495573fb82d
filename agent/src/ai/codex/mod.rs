//! The Codex driver: `codex app-server` over stdio (JSON-RPC 2.0 without the
//! `"jsonrpc"` field, one object per line). A thread per session, a turn per message;
//! approvals arrive as server requests and are answered with `accept` or `decline`.

use std::{collections::HashMap, sync::Arc};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use vibemesh_core::proto::ai::{AiEvent, Usage};

mod translate;

pub use translate::{Action, Translator};

use super::{
    driver::{Cmds, Driver, Out, Ran, drive},
    session::{Conv, DriverCmd, Spawn},
};

/// How the agent lets Codex work: it asks before anything that is not known to be
/// safe, and writes only inside the session's folder.
const APPROVAL_POLICY: &str = "untrusted";
const SANDBOX: &str = "workspace-write";

fn decision(allow: bool) -> Value {
    json!({"decision": if allow { "accept" } else { "decline" }})
}

/// Codex's part of the run loop ([`super::driver`]): a JSON-RPC client of the
/// app-server.
struct Codex {
    tr: Translator,
    next: u64,
    thread: Option<String>,
    turn: Option<String>,
    /// Messages sent before the thread exists wait for it.
    queued: Vec<String>,
    /// Approval requests waiting for the user: our key → the server's request id.
    approvals: HashMap<String, Value>,
}

impl Codex {
    fn request(&mut self, out: &mut Out, method: &str, params: Value) {
        self.next += 1;
        self.tr.requests.insert(self.next, method.to_string());
        out.send(json!({"id": self.next, "method": method, "params": params}));
    }

    fn start_turn(&mut self, out: &mut Out, thread: &str, text: String) {
        let input = json!([{"type": "text", "text": text}]);
        self.request(
            out,
            "turn/start",
            json!({"threadId": thread, "input": input}),
        );
    }
}

impl Driver for Codex {
    fn args(&mut self, _spawn: &Spawn) -> Vec<String> {
        vec!["app-server".to_string()]
    }

    fn start(&mut self, spawn: &Spawn, out: &mut Out) {
        let info = json!({"clientInfo": {"name": "vibemesh", "title": "VibeMesh",
            "version": env!("CARGO_PKG_VERSION")}});
        self.request(out, "initialize", info);
        out.send(json!({"method": "initialized"}));
        let cwd = spawn.cwd.display().to_string();
        let settings = json!({"cwd": cwd, "approvalPolicy": APPROVAL_POLICY, "sandbox": SANDBOX});
        match &spawn.resume {
            Some(thread) => {
                let mut p = settings.clone();
                p["threadId"] = json!(thread);
                // The conversation is replayed from the agent's own log, not Codex's.
                p["excludeTurns"] = json!(true);
                self.request(out, "thread/resume", p);
            }
            None => self.request(out, "thread/start", settings),
        }
    }

    fn line(&mut self, line: &str, conv: &Conv, out: &mut Out) {
        for action in self.tr.line(line) {
            match action {
                Action::Event(ev) => conv.record(ev),
                Action::Thread(t) => {
                    conv.set_provider_session(&t);
                    let first = self.thread.is_none();
                    self.thread = Some(t.clone());
                    if first {
                        for text in std::mem::take(&mut self.queued) {
                            self.start_turn(out, &t, text);
                        }
                    }
                }
                Action::Turn(t) => self.turn = Some(t),
                Action::Approval {
                    id,
                    tool,
                    input,
                    description,
                } => {
                    let key = id.to_string();
                    match conv.request_approval(key.clone(), tool, input.to_string(), description) {
                        Some(allow) => out.send(json!({"id": id, "result": decision(allow)})),
                        None => {
                            self.approvals.insert(key, id);
                        }
                    }
                }
                Action::Refuse(id) => out.send(json!({"id": id, "error": {"code": -32601,
                    "message": "not supported by vibemesh"}})),
                Action::Failed { method, message } => {
                    conv.record(AiEvent::Error {
                        message: format!("codex refused {method}: {message}"),
                    });
                    if method.starts_with("turn/start") {
                        conv.record(AiEvent::TurnEnd {
                            usage: Usage::default(),
                            cost_usd: None,
                            is_error: true,
                            message: Some(message),
                        });
                    } else if method.starts_with("thread/") {
                        // Without a thread nothing can run: end this process.
                        out.close = true;
                    }
                }
            }
        }
    }

    fn command(&mut self, cmd: DriverCmd, out: &mut Out) {
        match cmd {
            DriverCmd::Prompt(text) => match self.thread.clone() {
                Some(t) => self.start_turn(out, &t, text),
                None => self.queued.push(text),
            },
            DriverCmd::Answer { id, allow } => {
                if let Some(rid) = self.approvals.remove(&id) {
                    out.send(json!({"id": rid, "result": decision(allow)}));
                }
            }
            DriverCmd::Interrupt => {
                if let (Some(th), Some(tu)) = (&self.thread, &self.turn) {
                    let p = json!({"threadId": th, "turnId": tu});
                    self.request(out, "turn/interrupt", p);
                }
            }
            DriverCmd::End | DriverCmd::Kill => {}
        }
    }
}

/// Runs one `codex app-server` for `conv` until it ends.
pub async fn run(
    conv: Arc<Conv>,
    generation: u64,
    spawn: Spawn,
    cmds: mpsc::UnboundedReceiver<DriverCmd>,
) {
    let mut cmds = Cmds::new(cmds);
    if std::env::var(super::codex_exec::FORCE_ENV).is_ok_and(|v| v == "1") {
        return super::codex_exec::run(conv, generation, spawn, cmds, Vec::new()).await;
    }
    let mut codex = Codex {
        tr: Translator::new(spawn.resume.is_some()),
        next: 0,
        thread: None,
        turn: None,
        queued: Vec::new(),
        approvals: HashMap::new(),
    };
    let (exit, tail) = match drive(&conv, &spawn, &mut cmds, &mut codex).await {
        Ran::Ended(exit, tail) => (exit, tail),
        Ran::NotStarted(exit, why) => return conv.process_ended(generation, exit, why),
    };
    // An older Codex without app-server: fall back to one `codex exec` per message.
    if !codex.tr.initialized
        && exit.code != Some(0)
        && tail.iter().any(|l| l.contains("app-server"))
    {
        conv.record(AiEvent::Notice {
            text: "this codex has no app-server; using `codex exec --json` (no approvals)".into(),
        });
        return super::codex_exec::run(conv, generation, spawn, cmds, codex.queued).await;
    }
    conv.process_ended(generation, exit, tail);
}
