//! One conversation item each: the user's bubble, the assistant's text with code
//! blocks, folded tool rows (file edits as diffs, [`super::diff`]), approval cards, turn footers,
//! errors, notices and output this build did not understand.

use egui::{CornerRadius, Frame, Layout, RichText, Stroke, Ui};
use vibemesh_core::{
    client::{
        Item,
        view::{self, CHOICES},
    },
    proto::ai::{ConvClientFrame, Decision, Usage},
};

use crate::theme::accents;

/// Shown after text still being written.
const CARET: &str = "▌";

/// Draws item `index`; what the user asked for (an approval answer) goes to `out`.
/// `steer`: whether this client may answer.
pub fn item(ui: &mut Ui, index: usize, it: &Item, steer: bool, out: &mut Vec<ConvClientFrame>) {
    match it {
        Item::User(text) => user(ui, text, false),
        Item::Queued(text) => user(ui, text, true),
        Item::Assistant { text, streaming } => assistant(ui, text, *streaming),
        Item::Tool {
            name,
            input,
            result,
            ..
        } => tool(ui, index, name, input, result.as_ref()),
        Item::Approval {
            id,
            tool,
            input,
            description,
            decision,
        } => approval(
            ui,
            Approval {
                id,
                tool,
                input,
                description: description.as_deref(),
                decision: *decision,
            },
            steer,
            out,
        ),
        Item::TurnEnd {
            usage,
            cost_usd,
            error,
        } => turn_end(ui, usage, *cost_usd, error.as_deref()),
        Item::Error(msg) => {
            ui.label(RichText::new(msg).color(accents(ui.visuals()).bad));
        }
        Item::Notice(msg) => {
            ui.label(RichText::new(msg).weak().small());
        }
        Item::Unknown { provider, raw } => {
            ui.label(
                RichText::new(format!("unrecognised {provider} output:"))
                    .color(accents(ui.visuals()).warn),
            );
            code(ui, raw);
        }
    }
}

/// The user's bubble; a `queued` one (sent when the running turn ends) is faded and
/// says so.
fn user(ui: &mut Ui, text: &str, queued: bool) {
    let fill = ui.visuals().selection.bg_fill.gamma_multiply(0.35);
    ui.with_layout(Layout::top_down(egui::Align::Max), |ui| {
        Frame::NONE
            .fill(if queued {
                fill.gamma_multiply(0.4)
            } else {
                fill
            })
            .corner_radius(CornerRadius::same(8))
            .inner_margin(8.0)
            .show(ui, |ui| {
                ui.set_max_width(ui.available_width() * 0.8);
                // The bubble sits on the right; its lines still start on the left.
                ui.add(egui::Label::new(text).halign(egui::Align::Min));
                if queued {
                    ui.label(
                        RichText::new("queued: sent when this turn ends")
                            .weak()
                            .small(),
                    );
                }
            });
    });
}

/// Markdown as prose and ``` code blocks, with a caret while it is being written.
fn assistant(ui: &mut Ui, text: &str, streaming: bool) {
    let parts = blocks(text);
    let last = parts.len().saturating_sub(1);
    for (i, (is_code, part)) in parts.iter().enumerate() {
        let caret = if streaming && i == last { CARET } else { "" };
        if *is_code {
            code(ui, &format!("{part}{caret}"));
        } else {
            ui.label(format!("{}{caret}", part.trim_matches('\n')));
        }
    }
    if parts.is_empty() && streaming {
        ui.label(CARET);
    }
}

/// Splits markdown into (is code, text) runs at ``` fences; an unclosed fence (still
/// being written) runs to the end.
pub fn blocks(text: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let Some(open) = rest.find("```") else {
            if !rest.trim().is_empty() {
                out.push((false, rest));
            }
            return out;
        };
        if !rest[..open].trim().is_empty() {
            out.push((false, &rest[..open]));
        }
        // The fence line may name a language: the code starts on the next line.
        let after = &rest[open + 3..];
        let body = after.find('\n').map_or("", |n| &after[n + 1..]);
        match body.find("```") {
            Some(close) => {
                out.push((true, body[..close].trim_end_matches('\n')));
                let tail = &body[close + 3..];
                rest = tail.find('\n').map_or("", |n| &tail[n + 1..]);
            }
            None => {
                out.push((true, body));
                return out;
            }
        }
    }
}

/// Monospace text on a faint background, selectable.
fn code(ui: &mut Ui, text: &str) {
    Frame::NONE
        .fill(ui.visuals().extreme_bg_color)
        .corner_radius(CornerRadius::same(4))
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(egui::Label::new(RichText::new(text).monospace()).selectable(true));
        });
}

/// A tool call folded to one line: its name, the gist of its input, and how it went.
fn tool(ui: &mut Ui, index: usize, name: &str, input: &str, result: Option<&(String, bool)>) {
    let (state, failed) = match result {
        None => ("running", false),
        Some((_, true)) => ("failed", true),
        Some((_, false)) => ("done", false),
    };
    let mut header = RichText::new(format!("{name}: {} · {state}", view::summary(name, input)));
    if failed {
        header = header.color(accents(ui.visuals()).bad);
    }
    egui::CollapsingHeader::new(header)
        .id_salt(("tool", index))
        .show(ui, |ui| {
            if !super::diff::show(ui, name, input) {
                ui.label(RichText::new("input").small().weak());
                code(ui, &view::pretty(input));
            }
            if let Some((output, _)) = result {
                ui.label(RichText::new("output").small().weak());
                code(ui, output.trim_end());
            }
        });
}

/// An approval request as it arrives.
struct Approval<'a> {
    id: &'a str,
    tool: &'a str,
    input: &'a str,
    description: Option<&'a str>,
    decision: Option<Decision>,
}

fn approval(ui: &mut Ui, a: Approval<'_>, steer: bool, out: &mut Vec<ConvClientFrame>) {
    let open = a.decision.is_none();
    let edge = if open {
        accents(ui.visuals()).warn
    } else {
        ui.visuals().weak_text_color()
    };
    Frame::NONE
        .stroke(Stroke::new(1.0, edge))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.strong(format!("Approval needed: {}", a.tool));
            if let Some(d) = a.description {
                ui.label(d);
            }
            if !super::diff::show(ui, a.tool, a.input) {
                code(ui, &view::pretty(a.input));
            }
            match a.decision {
                Some(d) => {
                    let a = accents(ui.visuals());
                    let color = if d == Decision::Deny { a.bad } else { a.good };
                    ui.label(RichText::new(sentence(view::decided(d))).color(color));
                }
                None if steer => {
                    ui.horizontal(|ui| {
                        for c in CHOICES {
                            if ui.button(c.label).on_hover_text(c.hint).clicked() {
                                out.push(ConvClientFrame::Answer {
                                    approval: a.id.to_string(),
                                    decision: c.decision,
                                });
                            }
                        }
                    });
                }
                None => {
                    ui.label(RichText::new("Waiting for an owner to answer.").weak());
                }
            }
        });
}

/// `s` with a capital first letter, as a label reads.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The thin line after a turn: tokens, cost, and the error it ended with.
fn turn_end(ui: &mut Ui, usage: &Usage, cost: Option<f64>, error: Option<&str>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!("turn ended · {}", view::usage_words(usage, cost)))
                .small()
                .weak(),
        );
        if let Some(e) = error {
            ui.label(
                RichText::new(format!("error: {e}"))
                    .small()
                    .color(accents(ui.visuals()).bad),
            );
        }
    });
    ui.separator();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_split_prose_from_code_even_while_unclosed() {
        let md = "Here:\n```rust\nfn main() {}\n```\nDone.";
        assert_eq!(
            blocks(md),
            vec![(false, "Here:\n"), (true, "fn main() {}"), (false, "Done.")]
        );
        assert_eq!(
            blocks("Look\n```sh\nls -l"),
            vec![(false, "Look\n"), (true, "ls -l")]
        );
    }
}
