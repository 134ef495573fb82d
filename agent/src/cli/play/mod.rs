//! `vibemesh play`: replays a recording at its own pace, faster or slower, like
//! `asciinema play`.
//!
//! The file is read as it plays ([`feed`]), so any size plays in bounded memory; each
//! event is scheduled on an absolute clock ([`clock`]), so playback takes the
//! recording's time divided by the speed however many events there are. When stdin is a
//! terminal it is put in raw mode for the keys ([`keys`]) and restored on every way out.
//! Damaged input never stops it: bad lines and timestamps are skipped and summed up on
//! stderr at the end.

mod clock;
mod feed;
mod keys;
mod player;

use std::{
    io::{BufReader, IsTerminal},
    path::{Path, PathBuf},
    process::ExitCode,
};

use tokio::io::AsyncWriteExt;
use vibemesh_core::text::inert;

use feed::Report;
use player::{End, Player};
use vibemesh_agent::cast::CastReader;
use vibemesh_core::sync::lock;

/// The slowest and fastest speeds played.
const SPEEDS: std::ops::RangeInclusive<f64> = 0.01..=1000.0;

/// Plays `file` to stdout at `speed`, pauses capped at `idle_limit` seconds (else at
/// the recording's own `idle_time_limit`, if it has one).
pub async fn run(file: &Path, speed: f64, idle_limit: Option<f64>) -> anyhow::Result<ExitCode> {
    if !SPEEDS.contains(&speed) {
        anyhow::bail!(
            "--speed must be between {} and {} (got {})",
            SPEEDS.start(),
            SPEEDS.end(),
            feed::shown(speed)
        );
    }
    if let Some(limit) = idle_limit
        && !(limit.is_finite() && limit > 0.0)
    {
        anyhow::bail!(
            "--idle-time-limit must be a positive number of seconds (got {})",
            feed::shown(limit)
        );
    }
    let path = file.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || open(&path)).await??;
    let mut notes = Vec::new();
    let idle_limit = idle_limit.or_else(|| header_idle_limit(&reader, &mut notes));
    let (events, report) = feed::start(reader, idle_limit)?;

    let raw = std::io::stdin()
        .is_terminal()
        .then(super::attach::RawMode::enter)
        .flatten();
    let keys = raw.as_ref().map(|_| super::attach::spawn_stdin_reader());
    let mut stdout = tokio::io::stdout();
    let end = Player::new(events, speed, &mut stdout).run(keys).await;
    if std::io::stdout().is_terminal() {
        // Undo modes the recording may have left on (cut off mid-way, or quit).
        let mut tail = super::attach::RESET.to_string();
        if matches!(end, Ok(End::Quit)) {
            tail.push_str("\r\n");
        }
        let _ = stdout.write_all(tail.as_bytes()).await;
    }
    let _ = stdout.flush().await;
    drop(raw);
    // A reader that went away ends play quietly, as for every command.
    end.map_err(|e| anyhow::Error::from(super::stdout::StdoutError::from(e)))?;

    let report = lock(&report).clone();
    notes.extend(summary(&report));
    let shown = inert(&file.display().to_string()).into_owned();
    for note in &notes {
        eprintln!("vibemesh play: {shown}: {note}");
    }
    let damaged = report.malformed.count > 0 || report.read_error.is_some();
    Ok(if damaged {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn open(path: &PathBuf) -> anyhow::Result<CastReader<BufReader<std::fs::File>>> {
    let shown = inert(&path.display().to_string()).into_owned();
    let f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot open {shown}: {e}"))?;
    CastReader::open(BufReader::with_capacity(256 << 10, f))
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
}

/// The recording's own idle limit, when it is usable.
fn header_idle_limit<R>(reader: &CastReader<R>, notes: &mut Vec<String>) -> Option<f64>
where
    R: std::io::BufRead,
{
    let limit = reader.header().idle_time_limit?;
    if limit.is_finite() && limit > 0.0 {
        return Some(limit);
    }
    notes.push(format!(
        "its idle_time_limit ({}) is not a positive number of seconds: ignored",
        feed::shown(limit)
    ));
    None
}

/// One line per kind of trouble met while reading.
fn summary(r: &Report) -> Vec<String> {
    let mut notes = Vec::new();
    let first = |t: &feed::Tally| {
        t.first
            .as_ref()
            .map(|(line, what)| format!("line {line}: {what}"))
            .unwrap_or_default()
    };
    if r.malformed.count > 0 {
        notes.push(format!(
            "{} damaged line(s) skipped (first: {})",
            r.malformed.count,
            first(&r.malformed)
        ));
    }
    if r.backwards.count > 0 {
        notes.push(format!(
            "{} timestamp(s) earlier than the one before, played without a pause (first: {})",
            r.backwards.count,
            first(&r.backwards)
        ));
    }
    if r.jumps.count > 0 {
        notes.push(format!(
            "{} timestamp(s) more than a day after the one before, played as an idle pause (first: {})",
            r.jumps.count,
            first(&r.jumps)
        ));
    }
    if let Some(line) = r.truncated {
        notes.push(format!(
            "line {line} is cut short (the recording was interrupted there): ignored"
        ));
    }
    if let Some(e) = &r.read_error {
        notes.push(format!("stopped early: {e}"));
    }
    notes
}
