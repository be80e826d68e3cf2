//! The usher binary: load settings, start logging, build the app, run it until ctrl-c.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let settings = usher::Settings::load()?;
    let app = usher::App::build(settings).await?;
    tracing::info!(addr = %app.local_addr(), "usher is serving");
    let stop = app.shutdown_handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        stop.shutdown();
    });
    app.run_until_stopped().await
}
