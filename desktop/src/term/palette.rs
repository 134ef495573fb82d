//! Colours: a theme's 16 ANSI colours and defaults, the 256-colour cube and true colour.

use egui::Color32;

/// The colours a terminal is drawn with.
#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    /// Text with no colour set.
    pub fg: Color32,
    /// Background with no colour set.
    pub bg: Color32,
    /// The cursor block.
    pub cursor: Color32,
    /// Selected cells' background.
    pub selection: Color32,
    /// ANSI colours 0–15 (8–15 are the bright ones).
    pub ansi: [Color32; 16],
}

const fn rgb(hex: u32) -> Color32 {
    Color32::from_rgb((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

impl Palette {
    /// A dark theme with readable, not neon, colours (close to VS Code's dark terminal).
    pub const DARK: Palette = Palette {
        fg: rgb(0xd4d4d4),
        bg: rgb(0x1e1e1e),
        cursor: rgb(0xaeafad),
        selection: rgb(0x264f78),
        ansi: [
            rgb(0x000000),
            rgb(0xcd3131),
            rgb(0x0dbc79),
            rgb(0xe5e510),
            rgb(0x2472c8),
            rgb(0xbc3fbc),
            rgb(0x11a8cd),
            rgb(0xe5e5e5),
            rgb(0x666666),
            rgb(0xf14c4c),
            rgb(0x23d18b),
            rgb(0xf5f543),
            rgb(0x3b8eea),
            rgb(0xd670d6),
            rgb(0x29b8db),
            rgb(0xffffff),
        ],
    };

    /// A light theme for bright rooms.
    pub const LIGHT: Palette = Palette {
        fg: rgb(0x333333),
        bg: rgb(0xfbfbfb),
        cursor: rgb(0x555555),
        selection: rgb(0xadd6ff),
        ansi: [
            rgb(0x000000),
            rgb(0xcd3131),
            rgb(0x00bc00),
            rgb(0x949800),
            rgb(0x0451a5),
            rgb(0xbc05bc),
            rgb(0x0598bc),
            rgb(0x555555),
            rgb(0x666666),
            rgb(0xcd3131),
            rgb(0x14ce14),
            rgb(0xb5ba00),
            rgb(0x0451a5),
            rgb(0xbc05bc),
            rgb(0x0598bc),
            rgb(0xa5a5a5),
        ],
    };

    /// The colour of a vt100 colour, `default` standing in for [`vt100::Color::Default`].
    pub fn resolve(&self, c: vt100::Color, default: Color32) -> Color32 {
        match c {
            vt100::Color::Default => default,
            vt100::Color::Idx(i) => self.indexed(i),
            vt100::Color::Rgb(r, g, b) => Color32::from_rgb(r, g, b),
        }
    }

    /// Colour `i` of the 256-colour table: 16 theme colours, a 6x6x6 cube, 24 greys.
    pub fn indexed(&self, i: u8) -> Color32 {
        match i {
            0..=15 => self.ansi[i as usize],
            16..=231 => {
                let i = i - 16;
                let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
                Color32::from_rgb(level(i / 36), level((i / 6) % 6), level(i % 6))
            }
            232..=255 => {
                let v = 8 + (i - 232) * 10;
                Color32::from_rgb(v, v, v)
            }
        }
    }
}

impl Default for Palette {
    fn default() -> Self {
        Palette::DARK
    }
}

/// Halfway between `a` and `b`: dim text.
pub fn mix(a: Color32, b: Color32) -> Color32 {
    let m = |x: u8, y: u8| ((x as u16 + y as u16) / 2) as u8;
    Color32::from_rgb(m(a.r(), b.r()), m(a.g(), b.g()), m(a.b(), b.b()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_256_colour_table_matches_xterm() {
        let p = Palette::DARK;
        assert_eq!(p.indexed(16), Color32::from_rgb(0, 0, 0));
        assert_eq!(p.indexed(196), Color32::from_rgb(255, 0, 0));
        assert_eq!(p.indexed(231), Color32::from_rgb(255, 255, 255));
        assert_eq!(p.indexed(232), Color32::from_rgb(8, 8, 8));
        assert_eq!(p.indexed(255), Color32::from_rgb(238, 238, 238));
        assert_eq!(p.indexed(1), p.ansi[1]);
    }
}
