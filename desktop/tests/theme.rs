//! The themes: every colour pair the app draws text in passes the WCAG contrast minimum
//! for body text (4.5:1) in both themes, and the whole window follows the theme (the
//! tab strip and the empty area were near-black in the light theme).

mod common;

use egui::Color32;
use vibemesh_desktop::{settings::Theme, theme};

/// WCAG 2 AA minimum for normal-size text.
const MIN_CONTRAST: f32 = 4.5;

#[test]
fn every_text_colour_pair_is_readable_in_both_themes() {
    let mut low = Vec::new();
    for t in [Theme::Dark, Theme::Light] {
        for p in theme::text_pairs(t) {
            let c = theme::contrast(p.text, p.background);
            eprintln!("{t:?} {}: {c:.2}", p.what);
            if c < MIN_CONTRAST {
                low.push(format!("{t:?} {}: {c:.2}", p.what));
            }
        }
    }
    assert!(low.is_empty(), "below {MIN_CONTRAST}:1: {low:?}");
}

fn pixel(image: &image::RgbaImage, x: f32, y: f32, ppp: f32) -> Color32 {
    let p = image.get_pixel((x * ppp) as u32, (y * ppp) as u32);
    Color32::from_rgb(p[0], p[1], p[2])
}

#[test]
fn the_whole_window_follows_the_theme() {
    for t in [Theme::Light, Theme::Dark] {
        let mut app = common::start_app_themed(t);
        app.harness.run_steps(3);
        let h = &mut app.harness;
        let visuals = theme::visuals(t);
        let image = h.render().expect("renders on the CPU");
        let ppp = h.ctx.pixels_per_point();
        // The empty area right of the sidebar, under the "No session open" text, and
        // the bottom right corner: both must be the theme's panel colour, and the
        // panel text readable on them.
        for (what, x, y) in [("empty area", 600.0, 300.0), ("bottom right", 890.0, 490.0)] {
            let got = pixel(&image, x, y, ppp);
            let c = theme::contrast(visuals.text_color(), got);
            assert!(
                c >= MIN_CONTRAST,
                "{t:?} {what}: text {:?} on {got:?} is {c:.2}:1",
                visuals.text_color()
            );
            assert_eq!(got, visuals.panel_fill, "{t:?} {what}");
        }
        // Where no panel paints (the window's edges while resizing, the native window
        // outside kittest's own frame), the window shows its clear colour: eframe's
        // default is near-black whatever the theme.
        let [r, g, b, _] = eframe::App::clear_color(h.state(), &visuals)
            .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
        let clear = Color32::from_rgb(r, g, b);
        let c = theme::contrast(visuals.text_color(), clear);
        assert!(
            c >= MIN_CONTRAST,
            "{t:?} clear colour {clear:?}: text is {c:.2}:1 on it"
        );
    }
}
