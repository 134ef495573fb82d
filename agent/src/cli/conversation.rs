//! A structured AI session in this terminal: the conversation printed as it comes,
//! prompts and approval answers read line by line.
//!
//! Lines are messages, except: `/allow`, `/always`, `/deny` (answer the oldest open
//! approval request), `/interrupt`, `/end` (end the provider's process; the next
//! message resumes it) and `/quit` (detach; the session goes on).
//!
//! Everything printed comes from the model, its tools or the other machine, and is
//! printed inert: line breaks and tabs stay, escape sequences show as `\e[...`.

use std::process::ExitCode;

use tokio::io::{AsyncBufReadExt, BufReader};
use vibemesh_core::{
    client,
    proto::{
        SessionId,
        ai::{AiEvent, ConvClientFrame, ConvServerFrame, ConversationOpen, Decision, Entry},
        local::Target,
    },
    text::{inert, inert_text},
};

use super::{local, stdout::AsyncOut};
use vibemesh_agent::config::Home;

/// Help printed on attach.
const HELP: &str = "[type a message and Enter; /allow /always /deny answer an approval, \
/interrupt stops the turn, /end ends the provider, /quit detaches]";

/// The longest tool output printed (the whole of it stays in the session).
const SHOWN_OUTPUT: usize = 2000;

/// How a conversation stream ended.
enum Ended {
    /// The user detached (`/quit`, end of input).
    Detached,
    /// The agent ended the stream for good (the session is gone, access refused).
    Final(anyhow::Error),
    /// The connection dropped (the agent restarted, the network went): attach again.
    Lost(String),
}

/// Attaches this terminal to structured session `id` on `target`, and attaches again
/// by itself when the connection drops (with backoff, as terminals do), fetching only
/// the entries it has not printed.
pub async fn run(
    home: &Home,
    target: Target,
    peer: &str,
    id: SessionId,
) -> anyhow::Result<ExitCode> {
    let mut out = AsyncOut::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut printer = Printer::default();
    let backoff = client::Backoff::default();
    let mut failures = 0u32;
    loop {
        match attach_once(
            home,
            &target,
            peer,
            id,
            &mut printer,
            &mut lines,
            failures > 0,
        )
        .await
        {
            Ok(Ended::Detached) => break,
            Ok(Ended::Final(e)) => return Err(e),
            Ok(Ended::Lost(why)) | Err(AttachError::Lost(why)) => {
                failures += 1;
                let wait = backoff.delay(failures);
                let note = format!(
                    "\n[vibemesh] {}; reconnecting in {:.1} s (try {failures})\n",
                    inert_text(&why),
                    wait.as_secs_f64()
                );
                out.write(note.as_bytes()).await?;
                tokio::time::sleep(wait).await;
            }
            Err(AttachError::Final(e)) => return Err(e),
        }
    }
    out.write(
        format!("\n[detached from {id}; `vibemesh attach {peer} {id}` comes back]\n").as_bytes(),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Why attaching failed.
enum AttachError {
    /// Trying again is pointless.
    Final(anyhow::Error),
    /// The connection did not come up; try again.
    Lost(String),
}

impl<E: Into<anyhow::Error>> From<E> for AttachError {
    fn from(e: E) -> Self {
        AttachError::Final(e.into())
    }
}

/// One attach: prints what comes (after what `printer` printed already) and sends what
/// is typed, until the stream ends.
async fn attach_once(
    home: &Home,
    target: &Target,
    peer: &str,
    id: SessionId,
    printer: &mut Printer,
    lines: &mut tokio::io::Lines<BufReader<tokio::io::Stdin>>,
    again: bool,
) -> Result<Ended, AttachError> {
    let lost = |e: &dyn std::fmt::Display| AttachError::Lost(e.to_string());
    let (_, r, w) = match local::route(home, target.clone()).await {
        Ok(s) => s,
        Err(e) => match e.downcast_ref::<vibemesh_core::WireError>() {
            Some(w) if !client::is_final(w) => return Err(lost(w)),
            _ => return Err(AttachError::Final(e)),
        },
    };
    let opened = client::open_conversation(
        r,
        w,
        ConversationOpen {
            session: id,
            after: printer.last_seq,
            watch_only: false,
        },
    )
    .await;
    let (info, mut reader, mut writer) = match opened {
        Ok(s) => s,
        Err(e) => match e.wire() {
            Some(w) if client::is_final(w) => return Err(AttachError::Final(e.into())),
            _ => return Err(lost(&e)),
        },
    };
    let mut out = AsyncOut::new();
    let head = if again {
        format!("[vibemesh] reconnected to {peer}\n")
    } else {
        format!(
            "[{} on {peer}: {} in {}]\n{HELP}\n",
            info.id,
            info.provider,
            inert(&info.cwd)
        )
    };
    out.write(head.as_bytes()).await?;
    loop {
        tokio::select! {
            frame = reader.next() => match frame {
                Ok(Some(ConvServerFrame::Entry(e))) => {
                    let text = printer.entry(&e);
                    out.write(text.as_bytes()).await?;
                }
                Ok(Some(ConvServerFrame::Notice(e))) => {
                    let e = inert_text(&e.to_string()).into_owned();
                    out.write(format!("\n[vibemesh] {e}\n").as_bytes()).await?;
                }
                Ok(Some(ConvServerFrame::Closed(e))) | Ok(Some(ConvServerFrame::Refused(e))) => {
                    return Ok(if client::is_final(&e) {
                        Ended::Final(anyhow::anyhow!("{e}"))
                    } else {
                        Ended::Lost(e.to_string())
                    });
                }
                Ok(Some(ConvServerFrame::Attached(_))) => {}
                Ok(None) => return Ok(Ended::Lost(format!("the stream from {peer} ended"))),
                Err(e) => return Ok(Ended::Lost(e.to_string())),
            },
            line = lines.next_line() => {
                let Some(line) = line? else {
                    let _ = writer.finish().await;
                    return Ok(Ended::Detached);
                };
                let frame = match line.trim() {
                    "" => continue,
                    "/quit" => {
                        let _ = writer.finish().await;
                        return Ok(Ended::Detached);
                    }
                    "/interrupt" => ConvClientFrame::Interrupt,
                    "/end" => ConvClientFrame::End,
                    cmd @ ("/allow" | "/always" | "/deny") => {
                        let Some(approval) = printer.open.first().cloned() else {
                            out.write(b"[vibemesh] no approval is waiting\n").await?;
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
                if let Err(e) = writer.send(frame).await {
                    // Said once, never sent again later: the user decides.
                    out.write(b"[vibemesh] not connected: that line was NOT sent\n").await?;
                    return Ok(Ended::Lost(e.to_string()));
                }
            }
        }
    }
}

/// Turns entries into text for a terminal, inert: whatever the model, a tool or the
/// agent says, no escape sequence in it reaches the terminal.
#[derive(Debug, Default)]
pub struct Printer {
    /// Approval requests not answered yet, oldest first.
    pub open: Vec<String>,
    /// The last entry printed: a re-attach asks for what came after it.
    pub last_seq: Option<u64>,
    /// Whether an assistant message is being streamed.
    streaming: bool,
}

/// At most [`SHOWN_OUTPUT`] bytes of `s`, inert.
fn cut(s: &str) -> std::borrow::Cow<'_, str> {
    let mut end = s.len().min(SHOWN_OUTPUT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    inert_text(&s[..end])
}

impl Printer {
    /// The text for one entry.
    pub fn entry(&mut self, e: &Entry) -> String {
        self.last_seq = Some(e.seq);
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
                    inert(provider_session.as_deref().unwrap_or("-"))
                );
            }
            AiEvent::User { text } => s += &format!("\n> {}\n", inert_text(text)),
            // Printed again, as `> text`, when it is sent as its own turn.
            AiEvent::Queued { text } => {
                s += &format!(
                    "[queued, sent when this turn ends] > {}\n",
                    inert_text(text)
                )
            }
            AiEvent::QueueDropped { reason } => s += &format!("[{}]\n", inert_text(reason)),
            AiEvent::AssistantDelta { text } => {
                self.streaming = true;
                // Escaped one character at a time, so a sequence split across deltas
                // is caught too.
                s += &inert_text(text);
            }
            AiEvent::Assistant { text } => {
                if self.streaming {
                    self.streaming = false;
                    s.push('\n');
                } else {
                    s += &format!("{}\n", inert_text(text));
                }
            }
            AiEvent::ToolCall { name, input, .. } => {
                s += &format!("[tool {}] {}\n", inert(name), cut(input))
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
                    .map(|d| format!(" ({})", inert(d)))
                    .unwrap_or_default();
                s += &format!(
                    "[approval needed] {}{why}: {}\n  answer with /allow, /always or /deny\n",
                    inert(tool),
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
                    s += &format!("[turn failed: {}]\n", inert_text(m));
                }
                s += &format!(
                    "[turn ended: {} in / {} out tokens{cost}; your turn]\n",
                    usage.input_tokens, usage.output_tokens
                );
            }
            AiEvent::Interrupted => s += "[interrupted]\n",
            AiEvent::Error { message } => s += &format!("[error] {}\n", inert_text(message)),
            AiEvent::Notice { text } => s += &format!("[notice] {}\n", inert_text(text)),
            AiEvent::Unknown { provider, raw } => {
                s += &format!(
                    "[{provider} said something this vibemesh does not understand] {}\n",
                    cut(raw)
                )
            }
            AiEvent::ProcessEnded { reason, stderr, .. } => {
                self.open.clear();
                s += &format!("[{}]\n", inert_text(reason));
                for l in stderr {
                    s += &format!("  {}\n", inert_text(l));
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use vibemesh_core::proto::{Provider, ai::Usage};

    use super::*;

    fn printed(events: Vec<AiEvent>) -> String {
        let mut p = Printer::default();
        events
            .into_iter()
            .enumerate()
            .map(|(i, event)| {
                p.entry(&Entry {
                    seq: i as u64 + 1,
                    at_ms: 0,
                    event,
                })
            })
            .collect()
    }

    #[test]
    fn everything_a_model_or_tool_says_is_printed_inert() {
        // Escape sequences in every field a model, a tool or the agent fills: a clipboard
        // write, a window title, a screen clear, a C1 CSI, a DEL, a line overwrite, a
        // bidi override. A sequence split across two deltas too.
        let evil = "\x1b]52;c;ZWNobyBwd25lZAo=\x07\x1b]0;t\x07\x1b[2J\u{9b}H\x7f\rX\u{202e}";
        let s = |t: &str| format!("{t}{evil}");
        let out = printed(vec![
            AiEvent::Started {
                provider: Provider::Claude,
                provider_session: Some(s("sess")),
                model: None,
                resumed: false,
            },
            AiEvent::User { text: s("hi") },
            AiEvent::Queued { text: s("queued") },
            AiEvent::QueueDropped {
                reason: s("dropped"),
            },
            AiEvent::AssistantDelta {
                text: "split \x1b".into(),
            },
            AiEvent::AssistantDelta {
                text: "]0;half\x07 done".into(),
            },
            // Ends the streamed message (already printed).
            AiEvent::Assistant {
                text: "split \x1b]0;half\x07 done".into(),
            },
            AiEvent::Assistant { text: s("final") },
            AiEvent::Assistant {
                text: format!("line 1\n\tcode\r\n{evil}"),
            },
            AiEvent::ToolCall {
                id: "t1".into(),
                name: s("Bash"),
                input: s("{\"command\":\"ls\"}"),
            },
            AiEvent::ToolResult {
                id: "t1".into(),
                output: s("file list"),
                is_error: false,
            },
            AiEvent::Approval {
                id: "a1".into(),
                tool: s("Edit"),
                input: s("{\"file_path\":\"x\"}"),
                description: Some(s("edits x")),
            },
            AiEvent::TurnEnd {
                usage: Usage::default(),
                cost_usd: None,
                is_error: true,
                message: Some(s("failed")),
            },
            AiEvent::Error {
                message: s("error"),
            },
            AiEvent::Notice { text: s("notice") },
            AiEvent::Unknown {
                provider: Provider::Codex,
                raw: s("raw"),
            },
            AiEvent::ProcessEnded {
                reason: s("ended"),
                stderr: vec![s("stderr")],
                clean: false,
            },
        ]);
        let active: Vec<char> = out
            .chars()
            .filter(|&c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}')
            .collect();
        assert_eq!(active, ['\r'], "only the CR of a CR LF is left:\n{out}");
        assert!(out.contains("\tcode\r\n"), "{out}");
        let shown = "\\e]52;c;ZWNobyBwd25lZAo=\\x07\\e]0;t\\x07\\e[2J\\u{9b}H\\x7f\\rX\\u{202e}";
        for what in [
            "sess",
            "hi",
            "queued",
            "dropped",
            "final",
            "Bash",
            "ls\"}",
            "file list",
            "Edit",
            "edits x",
            "x\"}",
            "failed",
            "error",
            "notice",
            "raw",
            "ended",
            "stderr",
        ] {
            assert!(out.contains(&format!("{what}{shown}")), "{what}: {out}");
        }
        assert!(out.contains("split \\e]0;half\\x07 done"), "{out}");
        assert!(out.contains("line 1\n\tcode"), "{out}");
    }
}
