//! `vibemesh-desktop`: starts (or finds) this machine's agent and opens the window.

use std::sync::Arc;

use vibemesh_agent::config::Home;
use vibemesh_desktop::{DesktopApp, backend::Backend};

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(vibemesh_agent::log::filter("warn,vibemesh_agent=info"))
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let backend = match Home::discover() {
        Ok(home) => rt.block_on(Backend::start(home)).map(Arc::new),
        Err(e) => Err(e.to_string()),
    };
    let app = match &backend {
        Ok(b) => vibemesh_desktop::start(b.clone(), rt.handle().clone()),
        Err(why) => DesktopApp::failed(why.clone()),
    };
    let options = vibemesh_desktop::native_options();
    let result = eframe::run_native("VibeMesh", options, Box::new(|_cc| Ok(Box::new(app))));
    if let Ok(b) = &backend {
        rt.block_on(b.shutdown());
    }
    result.map_err(|e| anyhow::anyhow!("the window failed: {e}"))
}
