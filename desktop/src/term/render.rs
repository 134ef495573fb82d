//! Painting a vt100 screen with egui's painter: each row one mesh (see [`super::row_mesh`]),
//! kept while the row does not change, then the cursor on top. Keys guessed ahead of
//! their echo ([`Overlay`]) are drawn in their cells as if the screen held them,
//! underlined, and the cursor where they end.

use egui::{
    FontId, Painter, Pos2, Rect, Stroke, Vec2,
    emath::GuiRounding,
    text::{LayoutJob, TextFormat},
};

use vibemesh_core::predict::{Cell as Guess, Overlay};

use super::{
    fonts::{Faces, Styled},
    palette::Palette,
    palette::mix,
    row_mesh::{Look, RowMeshes, glyph_format},
    select::Selection,
};

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
    /// Guessed keys to draw over the screen (empty: none).
    pub overlay: &'a Overlay,
}

/// The guess for cell (`row`, `col`) among `guesses`, if any.
fn guess_at(guesses: &[&Guess], row: u16, col: u16) -> Option<Guess> {
    // The engine keeps one guess a cell; the last is the newest all the same.
    guesses
        .iter()
        .rev()
        .find(|g| (g.row, g.col) == (row, col))
        .map(|g| **g)
}

/// What a guessed cell shows: its character, or nothing for Backspace's erase.
fn guess_glyph<'a>(g: &Guess, buf: &'a mut [u8; 4]) -> &'a str {
    if g.ch == ' ' {
        ""
    } else {
        g.ch.encode_utf8(buf)
    }
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

/// Paints `screen`; `meshes` keeps the rows' meshes from one frame to the next.
pub fn paint(painter: &Painter, screen: &vt100::Screen, f: &Frame<'_>, meshes: &mut RowMeshes) {
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let top = -(screen.scrollback() as i64);
    // Rows start on whole pixels (cells are whole pixels too), so rows meet without seams.
    let origin = f.origin.round_to_pixels(painter.pixels_per_point());
    let cell_rect = |row: u16, col: u16, width: u16| {
        Rect::from_min_size(
            origin + Vec2::new(col as f32 * f.cell.x, row as f32 * f.cell.y),
            Vec2::new(f.cell.x * width as f32, f.cell.y),
        )
    };
    meshes.begin(painter, &f.font, f.cell, f.palette.bg, rows as usize);
    let mut buf = [0u8; 4];
    for row in 0..rows {
        let line = top + i64::from(row);
        // Allocates only on a row with guesses.
        let guesses: Vec<&Guess> = f.overlay.cells.iter().filter(|g| g.row == row).collect();
        let key = meshes.next_row();
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else {
                break;
            };
            let selected = f.selection.is_some_and(|s| s.contains(line, col));
            let width = if cell.is_wide_continuation() {
                0
            } else if cell.is_wide() {
                2
            } else {
                1
            };
            let mut lk = look(cell, f.palette, selected);
            // The engine guesses only into narrow cells; a wide one is left as it is.
            match guess_at(&guesses, row, col).filter(|_| width == 1) {
                Some(g) => {
                    // In the cell's colours, underlined until the echo confirms it.
                    lk.underline = g.underline;
                    key.push(guess_glyph(&g, &mut buf), 1, lk);
                }
                None => key.push(cell.contents(), width, lk),
            }
        }
        if let Some(galley) = meshes.row(painter, row as usize) {
            painter.galley(cell_rect(row, 0, 1).min, galley, f.palette.fg);
        }
    }
    let show_cursor = f.cursor.is_some() && !screen.hide_cursor() && screen.scrollback() == 0;
    if show_cursor {
        // Where the guesses end, while there are some.
        let (crow, ccol) = f.overlay.cursor.unwrap_or(screen.cursor_position());
        let guesses: Vec<&Guess> = f.overlay.cells.iter().collect();
        let guess = guess_at(&guesses, crow, ccol);
        let cell = screen.cell(crow, ccol);
        let wide = guess.is_none() && cell.is_some_and(|c| c.is_wide());
        let shown = match &guess {
            Some(g) => guess_glyph(g, &mut buf),
            None => cell.map_or("", |c| c.contents()),
        };
        let r = cell_rect(crow, ccol, if wide { 2 } else { 1 });
        cursor(painter, cell, shown, f, r);
    }
}

/// Draws the cursor over `cell` (showing `shown`) at `r`.
fn cursor(painter: &Painter, cell: Option<&vt100::Cell>, shown: &str, f: &Frame<'_>, r: Rect) {
    match f.cursor {
        Some(CursorLook::Block) => {
            painter.rect_filled(r, 0.0, f.palette.cursor);
            if let Some(cell) = cell
                && !shown.is_empty()
            {
                let mut lk = look(cell, f.palette, false);
                lk.fg = f.palette.bg;
                let styled =
                    Faces::installed(painter.ctx()).styled(f.font.size, lk.bold, lk.italic);
                let mut job = LayoutJob::default();
                job.append(shown, 0.0, format(lk, &styled));
                let galley = painter.layout_job(job);
                let x = r.center().x - galley.size().x / 2.0;
                let y = r.center().y - galley.size().y / 2.0;
                painter.galley(Pos2::new(x, y), galley, lk.fg);
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

fn format(lk: Look, styled: &Styled) -> TextFormat {
    TextFormat {
        underline: if lk.underline {
            Stroke::new(1.0, lk.fg)
        } else {
            Stroke::NONE
        },
        ..glyph_format(styled, lk.fg)
    }
}
