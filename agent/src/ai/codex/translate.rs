//! The Codex app-server's JSON-RPC, a line at a time, as events and requests.

use std::collections::HashMap;

use serde_json::{Value, json};
use vibemesh_core::proto::{
    Provider,
    ai::{AiEvent, Usage},
};

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
    /// A translator for a new process; `resumed` when it resumes an earlier thread.
    pub fn new(resumed: bool) -> Self {
        Self {
            resumed,
            ..Self::default()
        }
    }

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
