//! The `vibemesh` binary: parse arguments, run the command, exit with its status.
//!
//! The commands are this binary's own modules ([`cli`]); the agent they start and talk
//! to is the `vibemesh_agent` library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
