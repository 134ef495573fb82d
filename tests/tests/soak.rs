//! The soak test: three agents, sessions flooding output and reading keys, a client
//! attached to every session, while agents are `kill -9`ed and restarted, a link is
//! dropped and restored (network namespace, where root is available) and a client is
//! revoked and paired again, over and over. It checks what a user would care about:
//! no key reaches a session twice, none is lost without being reported, every session's
//! output arrives in order with gaps only where a fresh screen was sent, no command
//! hangs past its limit, and memory stays bounded.
//!
//! Runs `VIBEMESH_SOAK_SECS` seconds (60 by default; CI uses the default).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use vibemesh_core::{
    client::{AttachEvent, Backoff, Redialer, reattach},
    proto::attach::AttachRequest,
};
use vibemesh_tests::{
    InProcPeer, TestAgent, free_port, netns::Netns, pair, peer_addr, vibemesh_bin,
};

/// The program in every session: prints `OUT n` lines (n counting up) and writes every
/// line it reads to a log file, which is what the session received, exactly.
const PROGRAM: &str = r#"
import sys, threading, time
log = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
def flood():
    n = 0
    while True:
        n += 1
        with lock:
            sys.stdout.write("OUT %d\n" % n)
            sys.stdout.flush()
        time.sleep(0.004)
threading.Thread(target=flood, daemon=True).start()
for line in sys.stdin:
    log.write(line)
    log.flush()
"#;

/// Bytes of one typed key line: `K`, 8 digits, Enter.
const KEY_BYTES: usize = 10;

/// The longest any CLI command may take, even while its peer is down.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);
/// Memory bounds: an agent, a session's holder.
const AGENT_RSS_MAX_KB: u64 = 400 * 1024;
const HOLDER_RSS_MAX_KB: u64 = 64 * 1024;

fn soak_secs() -> u64 {
    std::env::var("VIBEMESH_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

/// Where an agent runs: on loopback at a fixed port, or inside a namespace.
enum Host {
    Loopback(u16),
    Netns(Arc<Netns>, u16),
}

/// One agent that the test crashes and restarts on the same home and address.
struct Machine {
    name: String,
    host: Host,
    agent: Option<TestAgent>,
}

impl Machine {
    fn start(name: &str, host: Host) -> Self {
        let agent = match &host {
            Host::Loopback(port) => {
                let home = tempfile::Builder::new().prefix("vm-").tempdir().unwrap();
                std::fs::write(
                    home.path().join("config.toml"),
                    format!("name = \"{name}\"\nrelay = \"none\"\nlisten = [\"0.0.0.0:{port}\"]\n"),
                )
                .unwrap();
                TestAgent::spawn(home, name)
            }
            Host::Netns(ns, port) => ns.agent(name, *port, ""),
        };
        Self {
            name: name.into(),
            host,
            agent: Some(agent),
        }
    }

    fn agent(&self) -> &TestAgent {
        self.agent.as_ref().expect("running")
    }

    /// `kill -9`, then a new agent on the same home: sessions live on in their holders.
    fn crash_and_restart(&mut self) {
        let home = self.agent.take().expect("running").crash();
        let agent = match &self.host {
            Host::Loopback(_) => TestAgent::spawn(home, &self.name),
            Host::Netns(ns, _) => ns.spawn(home, &self.name),
        };
        self.agent = Some(agent);
    }
}

/// What one session's client saw.
#[derive(Default)]
struct Seen {
    /// The last `OUT n` since the last fresh screen.
    last_out: Option<u64>,
    /// Out-of-order or skipped lines outside a fresh screen.
    order_errors: Vec<String>,
    /// Fresh screens (re-attaches, or a viewer that fell behind).
    screens: u64,
    /// Times it attached again after a drop.
    reattached: u64,
    /// Whether it is attached now.
    attached: bool,
    /// Why the last try to attach again failed.
    last_error: String,
    /// Bytes reported as not sent or not confirmed.
    unsent_bytes: usize,
    /// The attach ended for good (revoked, session gone).
    closed: bool,
    /// A partial line carried over between output chunks.
    partial: String,
}

impl Seen {
    fn output(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let mut all = std::mem::take(&mut self.partial);
        all.push_str(&text);
        let mut lines: Vec<&str> = all.split('\n').collect();
        let rest = lines.pop().unwrap_or_default().to_string();
        for line in lines {
            // The terminal's echo of a typed key may land at the start of a line.
            let line = line.trim_end_matches('\r');
            let Some(at) = line.rfind("OUT ") else {
                continue;
            };
            let Ok(n) = line[at + 4..].parse::<u64>() else {
                continue;
            };
            if let Some(last) = self.last_out
                && n != last + 1
                && self.order_errors.len() < 20
            {
                self.order_errors.push(format!("OUT {n} after OUT {last}"));
            }
            self.last_out = Some(n);
        }
        self.partial = rest;
    }
}

/// A client attached to one session, typing numbered keys.
struct Attached {
    handle: vibemesh_core::client::ReattachHandle,
    seen: Arc<Mutex<Seen>>,
    /// Wakes whoever waits for the attach to end or to come back.
    ended: Arc<tokio::sync::Notify>,
    log: PathBuf,
    typed: Vec<String>,
}

fn attach(peer: &InProcPeer, agent: &TestAgent, id: &str, log: PathBuf) -> Attached {
    let redial = Redialer::new(peer.ep.clone(), peer_addr(agent));
    let req = AttachRequest {
        session: id.parse().expect("session id"),
        size: None,
        scrollback: 0,
        watch_only: false,
    };
    let dial = move || {
        let r = redial.clone();
        async move { r.open_stream().await }
    };
    let (handle, mut events, driver) = reattach(dial, req, Backoff::default());
    tokio::spawn(driver);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let ended = Arc::new(tokio::sync::Notify::new());
    let (s, e) = (seen.clone(), ended.clone());
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            let mut s = s.lock().unwrap();
            match ev {
                AttachEvent::Output(b) => s.output(&b),
                AttachEvent::Screen(_) => {
                    s.screens += 1;
                    s.last_out = None;
                    s.partial.clear();
                }
                AttachEvent::NotSent { bytes } | AttachEvent::Unconfirmed { bytes } => {
                    s.unsent_bytes += bytes;
                    e.notify_waiters();
                }
                AttachEvent::Attached { reconnected, .. } => {
                    s.attached = true;
                    s.reattached += u64::from(reconnected);
                    e.notify_waiters();
                }
                AttachEvent::Reconnecting { error, attempt, .. } => {
                    s.attached = false;
                    s.last_error = format!("try {attempt}: {error}");
                }
                AttachEvent::Closed(_) | AttachEvent::Exited(_) | AttachEvent::Detached => {
                    s.closed = true;
                    e.notify_one();
                    return;
                }
                _ => {}
            }
        }
    });
    Attached {
        handle,
        seen,
        ended,
        log,
        typed: Vec::new(),
    }
}

/// Runs `vibemesh <args>` against `agent`'s home with the command limit; `false` if it
/// hung past it (it is killed then).
fn bounded(home: &Path, args: &[&str]) -> bool {
    let mut child = Command::new(vibemesh_bin())
        .args(args)
        .env("VIBEMESH_HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
        child
    });
    let done = rx.recv_timeout(COMMAND_LIMIT).is_ok();
    if !done {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = waiter.join();
    done
}

/// Resident memory of a process, in KiB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The holder processes under `home` (by their socket argument).
fn holder_pids(home: &Path) -> Vec<u32> {
    let want = home.join("holders");
    let want = want.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<_> = cmd.split(|&b| b == 0).collect();
            let holder = args.first()?.ends_with(b"vibemesh-holder");
            let ours = args.get(1)?.starts_with(want.as_bytes());
            (holder && ours).then_some(pid)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak() {
    let secs = soak_secs();
    let ns = Netns::create("soak").map(Arc::new);
    if ns.is_none() {
        eprintln!("note: no network namespace here (needs root); the link-drop part is skipped");
    }
    let mut machines = vec![
        Machine::start("m0", Host::Loopback(free_port())),
        Machine::start("m1", Host::Loopback(free_port())),
        match &ns {
            Some(ns) => Machine::start("m2", Host::Netns(ns.clone(), 7000)),
            None => Machine::start("m2", Host::Loopback(free_port())),
        },
    ];
    // m0's CLI reaches the others (commands with a limit go through it).
    for m in &machines[1..] {
        pair(machines[0].agent(), m.agent(), &m.name, "owner");
    }
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("prog.py");
    std::fs::write(&script, PROGRAM).unwrap();
    let peer = InProcPeer::bind_on("0.0.0.0:0").await;
    let mut sessions: Vec<(usize, String, Attached)> = Vec::new();
    for (i, m) in machines.iter().enumerate() {
        peer.pair(m.agent(), "owner").await.expect("pair");
        for k in 0..2 {
            let log = work.path().join(format!("{}-{k}.log", m.name));
            let id = m.agent().open_detached(
                "local",
                work.path(),
                &[
                    "python3",
                    "-u",
                    script.to_str().unwrap(),
                    log.to_str().unwrap(),
                ],
            );
            sessions.push((i, id.clone(), attach(&peer, m.agent(), &id, log)));
        }
    }

    let typed = Arc::new(AtomicU64::new(0));
    let (mut restarts, mut link_drops, mut revocations, mut commands, mut hangs) = (0, 0, 0, 0, 0);
    let (mut agent_rss_max, mut holder_rss_max) = (0u64, 0u64);
    let start = Instant::now();
    let mut round = 0u64;
    let mut key = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        round += 1;
        // Keys into every live session: one numbered line each, a few times a round.
        for _ in 0..20 {
            for (_, _, a) in sessions.iter_mut() {
                if a.seen.lock().unwrap().closed {
                    continue;
                }
                key += 1;
                let k = format!("K{key:08}");
                a.handle.input(format!("{k}\r"));
                a.typed.push(k);
                typed.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        // One disturbance a round, in turn.
        match round % 4 {
            0 | 2 => {
                let i = (round as usize / 2) % machines.len();
                machines[i].crash_and_restart();
                restarts += 1;
            }
            1 => match &ns {
                Some(ns) => {
                    ns.link(false);
                    tokio::time::sleep(Duration::from_secs(4)).await;
                    ns.link(true);
                    link_drops += 1;
                }
                None => {
                    machines[2].crash_and_restart();
                    restarts += 1;
                }
            },
            _ => {
                // Revoke the client on m1, pair it again, attach again.
                let m = &machines[1];
                let list = m.agent().json(&["peers"]);
                let name = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| !p["allowed"].is_null())
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .find(|n| n.starts_with("inproc"))
                    .expect("the client is paired");
                m.agent().ok(&["peers", "remove", &name]);
                // Every attach to m1 hears it was revoked before the client pairs again.
                for (i, _, a) in sessions.iter() {
                    if *i == 1 && !a.seen.lock().unwrap().closed {
                        let heard =
                            tokio::time::timeout(vibemesh_tests::TIMEOUT, a.ended.notified());
                        if !a.seen.lock().unwrap().closed {
                            heard.await.expect("the revocation reaches the client");
                        }
                    }
                }
                peer.pair(m.agent(), "owner").await.expect("pair again");
                for (i, id, a) in sessions.iter_mut() {
                    if *i == 1 {
                        let old = std::mem::replace(a, attach(&peer, m.agent(), id, a.log.clone()));
                        a.typed = old.typed;
                        let s = old.seen.lock().unwrap();
                        let mut n = a.seen.lock().unwrap();
                        n.unsent_bytes += s.unsent_bytes;
                        n.order_errors.extend(s.order_errors.iter().cloned());
                        n.screens += s.screens;
                    }
                }
                revocations += 1;
            }
        }
        // Commands never hang, whatever is down.
        let home = machines[0].agent().path().to_path_buf();
        for target in ["local", "m1", "m2"] {
            commands += 1;
            if !tokio::task::block_in_place(|| bounded(&home, &["ls", target])) {
                hangs += 1;
            }
        }
        for m in &machines {
            if let Some(kb) = rss_kb(m.agent().pid()) {
                agent_rss_max = agent_rss_max.max(kb);
            }
            for pid in holder_pids(m.agent().path()) {
                if let Some(kb) = rss_kb(pid) {
                    holder_rss_max = holder_rss_max.max(kb);
                }
            }
        }
    }

    // Logs are read again whenever one changes.
    let (tx, mut changed) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();
    notify::Watcher::watch(
        &mut watcher,
        work.path(),
        notify::RecursiveMode::NonRecursive,
    )
    .unwrap();
    // And a key typed now reaches every session: one typed into a connection that died
    // unnoticed is reported unconfirmed and the client attaches again; the next arrives.
    let mut recovered = Duration::ZERO;
    for (_, id, a) in sessions.iter_mut() {
        let t = Instant::now();
        'typing: loop {
            assert!(
                t.elapsed() < vibemesh_tests::TIMEOUT,
                "session {id}: no key gets through"
            );
            // Type when the client says it is attached (it may not know yet that the
            // connection died: then the key is reported and it attaches again).
            loop {
                let woken = a.ended.notified();
                {
                    let s = a.seen.lock().unwrap();
                    assert!(!s.closed, "session {id}: the attach ended");
                    if s.attached {
                        break;
                    }
                }
                let left = vibemesh_tests::TIMEOUT.saturating_sub(t.elapsed());
                let last = a.seen.lock().unwrap().last_error.clone();
                tokio::time::timeout(left, woken)
                    .await
                    .unwrap_or_else(|_| panic!("session {id} never attached again: {last}"));
            }
            key += 1;
            let k = format!("K{key:08}");
            let unsent = a.seen.lock().unwrap().unsent_bytes;
            a.handle.input(format!("{k}\r"));
            a.typed.push(k.clone());
            loop {
                let woken = a.ended.notified();
                if std::fs::read_to_string(&a.log)
                    .unwrap_or_default()
                    .contains(&k)
                {
                    break 'typing;
                }
                if a.seen.lock().unwrap().unsent_bytes > unsent {
                    continue 'typing;
                }
                let left = vibemesh_tests::TIMEOUT.saturating_sub(t.elapsed());
                tokio::select! {
                    _ = changed.recv() => {}
                    _ = woken => {}
                    _ = tokio::time::sleep(left) => panic!("session {id}: no key gets through"),
                }
            }
        }
        recovered = recovered.max(t.elapsed());
    }
    // Every session: what it received, against what was typed and reported. Keys still
    // on their way arrive now.
    let mut report = Vec::new();
    let mut received_total = 0;
    let mut lost_total = 0;
    for (_, id, a) in &sessions {
        // Keys still in flight arrive now; the log settles once the session is idle.
        let settle = Instant::now() + Duration::from_secs(10);
        let received = loop {
            let text = std::fs::read_to_string(&a.log).unwrap_or_default();
            let got: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
            let accounted = got.len() * KEY_BYTES + a.seen.lock().unwrap().unsent_bytes;
            let left = settle.saturating_duration_since(Instant::now());
            if accounted >= a.typed.len() * KEY_BYTES || left.is_zero() {
                break got;
            }
            let _ = tokio::time::timeout(left, changed.recv()).await;
        };
        let mut count: HashMap<&str, usize> = HashMap::new();
        for k in &received {
            *count.entry(k.as_str()).or_default() += 1;
        }
        let doubled: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            doubled.is_empty(),
            "session {id}: keys received twice: {doubled:?}"
        );
        let in_order = received.windows(2).all(|w| w[0] < w[1]);
        assert!(in_order, "session {id}: keys out of order");
        let typed: std::collections::HashSet<&str> = a.typed.iter().map(String::as_str).collect();
        assert!(
            received.iter().all(|k| typed.contains(k.as_str())),
            "session {id}: a key nobody typed arrived"
        );
        let s = a.seen.lock().unwrap();
        let lost = a.typed.len() - received.len();
        // Every missing key was reported.
        assert!(
            lost * KEY_BYTES <= s.unsent_bytes,
            "session {id}: {lost} keys lost but only {} bytes reported not sent",
            s.unsent_bytes
        );
        assert!(
            s.order_errors.is_empty(),
            "session {id}: output out of order without a fresh screen: {:?}",
            s.order_errors
        );
        received_total += received.len();
        lost_total += lost;
        report.push(format!(
            "{id}: typed {}, received {}, reported not sent {} keys, fresh screens {}, \
             attached again {} times {}",
            a.typed.len(),
            received.len(),
            s.unsent_bytes / KEY_BYTES,
            s.screens,
            s.reattached,
            s.last_error
        ));
    }
    println!(
        "soak {secs} s: {} rounds, {restarts} agent restarts (kill -9), {link_drops} link drops, \
         {revocations} revocations, {} keys typed, {received_total} received, {lost_total} \
         not sent (all reported), 0 doubled; {commands} commands, {hangs} hangs; max RSS agent \
         {} MiB, holder {} MiB",
        round,
        typed.load(Ordering::Relaxed),
        agent_rss_max / 1024,
        holder_rss_max / 1024
    );
    for line in report {
        println!("  {line}");
    }
    println!(
        "  after the last disturbance a key got through to every session within {recovered:?}"
    );
    assert_eq!(hangs, 0, "a command hung past {COMMAND_LIMIT:?}");
    assert!(
        agent_rss_max <= AGENT_RSS_MAX_KB,
        "an agent grew to {agent_rss_max} KiB"
    );
    assert!(
        holder_rss_max <= HOLDER_RSS_MAX_KB,
        "a holder grew to {holder_rss_max} KiB"
    );
    assert!(
        restarts > 0 && revocations > 0,
        "the soak disturbed nothing"
    );
}
