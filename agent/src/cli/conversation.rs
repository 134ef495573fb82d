//! A structured AI session in this terminal: the conversation printed as it comes,
//! prompts and approval answers read line by line.
//!
//! Lines are messages, except: `/allow`, `/always`, `/deny` (answer the oldest open
//! approval request), `/interrupt`, `/end` (end the provider's process; the next
//! message resumes it) and `/quit` (detach; the session goes on).

use std::process::ExitCode;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use vibemesh_core::{
    client,
    proto::{
        SessionId,
        ai::{AiEvent, ConvClientFrame, ConvServerFrame, ConversationOpen, Decision, Entry},
        local::Target,
    },
};

use super::local;
use crate::config::Home;

/// Help printed on attach.
const HELP: &str = "[type a message and Enter; /allow /always /deny answer an approval, \
/interrupt stops the turn, /end ends the provider, /quit detaches]";

/// The longest tool output printed (the whole of it stays in the session).
const SHOWN_OUTPUT: usize = 2000;

/// Attaches this terminal to structured session `id` on `target`.
pub async fn run(
    home: &Home,
    target: Target,
    peer: &str,
    id: SessionId,
) -> anyhow::Result<ExitCode> {
    let (_, r, w) = local::route(home, target).await?;
    let (info, mut reader, mut writer) = client::open_conversation(
        r,
        w,
        ConversationOpen {
            session: id,
            after: None,
            watch_only: false,
        },
    )
    .await?;
    let mut out = tokio::io::stdout();
    out.write_all(
        format!(
            "[{} on {peer}: {} in {}]\n{HELP}\n",
            info.id, info.provider, info.cwd
        )
        .as_bytes(),
    )
    .await?;
    out.flush().await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut printer = Printer::default();
    loop {
        tokio::select! {
            frame = reader.next() => match frame? {
                Some(ConvServerFrame::Entry(e)) => {
                    let text = printer.entry(&e);
                    out.write_all(text.as_bytes()).await?;
                    out.flush().await?;
                }
                Some(ConvServerFrame::Notice(e)) => {
                    out.write_all(format!("\n[vibemesh] {e}\n").as_bytes()).await?;
                    out.flush().await?;
                }
                Some(ConvServerFrame::Closed(e)) | Some(ConvServerFrame::Refused(e)) => {
                    anyhow::bail!("{e}");
                }
                Some(ConvServerFrame::Attached(_)) => {}
                None => break,
            },
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                let frame = match line.trim() {
                    "" => continue,
                    "/quit" => break,
                    "/interrupt" => ConvClientFrame::Interrupt,
                    "/end" => ConvClientFrame::End,
                    cmd @ ("/allow" | "/always" | "/deny") => {
                        let Some(approval) = printer.open.first().cloned() else {
                            out.write_all(b"[vibemesh] no approval is waiting\n").await?;
                            continue;
                        };
                        let decision = match cmd {
                            "/allow" => Decision::Allow,
                            "/always" => Decision::AllowAlways,
                            _ => Decision::Deny,
                        };
                        ConvClientFrame::Answer { approval, decision }
                    }
                    text => ConvClientFrame::Prompt(text.to_string()),
                };
                writer.send(frame).await?;
            }
        }
    }
    let _ = writer.finish().await;
    out.write_all(
        format!("\n[detached from {id}; `vibemesh attach {peer} {id}` comes back]\n").as_bytes(),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Turns entries into text for a terminal.
#[derive(Debug, Default)]
pub struct Printer {
    /// Approval requests not answered yet, oldest first.
    pub open: Vec<String>,
    /// Whether an assistant message is being streamed.
    streaming: bool,
}

fn cut(s: &str) -> &str {
    let mut end = s.len().min(SHOWN_OUTPUT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl Printer {
    /// The text for one entry.
    pub fn entry(&mut self, e: &Entry) -> String {
        let mut s = String::new();
        if self.streaming
            && !matches!(
                e.event,
                AiEvent::AssistantDelta { .. } | AiEvent::Assistant { .. }
            )
        {
            s.push('\n');
            self.streaming = false;
        }
        match &e.event {
            AiEvent::Started {
                provider,
                provider_session,
                resumed,
                ..
            } => {
                let verb = if *resumed { "resumed" } else { "started" };
                s += &format!(
                    "[{provider} {verb}: {}]\n",
                    provider_session.as_deref().unwrap_or("-")
                );
            }
            AiEvent::User { text } => s += &format!("\n> {text}\n"),
            // Printed again, as `> text`, when it is sent as its own turn.
            AiEvent::Queued { text } => {
                s += &format!("[queued, sent when this turn ends] > {text}\n")
            }
            AiEvent::QueueDropped { reason } => s += &format!("[{reason}]\n"),
            AiEvent::AssistantDelta { text } => {
                self.streaming = true;
                s += text;
            }
            AiEvent::Assistant { text } => {
                if self.streaming {
                    self.streaming = false;
                    s.push('\n');
                } else {
                    s += &format!("{text}\n");
                }
            }
            AiEvent::ToolCall { name, input, .. } => {
                s += &format!("[tool {name}] {}\n", cut(input))
            }
            AiEvent::ToolResult {
                output, is_error, ..
            } => {
                let what = if *is_error { "failed" } else { "result" };
                s += &format!("[{what}] {}\n", cut(output.trim_end()));
            }
            AiEvent::Approval {
                id,
                tool,
                input,
                description,
            } => {
                self.open.push(id.clone());
                let why = description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                s += &format!(
                    "[approval needed] {tool}{why}: {}\n  answer with /allow, /always or /deny\n",
                    cut(input)
                );
            }
            AiEvent::Settled { id, decision } => {
                self.open.retain(|o| o != id);
                let d = match decision {
                    Decision::Allow => "allowed",
                    Decision::AllowAlways => "allowed (always, for this tool)",
                    Decision::Deny => "denied",
                };
                s += &format!("[approval {d}]\n");
            }
            AiEvent::TurnEnd {
                usage,
                cost_usd,
                message,
                ..
            } => {
                let cost = cost_usd.map(|c| format!(", ${c:.4}")).unwrap_or_default();
                if let Some(m) = message {
                    s += &format!("[turn failed: {m}]\n");
                }
                s += &format!(
                    "[turn ended: {} in / {} out tokens{cost}; your turn]\n",
                    usage.input_tokens, usage.output_tokens
                );
            }
            AiEvent::Interrupted => s += "[interrupted]\n",
            AiEvent::Error { message } => s += &format!("[error] {message}\n"),
            AiEvent::Notice { text } => s += &format!("[notice] {text}\n"),
            AiEvent::Unknown { provider, raw } => {
                s += &format!(
                    "[{provider} said something this vibemesh does not understand] {}\n",
                    cut(raw)
                )
            }
            AiEvent::ProcessEnded { reason, stderr, .. } => {
                self.open.clear();
                s += &format!("[{reason}]\n");
                for l in stderr {
                    s += &format!("  {l}\n");
                }
            }
        }
        s
    }
}
