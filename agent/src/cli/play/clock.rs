//! The playback clock: where in the recording playback is, on an absolute monotonic
//! clock, so time spent writing output never accumulates into lateness.
//!
//! Positions are seconds of the recording's timeline (idle time already capped). An
//! event at position `p` plays at `origin + offset + p / speed`; pausing freezes the
//! position, resuming moves `offset` so the position goes on from where it froze.

use std::time::{Duration, Instant};

/// The longest wait the clock computes (about 317 years): beyond that a deadline is
/// never reached.
const MAX_WAIT_SECS: f64 = 1e10;

/// Where playback is.
#[derive(Debug, Clone)]
pub struct Clock {
    origin: Instant,
    speed: f64,
    /// Seconds after `origin` at which position 0 plays (may be negative after a seek).
    offset: f64,
    /// The position, while paused.
    paused: Option<f64>,
}

impl Clock {
    /// Starts at position 0 at `now`; `speed` must be positive and finite (checked by
    /// the caller).
    pub fn new(speed: f64, now: Instant) -> Self {
        Self {
            origin: now,
            speed,
            offset: 0.0,
            paused: None,
        }
    }

    /// The position at `now`.
    pub fn position(&self, now: Instant) -> f64 {
        match self.paused {
            Some(p) => p,
            None => (self.elapsed(now) - self.offset) * self.speed,
        }
    }

    /// Whether playback is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.is_some()
    }

    /// When position `pos` plays (while not paused); `None` when it never will.
    pub fn deadline(&self, pos: f64) -> Option<Instant> {
        let secs = self.offset + pos / self.speed;
        if secs.is_nan() || secs >= MAX_WAIT_SECS {
            return None;
        }
        if secs <= 0.0 {
            return Some(self.origin);
        }
        self.origin.checked_add(Duration::from_secs_f64(secs))
    }

    /// Whether an event at `pos` is due at `now`.
    pub fn is_due(&self, pos: f64, now: Instant) -> bool {
        match self.paused {
            Some(p) => pos <= p,
            None => self.deadline(pos).is_some_and(|d| d <= now),
        }
    }

    /// Pauses, or resumes.
    pub fn toggle_pause(&mut self, now: Instant) {
        match self.paused.take() {
            Some(p) => self.offset = self.elapsed(now) - p / self.speed,
            None => self.paused = Some(self.position(now)),
        }
    }

    /// Moves the position to `pos`, paused or not.
    pub fn seek(&mut self, pos: f64, now: Instant) {
        match &mut self.paused {
            Some(p) => *p = pos,
            None => self.offset = self.elapsed(now) - pos / self.speed,
        }
    }

    fn elapsed(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.origin).as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, secs: f64) -> Instant {
        t0 + Duration::from_secs_f64(secs)
    }

    #[test]
    fn deadlines_are_absolute_and_scaled_by_speed() {
        let t0 = Instant::now();
        let c = Clock::new(10.0, t0);
        assert_eq!(c.deadline(20.0), Some(at(t0, 2.0)));
        assert!(!c.is_due(20.0, at(t0, 1.9)));
        assert!(c.is_due(20.0, at(t0, 2.0)));
        assert_eq!(c.deadline(1e300), None, "an absurd position is never due");
        assert!(!c.is_due(1e300, at(t0, 1e6)));
        assert!(!c.is_due(f64::NAN, t0));
    }

    #[test]
    fn pause_freezes_the_position_and_resume_goes_on_from_there() {
        let t0 = Instant::now();
        let mut c = Clock::new(2.0, t0);
        c.toggle_pause(at(t0, 1.0));
        assert!(c.is_paused());
        assert_eq!(c.position(at(t0, 50.0)), 2.0);
        assert!(c.is_due(2.0, at(t0, 50.0)) && !c.is_due(2.1, at(t0, 50.0)));
        c.toggle_pause(at(t0, 10.0));
        assert!((c.position(at(t0, 11.0)) - 4.0).abs() < 1e-9);
        assert_eq!(c.deadline(6.0), Some(at(t0, 12.0)));
    }

    #[test]
    fn seeking_moves_the_position_paused_or_not() {
        let t0 = Instant::now();
        let mut c = Clock::new(1.0, t0);
        c.seek(5.0, t0);
        assert!(c.is_due(5.0, t0) && !c.is_due(5.5, t0));
        c.toggle_pause(t0);
        c.seek(10.0, at(t0, 3.0));
        assert_eq!(c.position(at(t0, 4.0)), 10.0);
    }
}
