//! Claude Code's stream-json output, a line at a time, as events and requests.

use serde_json::{Value, json};
use vibemesh_core::proto::{
    Provider,
    ai::{AiEvent, Usage},
};

/// What one line of the CLI's output asks of the driver.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Record this event.
    Event(AiEvent),
    /// The CLI's session id.
    SessionId(String),
    /// A permission prompt.
    Approval {
        /// The control request's id.
        id: String,
        /// The tool.
        tool: String,
        /// Its input.
        input: Value,
        /// What it does.
        description: Option<String>,
    },
    /// The CLI withdrew a permission prompt.
    Cancel(String),
    /// A control request this driver does not serve: answer with an error.
    Refuse(String),
    /// Stop the turn (the API refuses our key: retrying cannot help).
    Interrupt,
}

/// What the translator remembers between lines.
#[derive(Debug, Default)]
pub struct Translator {
    started: bool,
    /// Whether this process resumed an earlier session.
    pub resumed: bool,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn unknown(line: &str) -> Action {
    Action::Event(AiEvent::Unknown {
        provider: Provider::Claude,
        raw: line.to_string(),
    })
}

impl Translator {
    /// A translator for a new process; `resumed` when it resumes an earlier session.
    pub fn new(resumed: bool) -> Self {
        Self {
            resumed,
            ..Self::default()
        }
    }

    /// Turns one line of the CLI's stdout into actions. Never fails: what it does not
    /// understand becomes [`AiEvent::Unknown`].
    pub fn line(&mut self, line: &str) -> Vec<Action> {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return vec![unknown(line)];
        };
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "system" => self.system(&v, line),
            "stream_event" => stream_event(&v, line),
            "assistant" => assistant(&v, line),
            "user" => user(&v, line),
            "result" => vec![result(&v)],
            "control_request" => control_request(&v, line),
            "control_cancel_request" => match str_of(&v, "request_id") {
                Some(id) => vec![Action::Cancel(id)],
                None => vec![unknown(line)],
            },
            // Answers to our own requests, and bookkeeping with nothing to show.
            "control_response" | "rate_limit_event" | "keep_alive" => vec![],
            _ => vec![unknown(line)],
        }
    }

    fn system(&mut self, v: &Value, line: &str) -> Vec<Action> {
        match v.get("subtype").and_then(Value::as_str).unwrap_or("") {
            "init" => {
                let mut out = Vec::new();
                if let Some(id) = str_of(v, "session_id") {
                    out.push(Action::SessionId(id));
                }
                // Sent at the start of every turn; one notice per process is enough.
                if !self.started {
                    self.started = true;
                    out.push(Action::Event(AiEvent::Started {
                        provider: Provider::Claude,
                        provider_session: str_of(v, "session_id"),
                        model: str_of(v, "model"),
                        resumed: self.resumed,
                    }));
                }
                out
            }
            "api_retry" => {
                let status = v.get("error_status").and_then(Value::as_u64);
                let attempt = v.get("attempt").and_then(Value::as_u64).unwrap_or(0);
                let max = v.get("max_retries").and_then(Value::as_u64).unwrap_or(0);
                if matches!(status, Some(401 | 403)) {
                    return vec![
                        Action::Event(AiEvent::Error {
                            message: format!(
                                "the model API refused the key (HTTP {}): check the API key or log in with `claude`",
                                status.unwrap_or(0)
                            ),
                        }),
                        Action::Interrupt,
                    ];
                }
                let why = status.map_or("no answer".to_string(), |s| format!("HTTP {s}"));
                vec![Action::Event(AiEvent::Notice {
                    text: format!("model API failed ({why}); retry {attempt} of {max}"),
                })]
            }
            "compact_boundary" => vec![Action::Event(AiEvent::Notice {
                text: "the conversation was compacted".into(),
            })],
            s if s == "status" || s.starts_with("hook_") || s.starts_with("task_") => vec![],
            _ => vec![unknown(line)],
        }
    }
}

fn stream_event(v: &Value, line: &str) -> Vec<Action> {
    let ev = v.get("event").unwrap_or(&Value::Null);
    match ev.get("type").and_then(Value::as_str).unwrap_or("") {
        "content_block_delta" => {
            let delta = ev.get("delta").unwrap_or(&Value::Null);
            match delta.get("type").and_then(Value::as_str).unwrap_or("") {
                "text_delta" => vec![Action::Event(AiEvent::AssistantDelta {
                    text: str_of(delta, "text").unwrap_or_default(),
                })],
                "input_json_delta" | "thinking_delta" | "signature_delta" | "citations_delta" => {
                    vec![]
                }
                _ => vec![unknown(line)],
            }
        }
        "message_start"
        | "content_block_start"
        | "content_block_stop"
        | "message_delta"
        | "message_stop"
        | "ping" => vec![],
        _ => vec![unknown(line)],
    }
}

fn assistant(v: &Value, line: &str) -> Vec<Action> {
    let msg = v.get("message").unwrap_or(&Value::Null);
    let content = msg.get("content").unwrap_or(&Value::Null);
    if v.get("error").is_some_and(|e| !e.is_null()) {
        let text = text_of(content);
        let message = if text.is_empty() {
            format!("claude: {}", v["error"])
        } else {
            text
        };
        return vec![Action::Event(AiEvent::Error { message })];
    }
    let Some(blocks) = content.as_array() else {
        return vec![unknown(line)];
    };
    let mut out = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => out.push(Action::Event(AiEvent::Assistant {
                text: str_of(b, "text").unwrap_or_default(),
            })),
            "tool_use" | "server_tool_use" => out.push(Action::Event(AiEvent::ToolCall {
                id: str_of(b, "id").unwrap_or_default(),
                name: str_of(b, "name").unwrap_or_default(),
                input: b.get("input").map(Value::to_string).unwrap_or_default(),
            })),
            "thinking" | "redacted_thinking" => {}
            _ => out.push(Action::Event(AiEvent::Unknown {
                provider: Provider::Claude,
                raw: b.to_string(),
            })),
        }
    }
    out
}

fn user(v: &Value, line: &str) -> Vec<Action> {
    let content = v.get("message").and_then(|m| m.get("content"));
    let Some(content) = content else {
        return vec![unknown(line)];
    };
    let blocks = match content {
        Value::Array(b) => b.clone(),
        Value::String(s) => vec![json!({"type":"text","text":s})],
        _ => return vec![unknown(line)],
    };
    let mut out = Vec::new();
    for b in &blocks {
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "tool_result" => out.push(Action::Event(AiEvent::ToolResult {
                id: str_of(b, "tool_use_id").unwrap_or_default(),
                output: text_of(b.get("content").unwrap_or(&Value::Null)),
                is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
            })),
            "text" => {
                let text = str_of(b, "text").unwrap_or_default();
                if text.contains("interrupted by user") {
                    out.push(Action::Event(AiEvent::Interrupted));
                } else {
                    out.push(Action::Event(AiEvent::Notice { text }));
                }
            }
            _ => out.push(Action::Event(AiEvent::Unknown {
                provider: Provider::Claude,
                raw: b.to_string(),
            })),
        }
    }
    out
}

fn result(v: &Value) -> Action {
    let u = v.get("usage").unwrap_or(&Value::Null);
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false);
    Action::Event(AiEvent::TurnEnd {
        usage: Usage {
            input_tokens: n("input_tokens"),
            output_tokens: n("output_tokens"),
            cache_read_tokens: n("cache_read_input_tokens"),
            cache_write_tokens: n("cache_creation_input_tokens"),
        },
        cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
        is_error,
        message: is_error.then(|| {
            str_of(v, "result")
                .filter(|r| !r.is_empty())
                .or_else(|| str_of(v, "subtype"))
                .unwrap_or_else(|| "error".into())
        }),
    })
}

fn control_request(v: &Value, line: &str) -> Vec<Action> {
    let Some(id) = str_of(v, "request_id") else {
        return vec![unknown(line)];
    };
    let req = v.get("request").unwrap_or(&Value::Null);
    match req.get("subtype").and_then(Value::as_str) {
        Some("can_use_tool") => vec![Action::Approval {
            id,
            tool: str_of(req, "tool_name").unwrap_or_default(),
            input: req.get("input").cloned().unwrap_or(json!({})),
            description: str_of(req, "description"),
        }],
        _ => vec![Action::Refuse(id), unknown(line)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_lines_become_events_and_unknown_ones_are_kept() {
        let mut tr = Translator::default();
        let a = tr.line(r#"{"type":"system","subtype":"init","session_id":"s1","model":"m"}"#);
        assert_eq!(a[0], Action::SessionId("s1".into()));
        assert!(matches!(&a[1], Action::Event(AiEvent::Started { .. })));
        // init comes every turn; only the first is shown.
        assert_eq!(
            tr.line(r#"{"type":"system","subtype":"init","session_id":"s1"}"#)
                .len(),
            1
        );
        let d = tr.line(r#"{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}}"#);
        assert_eq!(
            d,
            vec![Action::Event(AiEvent::AssistantDelta { text: "Hi".into() })]
        );
        let u = tr.line(r#"{"type":"brand_new_thing","x":1}"#);
        assert!(
            matches!(&u[0], Action::Event(AiEvent::Unknown { raw, .. }) if raw.contains("brand_new_thing"))
        );
        let g = tr.line("not json at all");
        assert!(matches!(&g[0], Action::Event(AiEvent::Unknown { .. })));
        let p = tr.line(r#"{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"touch x"}}}"#);
        assert!(matches!(&p[0], Action::Approval { id, tool, .. } if id == "r1" && tool == "Bash"));
        let r = tr.line(r#"{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.5,"usage":{"input_tokens":3,"output_tokens":4}}"#);
        assert!(
            matches!(&r[0], Action::Event(AiEvent::TurnEnd { usage, cost_usd: Some(c), is_error: false, .. }) if usage.output_tokens == 4 && *c == 0.5)
        );
    }
}
