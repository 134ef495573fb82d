//! Reading asciinema v2 `.cast` files (what sessions are recorded as).

use std::io::BufRead;

/// A recording's header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Terminal columns.
    pub width: u16,
    /// Terminal lines.
    pub height: u16,
    /// Its title, if any.
    pub title: Option<String>,
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct CastEvent {
    /// Seconds since the start.
    pub time: f64,
    /// `o` output, `i` input, `r` resize, `m` marker.
    pub kind: String,
    /// Its data.
    pub data: String,
}

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CastError {
    /// Reading failed.
    #[error("cannot read the recording: {0}")]
    Io(#[from] std::io::Error),
    /// Not asciinema v2.
    #[error("line {line}: {message}")]
    Format {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads a whole recording. A last line cut short by a crash is ignored; any other bad
/// line is an error with its line number.
pub fn read(input: impl BufRead) -> Result<(Header, Vec<CastEvent>), CastError> {
    let mut lines = input.lines().enumerate().peekable();
    let (_, first) = lines.next().ok_or(CastError::Format {
        line: 1,
        message: "empty file".into(),
    })?;
    let header: serde_json::Value =
        serde_json::from_str(&first?).map_err(|e| CastError::Format {
            line: 1,
            message: format!("header is not JSON: {e}"),
        })?;
    if header["version"] != 2 {
        return Err(CastError::Format {
            line: 1,
            message: "not an asciinema v2 recording".into(),
        });
    }
    let dim = |k: &str| {
        header[k]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    let header = Header {
        width: dim("width").ok_or(CastError::Format {
            line: 1,
            message: "header has no valid width".into(),
        })?,
        height: dim("height").ok_or(CastError::Format {
            line: 1,
            message: "header has no valid height".into(),
        })?,
        title: header["title"].as_str().map(str::to_string),
    };
    let mut events = Vec::new();
    while let Some((i, line)) = lines.next() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<(f64, String, String), _> = serde_json::from_str(&line);
        match parsed {
            Ok((time, kind, data)) => events.push(CastEvent { time, kind, data }),
            // A torn last line is what a crash leaves behind.
            Err(_) if lines.peek().is_none() => break,
            Err(e) => {
                return Err(CastError::Format {
                    line: i + 1,
                    message: format!("not an event: {e}"),
                });
            }
        }
    }
    Ok((header, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_and_tolerates_a_torn_last_line() {
        let text =
            "{\"version\":2,\"width\":80,\"height\":24}\n[0.1,\"o\",\"hi\"]\n[0.2,\"o\",\"th";
        let (h, ev) = read(text.as_bytes()).unwrap();
        assert_eq!((h.width, h.height), (80, 24));
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "hi");
        let bad = "{\"version\":2,\"width\":80,\"height\":24}\nnope\n[0.2,\"o\",\"x\"]\n";
        assert!(matches!(
            read(bad.as_bytes()),
            Err(CastError::Format { line: 2, .. })
        ));
        assert!(read("{\"version\":1}".as_bytes()).is_err());
    }
}
