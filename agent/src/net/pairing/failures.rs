//! Failed pairing attempts, counted per remote key and per remote network, so a guesser
//! pauses pairing for itself and not for everyone.
//!
//! There is no count across all attempts: a ticket's secret has 128 bits, so guessing
//! is hopeless however many tries are allowed, and a global count would let anyone keep
//! pairing shut. What is bounded is memory: the table forgets entries a window after
//! their last failure, and beyond [`MAX_SOURCES`] the stalest. Forgetting only ever lifts
//! a pause, so flooding the table cannot shut anyone out either.

use std::{
    collections::{HashMap, VecDeque},
    net::{IpAddr, Ipv6Addr},
    time::{Duration, Instant},
};

use vibemesh_core::EndpointId;

/// Failed attempts one key or one network may make in [`FAILURE_WINDOW`] before pairing
/// pauses for it.
pub const MAX_FAILURES: usize = 10;
/// The window failed attempts are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Most keys and networks remembered at once (about 1 MB).
const MAX_SOURCES: usize = 4096;
/// Most networks counted for one attempt (a connection may have several paths).
const MAX_NETS: usize = 4;

/// Where a pairing attempt comes from: the remote key and the networks of its direct
/// paths (none when it arrives through a relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    key: EndpointId,
    nets: Vec<IpAddr>,
}

impl Origin {
    /// An attempt by `key` from the addresses `ips`.
    pub fn new(key: EndpointId, ips: impl IntoIterator<Item = IpAddr>) -> Self {
        let mut nets = Vec::new();
        for net in ips.into_iter().map(network) {
            if nets.len() < MAX_NETS && !nets.contains(&net) {
                nets.push(net);
            }
        }
        Self { key, nets }
    }

    fn sources(&self) -> impl Iterator<Item = Source> + '_ {
        std::iter::once(Source::Key(self.key)).chain(self.nets.iter().map(|n| Source::Net(*n)))
    }
}

/// The network an address counts for: an IPv4 address alone, an IPv6 address's /64 (a
/// subscriber usually gets a whole /64, so one host has countless addresses in it).
fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Key(EndpointId),
    Net(IpAddr),
}

/// The recent failures of each key and network.
#[derive(Debug, Default)]
pub(super) struct Failures {
    /// The last [`MAX_FAILURES`] failure times of each source, oldest first.
    recent: HashMap<Source, VecDeque<Instant>>,
}

impl Failures {
    /// Whether `origin`'s key or one of its networks failed [`MAX_FAILURES`] times within
    /// the last [`FAILURE_WINDOW`].
    pub(super) fn limited(&self, origin: &Origin, now: Instant) -> bool {
        origin.sources().any(|s| {
            self.recent.get(&s).is_some_and(|times| {
                times.len() >= MAX_FAILURES
                    && times
                        .front()
                        .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            })
        })
    }

    /// Counts a failed attempt from `origin`.
    pub(super) fn record(&mut self, origin: &Origin, now: Instant) {
        self.recent.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
        });
        for source in origin.sources() {
            if !self.recent.contains_key(&source) && self.recent.len() >= MAX_SOURCES {
                self.forget_stalest();
            }
            let times = self.recent.entry(source).or_default();
            if times.len() >= MAX_FAILURES {
                times.pop_front();
            }
            times.push_back(now);
        }
    }

    fn forget_stalest(&mut self) {
        let stalest = self
            .recent
            .iter()
            .min_by_key(|(_, times)| times.back().copied())
            .map(|(s, _)| *s);
        if let Some(s) = stalest {
            self.recent.remove(&s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> EndpointId {
        vibemesh_core::SecretKey::from_bytes(&[n; 32]).public()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn fail(f: &mut Failures, origin: &Origin, times: usize, now: Instant) {
        for _ in 0..times {
            f.record(origin, now);
        }
    }

    #[test]
    fn a_key_or_a_network_is_paused_alone_and_only_for_the_window() {
        let now = Instant::now();
        let mut f = Failures::default();
        let guesser = Origin::new(key(1), [ip("192.0.2.1")]);
        fail(&mut f, &guesser, MAX_FAILURES - 1, now);
        assert!(!f.limited(&guesser, now));
        fail(&mut f, &guesser, 1, now);
        assert!(f.limited(&guesser, now));
        // The same key from elsewhere, and the same address under another key, too.
        assert!(f.limited(&Origin::new(key(1), [ip("198.51.100.7")]), now));
        assert!(f.limited(&Origin::new(key(2), [ip("192.0.2.1")]), now));
        assert!(f.limited(&Origin::new(key(2), [ip("::ffff:192.0.2.1")]), now));
        // Anyone else is not.
        assert!(!f.limited(&Origin::new(key(2), [ip("192.0.2.2")]), now));
        assert!(!f.limited(&Origin::new(key(3), []), now));
        assert!(!f.limited(&guesser, now + FAILURE_WINDOW));
    }

    #[test]
    fn an_ipv6_host_counts_as_its_slash_64() {
        let now = Instant::now();
        let mut f = Failures::default();
        for n in 0..MAX_FAILURES {
            let addr = format!("2001:db8:1:2::{:x}", n + 1);
            fail(&mut f, &Origin::new(key(n as u8), [ip(&addr)]), 1, now);
        }
        assert!(f.limited(&Origin::new(key(99), [ip("2001:db8:1:2:ffff::1")]), now));
        assert!(!f.limited(&Origin::new(key(99), [ip("2001:db8:1:3::1")]), now));
    }

    #[test]
    fn the_table_stays_bounded_and_forgets_the_stalest() {
        let start = Instant::now();
        let mut f = Failures::default();
        let old = Origin::new(key(0), []);
        fail(&mut f, &old, MAX_FAILURES, start);
        // A key keeps coming from fresh addresses within the window.
        let roamer = key(1);
        let later = start + Duration::from_millis(1);
        for n in 0..MAX_SOURCES as u32 {
            f.record(&Origin::new(roamer, [IpAddr::from(n.to_be_bytes())]), later);
        }
        assert!(f.recent.len() <= MAX_SOURCES);
        assert!(!f.limited(&old, start), "the stalest entry makes room");
        // After the window everything is forgotten at the next failure.
        f.record(&Origin::new(key(2), []), start + FAILURE_WINDOW * 2);
        assert_eq!(f.recent.len(), 1);
    }
}
