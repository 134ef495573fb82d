//! The desktop app's output path under a flood: a session prints `seq 1 N` into a tab
//! that is shown (parsed and drawn every frame) or hidden (another tab shown), and the
//! time until the program exits is compared. Reading output must never wait on drawing,
//! so the shown tab should run at (nearly) the hidden tab's rate.
//!
//! The app's own parts run here: an agent in-process ([`Backend::embed`]), the model and
//! its watchers ([`Machines`]), the tab's reconnecting attach ([`TabLink`]) and the
//! terminal widget drawn in an egui frame and tessellated. Frames run when egui asks for
//! one, as eframe does on a display without vsync (Xvfb): nothing but the app's own
//! pacing limits them. What is left for a GPU (rasterising a few textured triangles) is
//! not measured.

use std::{
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use vibemesh_agent::config::{Config, Home};
use vibemesh_core::proto::{Provider, TermSize, control::CreateSession, local::Target};
use vibemesh_desktop::{
    backend::Backend,
    machines::Machines,
    model::{MachineKey, Notifier, Shared, lock},
    tab::{Link, TabInput, TabLink},
    term::{TermStyle, TerminalView},
};

/// The window's size in points (the size the issue was measured at).
const WINDOW: egui::Vec2 = egui::vec2(1440.0, 900.0);
/// How long any one step may take before the bench gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// One flood's time in each kind of tab.
#[derive(Debug, Clone)]
pub struct FloodResult {
    /// Lines printed.
    pub lines: u64,
    /// From the key that starts `seq` to the program's exit, tab shown.
    pub visible: Duration,
    /// The same, another tab shown.
    pub hidden: Duration,
    /// Frames drawn while the shown tab flooded.
    pub visible_frames: u64,
}

impl FloodResult {
    /// Lines per second with the tab shown over lines per second with it hidden.
    pub fn ratio(&self) -> f64 {
        self.hidden.as_secs_f64() / self.visible.as_secs_f64()
    }
}

/// The app's parts, started once for every flood.
struct Rig {
    rt: tokio::runtime::Runtime,
    backend: Arc<Backend>,
    machines: Arc<Machines>,
    model: Shared,
    notify: Notifier,
    ctx: egui::Context,
    /// When egui asked for the next frame.
    repaint: mpsc::Receiver<Instant>,
    _home: tempfile::TempDir,
}

/// Floods `lines` lines `rounds` times in each kind of tab, alternating.
pub fn run(lines: u64, rounds: usize) -> anyhow::Result<Vec<FloodResult>> {
    let rig = Rig::start()?;
    let mut out = Vec::new();
    for _ in 0..rounds {
        let (visible, visible_frames) = rig.flood(lines, true)?;
        let (hidden, _) = rig.flood(lines, false)?;
        out.push(FloodResult {
            lines,
            visible,
            hidden,
            visible_frames,
        });
    }
    rig.rt.block_on(rig.backend.shutdown());
    Ok(out)
}

impl Rig {
    fn start() -> anyhow::Result<Self> {
        // The app's runtime: two workers.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let home = tempfile::tempdir()?;
        let config = Config {
            name: Some("bench".into()),
            relay: "none".into(),
            listen: vec!["127.0.0.1:0".parse()?],
            record: false,
            ..Config::default()
        };
        let backend = rt
            .block_on(Backend::embed(Home::under(home.path()), config))
            .map_err(anyhow::Error::msg)?;
        let backend = Arc::new(backend);
        let (model, notify) = (Shared::default(), Notifier::default());
        let machines = Machines::start(
            backend.clone(),
            model.clone(),
            notify.clone(),
            rt.handle().clone(),
        );
        let ctx = egui::Context::default();
        notify.attach(&ctx);
        let (tx, repaint) = mpsc::channel();
        ctx.set_request_repaint_callback(move |info| {
            let _ = tx.send(Instant::now() + info.delay);
        });
        let rig = Self {
            rt,
            backend,
            machines,
            model,
            notify,
            ctx,
            repaint,
            _home: home,
        };
        rig.wait("this machine online", || {
            lock(&rig.model)
                .machine(MachineKey::Local)
                .is_some_and(|m| m.control.is_some())
        })?;
        Ok(rig)
    }

    /// Waits on the app's change notifications until `cond` holds.
    fn wait(&self, what: &str, cond: impl Fn() -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let seen = self.notify.generation();
            if cond() {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("timed out waiting for {what}");
            }
            self.notify.wait_past(seen, left);
        }
    }

    /// One flood in a tab drawn (`visible`) or not; returns its time and the frames drawn.
    fn flood(&self, lines: u64, visible: bool) -> anyhow::Result<(Duration, u64)> {
        let (tx, rx) = mpsc::channel();
        let req = CreateSession {
            provider: Provider::Shell,
            cwd: None,
            // Waits for a key, so the clock starts with the flood, not the session.
            command: vec!["sh".into(), "-c".into(), format!("read x; seq 1 {lines}")],
            size: TermSize {
                rows: 50,
                cols: 160,
            },
            title: Some("flood".into()),
            env: vec![],
        };
        self.machines
            .create_session(MachineKey::Local, req, move |_, info| {
                let _ = tx.send(info);
            });
        let info = rx
            .recv_timeout(STEP_TIMEOUT)
            .context("the session was not created")?
            .map_err(|why| anyhow::anyhow!(why))?;
        let tab = TabLink::open(
            self.rt.handle(),
            self.backend.clone(),
            Target::Local,
            info.id,
            TermSize {
                rows: 50,
                cols: 160,
            },
            self.notify.clone(),
        );
        let style = TermStyle::default();
        self.wait("the tab live", || lock(&tab.state).link == Link::Live)?;
        self.frame(&tab, &style, visible);
        let start = Instant::now();
        tab.send(TabInput::Bytes(b"\r".to_vec()));
        let mut frames = 0;
        loop {
            // Like eframe's loop: sleep until egui wants a frame, then draw it.
            let Ok(next) = self.repaint.recv_timeout(STEP_TIMEOUT) else {
                bail!("no frame asked for while the flood ran");
            };
            let next = self.repaint.try_iter().fold(next, Instant::min);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            frames += 1;
            self.frame(&tab, &style, visible);
            if matches!(lock(&tab.state).link, Link::Exited(_)) {
                break;
            }
            if start.elapsed() > STEP_TIMEOUT {
                bail!("the flood did not end");
            }
        }
        let took = start.elapsed();
        let last = lock(&tab.state).term.contents();
        if !last.contains(&lines.to_string()) {
            bail!("the last line is not on screen:\n{last}");
        }
        self.machines.kill_session(MachineKey::Local, info.id);
        Ok((took, frames))
    }

    /// One frame of the window: the tab's terminal when `visible`, else another view.
    fn frame(&self, tab: &TabLink, style: &TermStyle, visible: bool) {
        // As the app's window does at the start of each frame.
        self.notify.frame_begun();
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW)),
            ..Default::default()
        };
        let mut out = self.ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                if visible {
                    let mut s = tab.lock();
                    let out = TerminalView::new(&mut s.term, style).show(ui);
                    drop(s);
                    if let Some((rows, cols)) = out.resized {
                        tab.send(TabInput::Resize(TermSize { rows, cols }));
                    }
                } else {
                    ui.label("another tab");
                }
            });
        });
        let prims = self
            .ctx
            .tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
        std::hint::black_box(prims);
        out.textures_delta.clear();
    }
}
