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

/// The link to the web client of the user's own relay with the ticket in the URL
/// fragment (browsers never send it to the server), or `None` without such a relay
/// (`relay` is the config's setting: `default`, `none` or a URL).
pub fn web_link(relay: &str, ticket: &str) -> Option<String> {
    match relay {
        "default" | "none" => None,
        url if url.starts_with("https://") || url.starts_with("http://") => {
            Some(format!("{}/#ticket={ticket}", url.trim_end_matches('/')))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_web_link_carries_the_ticket_in_the_fragment_and_still_fits_80_columns() {
        let ticket = vibemesh_core::ticket::Ticket {
            id: vibemesh_core::SecretKey::from_bytes(&[3; 32]).public(),
            addrs: vec!["192.168.178.20:52011".parse().unwrap()],
            relay: Some("https://relay.example.org/".into()),
            other_relays: Vec::new(),
            secret: [5; 16],
        }
        .to_text();
        assert_eq!(web_link("default", &ticket), None);
        assert_eq!(web_link("none", &ticket), None);
        let link = web_link("https://relay.example.org/", &ticket).unwrap();
        assert_eq!(link, format!("https://relay.example.org/#ticket={ticket}"));
        let art = render(&link);
        assert!(!art.starts_with("(no QR"), "{art}");
        assert!(art.lines().all(|l| l.chars().count() <= 80));
        assert!(art.lines().count() <= 32, "{} lines", art.lines().count());
    }

    #[test]
    fn a_real_ticket_fits_an_80x24_terminal() {
        let ticket = vibemesh_core::ticket::Ticket {
            id: vibemesh_core::SecretKey::from_bytes(&[3; 32]).public(),
            addrs: vec![
                "192.168.178.20:52011".parse().unwrap(),
                "10.1.2.3:52011".parse().unwrap(),
            ],
            relay: None,
            other_relays: Vec::new(),
            secret: [5; 16],
        };
        let art = render(&ticket.to_text());
        let lines: Vec<&str> = art.lines().collect();
        assert!(lines.len() <= 22, "{} lines", lines.len());
        assert!(lines.iter().all(|l| l.chars().count() <= 80));
    }
}
