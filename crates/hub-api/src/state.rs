//! What every handler shares.

use crate::auth::LoginThrottle;
use hub_domain::calendar::RegionDef;
use hub_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
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
}

impl AppState {
    /// State over a store with the given settings and regions.
    pub fn new(
        store: Store,
        config: ApiConfig,
        regions: Vec<RegionDef>,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let login_throttle = Arc::new(LoginThrottle::new(config.login_attempts_per_minute));
        Self {
            store,
            config: Arc::new(config),
            regions: Arc::new(regions),
            metrics,
            login_throttle,
        }
    }

    /// The region with this slug.
    pub fn region(&self, slug: &str) -> Option<&RegionDef> {
        self.regions.iter().find(|r| r.slug == slug)
    }
}
