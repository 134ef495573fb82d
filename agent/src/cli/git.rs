//! `vibemesh git <peer> <path> status|diff|log|branches|worktrees`.
//!
//! Paths, branch names, authors and summaries are printed inert; a diff is file content
//! and is printed as it is, as `git diff` does (so that it still applies with `git
//! apply`).

use std::process::ExitCode;

use clap::Subcommand;
use vibemesh_core::{
    proto::{
        git::{Branch, Commit, GitFile, GitRequest, GitResponse, GitStatus, Worktree},
        local::Target,
    },
    text::inert,
};

use super::{local, output, stdout};
use vibemesh_agent::config::Home;

/// What `vibemesh git` shows.
#[derive(Debug, Clone, Subcommand)]
pub enum GitAction {
    /// Branch, upstream, ahead/behind and changed files.
    Status,
    /// The unified diff (unstaged, or --staged), of one file or of everything.
    Diff {
        /// The staged changes instead.
        #[arg(long)]
        staged: bool,
        /// One file, relative to the repository's top folder.
        file: Option<String>,
    },
    /// Commits, newest first.
    Log {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// How many to skip.
        #[arg(long, default_value_t = 0)]
        skip: u32,
    },
    /// Local branches.
    Branches,
    /// Work trees.
    Worktrees,
}

/// Runs `vibemesh git`.
pub async fn run(
    home: &Home,
    target: Target,
    path: &str,
    action: GitAction,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let path = path.to_string();
    let req = match action {
        GitAction::Status => GitRequest::Status { path },
        GitAction::Diff { staged, file } => GitRequest::Diff { path, file, staged },
        GitAction::Log { limit, skip } => GitRequest::Log { path, skip, limit },
        GitAction::Branches => GitRequest::Branches { path },
        GitAction::Worktrees => GitRequest::Worktrees { path },
    };
    let control = local::control(home, target).await?;
    let resp = control.git(req).await?;
    let _ = control.finish().await;
    match resp {
        GitResponse::Status(s) if json => output::json(&s)?,
        GitResponse::Status(s) => stdout::write(status(&s).as_bytes())?,
        GitResponse::Diff(d) if json => output::json(&d)?,
        GitResponse::Diff(d) => stdout::write(d.as_bytes())?,
        GitResponse::Log(l) if json => output::json(&l)?,
        GitResponse::Log(l) => stdout::write(log(&l).as_bytes())?,
        GitResponse::Branches(b) if json => output::json(&b)?,
        GitResponse::Branches(b) => stdout::write(branches(&b).as_bytes())?,
        GitResponse::Worktrees(w) if json => output::json(&w)?,
        GitResponse::Worktrees(w) => stdout::write(worktrees(&w).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Like `git status -sb`: `## branch...upstream [ahead 1, behind 2]`, then `XY path`.
fn status(s: &GitStatus) -> String {
    let mut out = String::from("## ");
    match (&s.branch, &s.head) {
        (Some(b), None) => out.push_str(&format!("No commits yet on {}", inert(b))),
        (Some(b), Some(_)) => out.push_str(&inert(b)),
        (None, _) => out.push_str("HEAD (no branch)"),
    }
    if let Some(up) = &s.upstream {
        out.push_str(&format!("...{}", inert(up)));
        let ab: Vec<String> = [("ahead", s.ahead), ("behind", s.behind)]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| format!("{w} {n}"))
            .collect();
        if !ab.is_empty() {
            out.push_str(&format!(" [{}]", ab.join(", ")));
        }
    }
    out.push('\n');
    for f in &s.files {
        out.push_str(&file_line(f));
        out.push('\n');
    }
    out
}

fn file_line(f: &GitFile) -> String {
    let letter = |c: char| if c == '.' { ' ' } else { c };
    let xy = format!("{}{}", letter(f.index), letter(f.worktree));
    let path = inert(&f.path);
    match &f.from {
        Some(from) => format!("{xy} {} -> {path}", inert(from)),
        None => format!("{xy} {path}"),
    }
}

/// One line a commit: short hash, date (UTC), author, summary.
fn log(list: &[Commit]) -> String {
    list.iter()
        .map(|c| {
            let short: String = c.id.chars().take(7).collect();
            let date = date(c.time_ms / 1000);
            let (author, summary) = (inert(&c.author), inert(&c.summary));
            format!("{short} {date} {author}  {summary}\n")
        })
        .collect()
}

/// `*` marks the branch checked out here.
fn branches(list: &[Branch]) -> String {
    let width = list
        .iter()
        .map(|b| inert(&b.name).chars().count())
        .max()
        .unwrap_or(0);
    list.iter()
        .map(|b| {
            let star = if b.current { '*' } else { ' ' };
            let short: String = b.head.chars().take(7).collect();
            let name = inert(&b.name);
            let line = match &b.upstream {
                Some(up) => format!("{star} {name:<width$}  {short}  [{}]", inert(up)),
                None => format!("{star} {name:<width$}  {short}"),
            };
            format!("{}\n", line.trim_end())
        })
        .collect()
}

/// Like `git worktree list`: folder, commit, `[branch]` or `(detached HEAD)`.
fn worktrees(list: &[Worktree]) -> String {
    let width = list
        .iter()
        .map(|w| inert(&w.path).chars().count())
        .max()
        .unwrap_or(0);
    list.iter()
        .map(|w| {
            let short: String = w
                .head
                .as_deref()
                .unwrap_or("-------")
                .chars()
                .take(7)
                .collect();
            let branch = match &w.branch {
                Some(b) => format!("[{}]", inert(b)),
                None => "(detached HEAD)".to_string(),
            };
            format!("{:<width$}  {short} {branch}\n", inert(&w.path))
        })
        .collect()
}

/// `YYYY-MM-DD` (UTC) for Unix seconds.
fn date(secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_700_000_000), "2023-11-14");
    }
}
