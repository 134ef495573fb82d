//! `vibemesh play`: replays a recording at its own pace (or faster).

use std::{path::Path, process::ExitCode, time::Duration};

use super::stdout::AsyncOut;
use crate::cast;

/// Plays `file` to stdout.
pub async fn run(file: &Path, speed: f64, idle_limit: Option<f64>) -> anyhow::Result<ExitCode> {
    if !(speed.is_finite() && speed > 0.0) {
        anyhow::bail!("--speed must be a positive number");
    }
    let f = std::fs::File::open(file)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let (_header, events) = cast::read(std::io::BufReader::new(f))
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut out = AsyncOut::new();
    let mut last = 0.0f64;
    for ev in events.iter().filter(|e| e.kind == "o") {
        let mut gap = (ev.time - last).max(0.0);
        if let Some(limit) = idle_limit {
            gap = gap.min(limit.max(0.0));
        }
        last = ev.time;
        if gap > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(gap / speed)).await;
        }
        out.write(ev.data.as_bytes()).await?;
    }
    Ok(ExitCode::SUCCESS)
}
