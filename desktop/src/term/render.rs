//! Painting a vt100 screen with egui's painter: one text layout per row for the
//! monospace glyphs (cached by egui while the row does not change), background runs as
//! rectangles, and wide or fallback-font glyphs placed on their own cells so one odd
//! glyph never shifts the rest of the row.

use egui::{
    Color32, FontId, Painter, Pos2, Rect, Stroke, Vec2,
    text::{LayoutJob, TextFormat},
};

use super::{palette::Palette, palette::mix, select::Selection};

/// How the cursor is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorLook {
    /// A filled block (the terminal has focus).
    Block,
    /// An outline (focus is elsewhere).
    Hollow,
}

/// Everything painting needs besides the screen.
pub struct Frame<'a> {
    /// The terminal's top-left corner.
    pub origin: Pos2,
    /// One cell.
    pub cell: Vec2,
    /// The monospace font.
    pub font: FontId,
    /// The colours.
    pub palette: &'a Palette,
    /// The selection, if any.
    pub selection: Option<&'a Selection>,
    /// How to draw the cursor, or `None` to hide it.
    pub cursor: Option<CursorLook>,
}

/// The resolved look of one cell.
#[derive(Clone, Copy, PartialEq)]
struct Look {
    fg: Color32,
    bg: Color32,
    bold: bool,
    italic: bool,
    underline: bool,
}

fn look(cell: &vt100::Cell, p: &Palette, selected: bool) -> Look {
    let mut fg_c = cell.fgcolor();
    // Bold text in one of the 8 base colours is shown bright, as xterm does.
    if cell.bold()
        && let vt100::Color::Idx(i) = fg_c
        && i < 8
    {
        fg_c = vt100::Color::Idx(i + 8);
    }
    let mut fg = p.resolve(fg_c, p.fg);
    let mut bg = p.resolve(cell.bgcolor(), p.bg);
    if cell.inverse() {
        std::mem::swap(&mut fg, &mut bg);
    }
    if cell.dim() {
        fg = mix(fg, bg);
    }
    if selected {
        bg = p.selection;
    }
    Look {
        fg,
        bg,
        bold: cell.bold(),
        italic: cell.italic(),
        underline: cell.underline(),
    }
}

/// Whether the monospace font draws `s` at exactly one cell: plain characters up to the
/// box-drawing and block ranges (which Hack, egui's monospace font, covers).
fn in_row_layout(s: &str) -> bool {
    let mut chars = s.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c <= '\u{25ff}' && !c.is_control())
}

/// Paints `screen`.
pub fn paint(painter: &Painter, screen: &vt100::Screen, f: &Frame<'_>) {
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let top = -(screen.scrollback() as i64);
    let cursor = screen.cursor_position();
    let show_cursor = f.cursor.is_some() && !screen.hide_cursor() && screen.scrollback() == 0;
    let cell_rect = |row: u16, col: u16, width: u16| {
        Rect::from_min_size(
            f.origin + Vec2::new(col as f32 * f.cell.x, row as f32 * f.cell.y),
            Vec2::new(f.cell.x * width as f32, f.cell.y),
        )
    };
    let mut text = String::with_capacity(cols as usize);
    for row in 0..rows {
        let line = top + i64::from(row);
        let mut job = LayoutJob::default();
        let mut run_look: Option<Look> = None;
        text.clear();
        // Background runs.
        let mut bg_start = 0u16;
        let mut bg_color = f.palette.bg;
        let mut extras: Vec<(u16, String, Look, u16)> = Vec::new();
        let mut bold_runs: Vec<(u16, String, Look)> = Vec::new();
        let mut pending_blanks = 0usize;
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else {
                break;
            };
            let selected = f.selection.is_some_and(|s| s.contains(line, col));
            let lk = look(cell, f.palette, selected);
            if lk.bg != bg_color {
                if bg_color != f.palette.bg {
                    painter.rect_filled(cell_rect(row, bg_start, col - bg_start), 0.0, bg_color);
                }
                bg_start = col;
                bg_color = lk.bg;
            }
            if cell.is_wide_continuation() {
                pending_blanks += 1;
                continue;
            }
            let contents = cell.contents();
            let glyph: &str = if contents.is_empty() { " " } else { contents };
            let width = if cell.is_wide() { 2 } else { 1 };
            let plain = !cell.is_wide() && in_row_layout(glyph);
            if !plain {
                extras.push((col, glyph.to_string(), lk, width));
            }
            if glyph == " " && !lk.underline || !plain {
                // Blanks only matter when text follows; they are added lazily.
                pending_blanks += 1;
                continue;
            }
            if pending_blanks > 0 {
                if run_look == Some(lk) && !lk.underline {
                    text.extend(std::iter::repeat_n(' ', pending_blanks));
                } else {
                    // Blanks are their own section so they never take an underline.
                    flush(&mut job, &mut text, run_look, &f.font);
                    let blanks: String = std::iter::repeat_n(' ', pending_blanks).collect();
                    let plain = Look {
                        underline: false,
                        ..lk
                    };
                    job.append(&blanks, 0.0, format(plain, &f.font));
                }
                pending_blanks = 0;
            } else if run_look.is_some_and(|r| r != lk) {
                flush(&mut job, &mut text, run_look, &f.font);
            }
            run_look = Some(lk);
            text.push_str(glyph);
            if lk.bold {
                match bold_runs.last_mut() {
                    Some((start, s, l))
                        if *l == lk && *start as usize + s.chars().count() == col as usize =>
                    {
                        s.push_str(glyph)
                    }
                    _ => bold_runs.push((col, glyph.to_string(), lk)),
                }
            }
        }
        if bg_color != f.palette.bg {
            painter.rect_filled(cell_rect(row, bg_start, cols - bg_start), 0.0, bg_color);
        }
        flush(&mut job, &mut text, run_look, &f.font);
        if !job.sections.is_empty() {
            let galley = painter.layout_job(job);
            painter.galley(cell_rect(row, 0, 1).min, galley, f.palette.fg);
        }
        // Faux bold: the same glyphs again, a pixel to the right.
        for (col, s, lk) in bold_runs {
            let mut job = LayoutJob::default();
            job.append(&s, 0.0, format(lk, &f.font));
            let pos = cell_rect(row, col, 1).min + Vec2::new(0.75, 0.0);
            painter.galley(pos, painter.layout_job(job), lk.fg);
        }
        for (col, s, lk, width) in extras {
            let mut job = LayoutJob::default();
            job.append(&s, 0.0, format(lk, &f.font));
            let galley = painter.layout_job(job);
            // Centre the glyph on its cells: fallback fonts have their own advances.
            let r = cell_rect(row, col, width);
            let x = r.center().x - galley.size().x / 2.0;
            painter.galley(Pos2::new(x, r.min.y), galley, lk.fg);
        }
    }
    if show_cursor {
        let (crow, ccol) = cursor;
        let wide = screen.cell(crow, ccol).is_some_and(|c| c.is_wide());
        let r = cell_rect(crow, ccol, if wide { 2 } else { 1 });
        match f.cursor {
            Some(CursorLook::Block) => {
                painter.rect_filled(r, 0.0, f.palette.cursor);
                if let Some(cell) = screen.cell(crow, ccol)
                    && cell.has_contents()
                {
                    let mut lk = look(cell, f.palette, false);
                    lk.fg = f.palette.bg;
                    let mut job = LayoutJob::default();
                    job.append(cell.contents(), 0.0, format(lk, &f.font));
                    let galley = painter.layout_job(job);
                    let x = r.center().x - galley.size().x / 2.0;
                    painter.galley(Pos2::new(x, r.min.y), galley, lk.fg);
                }
            }
            Some(CursorLook::Hollow) => {
                painter.rect_stroke(
                    r.shrink(0.5),
                    0.0,
                    Stroke::new(1.0, f.palette.cursor),
                    egui::StrokeKind::Inside,
                );
            }
            None => {}
        }
    }
}

fn format(lk: Look, font: &FontId) -> TextFormat {
    TextFormat {
        font_id: font.clone(),
        color: lk.fg,
        italics: lk.italic,
        underline: if lk.underline {
            Stroke::new(1.0, lk.fg)
        } else {
            Stroke::NONE
        },
        ..Default::default()
    }
}

fn flush(job: &mut LayoutJob, text: &mut String, lk: Option<Look>, font: &FontId) {
    if let Some(lk) = lk
        && !text.is_empty()
    {
        job.append(text, 0.0, format(lk, font));
    }
    text.clear();
}
