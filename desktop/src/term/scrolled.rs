//! What a terminal shows while its view is scrolled back into history: a scrollbar on
//! its right edge and a mark saying how far back the view is, so new output arriving
//! below is never a surprise. Nothing shows on the live screen.

use egui::{Color32, Rect, RichText, Ui, Vec2};

use super::palette::Palette;

/// Width of the scrollbar, in points.
const BAR: f32 = 6.0;

/// Draws the scrollbar and the mark over `rect`, for a view `back` lines into `history`
/// lines of scrollback above `rows` rows.
pub fn show(ui: &mut Ui, rect: Rect, palette: &Palette, back: usize, history: usize, rows: u16) {
    if back == 0 || history == 0 {
        return;
    }
    let lines = (history + rows as usize) as f32;
    let top_line = (history - back.min(history)) as f32;
    let track = Rect::from_min_max(
        egui::pos2(rect.right() - BAR, rect.top()),
        rect.right_bottom(),
    );
    let thumb = Rect::from_min_size(
        egui::pos2(track.left(), rect.top() + rect.height() * top_line / lines),
        Vec2::new(BAR, (rect.height() * rows as f32 / lines).max(BAR)),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(track, 0.0, faded(palette.fg, 24));
    painter.rect_filled(thumb, BAR / 2.0, faded(palette.fg, 140));
    // The mark: top right, left of the bar, over the text (it is the view's, not the
    // program's).
    let text = RichText::new(format!("{back} of {history} lines back"))
        .small()
        .color(palette.bg)
        .background_color(faded(palette.fg, 220));
    let size = Vec2::new(180.0, 18.0);
    let at = Rect::from_min_size(
        egui::pos2(track.left() - size.x - 4.0, rect.top() + 2.0),
        size,
    );
    ui.put(at, egui::Label::new(text).selectable(false));
}

fn faded(c: Color32, alpha: u8) -> Color32 {
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
}
