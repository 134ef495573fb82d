//! The window's look in each [`Theme`]: egui's visuals for every panel (the top bar,
//! the sidebar, the tab strip, the empty area, dialogs, banners) and the terminal's
//! palette, and the text/background colour pairs they draw text in, so a test can hold
//! every pair to the WCAG contrast minimum.

use egui::{Color32, Visuals};

use crate::{settings::Theme, term::Palette};

/// The egui visuals of `theme`. egui's own, with text colours darkened (light) or
/// lightened (dark) where egui's fall under the WCAG 4.5:1 minimum for body text.
pub fn visuals(theme: Theme) -> Visuals {
    match theme {
        Theme::Dark => {
            let mut v = Visuals::dark();
            v.error_fg_color = Color32::from_rgb(0xf1, 0x4c, 0x4c);
            v.warn_fg_color = Color32::from_rgb(0xe5, 0xa5, 0x10);
            v.weak_text_color = Some(Color32::from_gray(150));
            v
        }
        Theme::Light => {
            let mut v = Visuals::light();
            v.error_fg_color = Color32::from_rgb(0xb0, 0x1c, 0x1c);
            v.warn_fg_color = Color32::from_rgb(0x8a, 0x5a, 0x00);
            v.weak_text_color = Some(Color32::from_gray(100));
            v
        }
    }
}

/// Colours that carry a meaning (errors, additions, warnings, notes), readable on the
/// theme's panels and code blocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accents {
    /// Errors, denials, removed lines, "needs approval".
    pub bad: Color32,
    /// What was allowed or added.
    pub good: Color32,
    /// Warnings and what waits for an answer.
    pub warn: Color32,
    /// Neutral news ("your turn").
    pub info: Color32,
}

/// The accents for `visuals` (bad and warn are its own error and warning colours).
pub fn accents(visuals: &Visuals) -> Accents {
    let (good, info) = if visuals.dark_mode {
        (
            Color32::from_rgb(0x23, 0xd1, 0x8b),
            Color32::from_rgb(0x3b, 0x8e, 0xea),
        )
    } else {
        (
            Color32::from_rgb(0x0a, 0x7a, 0x3a),
            Color32::from_rgb(0x0b, 0x5c, 0xad),
        )
    };
    Accents {
        bad: visuals.error_fg_color,
        good,
        warn: visuals.warn_fg_color,
        info,
    }
}

/// The terminal palette of `theme`.
pub fn palette(theme: Theme) -> Palette {
    match theme {
        Theme::Dark => Palette::DARK,
        Theme::Light => Palette::LIGHT,
    }
}

/// Text drawn in one colour on one background, and where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextPair {
    /// Where the pair is used, for a failing test's message.
    pub what: &'static str,
    /// The text colour.
    pub text: Color32,
    /// The background colour.
    pub background: Color32,
}

/// Every text/background pair `theme` draws text in (besides colours a program picks).
pub fn text_pairs(theme: Theme) -> Vec<TextPair> {
    let v = visuals(theme);
    let p = palette(theme);
    let w = &v.widgets;
    let a = accents(&v);
    let pair = |what, text, background| TextPair {
        what,
        text,
        background,
    };
    vec![
        pair("terminal text", p.fg, p.bg),
        pair("terminal selected text", p.fg, p.selection),
        pair(
            "text on panels (sidebar, tab strip, empty area)",
            v.text_color(),
            v.panel_fill,
        ),
        pair(
            "strong text on panels (machine names)",
            v.strong_text_color(),
            v.panel_fill,
        ),
        pair("weak text on panels", v.weak_text_color(), v.panel_fill),
        pair("dialog text", v.text_color(), v.window_fill),
        pair("text fields, diffs", v.text_color(), v.extreme_bg_color),
        pair("error banners", v.error_fg_color, v.panel_fill),
        pair("warnings", v.warn_fg_color, v.panel_fill),
        pair("sidebar: needs approval", a.bad, v.panel_fill),
        pair("sidebar: your turn", a.info, v.panel_fill),
        pair("conversation: allowed", a.good, v.panel_fill),
        pair("diff: added lines", a.good, v.extreme_bg_color),
        pair("diff: removed lines", a.bad, v.extreme_bg_color),
        pair(
            "buttons",
            w.inactive.fg_stroke.color,
            w.inactive.weak_bg_fill,
        ),
        pair(
            "hovered buttons",
            w.hovered.fg_stroke.color,
            w.hovered.weak_bg_fill,
        ),
        pair(
            "the active tab",
            v.selection.stroke.color,
            v.selection.bg_fill,
        ),
    ]
}

/// The WCAG 2 contrast ratio of two colours, from 1 (same) to 21 (black on white).
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// WCAG relative luminance of an opaque sRGB colour.
fn luminance(c: Color32) -> f32 {
    let lin = |v: u8| {
        let v = f32::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_reference_values() {
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 0.001);
        // #767676 on white is the classic 4.54:1.
        let grey = Color32::from_gray(0x76);
        assert!((contrast(grey, Color32::WHITE) - 4.54).abs() < 0.01);
    }
}
