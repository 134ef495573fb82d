//! The `vibemesh` binary: parse arguments, run the command, exit with its status.

fn main() -> std::process::ExitCode {
    vibemesh_agent::cli::main()
}
