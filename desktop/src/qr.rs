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

/// The text of the first QR code found in an image file's bytes (PNG or JPEG).
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| format!("not an image this app reads (PNG or JPEG): {e}"))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32)[0],
    );
    let grids = prepared.detect_grids();
    let grid = grids.first().ok_or("no QR code was found in the image")?;
    grid.decode()
        .map(|(_, text)| text)
        .map_err(|e| format!("the QR code could not be read: {e}"))
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

    #[test]
    fn a_png_of_the_code_decodes_to_the_ticket() {
        let ticket = "VM1AQEXAMPLETICKET0123456789";
        let img = super::image(ticket).unwrap();
        let scale = 6;
        let side = img.size[0] as u32 * scale;
        let gray = image::GrayImage::from_fn(side, side, |x, y| {
            let p = img.pixels[(y / scale) as usize * img.size[0] + (x / scale) as usize];
            image::Luma([p.r()])
        });
        let mut png = Vec::new();
        gray.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(super::decode(&png).unwrap(), ticket);
        assert!(super::decode(b"not an image").is_err());
    }
}
