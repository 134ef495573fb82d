//! The desktop terminal widget's drawing cost: a full 200x60 screen of coloured text
//! (every cell a different 256-colour foreground, runs of backgrounds, bold and
//! underline), painted by `TerminalView` and tessellated by egui, as one frame of the
//! app does on the CPU. No window and no GPU: what is left for the GPU is a
//! few textured triangles.

use std::time::{Duration, Instant};

use vibemesh_desktop::term::{TermStyle, Terminal, TerminalView};

/// Rows and columns of the benchmark screen.
pub const SIZE: (u16, u16) = (60, 200);

/// Timings of one configuration.
#[derive(Debug, Clone)]
pub struct RenderResult {
    /// What was drawn.
    pub what: &'static str,
    /// Median frame time.
    pub median: Duration,
    /// 99th percentile frame time.
    pub p99: Duration,
}

/// Escape codes that fill `rows` x `cols` with coloured text; `salt` changes every glyph.
pub fn coloured_screen(rows: u16, cols: u16, salt: usize) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\x1b[H");
    for r in 0..rows as usize {
        for c in 0..cols as usize {
            let fg = (r * 7 + c + salt) % 256;
            let bg = if (c / 10) % 3 == 0 { 236 } else { 0 };
            let attrs = match (r + c / 8) % 4 {
                0 => "1;",
                1 => "4;",
                _ => "",
            };
            let ch = (b'!' + ((r + c + salt) % 90) as u8) as char;
            out.extend_from_slice(format!("\x1b[{attrs}38;5;{fg};48;5;{bg}m{ch}").as_bytes());
        }
        out.extend_from_slice(b"\x1b[0m");
        if r + 1 < rows as usize {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

fn frame(ctx: &egui::Context, term: &mut Terminal, style: &TermStyle, size: egui::Vec2) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
        ..Default::default()
    };
    let out = ctx.run_ui(input, |ui| {
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| {
                TerminalView::new(term, style).show(ui);
            });
    });
    let mut out = out;
    let prims = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
    std::hint::black_box(prims);
    // Font atlas uploads are the renderer's job; there is none here.
    out.textures_delta.clear();
}

/// Measures `frames` frames: with an unchanged screen (every row's mesh is reused) and
/// with every glyph changed before each frame (a full-screen redraw, e.g. `cat`).
pub fn run(frames: usize) -> Vec<RenderResult> {
    let ctx = egui::Context::default();
    let style = TermStyle::default();
    let (rows, cols) = SIZE;
    let mut term = Terminal::new(rows, cols, 0);
    // The size in points that holds exactly 200x60 cells.
    let mut size = egui::vec2(2000.0, 1200.0);
    let mut out = ctx.run_ui(Default::default(), |ui| {
        let cell = TerminalView::cell_size(ui, &style);
        size = egui::vec2(cell.x * cols as f32 + 0.5, cell.y * rows as f32 + 0.5);
    });
    out.textures_delta.clear();
    term.feed(&coloured_screen(rows, cols, 0));
    let screens: Vec<Vec<u8>> = (0..16)
        .map(|s| coloured_screen(rows, cols, s + 1))
        .collect();
    let mut results = Vec::new();
    for (what, changing) in [
        ("200x60 coloured, unchanged", false),
        ("200x60 coloured, every cell changed", true),
    ] {
        for _ in 0..5 {
            frame(&ctx, &mut term, &style, size);
        }
        let mut times = Vec::with_capacity(frames);
        for i in 0..frames {
            if changing {
                term.feed(&screens[i % screens.len()]);
            }
            let t = Instant::now();
            frame(&ctx, &mut term, &style, size);
            times.push(t.elapsed());
        }
        assert_eq!(term.size(), SIZE, "the widget must show 200x60 cells");
        times.sort();
        results.push(RenderResult {
            what,
            median: times[times.len() / 2],
            p99: times[(times.len() * 99 / 100).min(times.len() - 1)],
        });
    }
    results
}
