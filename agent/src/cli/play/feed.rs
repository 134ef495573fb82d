//! Reads a recording on a thread of its own and hands the player its events, already
//! placed on the playback timeline, through a bounded queue: memory stays bounded
//! whatever the file's size, and a slow disk never blocks the async runtime.
//!
//! Placing an event: its gap to the previous one (as the file says) is capped by the
//! idle limit. A gap that is negative (timestamps going backwards) counts as none, and
//! one of more than [`MAX_GAP`] (a damaged timestamp such as `1e300`) as the idle limit,
//! or none without one, so no timestamp can stop playback. Those, and damaged lines,
//! are tallied in a [`Report`] that the player prints at the end.

use std::{
    io::BufRead,
    sync::{Arc, Mutex},
};

use tokio::sync::mpsc;

use vibemesh_agent::cast::{CastError, CastEvent, CastReader};
use vibemesh_core::sync::lock;

/// The longest gap between two events taken as real: a day.
pub const MAX_GAP: f64 = 86_400.0;
/// Events read ahead of playback. With events of at most a few hundred KiB (what a
/// terminal chunk becomes), this bounds the memory playing takes.
const QUEUE: usize = 64;

/// What an event does when it plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Terminal output.
    Output,
    /// A marker (`]` plays up to the next one).
    Marker,
}

/// An event placed on the timeline.
#[derive(Debug, Clone)]
pub struct Ev {
    /// Seconds into the (idle-limited) recording.
    pub pos: f64,
    /// What it is.
    pub kind: Kind,
    /// The output to write (empty for a marker).
    pub data: String,
}

/// How many lines had one kind of trouble, and the first of them.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// The first one's line number, and what was wrong with it.
    pub first: Option<(usize, String)>,
}

impl Tally {
    fn add(&mut self, line: usize, what: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((line, what()));
        }
    }
}

/// What went wrong while reading, for the summary at the end.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Timestamps earlier than the one before.
    pub backwards: Tally,
    /// Gaps longer than [`MAX_GAP`].
    pub jumps: Tally,
    /// Lines that are not events (skipped).
    pub malformed: Tally,
    /// The last line, cut short (ignored).
    pub truncated: Option<usize>,
    /// Reading stopped on this error.
    pub read_error: Option<String>,
}

/// Places events on the timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    pos: f64,
    idle_limit: Option<f64>,
    /// v2: the time gaps are measured from. v3 times are gaps already (`None`).
    base: Option<f64>,
}

impl Timeline {
    /// A timeline that caps pauses at `idle_limit` seconds, if given, for a recording
    /// whose times count from its start (v2, `absolute`) or from the previous event (v3).
    pub fn new(idle_limit: Option<f64>, absolute: bool) -> Self {
        Self {
            pos: 0.0,
            idle_limit,
            base: absolute.then_some(0.0),
        }
    }

    /// The position of the event at `time` (on line `line`); `next` is the next event's
    /// time, if there is one.
    ///
    /// In v2 a time out of line (earlier than the one before, or more than [`MAX_GAP`]
    /// after it) is one damaged value when the next event's time is in line again: the
    /// timeline goes on from the time before it. Otherwise the recording's clock really
    /// moved (a long idle, a clock set back) and the timeline goes on from it.
    pub fn place(&mut self, time: f64, next: Option<f64>, line: usize, report: &mut Report) -> f64 {
        let gap = match &mut self.base {
            None => time,
            Some(base) => {
                let in_line = |t: f64, base: f64| t >= base && t - base <= MAX_GAP;
                let gap = time - *base;
                if in_line(time, *base) || !next.is_some_and(|n| in_line(n, *base)) {
                    *base = time;
                }
                gap
            }
        };
        let gap = if gap.is_nan() || gap < 0.0 {
            report
                .backwards
                .add(line, || format!("{} s back", shown(-gap)));
            0.0
        } else if gap > MAX_GAP {
            report.jumps.add(line, || format!("{} s ahead", shown(gap)));
            self.idle_limit.unwrap_or(0.0)
        } else {
            gap
        };
        self.pos += self.idle_limit.map_or(gap, |limit| gap.min(limit));
        self.pos
    }
}

/// A number of seconds for a message: plain, or in exponent form when huge or tiny.
pub fn shown(x: f64) -> String {
    if x != 0.0 && !(1e-3..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{}", (x * 1000.0).round() / 1000.0)
    }
}

/// Starts reading `reader` on a thread. Events arrive on the receiver, which closes at
/// the end of the file; the report is complete by then (and up to date before).
pub fn start<R: BufRead + Send + 'static>(
    reader: CastReader<R>,
    idle_limit: Option<f64>,
) -> std::io::Result<(mpsc::Receiver<Ev>, Arc<Mutex<Report>>)> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let report = Arc::new(Mutex::new(Report::default()));
    let shared = report.clone();
    let timeline = Timeline::new(idle_limit, reader.header().version == 2);
    std::thread::Builder::new()
        .name("play-reader".into())
        .spawn(move || read(reader, timeline, &tx, &shared))?;
    Ok((rx, report))
}

/// Reads events one ahead of the one it places (see [`Timeline::place`]).
fn read<R: BufRead>(
    mut reader: CastReader<R>,
    mut timeline: Timeline,
    tx: &mpsc::Sender<Ev>,
    shared: &Mutex<Report>,
) {
    let mut report = Report::default();
    let publish = |r: &Report| *lock(shared) = r.clone();
    let mut next = next_event(&mut reader, &mut report);
    while let Some(ev) = next.take() {
        next = next_event(&mut reader, &mut report);
        let before = (report.backwards.count, report.jumps.count);
        let pos = timeline.place(ev.time, next.as_ref().map(|n| n.time), ev.line, &mut report);
        if before != (report.backwards.count, report.jumps.count) {
            publish(&report);
        }
        let kind = match ev.kind.as_str() {
            "o" => Kind::Output,
            "m" => Kind::Marker,
            // Input, resizes and exits show nothing; their time still counts.
            _ => continue,
        };
        let data = if kind == Kind::Output {
            ev.data
        } else {
            String::new()
        };
        // The player quit: stop reading.
        if tx.blocking_send(Ev { pos, kind, data }).is_err() {
            break;
        }
    }
    publish(&report);
}

/// The next event, tallying the damaged lines before it; `None` at the end.
fn next_event<R: BufRead>(reader: &mut CastReader<R>, report: &mut Report) -> Option<CastEvent> {
    loop {
        match reader.next_event()? {
            Ok(ev) => return Some(ev),
            Err(CastError::Format { line, message }) => report.malformed.add(line, || message),
            Err(CastError::Truncated { line }) => {
                report.truncated = Some(line);
                return None;
            }
            Err(e @ CastError::Io(_)) => {
                report.read_error = Some(e.to_string());
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place_all(t: &mut Timeline, times: &[f64], r: &mut Report) -> Vec<f64> {
        (0..times.len())
            .map(|i| t.place(times[i], times.get(i + 1).copied(), i + 2, r))
            .collect()
    }

    #[test]
    fn a_damaged_timestamp_costs_no_time_and_playback_goes_on_from_the_one_before() {
        let mut r = Report::default();
        let mut t = Timeline::new(None, true);
        let pos = place_all(&mut t, &[1.0, 1e300, 2.0, -5.0, 2.5, 0.0, 3.0], &mut r);
        assert_eq!(pos, [1.0, 1.0, 2.0, 2.0, 2.5, 2.5, 3.0]);
        assert_eq!(r.jumps.count, 1);
        assert_eq!(r.jumps.first.as_ref().map(|f| f.0), Some(3));
        assert_eq!(r.backwards.count, 2);
        assert_eq!(
            r.backwards.first.as_ref().map(|f| f.1.as_str()),
            Some("7 s back")
        );
    }

    #[test]
    fn a_clock_that_really_moved_is_followed() {
        let mut r = Report::default();
        let mut t = Timeline::new(None, true);
        // Two days idle, then a clock set back by 10 s: each costs no time, once.
        let times = [10.0, 172_810.0, 172_811.0, 172_801.0, 172_802.0];
        let pos = place_all(&mut t, &times, &mut r);
        assert_eq!(pos, [10.0, 10.0, 11.0, 11.0, 12.0]);
        assert_eq!((r.jumps.count, r.backwards.count), (1, 1));
    }

    #[test]
    fn the_idle_limit_caps_pauses_and_absurd_jumps_and_v3_times_are_gaps() {
        let mut r = Report::default();
        let mut t = Timeline::new(Some(2.0), false);
        let pos = place_all(&mut t, &[1.0, 30.0, 1e300, -1.0, 0.5], &mut r);
        assert_eq!(pos, [1.0, 3.0, 5.0, 5.0, 5.5]);
        assert_eq!((r.jumps.count, r.backwards.count), (1, 1));
        assert_eq!(shown(1e300), "1e300");
        assert_eq!(shown(5.25), "5.25");
    }
}
