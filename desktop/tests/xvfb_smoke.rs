//! The real `vibemesh-desktop` binary on a plain Linux box: started under Xvfb (which
//! `scripts/setup.sh` installs), with its own agent, and screenshotted with ImageMagick's
//! `import`. The screenshot must show the window: egui's panels and the green "online"
//! dot of this machine, which only appears once the in-app agent answered.
//!
//! `VIBEMESH_DESKTOP_BIN` names another binary: the installed one, in the install test
//! (`scripts/install-test.sh`).

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Instant,
};

use vibemesh_tests::TIMEOUT;

/// Kills what it holds when the test ends, however it ends.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on a free display (it tells us which through `-displayfd`).
fn start_xvfb() -> (Reap, String) {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb runs (scripts/setup.sh installs it)");
    let mut out = child.stdout.take().expect("stdout");
    let reap = Reap(child);
    let mut num = String::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
        num.push(byte[0] as char);
    }
    assert!(!num.is_empty(), "Xvfb did not report its display");
    (reap, format!(":{}", num.trim()))
}

fn count(img: &image::RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == rgb).count()
}

#[test]
fn the_real_binary_starts_and_draws_under_xvfb() {
    let (_xvfb, display) = start_xvfb();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "name = \"smoke\"\nrelay = \"none\"\nlisten = [\"127.0.0.1:0\"]\n",
    )
    .unwrap();
    let bin = std::env::var_os("VIBEMESH_DESKTOP_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_vibemesh-desktop").into());
    let mut child = Command::new(bin)
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .env("VIBEMESH_HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vibemesh-desktop");
    let stderr = child.stderr.take().expect("stderr");
    let app = Reap(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    let deadline = Instant::now() + TIMEOUT * 2;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
                if line.contains("vibemesh-desktop: window shown") {
                    break;
                }
            }
            Err(_) => panic!("the app did not open its window:\n{log}"),
        }
    }
    // Wait for what appears on screen: screenshots until the window shows this machine
    // online (the first frames may not be presented yet).
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("xvfb-smoke.png");
    let panel = [27, 27, 27];
    let online = [0x23, 0xd1, 0x8b];
    loop {
        let ok = Command::new("import")
            .args(["-display", &display, "-window", "root"])
            .arg(&shot)
            .status()
            .expect("import runs (scripts/setup.sh installs imagemagick)")
            .success();
        assert!(ok, "import failed");
        let img = image::open(&shot).expect("a PNG").to_rgb8();
        if count(&img, panel) > 20_000 && count(&img, online) > 10 {
            eprintln!("screenshot: {}", shot.display());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the window never showed this machine online; last screenshot {}\n{log}",
            shot.display()
        );
    }
    drop(app);
}
