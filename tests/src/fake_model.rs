//! A scripted fake model API on 127.0.0.1, so the real `claude` and `codex` CLIs can be
//! tested without a real model or the internet. It speaks the Anthropic Messages
//! streaming format on `/v1/messages` and the OpenAI Responses format on
//! `/v1/responses`, one HTTP/1.1 request per connection.
//!
//! The script reads the prompt: `[[run <command>]]` asks for a shell tool call,
//! `[[write <absolute path>]]` asks Claude's Write tool to create that file (a file edit
//! with a diff; [`WRITE_CONTENT`] is what it writes), `[[hang]]` starts an answer that never finishes (until the client goes away),
//! anything else gets a short text answer. A request that carries a tool's result gets "The
//! tool ran.". Every request body is kept for assertions.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// What the fake answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A text answer, streamed in two pieces.
    Text(String),
    /// A shell tool call with this command line.
    Shell(String),
    /// A Write tool call (Claude) creating the file at this absolute path with
    /// [`WRITE_CONTENT`].
    Write(String),
    /// An HTTP error status.
    Status(u16),
    /// Start a text answer and never finish it.
    Hang,
}

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method and path.
    pub target: String,
    /// The JSON body (`Null` when there was none).
    pub body: Value,
}

/// How the fake answers every request: `None` uses [`standard_reply`].
pub type Script = Arc<dyn Fn(&Value) -> Option<Reply> + Send + Sync>;

/// The running fake.
pub struct FakeModel {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// How many model turns were asked for; changes wake waiters.
    count: tokio::sync::watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeModel {
    /// Starts the fake with the standard script, on the current tokio runtime.
    pub async fn start() -> Self {
        Self::start_with(Arc::new(|_| None)).await
    }

    /// Starts the fake with `script` in front of the standard one.
    pub async fn start_with(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let issued = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let (count_tx, count) = tokio::sync::watch::channel(0usize);
        let count_tx = Arc::new(count_tx);
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (seen, issued, script) = (s2.clone(), issued.clone(), script.clone());
                let count_tx = count_tx.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, seen, issued, &count_tx, script).await;
                });
            }
        });
        Self {
            addr,
            seen,
            count,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` model turns were asked for.
    pub async fn wait_turns(&self, n: usize) {
        let mut rx = self.count.clone();
        tokio::time::timeout(crate::ai::AI_TIMEOUT, rx.wait_for(|c| *c >= n))
            .await
            .expect("the model was asked in time")
            .expect("fake model running");
    }

    /// The model requests so far (tool-using turns, not side queries).
    pub fn turns(&self) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|s| has_tools(&s.body))
            .map(|s| s.body)
            .collect()
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a request is a model turn (Claude Code also sends side queries without
/// tools; Codex puts its tools inside `input`).
fn has_tools(body: &Value) -> bool {
    body.get("input").is_some_and(Value::is_array)
        || body
            .get("tools")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
}

/// The text a user typed last (not the reminders CLIs add), and whether the newest
/// input carries a tool's result.
pub fn last_input(body: &Value) -> (String, bool) {
    // The CLIs add reminders (skills, agents, environment) as extra text blocks; the
    // typed text is the first block that is not one of them.
    let typed = |texts: Vec<String>| {
        let markers = texts.iter().find(|t| t.contains("[["));
        markers
            .or_else(|| {
                texts.iter().find(|t| {
                    let t = t.trim_start();
                    !t.starts_with('<') && !t.starts_with("[Request") && !t.is_empty()
                })
            })
            .cloned()
            .unwrap_or_default()
    };
    let texts_of = |content: &Value| match content {
        Value::String(s) => vec![s.clone()],
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    };
    // Anthropic: messages[..].content; OpenAI Responses: input[..].
    if let Some(msgs) = body.get("messages").and_then(Value::as_array) {
        // Claude Code appends a `system` message after the user's turn.
        let Some(last) = msgs.iter().rev().find(|m| m["role"] == "user") else {
            return (String::new(), false);
        };
        let tool = last["content"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["type"] == "tool_result"));
        return (typed(texts_of(&last["content"])), tool);
    }
    let items = body
        .get("input")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tool = items
        .last()
        .is_some_and(|i| i["type"] == "function_call_output");
    let texts = items
        .iter()
        .rev()
        .find(|i| {
            i["role"] == "user"
                && texts_of(&i["content"])
                    .iter()
                    .any(|t| !t.trim_start().starts_with('<'))
        })
        .map(|i| texts_of(&i["content"]))
        .unwrap_or_default();
    (typed(texts), tool)
}

/// What a `[[write PATH]]` tool call writes.
pub const WRITE_CONTENT: &str = "/// Greets `name`.\npub fn greet(name: &str) -> String {\n    format!(\"Hello, {name}!\")\n}\n";

/// The standard script: `[[run CMD]]` asks for a shell call, `[[hang]]` never finishes,
/// anything else is echoed.
pub fn standard_reply(body: &Value) -> Reply {
    if !has_tools(body) {
        return Reply::Text("ok".into());
    }
    let (text, tool_result) = last_input(body);
    if text.contains("[[hang]]") && !tool_result {
        return Reply::Hang;
    }
    // A command asked for before that comes back with a result is turned into "The
    // tool ran." by the server, which remembers what it asked.
    if let Some(i) = text.find("[[run ") {
        let rest = &text[i + 6..];
        let cmd = rest[..rest.find("]]").unwrap_or(rest.len())]
            .trim()
            .to_string();
        return Reply::Shell(cmd);
    }
    if let Some(i) = text.find("[[write ") {
        let rest = &text[i + 8..];
        let path = rest[..rest.find("]]").unwrap_or(rest.len())].trim();
        return Reply::Write(path.to_string());
    }
    if tool_result {
        return Reply::Text("The tool ran.".into());
    }
    Reply::Text(format!(
        "Hello from the fake model. You said: {}",
        text.trim()
    ))
}

async fn serve(
    sock: TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    issued: Arc<Mutex<std::collections::HashSet<String>>>,
    count: &tokio::sync::watch::Sender<usize>,
    script: Script,
) -> std::io::Result<()> {
    let mut r = BufReader::new(sock);
    let mut request_line = String::new();
    r.read_line(&mut request_line).await?;
    let mut len = 0usize;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).await? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let body = if chunked {
        let mut out = Vec::new();
        loop {
            let mut size = String::new();
            r.read_line(&mut size).await?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).await?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        out
    } else {
        let mut b = vec![0; len];
        r.read_exact(&mut b).await?;
        b
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    seen.lock().unwrap().push(Seen {
        target: format!("{method} {path}"),
        body: body.clone(),
    });
    let openai = path.starts_with("/v1/responses");
    if method != "POST" || !(openai || path.starts_with("/v1/messages")) {
        return respond(&mut r, 404, "application/json", "{}").await;
    }
    if has_tools(&body) {
        count.send_modify(|c| *c += 1);
    }
    let mut reply = script(&body).unwrap_or_else(|| standard_reply(&body));
    // Claude Code may fold a tool's result and the user's next text into one message,
    // so the same request text comes back with the result: each command runs once.
    if let Reply::Shell(_) | Reply::Write(_) = &reply {
        let fresh = issued.lock().unwrap().insert(format!("{reply:?}"));
        if !fresh && last_input(&body).1 {
            reply = Reply::Text("The tool ran.".into());
        }
    }
    let stream = body["stream"].as_bool().unwrap_or(false);
    match (reply, openai) {
        (Reply::Status(code), false) => {
            let e = json!({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}});
            respond(&mut r, code, "application/json", &e.to_string()).await
        }
        (Reply::Status(code), true) => {
            let e = json!({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}});
            respond(&mut r, code, "application/json", &e.to_string()).await
        }
        (reply, false) if !stream => {
            let text = match reply {
                Reply::Text(t) => t,
                _ => "ok".into(),
            };
            let m = json!({"id":"msg_plain","type":"message","role":"assistant","model":body["model"],
                "content":[{"type":"text","text":text}],"stop_reason":"end_turn","stop_sequence":null,
                "usage":{"input_tokens":1,"output_tokens":1}});
            respond(&mut r, 200, "application/json", &m.to_string()).await
        }
        (reply, false) => anthropic_stream(&mut r, &body, reply).await,
        (reply, true) => openai_stream(&mut r, reply).await,
    }
}

async fn respond(
    r: &mut BufReader<TcpStream>,
    code: u16,
    ty: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} X\r\ncontent-type: {ty}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let w = r.get_mut();
    w.write_all(head.as_bytes()).await?;
    w.write_all(body.as_bytes()).await?;
    w.shutdown().await
}

async fn sse(r: &mut BufReader<TcpStream>, events: &[Value]) -> std::io::Result<()> {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!(
            "event: {}\ndata: {e}\n\n",
            e["type"].as_str().unwrap_or("")
        ));
    }
    r.get_mut().write_all(out.as_bytes()).await?;
    r.get_mut().flush().await
}

async fn sse_head(r: &mut BufReader<TcpStream>) -> std::io::Result<()> {
    r.get_mut()
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")
        .await
}

/// Holds the connection until the client goes away.
async fn hang(r: &mut BufReader<TcpStream>) -> std::io::Result<()> {
    let mut buf = [0u8; 256];
    while r.read(&mut buf).await? > 0 {}
    Ok(())
}

fn halves(t: &str) -> (String, String) {
    let mut mid = t.len() / 2;
    while !t.is_char_boundary(mid) {
        mid -= 1;
    }
    (t[..mid].to_string(), t[mid..].to_string())
}

async fn anthropic_stream(
    r: &mut BufReader<TcpStream>,
    body: &Value,
    reply: Reply,
) -> std::io::Result<()> {
    sse_head(r).await?;
    let start = json!({"type":"message_start","message":{"id":"msg_fake","type":"message","role":"assistant",
        "model":body["model"],"content":[],"stop_reason":null,"stop_sequence":null,
        "usage":{"input_tokens":10,"output_tokens":1}}});
    let stop = |reason: &str| {
        vec![
            json!({"type":"content_block_stop","index":0}),
            json!({"type":"message_delta","delta":{"stop_reason":reason,"stop_sequence":null},"usage":{"output_tokens":12}}),
            json!({"type":"message_stop"}),
        ]
    };
    let text_start =
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}});
    let delta = |t: &str| json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}});
    match reply {
        Reply::Text(t) => {
            let (a, b) = halves(&t);
            let mut evs = vec![start, text_start, delta(&a), delta(&b)];
            evs.extend(stop("end_turn"));
            sse(r, &evs).await?;
        }
        Reply::Shell(cmd) => {
            let input = json!({"command": cmd, "description": "Run a command"});
            let mut evs = vec![start];
            evs.extend(tool_use("Bash", &input));
            evs.extend(stop("tool_use"));
            sse(r, &evs).await?;
        }
        Reply::Write(path) => {
            let input = json!({"file_path": path, "content": WRITE_CONTENT});
            let mut evs = vec![start];
            evs.extend(tool_use("Write", &input));
            evs.extend(stop("tool_use"));
            sse(r, &evs).await?;
        }
        Reply::Hang => {
            sse(r, &[start, text_start, delta("Thinking about it")]).await?;
            return hang(r).await;
        }
        Reply::Status(_) => {}
    }
    r.get_mut().shutdown().await
}

/// The stream events of a tool call, its input in one delta.
fn tool_use(name: &str, input: &Value) -> [Value; 2] {
    [
        json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_fake1","name":name,"input":{}}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":input.to_string()}}),
    ]
}

async fn openai_stream(r: &mut BufReader<TcpStream>, reply: Reply) -> std::io::Result<()> {
    sse_head(r).await?;
    let created = json!({"type":"response.created","response":{"id":"resp_fake"}});
    let completed = json!({"type":"response.completed","response":{"id":"resp_fake","usage":{
        "input_tokens":10,"input_tokens_details":null,"output_tokens":5,"output_tokens_details":null,"total_tokens":15}}});
    let added = json!({"type":"response.output_item.added","item":{"type":"message","role":"assistant","id":"msg_fake","content":[]}});
    let delta =
        |t: &str| json!({"type":"response.output_text.delta","item_id":"msg_fake","delta":t});
    match reply {
        Reply::Text(t) => {
            let (a, b) = halves(&t);
            let done = json!({"type":"response.output_item.done","item":{"type":"message","role":"assistant","id":"msg_fake",
                "content":[{"type":"output_text","text":t}]}});
            sse(r, &[created, added, delta(&a), delta(&b), done, completed]).await?;
        }
        Reply::Shell(cmd) => {
            let args = json!({ "cmd": cmd }).to_string();
            let call = json!({"type":"response.output_item.done","item":{"type":"function_call","call_id":"call_fake1",
                "name":"exec_command","arguments":args}});
            sse(r, &[created, call, completed]).await?;
        }
        Reply::Hang => {
            sse(r, &[created, added, delta("Thinking about it")]).await?;
            return hang(r).await;
        }
        // Codex has no Write tool; say so rather than hang.
        Reply::Write(_) => {
            let t = "Write is a Claude tool";
            let done = json!({"type":"response.output_item.done","item":{"type":"message","role":"assistant","id":"msg_fake",
                "content":[{"type":"output_text","text":t}]}});
            sse(r, &[created, added, delta(t), done, completed]).await?;
        }
        Reply::Status(_) => {}
    }
    r.get_mut().shutdown().await
}
