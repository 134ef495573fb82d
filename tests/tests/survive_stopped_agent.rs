//! An agent that stops reading its holders (stopped with SIGSTOP, or just overloaded)
//! never stops their programs: a holder keeps reading the program's output while the
//! agent does not take it, within bounded memory, and the agent, once it reads again,
//! shows the screen as it is.

use std::{path::Path, process::Command, sync::mpsc, time::Duration};

use nix::sys::signal::Signal;
use vibemesh_tests::TestAgent;

/// Says READY, waits for a line on the `go` pipe, prints 4 MB, then DONE-MARK, says
/// so on the `done` pipe and waits.
const FLOOD: &str = "echo READY; read x < go; \
    head -c 4000000 /dev/zero | tr '\\0' y | fold -w 100; \
    echo DONE-MARK; echo finished > done; exec sleep 600";

/// How long the flood may take while the agent is stopped.
const FLOOD_LIMIT: Duration = Duration::from_secs(120);

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(ok.success(), "mkfifo {}", path.display());
}

fn signal(pid: u32, sig: Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("signal");
}

/// Resumes a stopped agent even when the test fails, so it can be stopped normally.
struct Resume(u32);

impl Drop for Resume {
    fn drop(&mut self) {
        signal(self.0, Signal::SIGCONT);
    }
}

#[test]
fn a_stopped_agent_does_not_stop_the_program_and_sees_its_screen_after() {
    let agent = TestAgent::start("box");
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("go"));
    mkfifo(&dir.path().join("done"));
    let id = agent.open_detached("local", dir.path(), &["sh", "-c", FLOOD]);
    let viewer = agent.term(&["attach", "local", &id], 24, 80);
    viewer.wait_text("READY");

    // The agent stops reading; the program starts printing far more than any socket
    // buffer holds.
    signal(agent.pid(), Signal::SIGSTOP);
    let resume = Resume(agent.pid());
    std::fs::write(dir.path().join("go"), "go\n").expect("start the program");

    // It prints all of it and goes on while the agent is still stopped. (Opening the
    // pipe blocks until the program opens it: a thread waits for it.) A flood the agent
    // does not take gets the least CPU weight there is (see the agent's `flood`), so on
    // a loaded machine this takes a while; the limit only tells slow from stuck.
    let (tx, rx) = mpsc::channel();
    let done = dir.path().join("done");
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read_to_string(done));
    });
    let said = rx
        .recv_timeout(FLOOD_LIMIT)
        .expect("the program is stuck while the agent is stopped")
        .expect("read the done pipe");
    assert_eq!(said.trim(), "finished");

    // Once the agent runs again, its viewer, and a new one, see the screen as it is.
    drop(resume);
    viewer.wait_text("DONE-MARK");
    let fresh = agent.term(&["attach", "local", &id, "--watch"], 24, 80);
    let screen = fresh.wait_text("DONE-MARK");
    assert!(screen.contains("yyyy"), "{screen}");
    let ls = agent.json(&["ls", "local"]);
    assert_eq!(ls[0]["status"], "running", "{ls}");
}
