//! The user's terminal while a session is attached: the session's bytes, and the keys
//! guessed ahead of their echo drawn over them ([`LocalEcho`]) when the round trip is
//! long enough to notice.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use vibemesh_core::{predict::Mode, proto::TermSize};
use vibemesh_term::LocalEcho;

use super::stdout::{AsyncOut, StdoutError};

/// Standard output, with the guesses drawn on it when predicting.
pub(super) struct Shown {
    out: AsyncOut,
    echo: Option<LocalEcho>,
    buf: Vec<u8>,
    /// What the echo's times count from.
    epoch: Instant,
}

impl Shown {
    /// Predicts in `mode` when keys are typed into a terminal. Following the screen for
    /// the engine costs the CLI as much CPU again per MB of output, so in [`Mode::Auto`]
    /// only where guesses could ever be drawn: a session on another machine (`remote`)
    /// whose attach took long enough (`attach`, at least one round trip; a LAN's takes
    /// a few milliseconds).
    pub(super) fn new(
        mode: Mode,
        remote: bool,
        attach: Duration,
        typing: bool,
        size: Option<TermSize>,
    ) -> Self {
        let wanted = match mode {
            Mode::Auto => remote && mode.may_draw(attach),
            other => other.may_draw(attach),
        };
        let echo = match size {
            Some(size) if wanted && typing && std::io::stdout().is_terminal() => {
                Some(LocalEcho::new(size.rows, size.cols, mode))
            }
            _ => None,
        };
        Self {
            out: AsyncOut::new(),
            echo,
            buf: Vec::new(),
            epoch: Instant::now(),
        }
    }

    /// Shows bytes from the session (or a line of ours between them).
    pub(super) async fn output(&mut self, bytes: &[u8]) -> Result<(), StdoutError> {
        let Some(echo) = &mut self.echo else {
            return self.out.write(bytes).await;
        };
        self.buf.clear();
        echo.output(bytes, self.epoch.elapsed(), &mut self.buf);
        self.out.write(&self.buf).await
    }

    /// The user typed `bytes`, on their way to the session: draws what is guessed.
    pub(super) async fn typed(&mut self, bytes: &[u8]) -> Result<(), StdoutError> {
        let Some(echo) = &mut self.echo else {
            return Ok(());
        };
        self.buf.clear();
        echo.typed(bytes, self.epoch.elapsed(), &mut self.buf);
        self.flush_buf().await
    }

    /// When [`Shown::expire`] is due, if a key waits for its echo.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let due = self.echo.as_ref().and_then(LocalEcho::deadline)?;
        Some(self.epoch + due)
    }

    /// Takes off guesses whose echo is overdue.
    pub(super) async fn expire(&mut self) -> Result<(), StdoutError> {
        let Some(echo) = &mut self.echo else {
            return Ok(());
        };
        self.buf.clear();
        echo.expire(self.epoch.elapsed(), &mut self.buf);
        self.flush_buf().await
    }

    /// The terminal changed size.
    pub(super) async fn resize(&mut self, size: TermSize) -> Result<(), StdoutError> {
        let Some(echo) = &mut self.echo else {
            return Ok(());
        };
        self.buf.clear();
        echo.resize(size.rows, size.cols, self.epoch.elapsed(), &mut self.buf);
        self.flush_buf().await
    }

    /// The round trip and whether keys are drawn ahead, for `~?`.
    pub(super) fn status(&self) -> String {
        match &self.echo {
            None => "keys are not drawn ahead of their echo".into(),
            Some(echo) => {
                let rtt = echo
                    .rtt()
                    .map_or("not timed yet".into(), |r| format!("{} ms", r.as_millis()));
                let on = if echo.active() { "on" } else { "off" };
                format!(
                    "echo round trip {rtt}; drawing keys ahead of it {on} ({} taken back)",
                    echo.mispredictions()
                )
            }
        }
    }

    async fn flush_buf(&mut self) -> Result<(), StdoutError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.out.write(&self.buf).await
    }
}
