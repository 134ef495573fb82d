//! The Codex driver: `codex app-server` over stdio (JSON-RPC 2.0 without the
//! `"jsonrpc"` field, one object per line). A thread per session, a turn per message;
//! approvals arrive as server requests and are answered with `accept` or `decline`.

use std::{collections::HashMap, sync::Arc};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use vibemesh_core::proto::{
    Provider,
    ai::{AiEvent, Usage},
};

use super::{
    driver::{Cmds, Driver, Out, Ran, drive},
    session::{Conv, DriverCmd, Spawn},
};

/// How the agent lets Codex work: it asks before anything that is not known to be
/// safe, and writes only inside the session's folder.
const APPROVAL_POLICY: &str = "untrusted";
const SANDBOX: &str = "workspace-write";

/// What one line from the app-server asks of the driver.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Record this event.
    Event(AiEvent),
    /// The thread's id.
    Thread(String),
    /// The running turn's id.
    Turn(String),
    /// A server request for approval: answer with `id` (kept as the server sent it).
    Approval {
        /// The request id.
        id: Value,
        /// What kind of tool.
        tool: String,
        /// Its input.
        input: Value,
        /// Why, when the server says.
        description: Option<String>,
    },
    /// A server request this driver does not serve.
    Refuse(Value),
    /// A response to one of our requests failed.
    Failed {
        /// Our request's method.
        method: String,
        /// Its message.
        message: String,
    },
}

/// What the translator remembers between lines.
#[derive(Debug, Default)]
pub struct Translator {
    started: bool,
    /// Whether this process resumed an earlier thread.
    pub resumed: bool,
    /// Our requests waiting for an answer: id → method.
    pub requests: HashMap<u64, String>,
    usage: Usage,
    /// File changes by item id, shown with their approval request.
    changes: HashMap<String, Value>,
    /// Whether the app-server answered `initialize` (it exists and works).
    pub initialized: bool,
}

fn unknown(line: &str) -> Action {
    Action::Event(AiEvent::Unknown {
        provider: Provider::Codex,
        raw: line.to_string(),
    })
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Notifications with nothing to show (progress, bookkeeping, other features).
fn quiet(method: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "thread/",
        "account/",
        "mcpServer/",
        "hook/",
        "model",
        "app/",
        "remoteControl/",
        "fs/",
        "rawResponse",
        "skills/",
        "project/",
        "item/reasoning/",
        "item/plan/",
        "item/commandExecution/outputDelta",
        "item/commandExecution/terminalInteraction",
        "item/fileChange/",
        "item/mcpToolCall/progress",
        "item/autoApprovalReview/",
        "autoApprovalReview/",
        "turn/diff/",
        "turn/plan/",
        "turn/moderationMetadata",
        "serverRequest/resolved",
        "command/exec/",
        "process/",
        "externalAgentConfig/",
        "fuzzyFileSearch/",
        "windows",
    ];
    PREFIXES.iter().any(|p| method.starts_with(p))
}

impl Translator {
    /// Turns one line into actions; what it does not understand becomes
    /// [`AiEvent::Unknown`].
    pub fn line(&mut self, line: &str) -> Vec<Action> {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return vec![unknown(line)];
        };
        let method = v.get("method").and_then(Value::as_str);
        let id = v.get("id").cloned();
        match (method, id) {
            (Some(m), Some(id)) => self.server_request(m, id, &v, line),
            (Some(m), None) => self.notification(m, v.get("params").unwrap_or(&Value::Null), line),
            (None, Some(id)) => self.response(&id, &v),
            (None, None) => vec![unknown(line)],
        }
    }

    fn response(&mut self, id: &Value, v: &Value) -> Vec<Action> {
        let method = id
            .as_u64()
            .and_then(|n| self.requests.remove(&n))
            .unwrap_or_default();
        if let Some(e) = v.get("error") {
            let message = s(e, "message").unwrap_or_else(|| e.to_string());
            return vec![Action::Failed { method, message }];
        }
        let r = v.get("result").unwrap_or(&Value::Null);
        match method.as_str() {
            "initialize" => {
                self.initialized = true;
                vec![]
            }
            "thread/start" | "thread/resume" => self.thread(r.get("thread")),
            "turn/start" => r
                .get("turn")
                .and_then(|t| s(t, "id"))
                .map(|t| vec![Action::Turn(t)])
                .unwrap_or_default(),
            _ => vec![],
        }
    }

    /// A thread started or resumed (said both in the answer and in a notification).
    fn thread(&mut self, thread: Option<&Value>) -> Vec<Action> {
        let Some(id) = thread.and_then(|t| s(t, "id")) else {
            return vec![];
        };
        let mut out = vec![Action::Thread(id.clone())];
        if !self.started {
            self.started = true;
            out.push(Action::Event(AiEvent::Started {
                provider: Provider::Codex,
                provider_session: Some(id),
                model: thread.and_then(|t| s(t, "model")),
                resumed: self.resumed,
            }));
        }
        out
    }

    fn server_request(&mut self, method: &str, id: Value, v: &Value, line: &str) -> Vec<Action> {
        let p = v.get("params").unwrap_or(&Value::Null);
        match method {
            "item/commandExecution/requestApproval" => vec![Action::Approval {
                id,
                tool: "command".into(),
                input: json!({"command": p.get("command"), "cwd": p.get("cwd")}),
                description: s(p, "reason"),
            }],
            "item/fileChange/requestApproval" => {
                let item = s(p, "itemId").unwrap_or_default();
                let changes = self.changes.get(&item).cloned().unwrap_or(Value::Null);
                vec![Action::Approval {
                    id,
                    tool: "edit".into(),
                    input: json!({"changes": changes, "grantRoot": p.get("grantRoot")}),
                    description: s(p, "reason"),
                }]
            }
            _ => vec![Action::Refuse(id), unknown(line)],
        }
    }

    fn notification(&mut self, method: &str, p: &Value, line: &str) -> Vec<Action> {
        match method {
            "thread/started" => self.thread(p.get("thread")),
            "turn/started" => p
                .get("turn")
                .and_then(|t| s(t, "id"))
                .map(|t| vec![Action::Turn(t)])
                .unwrap_or_default(),
            "item/agentMessage/delta" => vec![Action::Event(AiEvent::AssistantDelta {
                text: s(p, "delta").unwrap_or_default(),
            })],
            "item/started" => self.item(p.get("item").unwrap_or(&Value::Null), false, line),
            "item/completed" => self.item(p.get("item").unwrap_or(&Value::Null), true, line),
            "thread/tokenUsage/updated" => {
                let last = &p["tokenUsage"]["last"];
                let n = |k: &str| last.get(k).and_then(Value::as_u64).unwrap_or(0);
                self.usage = Usage {
                    input_tokens: n("inputTokens"),
                    output_tokens: n("outputTokens"),
                    cache_read_tokens: n("cachedInputTokens"),
                    cache_write_tokens: n("cacheWriteInputTokens"),
                };
                vec![]
            }
            "turn/completed" => {
                let turn = p.get("turn").unwrap_or(&Value::Null);
                let status = s(turn, "status").unwrap_or_default();
                let error = turn.get("error").and_then(|e| s(e, "message"));
                let mut out = Vec::new();
                if status == "interrupted" {
                    out.push(Action::Event(AiEvent::Interrupted));
                }
                let is_error = status != "completed";
                out.push(Action::Event(AiEvent::TurnEnd {
                    usage: std::mem::take(&mut self.usage),
                    cost_usd: None,
                    is_error,
                    message: is_error.then(|| error.unwrap_or(status)),
                }));
                out
            }
            "error" => {
                let message = p
                    .get("error")
                    .and_then(|e| s(e, "message"))
                    .unwrap_or_else(|| p.to_string());
                let retry = p.get("willRetry").and_then(Value::as_bool).unwrap_or(false);
                vec![Action::Event(if retry {
                    AiEvent::Notice {
                        text: format!("{message} (retrying)"),
                    }
                } else {
                    AiEvent::Error { message }
                })]
            }
            "warning" | "configWarning" | "deprecationNotice" | "guardianWarning" => {
                let text = s(p, "message")
                    .or_else(|| s(p, "summary"))
                    .unwrap_or_else(|| p.to_string());
                vec![Action::Event(AiEvent::Notice { text })]
            }
            m if quiet(m) => vec![],
            _ => vec![unknown(line)],
        }
    }

    fn item(&mut self, item: &Value, done: bool, line: &str) -> Vec<Action> {
        let id = s(item, "id").unwrap_or_default();
        let ty = s(item, "type").unwrap_or_default();
        let call = |name: &str, input: Value| {
            vec![Action::Event(AiEvent::ToolCall {
                id: id.clone(),
                name: name.into(),
                input: input.to_string(),
            })]
        };
        let result = |output: String, is_error: bool| {
            vec![Action::Event(AiEvent::ToolResult {
                id: id.clone(),
                output,
                is_error,
            })]
        };
        match (ty.as_str(), done) {
            ("agentMessage", true) => vec![Action::Event(AiEvent::Assistant {
                text: s(item, "text").unwrap_or_default(),
            })],
            ("commandExecution", false) => call(
                "command",
                json!({"command": item.get("command"), "cwd": item.get("cwd")}),
            ),
            ("commandExecution", true) => {
                let status = s(item, "status").unwrap_or_default();
                let mut out = s(item, "aggregatedOutput").unwrap_or_default();
                if status == "declined" {
                    out = "declined by the user".into();
                }
                let ok = status == "completed"
                    && item.get("exitCode").and_then(Value::as_i64).unwrap_or(0) == 0;
                result(out, !ok)
            }
            ("fileChange", false) => {
                let changes = item.get("changes").cloned().unwrap_or(Value::Null);
                self.changes.insert(id.clone(), changes.clone());
                call("edit", json!({ "changes": changes }))
            }
            ("fileChange", true) => {
                self.changes.remove(&id);
                let status = s(item, "status").unwrap_or_default();
                let diffs: Vec<String> = item
                    .get("changes")
                    .and_then(Value::as_array)
                    .map(|c| c.iter().filter_map(|c| s(c, "diff")).collect())
                    .unwrap_or_default();
                result(diffs.join("\n"), status != "completed")
            }
            ("mcpToolCall", false) => call(
                &format!(
                    "{}/{}",
                    s(item, "server").unwrap_or_default(),
                    s(item, "tool").unwrap_or_default()
                ),
                item.get("arguments").cloned().unwrap_or(Value::Null),
            ),
            ("dynamicToolCall", false) => call(
                &s(item, "tool").unwrap_or_default(),
                item.get("arguments").cloned().unwrap_or(Value::Null),
            ),
            ("mcpToolCall" | "dynamicToolCall", true) => {
                let ok = item.get("error").is_none_or(Value::is_null)
                    && item.get("success").and_then(Value::as_bool) != Some(false);
                let out = item
                    .get("result")
                    .or_else(|| item.get("contentItems"))
                    .map(Value::to_string)
                    .unwrap_or_default();
                result(out, !ok)
            }
            ("webSearch", false) => call("web_search", item.clone()),
            ("webSearch", true) => result(String::new(), false),
            // Shown through other events, or nothing a conversation view needs.
            (
                "userMessage"
                | "agentMessage"
                | "reasoning"
                | "plan"
                | "contextCompaction"
                | "hookPrompt"
                | "functionCallOutput"
                | "imageView"
                | "sleep"
                | "enteredReviewMode"
                | "exitedReviewMode"
                | "subAgentActivity"
                | "collabAgentToolCall"
                | "imageGeneration",
                _,
            ) => vec![],
            (_, false) => vec![],
            (_, true) => vec![unknown(line)],
        }
    }
}

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
        tr: Translator {
            resumed: spawn.resume.is_some(),
            ..Translator::default()
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_server_lines_become_events_and_unknown_ones_are_kept() {
        let mut tr = Translator::default();
        tr.requests.insert(2, "thread/start".into());
        let t = tr.line(r#"{"id":2,"result":{"thread":{"id":"th1"}}}"#);
        assert_eq!(t[0], Action::Thread("th1".into()));
        assert!(matches!(&t[1], Action::Event(AiEvent::Started { .. })));
        // The notification that follows says the same: no second notice.
        let n = tr.line(r#"{"method":"thread/started","params":{"thread":{"id":"th1"}}}"#);
        assert_eq!(n, vec![Action::Thread("th1".into())]);
        let d = tr.line(r#"{"method":"item/agentMessage/delta","params":{"delta":"Hi"}}"#);
        assert_eq!(
            d,
            vec![Action::Event(AiEvent::AssistantDelta { text: "Hi".into() })]
        );
        let a = tr.line(r#"{"id":0,"method":"item/commandExecution/requestApproval","params":{"command":"touch x","cwd":"/w"}}"#);
        assert!(
            matches!(&a[0], Action::Approval { id, tool, .. } if *id == json!(0) && tool == "command")
        );
        let u = tr.line(r#"{"method":"brand/new","params":{}}"#);
        assert!(matches!(&u[0], Action::Event(AiEvent::Unknown { .. })));
        assert!(
            tr.line(r#"{"method":"thread/status/changed","params":{}}"#)
                .is_empty()
        );
        let t = tr.line(
            r#"{"method":"turn/completed","params":{"turn":{"id":"t","status":"interrupted"}}}"#,
        );
        assert_eq!(t[0], Action::Event(AiEvent::Interrupted));
    }
}
