//! A slow link made in a network namespace: every UDP datagram in or out of one
//! interface is queued to this process (iptables NFQUEUE) and let through a fixed time
//! later, in order. The kernels here have no `netem`; the agents keep their own
//! addresses, as on a real long link. Needs root.

use std::{
    collections::VecDeque,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// The queue number the rules and the holder share.
const QUEUE: u16 = 7;

/// Holds each datagram on the link for the delay; stops (and lets everything through
/// at once) on drop.
pub struct Delay {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn iptables(netns: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(["netns", "exec", netns, "iptables"])
        .args(args)
        .output()
        .map_err(|e| format!("iptables: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

impl Delay {
    /// Delays UDP on `interface` of namespace `netns` by `each_way` in both directions
    /// (a round trip of twice that through it).
    pub fn udp(netns: &str, interface: &str, each_way: Duration) -> Result<Self, String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (ns, flag) = (netns.to_string(), stop.clone());
        let thread = std::thread::spawn(move || {
            let queue = open_in(&ns);
            let mut queue = match queue {
                Ok(q) => {
                    let _ = ready_tx.send(Ok(()));
                    q
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            hold(&mut queue, each_way, &flag);
        });
        ready_rx
            .recv()
            .map_err(|_| "the delay thread died".to_string())??;
        let queue = QUEUE.to_string();
        for (chain, dir) in [("INPUT", "-i"), ("OUTPUT", "-o")] {
            iptables(
                netns,
                &[
                    "-A",
                    chain,
                    dir,
                    interface,
                    "-p",
                    "udp",
                    "-j",
                    "NFQUEUE",
                    "--queue-num",
                    &queue,
                    // Once the holder is gone, datagrams pass rather than vanish.
                    "--queue-bypass",
                ],
            )?;
        }
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

/// A queue bound in `netns`: this thread joins the namespace (a netlink socket belongs
/// to the namespace it was made in).
fn open_in(netns: &str) -> Result<nfq::Queue, String> {
    let ns = std::fs::File::open(format!("/var/run/netns/{netns}")).map_err(|e| e.to_string())?;
    nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())?;
    let mut queue = nfq::Queue::open().map_err(|e| format!("NFQUEUE: {e}"))?;
    queue
        .bind(QUEUE)
        .map_err(|e| format!("NFQUEUE bind: {e}"))?;
    queue.set_nonblocking(true);
    Ok(queue)
}

/// Lets each datagram through `delay` after it arrived, until `stop`.
fn hold(queue: &mut nfq::Queue, delay: Duration, stop: &AtomicBool) {
    let mut held: VecDeque<(Instant, nfq::Message)> = VecDeque::new();
    while !stop.load(Ordering::Relaxed) {
        loop {
            match queue.recv() {
                Ok(mut msg) => {
                    msg.set_verdict(nfq::Verdict::Accept);
                    held.push_back((Instant::now() + delay, msg));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        let now = Instant::now();
        while held.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, msg)) = held.pop_front() {
                let _ = queue.verdict(msg);
            }
        }
        // The socket is not ours to wait on (the crate keeps it): a short nap is the
        // link's clock, as a qdisc's timer would be.
        let next = held.front().map_or(Duration::from_millis(1), |(due, _)| {
            due.saturating_duration_since(now)
        });
        std::thread::sleep(next.min(Duration::from_millis(1)));
    }
    for (_, msg) in held {
        let _ = queue.verdict(msg);
    }
}

impl Drop for Delay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
