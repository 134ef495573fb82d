//! The measurements. Each takes a [`Peer`](vibemesh_core::client::Peer) (where streams go) and a
//! control client for the same agent, and leaves cleaning up sessions to the caller
//! ([`crate::client::kill_all`]), which runs also when a measurement fails.

pub mod cli;
pub mod create;
pub mod echo;
pub mod idle;
pub mod pty;
pub mod seqcheck;
pub mod throughput;

/// How much of everything to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Measured keystrokes.
    pub keys: usize,
    /// Keystrokes sent first and not measured.
    pub warmup_keys: usize,
    /// Sessions created one after another for the create-to-first-output metric.
    pub creates: usize,
    /// Idle sessions for the memory and idle-CPU metrics.
    pub idle_sessions: usize,
    /// How long idle CPU is sampled.
    pub idle_secs: u64,
    /// Lines `seq` prints in the throughput session (14 000 000 is about 129 MB through
    /// the PTY, counting the `\r` the terminal adds to each line).
    pub seq_lines: u64,
    /// Times each throughput test runs; the median run is reported.
    pub throughput_runs: usize,
    /// Also run the throughput test on a second pair of agents that record sessions.
    pub record_run: bool,
    /// Also measure against agent B's own socket (no QUIC, no agent A), to split costs.
    pub baseline: bool,
}

impl Plan {
    /// The full run the numbers in `docs/PERFORMANCE.md` come from.
    pub fn full() -> Self {
        Self {
            keys: 1000,
            warmup_keys: 50,
            creates: 50,
            idle_sessions: 100,
            idle_secs: 10,
            seq_lines: 14_000_000,
            throughput_runs: 3,
            record_run: true,
            baseline: true,
        }
    }

    /// A smoke run of well under a minute.
    pub fn quick() -> Self {
        Self {
            keys: 200,
            warmup_keys: 20,
            creates: 10,
            idle_sessions: 100,
            idle_secs: 3,
            seq_lines: 2_000_000,
            throughput_runs: 1,
            record_run: false,
            baseline: false,
        }
    }
}

/// Summary statistics of a set of samples in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// How many samples.
    pub n: usize,
    /// The median.
    pub p50: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

impl Summary {
    /// Summarises `samples` (not empty; an empty set gives zeros).
    pub fn of(samples: &[f64]) -> Self {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let rank = |q: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            s[i]
        };
        Self {
            n,
            p50: rank(0.5),
            p99: rank(0.99),
            min: s.first().copied().unwrap_or(0.0),
            max: s.last().copied().unwrap_or(0.0),
            mean: if n == 0 {
                0.0
            } else {
                s.iter().sum::<f64>() / n as f64
            },
        }
    }

    /// As JSON.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n,
            "p50_ms": self.p50,
            "p99_ms": self.p99,
            "min_ms": self.min,
            "max_ms": self.max,
            "mean_ms": self.mean,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        let s = Summary::of(&v);
        assert_eq!((s.p50, s.p99, s.min, s.max), (500.0, 990.0, 1.0, 1000.0));
        assert_eq!(Summary::of(&[3.0]).p99, 3.0);
        assert_eq!(Summary::of(&[]).n, 0);
    }
}
