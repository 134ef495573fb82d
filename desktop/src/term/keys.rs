//! The keyboard: egui key events to the bytes a program in a terminal expects (xterm
//! conventions: cursor keys honour application mode, modifiers as `CSI 1;m X`).

use egui::{Key, Modifiers};

/// The xterm modifier parameter (1 + shift + 2·alt + 4·ctrl), when any is held.
fn modifier_param(m: Modifiers) -> Option<u8> {
    let p = 1 + u8::from(m.shift) + 2 * u8::from(m.alt) + 4 * u8::from(m.ctrl);
    (p > 1).then_some(p)
}

/// The bytes for a pressed key that produces no text of its own, or `None` when the key
/// is left to the text event (printable keys without Ctrl).
pub fn key_bytes(key: Key, m: Modifiers, app_cursor: bool) -> Option<Vec<u8>> {
    let csi_letter = |letter: u8| -> Vec<u8> {
        match modifier_param(m) {
            Some(p) => format!("\x1b[1;{p}{}", letter as char).into_bytes(),
            None if app_cursor => vec![0x1b, b'O', letter],
            None => vec![0x1b, b'[', letter],
        }
    };
    let csi_tilde = |n: u8| -> Vec<u8> {
        match modifier_param(m) {
            Some(p) => format!("\x1b[{n};{p}~").into_bytes(),
            None => format!("\x1b[{n}~").into_bytes(),
        }
    };
    let ss3 = |letter: u8| -> Vec<u8> {
        match modifier_param(m) {
            Some(p) => format!("\x1b[1;{p}{}", letter as char).into_bytes(),
            None => vec![0x1b, b'O', letter],
        }
    };
    let alt = |b: &[u8]| -> Vec<u8> {
        if m.alt {
            let mut v = vec![0x1b];
            v.extend_from_slice(b);
            v
        } else {
            b.to_vec()
        }
    };
    Some(match key {
        Key::ArrowUp => csi_letter(b'A'),
        Key::ArrowDown => csi_letter(b'B'),
        Key::ArrowRight => csi_letter(b'C'),
        Key::ArrowLeft => csi_letter(b'D'),
        Key::Home => csi_letter(b'H'),
        Key::End => csi_letter(b'F'),
        Key::Insert => csi_tilde(2),
        Key::Delete => csi_tilde(3),
        Key::PageUp => csi_tilde(5),
        Key::PageDown => csi_tilde(6),
        Key::F1 => ss3(b'P'),
        Key::F2 => ss3(b'Q'),
        Key::F3 => ss3(b'R'),
        Key::F4 => ss3(b'S'),
        Key::F5 => csi_tilde(15),
        Key::F6 => csi_tilde(17),
        Key::F7 => csi_tilde(18),
        Key::F8 => csi_tilde(19),
        Key::F9 => csi_tilde(20),
        Key::F10 => csi_tilde(21),
        Key::F11 => csi_tilde(23),
        Key::F12 => csi_tilde(24),
        Key::Enter => alt(b"\r"),
        Key::Tab if m.shift => b"\x1b[Z".to_vec(),
        Key::Tab => alt(b"\t"),
        Key::Backspace if m.ctrl => alt(b"\x08"),
        Key::Backspace => alt(b"\x7f"),
        Key::Escape => b"\x1b".to_vec(),
        // macOS's Cmd is for the app, not the terminal.
        _ if m.ctrl && !m.mac_cmd => return ctrl_key(key, m.alt),
        _ => return None,
    })
}

/// Ctrl plus a letter or symbol: the C0 control code (Ctrl+A = 0x01 … Ctrl+Z = 0x1a).
fn ctrl_key(key: Key, alt: bool) -> Option<Vec<u8>> {
    let name = key.name();
    let code = if name.len() == 1 {
        let c = name.as_bytes()[0].to_ascii_uppercase();
        match c {
            b'A'..=b'Z' => c - b'A' + 1,
            b'2' | b' ' => 0,
            b'3' | b'[' => 0x1b,
            b'4' | b'\\' => 0x1c,
            b'5' | b']' => 0x1d,
            b'6' => 0x1e,
            b'7' | b'/' | b'-' => 0x1f,
            b'8' => 0x7f,
            _ => return None,
        }
    } else {
        match key {
            Key::Space => 0,
            Key::OpenBracket => 0x1b,
            Key::Backslash => 0x1c,
            Key::CloseBracket => 0x1d,
            Key::Slash | Key::Minus => 0x1f,
            _ => return None,
        }
    };
    Some(if alt { vec![0x1b, code] } else { vec![code] })
}

/// Typed text: Alt sends ESC first (the "meta sends escape" convention).
pub fn text_bytes(text: &str, m: Modifiers) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 1);
    if m.alt && !cfg!(target_os = "macos") {
        v.push(0x1b);
    }
    v.extend_from_slice(text.as_bytes());
    v
}

/// Pasted text; wrapped in bracketed-paste marks when the program asked for them, with
/// any marks inside the text removed so a paste cannot end the bracket early.
pub fn paste_bytes(text: &str, bracketed: bool) -> Vec<u8> {
    let text = text.replace("\r\n", "\r").replace('\n', "\r");
    if bracketed {
        let clean = text.replace("\x1b[201~", "").replace("\x1b[200~", "");
        format!("\x1b[200~{clean}\x1b[201~").into_bytes()
    } else {
        text.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Modifiers = Modifiers::NONE;

    #[test]
    fn cursor_keys_follow_application_mode_and_modifiers() {
        assert_eq!(key_bytes(Key::ArrowUp, NONE, false).unwrap(), b"\x1b[A");
        assert_eq!(key_bytes(Key::ArrowUp, NONE, true).unwrap(), b"\x1bOA");
        assert_eq!(
            key_bytes(Key::ArrowLeft, Modifiers::CTRL, false).unwrap(),
            b"\x1b[1;5D"
        );
        assert_eq!(key_bytes(Key::PageDown, NONE, false).unwrap(), b"\x1b[6~");
        assert_eq!(key_bytes(Key::F1, NONE, false).unwrap(), b"\x1bOP");
        assert_eq!(
            key_bytes(Key::F12, Modifiers::SHIFT, false).unwrap(),
            b"\x1b[24;2~"
        );
        assert_eq!(key_bytes(Key::Home, NONE, false).unwrap(), b"\x1b[H");
    }

    #[test]
    fn ctrl_and_alt_combinations() {
        assert_eq!(key_bytes(Key::C, Modifiers::CTRL, false).unwrap(), [3]);
        assert_eq!(key_bytes(Key::D, Modifiers::CTRL, false).unwrap(), [4]);
        assert_eq!(
            key_bytes(Key::OpenBracket, Modifiers::CTRL, false).unwrap(),
            [0x1b]
        );
        assert_eq!(key_bytes(Key::A, NONE, false), None);
        assert_eq!(
            key_bytes(Key::Enter, Modifiers::ALT, false).unwrap(),
            b"\x1b\r"
        );
        assert_eq!(key_bytes(Key::Backspace, NONE, false).unwrap(), [0x7f]);
        if !cfg!(target_os = "macos") {
            assert_eq!(text_bytes("x", Modifiers::ALT), b"\x1bx");
        }
    }

    #[test]
    fn bracketed_paste_cannot_be_escaped() {
        assert_eq!(paste_bytes("a\nb", false), b"a\rb");
        assert_eq!(
            paste_bytes("x\x1b[201~rm -rf", true),
            b"\x1b[200~xrm -rf\x1b[201~"
        );
    }
}
