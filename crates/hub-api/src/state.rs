//! What every handler shares.

use crate::ratelimit::RateLimiter;
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
    /// Password hashing: argon2id costs, workers and their queue.
    pub hashing: crate::hashing::HashSettings,
    /// Largest request body, in bytes.
    pub body_limit_bytes: usize,
    /// Sign-in attempts per minute for one e-mail address from one client address.
    pub login_attempts_per_minute: u32,
    /// Sign-in attempts per minute for one e-mail address from all addresses together: an
    /// attacker on one address cannot lock the owner out from another.
    pub login_attempts_per_email_per_minute: u32,
    /// Longest a request may take before it is answered 503 (a stream's body once started
    /// is not counted).
    pub request_timeout: std::time::Duration,
    /// Longest wait for Redis (a connection or an answer) before falling back.
    pub redis_timeout: std::time::Duration,
    /// Days before a review that its analysis document is due.
    pub analysis_lead_days: u32,
    /// Browser origins allowed to open WebSockets and event streams, besides the hub's own.
    pub ws_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Largest client message on a WebSocket, in bytes.
    pub ws_max_message_bytes: usize,
    /// Client messages per second per connection (bursts of twice that are allowed).
    pub ws_messages_per_second: u32,
    /// Live connections (WebSocket and SSE) per client address.
    pub ws_connections_per_ip: u32,
    /// Seconds between server pings; a client silent for three of them is dropped.
    pub ws_heartbeat_secs: u64,
    /// Seconds a write to a live client may take before the connection is dropped.
    pub ws_write_timeout_secs: u64,
    /// Open flags that hide a published post pending review.
    pub flag_threshold: i64,
    /// Pre-moderation per region slug (absent: off).
    pub premoderation: HashMap<String, Premoderation>,
    /// Rate limits.
    pub limits: RateLimits,
    /// Redis, for rate-limit counters shared across processes.
    pub redis_url: Option<String>,
    /// Analysis documents: schedule, worker and synthesis settings.
    pub analysis: hub_analysis::Settings,
    /// The hub's public address, prefixed to post links in analysis documents.
    pub public_url: String,
    /// MiB of serialised thread pages kept in memory (0: none).
    pub thread_page_cache_mib: u64,
}

/// How a region pre-moderates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PremoderationMode {
    /// Posts appear at once.
    Off,
    /// The first `new_account_posts` posts of an account wait for a moderator.
    NewAccounts,
    /// Posts with more than `max_links` links wait.
    Links,
    /// Every post waits (as the 2024 Europe space did).
    Everything,
}

/// A region's pre-moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Premoderation {
    /// The mode.
    pub mode: PremoderationMode,
    /// For `new_accounts`: how many first posts wait.
    #[serde(default = "default_new_account_posts")]
    pub new_account_posts: u32,
    /// For `links`: the most links a post may carry without waiting.
    #[serde(default = "default_max_links")]
    pub max_links: u32,
}

fn default_new_account_posts() -> u32 {
    3
}

fn default_max_links() -> u32 {
    2
}

/// Rate limits (see `config/default.toml`).
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Registrations per address per hour (not counted for `trusted_networks`).
    pub signups_per_ip_per_hour: u32,
    /// Networks (a venue, an office) whose addresses are not held to the per-address
    /// registration limit.
    pub trusted_networks: Vec<ipnet::IpNet>,
    /// Posts (threads and replies) per user per minute.
    pub posts_per_user_per_minute: u32,
    /// The same for accounts younger than `new_account_hours`.
    pub posts_per_new_user_per_minute: u32,
    /// Posts per address per minute, for each distinct account seen from it in the hour.
    pub posts_per_ip_per_minute: u32,
    /// Flags per user per minute.
    pub flags_per_user_per_minute: u32,
    /// The same for new accounts.
    pub flags_per_new_user_per_minute: u32,
    /// How long an account counts as new.
    pub new_account_hours: i64,
    /// The same body from the same author within this many seconds is a duplicate.
    pub duplicate_window_secs: i64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            signups_per_ip_per_hour: 20,
            trusted_networks: Vec::new(),
            posts_per_user_per_minute: 10,
            posts_per_new_user_per_minute: 3,
            posts_per_ip_per_minute: 60,
            flags_per_user_per_minute: 20,
            flags_per_new_user_per_minute: 5,
            new_account_hours: 24,
            duplicate_window_secs: 600,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            registration_open: true,
            token_ttl_hours: 24 * 14,
            hashing: crate::hashing::HashSettings::default(),
            body_limit_bytes: 256 * 1024,
            login_attempts_per_minute: 10,
            login_attempts_per_email_per_minute: 100,
            request_timeout: std::time::Duration::from_secs(30),
            redis_timeout: std::time::Duration::from_millis(250),
            analysis_lead_days: 14,
            ws_allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            ws_max_message_bytes: 16 * 1024,
            ws_messages_per_second: 20,
            ws_connections_per_ip: 64,
            ws_heartbeat_secs: 20,
            ws_write_timeout_secs: 30,
            flag_threshold: 3,
            premoderation: HashMap::new(),
            limits: RateLimits::default(),
            redis_url: None,
            analysis: hub_analysis::Settings::default(),
            public_url: "http://127.0.0.1:8080".into(),
            thread_page_cache_mib: 64,
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
    /// Rate limits (sign-in, sign-up, posting, flagging).
    pub limiter: Arc<RateLimiter>,
    /// Password hashing on bounded workers.
    pub hasher: crate::hashing::Hasher,
    /// Live fan-out.
    pub live: Live,
    /// Flips to true when the server shuts down: live connections close with 1001.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Live connections per client address.
    pub live_per_ip: Arc<std::sync::Mutex<HashMap<String, u32>>>,
    /// Analysis documents: requests, and the worker the binary runs.
    pub analyses: hub_analysis::Analyses,
    /// Serialised thread pages, checked against their thread's page version.
    pub thread_pages: Arc<crate::page_cache::PageCache>,
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
        let limiter = Arc::new(RateLimiter::new(
            config.redis_url.as_deref(),
            config.redis_timeout,
        ));
        let hasher = crate::hashing::Hasher::start(config.hashing.clone());
        let regions = Arc::new(regions);
        let analyses =
            hub_analysis::Analyses::new(store.clone(), regions.clone(), config.analysis.clone());
        let thread_pages = Arc::new(crate::page_cache::PageCache::new(
            config.thread_page_cache_mib,
        ));
        Self {
            store,
            thread_pages,
            config: Arc::new(config),
            regions,
            analyses,
            metrics,
            limiter,
            hasher,
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
