//! The terminal's fonts: glyphs egui's bundled fonts lack are drawn from a system font
//! that has them (fonts-noto-core and fonts-noto-color-emoji, which scripts/setup.sh
//! installs), not as empty boxes; bold and italic cells use real faces.

use std::sync::{Arc, Mutex};

use egui::{FontFamily, FontId};
use egui_kittest::Harness;
use vibemesh_desktop::term::{
    TermStyle, Terminal, TerminalView,
    fonts::{self, Face, Faces},
};

/// Claude Code's markers, braille spinner frames, common symbols, emoji and the app's
/// own bell mark: each one drawn as a box before system font fallback.
const GLYPHS: &[char] = &[
    '⏺', '✻', '✶', '✳', '⎿', '⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏', '⚡', '☰', '⌘', '⏎',
    '✗', '😀', '🚀', '🔔',
];

/// A focused terminal showing `text`, with the app's font setup done and finished.
fn harness(text: &str) -> Harness<'static, Terminal> {
    let mut term = Terminal::new(4, 40, 100);
    term.feed(text.as_bytes());
    let style = TermStyle::default();
    // Set up before the first frame, as the app does on its first frame: kittest
    // panics on a glyph no font has, so a missing fallback fails right there.
    let finder = Arc::new(Mutex::new(None));
    let setup = finder.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(400.0, 120.0))
        .with_context_setup(move |ctx| {
            *setup.lock().unwrap() = Some(fonts::add_fallbacks(ctx));
        })
        .build_ui_state(
            move |ui, term: &mut Terminal| {
                TerminalView::new(term, &style).fixed_size(4, 40).show(ui);
            },
            term,
        );
    let finder = finder.lock().unwrap().take();
    finder
        .expect("the context was set up")
        .join()
        .expect("the face finder ran");
    // The faces are queued by the finder and installed at the start of a frame.
    h.run();
    h
}

#[test]
fn missing_glyphs_come_from_system_fallback_fonts() {
    let text: String = GLYPHS.iter().map(|c| format!("{c} ")).collect();
    let mut h = harness(&text);
    let font = FontId::monospace(TermStyle::default().font_size);
    let ctx = h.ctx.clone();
    let missing: Vec<char> = ctx.fonts_mut(|f| {
        GLYPHS
            .iter()
            .copied()
            .filter(|c| !f.has_glyph(&font, *c))
            .collect()
    });
    assert!(missing.is_empty(), "no font draws {missing:?}");
    let chars = ctx.fonts_mut(|f| f.characters(&FontFamily::Monospace).clone());
    for c in GLYPHS {
        let from = chars.get(c).cloned().unwrap_or_default();
        eprintln!("{c} U+{:04X}: {from:?}", *c as u32);
    }
    // Emoji keep their own colours (Noto Color Emoji's bitmaps), as in other terminals.
    // (Not 😀: DejaVu Sans, found first for the symbols, has a monochrome one, and a
    // font already in the chain wins.)
    for emoji in ["🚀", "🔔"] {
        let galley =
            ctx.fonts_mut(|f| f.layout_no_wrap(emoji.into(), font.clone(), egui::Color32::WHITE));
        let coloured = galley
            .rows
            .iter()
            .any(|r| r.glyphs.iter().any(|g| g.is_color));
        assert!(coloured, "{emoji} is not drawn in colour");
    }
    // And the screen drawn with them renders on the CPU.
    h.run();
    let image = h.render().expect("renders on the CPU");
    assert!(image.width() > 0);
}

#[test]
fn bold_and_italic_cells_use_real_faces_in_the_same_cell_width() {
    let mut h = harness("\x1b[1mbold\x1b[0m \x1b[3mitalic\x1b[0m \x1b[1;3mboth\x1b[0m");
    let faces = Faces::installed(&h.ctx);
    let size = TermStyle::default().font_size;
    for (bold, italic) in [(true, false), (false, true), (true, true)] {
        let styled = faces.styled(size, bold, italic);
        assert!(
            !styled.fake_bold && !styled.fake_italic,
            "bold {bold} italic {italic} is faked: {styled:?} (no DejaVu Sans Mono faces?)"
        );
    }
    let regular = FontId::monospace(size);
    let ctx = h.ctx.clone();
    for face in Face::ALL {
        let face_font = FontId::new(size, fonts::face_family(face));
        let (w_regular, w_face) =
            ctx.fonts_mut(|f| (f.glyph_width(&regular, 'M'), f.glyph_width(&face_font, 'M')));
        // Hack and DejaVu Sans Mono share their advance; the renderer centres each
        // glyph in its cell anyway, so a face never shifts the columns after it.
        assert!(
            (w_regular - w_face).abs() < 0.5,
            "{face:?}: advance {w_face} vs regular {w_regular}"
        );
    }
    h.run();
}
