//! `vibemesh completions` and `vibemesh man`: shell completions and manual pages, generated
//! from the one clap definition of the command line, so they never disagree with it.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use vibemesh_core::identity::write_whole;

use super::{args::Cli, stdout::outln};

/// The command line as clap sees it, named as installed.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// `vibemesh completions <shell>`: the completion script on stdout (packages install it
/// where the shell looks; see the README).
pub fn completions(shell: Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "vibemesh", &mut script);
    super::stdout::write(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// `vibemesh man [DIR]`: the `vibemesh(1)` page on stdout, or, with a folder, one page per
/// command (`vibemesh.1`, `vibemesh-open.1`, …) written into it, each whole or not at all.
pub fn man(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command()).render(&mut page)?;
        super::stdout::write(&page)?;
        return Ok(ExitCode::SUCCESS);
    };
    let mut written = 0;
    for cmd in pages(command()) {
        let man = clap_mangen::Man::new(cmd);
        let path = dir.join(man.get_filename());
        let mut page = Vec::new();
        man.render(&mut page)?;
        // Readable by everyone, as man pages are; written whole, never half.
        write_whole(&path, &page, 0o644).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    outln!("Wrote {written} manual pages to {}.", dir.display())?;
    Ok(ExitCode::SUCCESS)
}

/// The command and every visible subcommand, each named as `man` finds it
/// (`vibemesh-peers-remove`).
fn pages(cmd: clap::Command) -> Vec<clap::Command> {
    let mut out = Vec::new();
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub_name = format!("{name}-{}", sub.get_name());
        out.extend(pages(sub.clone().display_name(sub_name)));
    }
    out.push(cmd);
    out
}
