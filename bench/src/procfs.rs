//! What the harness reads from `/proc`: a process's CPU time and resident memory, and a
//! few facts about the machine for the report.

use std::time::Duration;

use anyhow::{Context, bail};

/// CPU time a process has used so far (user + system, all threads), from
/// `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) is in parentheses and may hold spaces; count from after it.
    let rest = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .with_context(|| format!("{path} has no command name field"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the name start at field 3 (state); utime is field 14, stime field 15.
    let field = |n: usize| -> anyhow::Result<u64> {
        fields
            .get(n - 3)
            .with_context(|| format!("{path} has no field {n}"))?
            .parse::<u64>()
            .with_context(|| format!("field {n} of {path} is not a number"))
    };
    let ticks = field(14)? + field(15)?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_sec()?,
    ))
}

/// The kernel's clock tick rate for `/proc` CPU times (`sysconf(_SC_CLK_TCK)`).
fn clock_ticks_per_sec() -> anyhow::Result<f64> {
    // SAFETY: sysconf only reads a system constant; it has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz <= 0 {
        bail!("sysconf(_SC_CLK_TCK) failed");
    }
    Ok(hz as f64)
}

/// Resident memory of a process in bytes (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    kib_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Proportional set size of a process in bytes (`Pss` in `/proc/<pid>/smaps_rollup`):
/// its private pages plus its share of each page it shares.
pub fn pss_bytes(pid: u32) -> anyhow::Result<u64> {
    kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:")
}

/// The value in bytes of the line of `path` that starts with `name` (`name   123 kB`).
fn kib_field(path: &str, name: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .with_context(|| format!("{path} has no {name} line"))?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("malformed {name} line in {path}: {line:?}"))?;
    Ok(kib * 1024)
}

/// Every `vibemesh-holder` process of the agent whose home is `home`: its pid and the
/// session socket it was given (`<home>/holders/<id>.sock`).
pub fn holders(home: &std::path::Path) -> Vec<(u32, std::path::PathBuf)> {
    use std::os::unix::ffi::OsStrExt;
    let dir = home.join("holders");
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let mut args = cmd.split(|&b| b == 0);
            if !args.next()?.ends_with(b"vibemesh-holder") {
                return None;
            }
            let socket = std::path::Path::new(std::ffi::OsStr::from_bytes(args.next()?));
            socket
                .starts_with(&dir)
                .then(|| (pid, socket.to_path_buf()))
        })
        .collect()
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> anyhow::Result<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").context("cannot read /proc/loadavg")?;
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    let mut next = || -> anyhow::Result<f64> {
        it.next()
            .context("/proc/loadavg is too short")?
            .context("/proc/loadavg holds a non-number")
    };
    Ok([next()?, next()?, next()?])
}

/// The CPU model name from `/proc/cpuinfo`, or `unknown`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// How many CPUs this process may use (what `nproc` prints).
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What `/bin/sh` really is (the idle sessions run it), e.g. `/usr/bin/dash`.
pub fn system_shell() -> String {
    std::fs::canonicalize("/bin/sh")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "/bin/sh".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_process() -> anyhow::Result<()> {
        let me = std::process::id();
        assert!(rss_bytes(me)? > 0);
        let before = cpu_time(me)?;
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time(me)? >= before);
        assert!(load_average()?[0] >= 0.0);
        Ok(())
    }
}
