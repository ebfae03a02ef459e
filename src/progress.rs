//! Step-by-step progress of long operations (deploy, remediate), reported to
//! whoever runs the call: MCP progress notifications in `serve` mode, a line
//! on stderr in the CLI. The sink is task-local, so library functions report
//! with [`step`] without threading a parameter through every call.

use std::sync::Arc;

/// Receives `(step, total, message)`.
pub type Sink = Arc<dyn Fn(u32, u32, &str) + Send + Sync>;

tokio::task_local! {
    static SINK: Sink;
}

/// Runs `fut` with `sink` receiving its progress.
pub async fn with<F: std::future::Future>(sink: Sink, fut: F) -> F::Output {
    SINK.scope(sink, fut).await
}

/// Reports step `n` of `total`; logged to stderr always, sent to the sink when there is one.
pub fn step(n: u32, total: u32, message: &str) {
    tracing::info!(step = n, total, "{message}");
    let _ = SINK.try_with(|sink| sink(n, total, message));
}
