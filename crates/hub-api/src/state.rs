//! What every handler shares.

use crate::auth::LoginThrottle;
use hub_domain::calendar::RegionDef;
use hub_live::Live;
use hub_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::collections::HashMap;
use std::sync::Arc;

/// API settings, validated by the binary's configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Whether anyone may register.
    pub registration_open: bool,
    /// How long a session token lives, in hours.
    pub token_ttl_hours: i64,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id iterations.
    pub argon2_iterations: u32,
    /// Largest request body, in bytes.
    pub body_limit_bytes: usize,
    /// Failed sign-ins allowed per e-mail address per minute.
    pub login_attempts_per_minute: u32,
    /// Days before a review that its analysis document is due.
    pub analysis_lead_days: u32,
    /// Browser origins allowed to open WebSockets and event streams, besides the hub's own.
    pub ws_allowed_origins: Vec<String>,
    /// Largest client message on a WebSocket, in bytes.
    pub ws_max_message_bytes: usize,
    /// Client messages per second per connection (bursts of twice that are allowed).
    pub ws_messages_per_second: u32,
    /// Live connections (WebSocket and SSE) per client address.
    pub ws_connections_per_ip: u32,
    /// Seconds between server pings; a client silent for three of them is dropped.
    pub ws_heartbeat_secs: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            registration_open: true,
            token_ttl_hours: 24 * 14,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            body_limit_bytes: 256 * 1024,
            login_attempts_per_minute: 10,
            analysis_lead_days: 14,
            ws_allowed_origins: Vec::new(),
            ws_max_message_bytes: 16 * 1024,
            ws_messages_per_second: 20,
            ws_connections_per_ip: 64,
            ws_heartbeat_secs: 20,
        }
    }
}

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// The five regions with their calendars.
    pub regions: Arc<Vec<RegionDef>>,
    /// Renders `/metrics`.
    pub metrics: Option<PrometheusHandle>,
    /// Sign-in throttling.
    pub login_throttle: Arc<LoginThrottle>,
    /// Live fan-out.
    pub live: Live,
    /// Flips to true when the server shuts down: live connections close with 1001.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Live connections per client address.
    pub live_per_ip: Arc<std::sync::Mutex<HashMap<String, u32>>>,
}

impl AppState {
    /// State over a store with the given settings and regions.
    pub fn new(
        store: Store,
        config: ApiConfig,
        regions: Vec<RegionDef>,
        metrics: Option<PrometheusHandle>,
        live: Live,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        let login_throttle = Arc::new(LoginThrottle::new(config.login_attempts_per_minute));
        Self {
            store,
            config: Arc::new(config),
            regions: Arc::new(regions),
            metrics,
            login_throttle,
            live,
            shutdown,
            live_per_ip: Arc::new(std::sync::Mutex::new(HashMap::new())),
        }
    }

    /// The region with this slug.
    pub fn region(&self, slug: &str) -> Option<&RegionDef> {
        self.regions.iter().find(|r| r.slug == slug)
    }
}
