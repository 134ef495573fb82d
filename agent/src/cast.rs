//! The asciinema `.cast` format: what sessions are recorded as (v2) and what `vibemesh
//! play` reads (v2, and v3 as asciinema 3 writes it).
//!
//! A file is a JSON header line, then one `[time, code, data]` line per event. In v2
//! `time` is seconds since the start; in v3 it is seconds since the previous event.
//! [`CastReader`] reads one line at a time, so a file of any size takes the memory of
//! its longest line (at most [`MAX_LINE`]), and a damaged line is reported with its line
//! number while the lines after it can still be read.

use std::io::BufRead;

/// The longest line read; a longer one is skipped as damaged (a recorded event is at
/// most a few hundred KiB).
pub const MAX_LINE: usize = 16 << 20;

/// A recording's header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The format version: 2 or 3.
    pub version: u8,
    /// Terminal columns.
    pub width: u16,
    /// Terminal lines.
    pub height: u16,
    /// Its title, if any.
    pub title: Option<String>,
    /// The longest pause to play, in seconds, as the file asks (unchecked).
    pub idle_time_limit: Option<f64>,
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct CastEvent {
    /// Its line in the file (1-based).
    pub line: usize,
    /// Its time as the file says: in v2 seconds since the start, in v3 since the
    /// previous event. A damaged file may say a negative or absurd number: the player
    /// decides what to make of it.
    pub time: f64,
    /// `o` output, `i` input, `r` resize, `m` marker, `x` exit (v3).
    pub kind: String,
    /// Its data.
    pub data: String,
}

/// Why a recording, or one of its lines, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CastError {
    /// Reading failed.
    #[error("cannot read the recording: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not what the format says.
    #[error("line {line}: {message}")]
    Format {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The last line ends without a line break and does not parse: what a recording cut
    /// off by a crash (or a full disk) ends with.
    #[error("line {line} is cut short: the recording ends there")]
    Truncated {
        /// 1-based line number.
        line: usize,
    },
}

/// Reads a recording one line at a time.
pub struct CastReader<R> {
    input: R,
    header: Header,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> CastReader<R> {
    /// Reads and checks the header.
    pub fn open(mut input: R) -> Result<Self, CastError> {
        let mut buf = Vec::new();
        let first = match read_line(&mut input, &mut buf)? {
            Line::End => return Err(format_error(1, "empty file")),
            Line::TooLong => return Err(format_error(1, "the header line is too long")),
            Line::Text { .. } => parse_header(&buf)?,
        };
        Ok(Self {
            input,
            header: first,
            line: 1,
            buf,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next event, `None` at the end. After an error, reading may go on with the
    /// next line (except after [`CastError::Io`] and [`CastError::Truncated`], which end
    /// the file).
    pub fn next_event(&mut self) -> Option<Result<CastEvent, CastError>> {
        loop {
            self.line += 1;
            let line = self.line;
            let complete = match read_line(&mut self.input, &mut self.buf) {
                Err(e) => return Some(Err(e.into())),
                Ok(Line::End) => return None,
                Ok(Line::TooLong) => {
                    let msg = format!("longer than {} MiB", MAX_LINE >> 20);
                    return Some(Err(format_error(line, &msg)));
                }
                Ok(Line::Text { complete }) => complete,
            };
            let text = trim(&self.buf);
            // Blank lines, and v3's comment lines.
            if text.is_empty() || (self.header.version == 3 && text.starts_with(b"#")) {
                continue;
            }
            return Some(
                match serde_json::from_slice::<(f64, String, String)>(text) {
                    Ok((time, kind, data)) => Ok(CastEvent {
                        line,
                        time,
                        kind,
                        data,
                    }),
                    Err(_) if !complete => Err(CastError::Truncated { line }),
                    Err(e) => Err(format_error(
                        line,
                        &format!("not an event [time, code, data]: {}", json_error(&e)),
                    )),
                },
            );
        }
    }
}

impl<R: BufRead> Iterator for CastReader<R> {
    type Item = Result<CastEvent, CastError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}

/// serde_json's message without its "at line 1 column N" (the line is ours to say).
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(msg) => format!("{msg} (column {})", e.column()),
        None => text,
    }
}

fn format_error(line: usize, message: &str) -> CastError {
    CastError::Format {
        line,
        message: message.into(),
    }
}

enum Line {
    /// A line is in the buffer; `complete` when it ended with a line break.
    Text {
        complete: bool,
    },
    /// A line longer than [`MAX_LINE`], skipped up to its end.
    TooLong,
    End,
}

/// Reads one line into `buf` (without holding more than [`MAX_LINE`] of it).
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    use std::io::Read;
    buf.clear();
    let n = input
        .by_ref()
        .take(MAX_LINE as u64)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.last() == Some(&b'\n') {
        return Ok(Line::Text { complete: true });
    }
    if n < MAX_LINE {
        return Ok(Line::Text { complete: false });
    }
    // Too long: skip the rest of it without keeping it.
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(Line::TooLong);
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(Line::TooLong);
            }
            None => {
                let len = chunk.len();
                input.consume(len);
            }
        }
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &line[..end]
}

fn parse_header(line: &[u8]) -> Result<Header, CastError> {
    let header: serde_json::Value = serde_json::from_slice(trim(line))
        .map_err(|e| format_error(1, &format!("the header is not JSON: {}", json_error(&e))))?;
    let (version, size) = match header["version"].as_u64() {
        Some(2) => (2, &header),
        Some(3) => (3, &header["term"]),
        _ => {
            return Err(format_error(
                1,
                "not an asciinema v2 or v3 recording (its header has no \"version\": 2 or 3)",
            ));
        }
    };
    let (w, h) = if version == 2 {
        ("width", "height")
    } else {
        ("cols", "rows")
    };
    let dim = |k: &str| {
        size[k]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format_error(1, &format!("the header has no valid {k}")))
    };
    Ok(Header {
        version,
        width: dim(w)?,
        height: dim(h)?,
        title: header["title"].as_str().map(str::to_string),
        idle_time_limit: header["idle_time_limit"].as_f64(),
    })
}

/// The header line of a recording this agent writes (asciinema v2), without its line
/// break.
pub(crate) fn header_line(
    width: u16,
    height: u16,
    timestamp: u64,
    title: &str,
    command: &[String],
) -> String {
    serde_json::json!({
        "version": 2,
        "width": width,
        "height": height,
        "timestamp": timestamp,
        "title": title,
        "command": command.join(" "),
        "env": { "TERM": "xterm-256color" },
    })
    .to_string()
}

/// One event line (asciinema v2: `time` in seconds since the start), without its line
/// break.
pub(crate) fn event_line(time: f64, kind: &str, data: &str) -> String {
    // Serialising an f64 and two strings cannot fail; an empty line would be skipped.
    serde_json::to_string(&(time, kind, data)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<Result<CastEvent, CastError>> {
        CastReader::open(text.as_bytes()).unwrap().collect()
    }

    #[test]
    fn reads_events_and_reports_bad_lines_by_number_then_goes_on() {
        let text = "{\"version\":2,\"width\":80,\"height\":24,\"idle_time_limit\":2}\n\
                    [0.5,\"o\",\"hi\"]\n\nnope\n[1.5,\"o\",\"x\"]\n[0.2,\"o\",\"th";
        let r = CastReader::open(text.as_bytes()).unwrap();
        assert_eq!((r.header().width, r.header().height), (80, 24));
        assert_eq!(r.header().idle_time_limit, Some(2.0));
        let ev = events(text);
        assert_eq!(ev.len(), 4);
        let first = ev[0].as_ref().unwrap();
        assert_eq!(
            (first.line, first.time, first.data.as_str()),
            (2, 0.5, "hi")
        );
        assert!(matches!(ev[1], Err(CastError::Format { line: 4, .. })));
        let third = ev[2].as_ref().unwrap();
        assert_eq!((third.line, third.time), (5, 1.5));
        assert!(matches!(ev[3], Err(CastError::Truncated { line: 6 })));
    }

    #[test]
    fn reads_v3_and_skips_its_comments() {
        let text = "{\"version\":3,\"term\":{\"cols\":100,\"rows\":30}}\n\
                    # a comment\n[0.5,\"o\",\"a\"]\n[0.25,\"o\",\"b\"]\n";
        let r = CastReader::open(text.as_bytes()).unwrap();
        assert_eq!((r.header().width, r.header().height), (100, 30));
        assert_eq!(r.header().version, 3);
        let times: Vec<f64> = events(text).into_iter().map(|e| e.unwrap().time).collect();
        assert_eq!(times, [0.5, 0.25]);
    }

    #[test]
    fn refuses_bad_headers_with_a_reason() {
        for (text, why) in [
            ("", "empty"),
            ("{\"version\":1}", "not an asciinema"),
            ("{\"version\":2,\"width\":0,\"height\":24}", "width"),
            ("\u{0}\u{1}", "not JSON"),
        ] {
            let err = CastReader::open(text.as_bytes()).err().unwrap().to_string();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn an_overlong_line_is_skipped_without_being_kept() {
        let mut text = b"{\"version\":2,\"width\":80,\"height\":24}\n[0,\"o\",\"".to_vec();
        text.resize(text.len() + MAX_LINE + 10, b'x');
        text.extend_from_slice(b"\"]\n[1,\"o\",\"after\"]\n");
        let ev: Vec<_> = CastReader::open(&text[..]).unwrap().collect();
        assert!(matches!(ev[0], Err(CastError::Format { line: 2, .. })));
        assert_eq!(ev[1].as_ref().unwrap().data, "after");
    }

    #[test]
    fn written_lines_read_back() {
        let text = format!(
            "{}\n{}\n",
            header_line(90, 20, 0, "t", &["sh".into()]),
            event_line(0.25, "o", "a\u{1b}[0m\"")
        );
        let ev = events(&text);
        let e = ev[0].as_ref().unwrap();
        assert_eq!((e.time, e.data.as_str()), (0.25, "a\u{1b}[0m\""));
    }
}
