//! Pairing tickets as QR codes drawn with half-block characters.

use qrcode::{EcLevel, QrCode, render::unicode::Dense1x2};

/// Draws `text` as a QR code for a dark-on-light reading, two modules per character
/// cell. Returns an explanation instead when the text is too long to encode.
pub fn render(text: &str) -> String {
    // Level L keeps the code small enough for 24 lines; screens do not smudge.
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L) {
        Ok(code) => code
            .render::<Dense1x2>()
            // Terminals are usually dark: draw light modules as text and dark as blank.
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("(no QR code: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_ticket_fits_an_80x24_terminal() {
        let ticket = vibemesh_core::ticket::Ticket {
            id: vibemesh_core::SecretKey::from_bytes(&[3; 32]).public(),
            addrs: vec![
                "192.168.178.20:52011".parse().unwrap(),
                "10.1.2.3:52011".parse().unwrap(),
            ],
            relay: None,
            secret: [5; 16],
        };
        let art = render(&ticket.to_text());
        let lines: Vec<&str> = art.lines().collect();
        assert!(lines.len() <= 22, "{} lines", lines.len());
        assert!(lines.iter().all(|l| l.chars().count() <= 80));
    }
}
