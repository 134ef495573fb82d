//! File edits as coloured diffs: the lines come from core's view of a tool call
//! ([`vibemesh_core::client::view::edit_diff`], which knows the providers' edit tools);
//! this only colours them.

use egui::{Frame, Ui};
use vibemesh_core::client::view::{self, LineKind};

use crate::theme::accents;

/// Draws the diff of a file edit; `false` (nothing drawn) when `input` is not one.
pub fn show(ui: &mut Ui, tool: &str, input: &str) -> bool {
    let Some(lines) = view::edit_diff(tool, input) else {
        return false;
    };
    let mono = egui::TextStyle::Monospace.resolve(ui.style());
    let plain = ui.visuals().text_color();
    let a = accents(ui.visuals());
    let mut job = egui::text::LayoutJob::default();
    for line in &lines {
        let color = match line.kind {
            LineKind::Added => a.good,
            LineKind::Removed => a.bad,
            LineKind::File | LineKind::Hunk | LineKind::Context => plain,
        };
        job.append(
            &format!("{}\n", line.text),
            0.0,
            egui::TextFormat::simple(mono.clone(), color),
        );
    }
    Frame::NONE
        .fill(ui.visuals().extreme_bg_color)
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(job);
        });
    true
}
