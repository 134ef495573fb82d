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
    client::{
        self, ConvEvent, Conversation, Item,
        view::{self, CHOICES},
    },
    proto::{
        SessionId,
        ai::{AiEvent, ConvClientFrame, ConversationOpen, Decision, Entry},
        local::Target,
    },
    text::{inert, inert_text},
};

use super::stdout::AsyncOut;
use vibemesh_agent::config::Home;

/// Help printed on attach.
const HELP: &str = "[type a message and Enter; /allow /always /deny answer an approval, \
/interrupt stops the turn, /end ends the provider, /quit detaches]";

/// The longest tool output printed (the whole of it stays in the session).
const SHOWN_OUTPUT: usize = 2000;

/// Attaches this terminal to structured session `id` on `target`, on core's
/// reconnecting conversation stream: when the connection drops it attaches again by
/// itself (with backoff, as terminals do), fetching only the entries it has not
/// printed. Lines typed while it is not connected are refused, never sent late.
pub async fn run(
    home: &Home,
    target: Target,
    peer: &str,
    id: SessionId,
) -> anyhow::Result<ExitCode> {
    let open = ConversationOpen {
        session: id,
        after: None,
        watch_only: false,
    };
    let dial = super::attach::dialler(home, target);
    let (handle, mut events, driver) =
        client::reattach_conversation(dial, open, client::Backoff::default());
    let driver = tokio::spawn(driver);
    let result = pump(&handle, &mut events, peer).await;
    driver.abort();
    result?;
    AsyncOut::new()
        .write(
            format!("\n[detached from {id}; `vibemesh attach {peer} {id}` comes back]\n")
                .as_bytes(),
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// Prints what the stream reports and sends what is typed, until the user detaches
/// (`Ok`) or the session is gone (`Err`).
async fn pump(
    handle: &client::ConvHandle,
    events: &mut tokio::sync::mpsc::Receiver<ConvEvent>,
    peer: &str,
) -> anyhow::Result<()> {
    let mut out = AsyncOut::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut printer = Printer::default();
    // Input is read once attached, so that piped lines are not refused at the start.
    let mut reading = false;
    loop {
        tokio::select! {
            ev = events.recv() => {
                let text = match ev {
                    Some(ConvEvent::Attached { info, reconnected }) => {
                        reading = true;
                        if reconnected {
                            format!("[vibemesh] reconnected to {peer}\n")
                        } else {
                            format!(
                                "[{} on {peer}: {} in {}]\n{HELP}\n",
                                info.id,
                                info.provider,
                                inert(&info.cwd)
                            )
                        }
                    }
                    Some(ConvEvent::Entry(e)) => printer.entry(&e),
                    Some(ConvEvent::Notice(e)) => {
                        format!("\n[vibemesh] {}\n", inert_text(&e.to_string()))
                    }
                    Some(ConvEvent::Reconnecting { attempt, delay, error }) => format!(
                        "\n[vibemesh] {}; reconnecting in {:.1} s (try {attempt})\n",
                        inert_text(&error),
                        delay.as_secs_f64()
                    ),
                    // Said once, never sent again later: the user decides.
                    Some(ConvEvent::NotSent(_)) => {
                        "[vibemesh] not connected: that line was NOT sent\n".into()
                    }
                    Some(ConvEvent::Unconfirmed(_)) => "[vibemesh] the connection dropped \
                        while sending that line: it may not have arrived, and is not sent again\n"
                        .into(),
                    Some(ConvEvent::Closed(e)) => return Err(e.into()),
                    Some(ConvEvent::Detached) | None => return Ok(()),
                };
                out.write(text.as_bytes()).await?;
            }
            line = lines.next_line(), if reading => {
                let Some(line) = line? else {
                    // End of input: detach (after what was typed before is sent).
                    handle.detach();
                    reading = false;
                    continue;
                };
                let frame = match line.trim() {
                    "" => continue,
                    "/quit" => {
                        handle.detach();
                        reading = false;
                        continue;
                    }
                    "/interrupt" => ConvClientFrame::Interrupt,
                    "/end" => ConvClientFrame::End,
                    text => match answer(text) {
                        None => ConvClientFrame::Prompt(text.to_string()),
                        Some(decision) => {
                            let Some(approval) = printer.oldest_open_approval() else {
                                out.write(b"[vibemesh] no approval is waiting\n").await?;
                                continue;
                            };
                            ConvClientFrame::Answer { approval, decision }
                        }
                    },
                };
                handle.send(frame);
            }
        }
    }
}

/// Prints a conversation in a terminal as it grows: entries go into core's reducer
/// ([`Conversation`]), and what changed in it is printed, inert: whatever the model,
/// a tool or the agent says, no escape sequence in it reaches the terminal. A terminal
/// cannot redraw what scrolled by, so a change to an item already printed (a tool's
/// result, an approval's answer, more of a message being written) is printed as a
/// line of its own.
#[derive(Debug, Default)]
pub struct Printer {
    /// The conversation so far.
    pub conv: Conversation,
    /// Items of the conversation printed, not counting queued messages at its end
    /// (items before those only ever get added at the end).
    printed: usize,
    /// Printed items that may still change, by index, with what was shown of them.
    open: Vec<(usize, Shown)>,
    /// Queued messages printed (they stay at the end of the items).
    queued: usize,
    /// A message being written was printed without its final line break.
    mid_line: bool,
}

/// What was printed of an item that may still change.
#[derive(Debug, Clone, Copy)]
enum Shown {
    /// A message being written: this many bytes of it.
    Writing(usize),
    /// A tool call waiting for its result.
    Tool,
    /// An approval request waiting for its answer.
    Approval,
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
    /// Applies one entry and returns the text for what it changed (nothing for an
    /// entry applied already).
    pub fn entry(&mut self, e: &Entry) -> String {
        if !self.conv.apply(e) {
            return String::new();
        }
        let ended = matches!(e.event, AiEvent::ProcessEnded { .. });
        let mut s = String::new();
        let open = std::mem::take(&mut self.open);
        for (i, shown) in open {
            if let Some(still) = self.changed(i, shown, ended, &mut s) {
                self.open.push((i, still));
            }
        }
        let body = self.conv.items.len() - self.conv.queued();
        for i in self.printed..body {
            if let Some(shown) = self.item(i, &mut s) {
                self.open.push((i, shown));
            }
        }
        self.printed = body;
        let queued = &self.conv.items[body..];
        for q in queued.iter().skip(self.queued) {
            if let Item::Queued(text) = q {
                line(&mut self.mid_line, &mut s);
                // Printed again, as `> text`, when it is sent as its own turn.
                s += &format!(
                    "[queued, sent when this turn ends] > {}\n",
                    inert_text(text)
                );
            }
        }
        self.queued = queued.len();
        s
    }

    /// The oldest approval request nobody answered yet.
    pub fn oldest_open_approval(&self) -> Option<String> {
        let (id, _, _) = self.conv.pending_approvals().into_iter().next()?;
        Some(id.to_string())
    }

    /// Prints what changed in printed item `i`; what may still change of it after.
    /// `ended`: the provider's process ended (approvals it asked for are void).
    fn changed(&mut self, i: usize, shown: Shown, ended: bool, s: &mut String) -> Option<Shown> {
        match (&self.conv.items[i], shown) {
            (
                Item::Assistant {
                    text,
                    streaming: true,
                },
                Shown::Writing(n),
            ) => {
                // While it is written, a message only grows at its end. Escaped one
                // character at a time, so a sequence split across deltas is caught too.
                if let Some(more) = text.get(n..).filter(|m| !m.is_empty()) {
                    s.push_str(&inert_text(more));
                    self.mid_line = true;
                }
                Some(Shown::Writing(text.len()))
            }
            // Finished: its final text is what was streamed, printed already.
            (Item::Assistant { .. }, Shown::Writing(_)) => {
                line(&mut self.mid_line, s);
                None
            }
            (Item::Tool { result: None, .. }, Shown::Tool) => Some(Shown::Tool),
            (
                Item::Tool {
                    result: Some((output, failed)),
                    ..
                },
                Shown::Tool,
            ) => {
                line(&mut self.mid_line, s);
                s.push_str(&tool_result(output, *failed));
                None
            }
            (Item::Approval { decision: None, .. }, Shown::Approval) => Some(Shown::Approval),
            (
                Item::Approval {
                    decision: Some(d), ..
                },
                Shown::Approval,
            ) => {
                line(&mut self.mid_line, s);
                if ended {
                    s.push_str("[approval void: the process that asked ended]\n");
                } else {
                    s.push_str(&settled(*d));
                }
                None
            }
            // Items never change kind.
            _ => None,
        }
    }

    /// Prints new item `i`; what may still change of it after.
    fn item(&mut self, i: usize, s: &mut String) -> Option<Shown> {
        let item = &self.conv.items[i];
        if let Item::Assistant {
            text,
            streaming: true,
        } = item
        {
            line(&mut self.mid_line, s);
            s.push_str(&inert_text(text));
            self.mid_line = !text.is_empty();
            return Some(Shown::Writing(text.len()));
        }
        line(&mut self.mid_line, s);
        match item {
            Item::User(text) => *s += &format!("\n> {}\n", inert_text(text)),
            Item::Queued(_) => {}
            Item::Assistant { text, .. } => *s += &format!("{}\n", inert_text(text)),
            Item::Tool {
                name,
                input,
                result,
                ..
            } => {
                *s += &format!("[tool {}] {}\n", inert(name), view::summary(name, input));
                match result {
                    Some((output, failed)) => s.push_str(&tool_result(output, *failed)),
                    None => return Some(Shown::Tool),
                }
            }
            Item::Approval {
                tool,
                input,
                description,
                decision,
                ..
            } => {
                let why = description
                    .as_deref()
                    .map(|d| format!(" ({})", inert(d)))
                    .unwrap_or_default();
                *s += &format!(
                    "[approval needed] {}{why}: {}\n  answer with /allow, /always or /deny\n",
                    inert(tool),
                    view::summary(tool, input)
                );
                match decision {
                    Some(d) => s.push_str(&settled(*d)),
                    None => return Some(Shown::Approval),
                }
            }
            Item::TurnEnd {
                usage,
                cost_usd,
                error,
            } => {
                if let Some(m) = error {
                    *s += &format!("[turn failed: {}]\n", inert_text(m));
                }
                *s += &format!(
                    "[turn ended: {}; your turn]\n",
                    view::usage_words(usage, *cost_usd)
                );
            }
            // The first line says what; the rest (a crash's stderr) is indented.
            Item::Error(msg) => {
                let mut lines = msg.lines();
                *s += &format!("[error] {}\n", inert_text(lines.next().unwrap_or("")));
                for l in lines {
                    *s += &format!("  {}\n", inert_text(l));
                }
            }
            Item::Notice(text) => *s += &format!("[{}]\n", inert_text(text)),
            Item::Unknown { provider, raw } => {
                *s += &format!(
                    "[{provider} said something this vibemesh does not understand] {}\n",
                    cut(raw)
                )
            }
        }
        None
    }
}

/// Ends a message printed without its line break, before anything else is printed.
fn line(mid_line: &mut bool, s: &mut String) {
    if std::mem::take(mid_line) {
        s.push('\n');
    }
}

/// A tool's result, as a line.
fn tool_result(output: &str, failed: bool) -> String {
    let what = if failed { "failed" } else { "result" };
    format!("[{what}] {}\n", cut(output.trim_end()))
}

/// An approval's answer, as a line.
fn settled(d: Decision) -> String {
    format!("[approval {}]\n", view::decided(d))
}

/// The answer a command (`/allow`, `/always`, `/deny`: a choice's label in lower case)
/// gives to an approval request.
fn answer(cmd: &str) -> Option<Decision> {
    let word = cmd.strip_prefix('/')?;
    CHOICES
        .iter()
        .find(|c| c.label.to_lowercase() == word)
        .map(|c| c.decision)
}

#[cfg(test)]
mod tests;
