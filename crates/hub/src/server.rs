//! Wiring: configuration in, a serving hub out.

use crate::config::Config;
use anyhow::Context;
use hub_api::AppState;
use hub_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The process-wide metrics recorder (one per process, however many servers a test starts).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .clone()
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url, &config.store_options())
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                crate::config::redact_url(&config.database_url)
            )
        })?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// A running hub.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its store (tests use it to check what was written).
    pub store: Store,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    /// The fan-out (tests read its head).
    pub live: hub_live::Live,
}

impl Server {
    /// Stops accepting, lets requests in flight finish, closes the pool.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let r = self.task.await.context("server task failed")?;
        self.store.close().await;
        r
    }

    /// Waits until the server stops by itself (a signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        let r = self.task.await.context("server task failed")?;
        self.store.close().await;
        r
    }
}

/// Starts serving on `config.listen` (port 0 picks a free port). Stops on the returned
/// handle's `shutdown`, or on SIGINT/SIGTERM when `on_signal` is set.
pub async fn start(config: &Config, on_signal: bool) -> anyhow::Result<Server> {
    let regions = config.regions()?;
    let store = open_store(config).await?;
    let live = hub_live::Live::start(store.clone(), config.live())
        .await
        .context("cannot start the live fan-out")?;
    let (live_stop, live_stopped) = tokio::sync::watch::channel(false);
    let state = AppState::new(
        store.clone(),
        config.api(),
        regions,
        metrics_handle(),
        live.clone(),
        live_stopped.clone(),
    );
    let analysis_worker = config
        .analysis
        .worker
        .then(|| state.analyses.clone().spawn(live_stopped));
    let app = hub_api::app(state);
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let limits = hub_api::listener::ConnectionLimits {
        max: config.http.max_connections,
        reserve: config.http.reserve_connections,
        per_ip: config.http.max_connections_per_ip,
        exempt: config.trusted_proxies()?,
        header_read_timeout: Duration::from_secs(config.http.header_read_timeout_secs),
        write_timeout: Duration::from_secs(config.write_timeout_secs),
    };
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stop = async move {
            if on_signal {
                tokio::select! {
                    _ = rx => {}
                    _ = shutdown_signal() => {}
                }
            } else {
                let _ = rx.await;
            }
            tracing::info!("shutting down: closing live connections, finishing requests in flight");
            let _ = live_stop.send(true);
        };
        hub_api::listener::serve(listener, app, limits, stop).await;
        if let Some(worker) = analysis_worker {
            // A build in progress is abandoned: its lease expires and another run retries it.
            worker.abort();
        }
        Ok(())
    });
    tracing::info!(%addr, backend = store.backend().name(), "hub serving");
    Ok(Server {
        addr,
        store,
        shutdown: Some(tx),
        task,
        live,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
