//! `vibemesh-holder`: keeps one session's PTY, screen and recording alive apart from the
//! agent, so sessions survive agent restarts and upgrades. Started by the agent only.
//! It links the session holder code and nothing of the network.

fn main() -> std::process::ExitCode {
    vibemesh_agent::holder_main()
}
