//! This machine's pairing QR code as an image for egui.

use egui::{Color32, ColorImage};

/// Modules of white border around the code, as scanners expect.
const QUIET: usize = 4;

/// The QR code of `text`, one pixel per module (draw it scaled with nearest filtering).
pub fn image(text: &str) -> Option<ColorImage> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let w = code.width();
    let side = w + 2 * QUIET;
    let mut pixels = vec![Color32::WHITE; side * side];
    for (i, c) in code.to_colors().into_iter().enumerate() {
        if c == qrcode::Color::Dark {
            let (x, y) = (i % w + QUIET, i / w + QUIET);
            pixels[y * side + x] = Color32::BLACK;
        }
    }
    Some(ColorImage::new([side, side], pixels))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ticket_makes_a_square_code_with_a_border() {
        let img = super::image("VM1AQEXAMPLETICKET").unwrap();
        assert_eq!(img.size[0], img.size[1]);
        assert!(img.size[0] >= 21 + 8);
        assert_eq!(img.pixels[0], egui::Color32::WHITE);
        assert!(img.pixels.contains(&egui::Color32::BLACK));
    }
}
