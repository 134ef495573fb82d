//! Mouse reporting for programs that ask for it (xterm X10/normal/button/any-motion modes,
//! default, UTF-8 and SGR encodings).

use vt100::{MouseProtocolEncoding, MouseProtocolMode};

/// What the mouse did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseEvent {
    /// A button went down (0 left, 1 middle, 2 right).
    Press(u8),
    /// A button came up.
    Release(u8),
    /// The pointer moved to another cell, with this button held (if any).
    Motion(Option<u8>),
    /// One wheel notch up.
    WheelUp,
    /// One wheel notch down.
    WheelDown,
}

/// The report for `ev` at the 0-based cell (`col`, `row`), or `None` when the program's
/// mode does not want it.
pub fn report(
    mode: MouseProtocolMode,
    encoding: MouseProtocolEncoding,
    ev: MouseEvent,
    col: u16,
    row: u16,
    mods: egui::Modifiers,
) -> Option<Vec<u8>> {
    use MouseProtocolMode as M;
    let wanted = match ev {
        MouseEvent::Press(_) | MouseEvent::WheelUp | MouseEvent::WheelDown => mode != M::None,
        MouseEvent::Release(_) => !matches!(mode, M::None | M::Press),
        MouseEvent::Motion(Some(_)) => matches!(mode, M::ButtonMotion | M::AnyMotion),
        MouseEvent::Motion(None) => mode == M::AnyMotion,
    };
    if !wanted {
        return None;
    }
    let sgr = encoding == MouseProtocolEncoding::Sgr;
    let mut code: u32 = match ev {
        MouseEvent::Press(b) => b as u32,
        MouseEvent::Release(b) if sgr => b as u32,
        MouseEvent::Release(_) => 3,
        MouseEvent::Motion(b) => 32 + b.map_or(3, u32::from),
        MouseEvent::WheelUp => 64,
        MouseEvent::WheelDown => 65,
    };
    code += 4 * u32::from(mods.shift) + 8 * u32::from(mods.alt) + 16 * u32::from(mods.ctrl);
    let (x, y) = (u32::from(col) + 1, u32::from(row) + 1);
    match encoding {
        MouseProtocolEncoding::Sgr => {
            let end = if matches!(ev, MouseEvent::Release(_)) {
                'm'
            } else {
                'M'
            };
            Some(format!("\x1b[<{code};{x};{y}{end}").into_bytes())
        }
        MouseProtocolEncoding::Default => {
            // One byte per value: cells past 223 cannot be reported.
            let byte = |v: u32| u8::try_from(v + 32).ok();
            Some(vec![0x1b, b'[', b'M', byte(code)?, byte(x)?, byte(y)?])
        }
        MouseProtocolEncoding::Utf8 => {
            let mut s = String::from("\x1b[M");
            for v in [code, x, y] {
                s.push(char::from_u32(v + 32)?);
            }
            Some(s.into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::Modifiers;

    #[test]
    fn encodings() {
        let sgr = report(
            MouseProtocolMode::PressRelease,
            MouseProtocolEncoding::Sgr,
            MouseEvent::Release(0),
            4,
            9,
            Modifiers::NONE,
        );
        assert_eq!(sgr.unwrap(), b"\x1b[<0;5;10m");
        let x10 = report(
            MouseProtocolMode::Press,
            MouseProtocolEncoding::Default,
            MouseEvent::Press(2),
            0,
            0,
            Modifiers::CTRL,
        );
        assert_eq!(x10.unwrap(), vec![0x1b, b'[', b'M', 32 + 18, 33, 33]);
        let none = report(
            MouseProtocolMode::Press,
            MouseProtocolEncoding::Default,
            MouseEvent::Release(0),
            0,
            0,
            Modifiers::NONE,
        );
        assert_eq!(none, None);
        let wheel = report(
            MouseProtocolMode::PressRelease,
            MouseProtocolEncoding::Sgr,
            MouseEvent::WheelDown,
            1,
            1,
            Modifiers::NONE,
        );
        assert_eq!(wheel.unwrap(), b"\x1b[<65;2;2M");
    }
}
