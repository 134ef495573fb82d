//! The SGR sequence that sets a cell's drawing attributes.

use std::fmt::Write as _;

/// A cell's drawing attributes, as far as vt100 keeps them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Pen {
    fg: Option<vt100::Color>,
    bg: Option<vt100::Color>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    inverse: bool,
}

impl Pen {
    /// The attributes `cell` is drawn with.
    pub fn of(cell: &vt100::Cell) -> Self {
        let colour = |c| (c != vt100::Color::Default).then_some(c);
        Self {
            fg: colour(cell.fgcolor()),
            bg: colour(cell.bgcolor()),
            bold: cell.bold(),
            dim: cell.dim(),
            italic: cell.italic(),
            underline: cell.underline(),
            inverse: cell.inverse(),
        }
    }

    /// Whether a blank cell with these attributes looks like no cell at all.
    pub fn is_plain(&self) -> bool {
        self.bg.is_none() && !self.inverse && !self.underline
    }

    /// Appends the SGR sequence that sets exactly these attributes (from any others).
    pub fn write(&self, out: &mut String) {
        out.push_str("\x1b[0");
        for (on, code) in [
            (self.bold, ";1"),
            (self.dim, ";2"),
            (self.italic, ";3"),
            (self.underline, ";4"),
            (self.inverse, ";7"),
        ] {
            if on {
                out.push_str(code);
            }
        }
        for (colour, base) in [(self.fg, 38), (self.bg, 48)] {
            match colour {
                None | Some(vt100::Color::Default) => {}
                Some(vt100::Color::Idx(i)) => {
                    let _ = write!(out, ";{base};5;{i}");
                }
                Some(vt100::Color::Rgb(r, g, b)) => {
                    let _ = write!(out, ";{base};2;{r};{g};{b}");
                }
            }
        }
        out.push('m');
    }
}
