//! The usher binary: load settings, start logging, build the app, run it until SIGTERM or
//! SIGINT, then stop gracefully within `shutdown_timeout_ms`.

use std::time::Duration;

use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run());
    // Dropping a runtime waits for every blocking task (a static file read, say) without
    // limit; the stop bound has been spent already, so give them a moment only.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let settings = usher::Settings::load()?;
    let app = usher::App::build(settings).await?;
    tracing::info!(addr = %app.local_addr(), "usher is serving");
    let stop = app.shutdown_handle();
    // Install the handlers before serving: a SIGTERM that arrives early must stop
    // gracefully too, not kill the process.
    let mut signals = Signals::install()?;
    tokio::spawn(async move {
        let first = signals.next().await;
        tracing::info!(signal = first, "shutting down");
        stop.shutdown();
        // A second signal means the operator wants out now, without waiting for the bound.
        let second = signals.next().await;
        tracing::warn!(signal = second, "second signal: exiting at once");
        std::process::exit(1);
    });
    app.run_until_stopped().await
}

/// The stop signals: SIGTERM (docker stop, compose, Kubernetes) and SIGINT (ctrl-c).
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the next stop signal received.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
