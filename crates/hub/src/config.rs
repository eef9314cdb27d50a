//! Layered configuration: the embedded `config/default.toml`, then an optional file
//! (`--config` / `HUB_CONFIG`), then `HUB_*` environment variables; then [`Config::validate`].
//! A bad value stops the start with a message naming the key.

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use hub_domain::calendar::{RegionDef, RegionsFile};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

/// The embedded defaults.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");
/// The embedded regions and review calendar.
pub const REGIONS_TOML: &str = include_str!("../../../config/regions.toml");

/// The whole configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to serve on.
    pub listen: String,
    /// Database URL.
    pub database_url: String,
    /// Redis URL; empty for none.
    pub redis_url: String,
    /// Longest wait for Redis before going on without it.
    pub redis_timeout_ms: u64,
    /// The hub's public address (links in analysis documents).
    pub public_url: String,
    /// Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks).
    pub trusted_proxies: Vec<String>,
    /// Longest a write to any client connection may wait for the client to read.
    pub write_timeout_secs: u64,
    /// `pretty` or `json`.
    pub log_format: String,
    /// Tracing filter.
    pub log_level: String,
    /// Regions file; empty for the embedded one.
    pub regions_file: String,
    /// Connections and requests.
    pub http: HttpConfig,
    /// Pool.
    pub database: DatabaseConfig,
    /// Accounts.
    pub auth: AuthConfig,
    /// Request limits.
    pub limits: LimitsConfig,
    /// Analysis documents.
    pub analysis: AnalysisConfig,
    /// Live updates.
    pub live: LiveSection,
    /// Moderation.
    pub moderation: ModerationConfig,
    /// In-memory caches.
    pub cache: CacheConfig,
}

/// Connections and requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Time to send a request's headers; also the idle keep-alive timeout.
    pub header_read_timeout_secs: u64,
    /// Time a request may take before a 503.
    pub request_timeout_secs: u64,
    /// Open connections at most.
    pub max_connections: usize,
    /// More connections past the cap, for health checks and metrics only.
    pub reserve_connections: usize,
    /// Open connections at most per client address.
    pub max_connections_per_ip: usize,
}

/// In-memory caches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// MiB of serialised thread pages (0: none).
    pub thread_pages_mib: u64,
}

/// Live update settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSection {
    /// Extra allowed browser origins.
    pub allowed_origins: Vec<String>,
    /// Largest client message.
    pub max_message_bytes: usize,
    /// Client messages per second.
    pub messages_per_second: u32,
    /// Connections per address.
    pub connections_per_ip: u32,
    /// Ping interval.
    pub heartbeat_secs: u64,
    /// Longest a write to a client may take.
    pub write_timeout_secs: u64,
    /// Queue per connection.
    pub queue_capacity: usize,
    /// Log poll interval in ms.
    pub poll_interval_ms: u64,
}

/// Secrets (passwords in URLs) stay out of logs and panics.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_timeout_ms", &self.redis_timeout_ms)
            .field("http", &self.http)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("write_timeout_secs", &self.write_timeout_secs)
            .field("log_format", &self.log_format)
            .field("database", &self.database)
            .field("auth", &self.auth)
            .field("limits", &self.limits)
            .field("analysis", &self.analysis)
            .field("live", &self.live)
            .field("moderation", &self.moderation)
            .field("cache", &self.cache)
            .finish()
    }
}

/// A URL with its password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Pool settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Most connections.
    pub max_connections: u32,
    /// Seconds to wait for one.
    pub acquire_timeout_secs: u64,
}

/// Account settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Open registration.
    pub registration_open: bool,
    /// Session lifetime.
    pub token_ttl_hours: i64,
    /// argon2id memory (KiB).
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// Hashes computed at once (0: one per core).
    pub hash_workers: usize,
    /// Hashes waiting at most.
    pub hash_queue: usize,
    /// Longest wait of a hash for a worker.
    pub hash_queue_timeout_ms: u64,
    /// Sign-in attempts per e-mail and client address per minute.
    pub login_attempts_per_minute: u32,
    /// Sign-in attempts per e-mail per minute from all addresses.
    pub login_attempts_per_email_per_minute: u32,
}

/// Request and rate limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest body.
    pub body_limit_bytes: usize,
    /// Registrations per address per hour.
    pub signups_per_ip_per_hour: u32,
    /// Networks not held to the per-address registration limit.
    pub trusted_networks: Vec<String>,
    /// Posts per user per minute.
    pub posts_per_user_per_minute: u32,
    /// Posts per new user per minute.
    pub posts_per_new_user_per_minute: u32,
    /// Posts per address per minute.
    pub posts_per_ip_per_minute: u32,
    /// Flags per user per minute.
    pub flags_per_user_per_minute: u32,
    /// Flags per new user per minute.
    pub flags_per_new_user_per_minute: u32,
    /// Hours an account counts as new.
    pub new_account_hours: i64,
    /// Duplicate-post window.
    pub duplicate_window_secs: i64,
}

/// Moderation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationConfig {
    /// Flags that hide a post pending review.
    pub flag_threshold: i64,
    /// Pre-moderation by region slug.
    #[serde(default)]
    pub premoderation: std::collections::HashMap<String, hub_api::state::Premoderation>,
}

/// Analysis settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// Days before a review.
    pub lead_days: u32,
    /// Whether this process runs the schedule and builds documents (any number of
    /// instances may: exactly one builds each document).
    pub worker: bool,
    /// Also build every Monday while a space is open.
    pub weekly: bool,
    /// Weeks before a review that its space counts as open for weekly builds.
    pub weekly_weeks: u32,
    /// Seconds a build's claim lasts without renewal; a killed build is retried after it.
    pub lease_seconds: u64,
    /// Seconds between looks for due and queued builds.
    pub poll_seconds: u64,
    /// Objectives analysed in depth.
    pub prominent_objectives: usize,
    /// Posts of the other regions sampled as the TF-IDF background.
    pub background_posts: i64,
    /// Sources credited on every document (e.g. imported data sets).
    pub sources: Vec<String>,
}

/// Addresses or networks parsed (a bare address is a network of one); `key` names them in
/// the error.
fn networks(key: &str, list: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    list.iter()
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "invalid configuration: {key}: {p:?} is not an address or network"
                    )
                })
        })
        .collect()
}

impl Config {
    /// Loads the layers: defaults, `file` (or `HUB_CONFIG`), environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        let env_file = std::env::var("HUB_CONFIG").ok().filter(|s| !s.is_empty());
        if let Some(path) = file.map(Path::to_path_buf).or(env_file.map(Into::into)) {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        // HUB_CONFIG names the file; HUB_TEST_* belong to the test suite. Any other HUB_ variable
        // must be a known key, so a typo fails the start instead of being ignored.
        fig = fig.merge(Env::prefixed("HUB_").split("__").filter(|k| {
            let k = k.as_str().to_ascii_lowercase();
            k != "config" && !k.starts_with("test_")
        }));
        Self::from_figment(fig)
    }

    /// Extracts and validates.
    pub fn from_figment(fig: Figment) -> anyhow::Result<Self> {
        let cfg: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen.parse::<SocketAddr>().with_context(|| {
            format!(
                "invalid configuration: listen = {:?} is not host:port",
                self.listen
            )
        })?;
        hub_store::Backend::from_url(&self.database_url)
            .map_err(|e| anyhow::anyhow!("invalid configuration: database_url: {e}"))?;
        let redis_ok = self.redis_url.is_empty()
            || self.redis_url.starts_with("redis://")
            || self.redis_url.starts_with("rediss://");
        if !redis_ok {
            bail!("invalid configuration: redis_url must start with redis:// or rediss://");
        }
        if !matches!(self.log_format.as_str(), "pretty" | "json") {
            bail!(
                "invalid configuration: log_format must be \"pretty\" or \"json\", got {:?}",
                self.log_format
            );
        }
        if self.database.max_connections == 0 {
            bail!("invalid configuration: database.max_connections must be at least 1");
        }
        if !(1..=24 * 365).contains(&self.auth.token_ttl_hours) {
            bail!("invalid configuration: auth.token_ttl_hours must be 1 to 8760");
        }
        if self.auth.argon2_memory_kib < 8 || self.auth.argon2_iterations == 0 {
            bail!("invalid configuration: auth.argon2_memory_kib must be at least 8 and auth.argon2_iterations at least 1");
        }
        if self.auth.login_attempts_per_minute == 0
            || self.auth.login_attempts_per_email_per_minute == 0
        {
            bail!("invalid configuration: auth.login_attempts_per_minute and auth.login_attempts_per_email_per_minute must be at least 1");
        }
        if !(1..=4096).contains(&self.auth.hash_queue) || self.auth.hash_workers > 256 {
            bail!("invalid configuration: auth.hash_queue must be 1 to 4096 and auth.hash_workers at most 256");
        }
        if !(1..=600_000).contains(&self.auth.hash_queue_timeout_ms) {
            bail!("invalid configuration: auth.hash_queue_timeout_ms must be 1 to 600000");
        }
        if !(10..=60_000).contains(&self.redis_timeout_ms) {
            bail!("invalid configuration: redis_timeout_ms must be 10 to 60000");
        }
        let h = &self.http;
        if !(1..=3600).contains(&h.header_read_timeout_secs)
            || !(1..=3600).contains(&h.request_timeout_secs)
        {
            bail!("invalid configuration: http.header_read_timeout_secs and http.request_timeout_secs must be 1 to 3600");
        }
        if h.max_connections == 0 || h.max_connections_per_ip == 0 {
            bail!("invalid configuration: http.max_connections and http.max_connections_per_ip must be at least 1");
        }
        networks("limits.trusted_networks", &self.limits.trusted_networks)?;
        if !(16 * 1024..=16 * 1024 * 1024).contains(&self.limits.body_limit_bytes) {
            bail!("invalid configuration: limits.body_limit_bytes must be 16 KiB to 16 MiB");
        }
        if self.analysis.lead_days > 365 {
            bail!("invalid configuration: analysis.lead_days must be at most 365");
        }
        if !(1..=52).contains(&self.analysis.weekly_weeks) {
            bail!("invalid configuration: analysis.weekly_weeks must be 1 to 52");
        }
        if self.analysis.lease_seconds == 0 || self.analysis.poll_seconds == 0 {
            bail!("invalid configuration: analysis.lease_seconds and analysis.poll_seconds must be at least 1");
        }
        if !(1..=23).contains(&self.analysis.prominent_objectives) {
            bail!("invalid configuration: analysis.prominent_objectives must be 1 to 23");
        }
        if self.analysis.background_posts < 0 {
            bail!("invalid configuration: analysis.background_posts must not be negative");
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            bail!("invalid configuration: public_url must start with http:// or https://");
        }
        if !(1..=86_400).contains(&self.write_timeout_secs) {
            bail!("invalid configuration: write_timeout_secs must be 1 to 86400");
        }
        if !(256..=1024 * 1024).contains(&self.live.max_message_bytes) {
            bail!("invalid configuration: live.max_message_bytes must be 256 B to 1 MiB");
        }
        if self.live.messages_per_second == 0
            || self.live.connections_per_ip == 0
            || self.live.heartbeat_secs == 0
            || self.live.write_timeout_secs == 0
        {
            bail!("invalid configuration: live.messages_per_second, live.connections_per_ip, live.heartbeat_secs and live.write_timeout_secs must be at least 1");
        }
        if !(16..=1_000_000).contains(&self.live.queue_capacity) {
            bail!("invalid configuration: live.queue_capacity must be 16 to 1000000");
        }
        if !(10..=60_000).contains(&self.live.poll_interval_ms) {
            bail!("invalid configuration: live.poll_interval_ms must be 10 to 60000");
        }
        if let Some(o) = self
            .live
            .allowed_origins
            .iter()
            .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            bail!("invalid configuration: live.allowed_origins: {o:?} is not an http(s) origin");
        }
        self.trusted_proxies()?;
        if self.moderation.flag_threshold < 1 {
            bail!("invalid configuration: moderation.flag_threshold must be at least 1");
        }
        if let Some(r) = self
            .moderation
            .premoderation
            .keys()
            .find(|r| !hub_domain::is_region(r))
        {
            bail!("invalid configuration: moderation.premoderation: {r:?} is not one of the five regions");
        }
        let l = &self.limits;
        if [
            l.signups_per_ip_per_hour,
            l.posts_per_user_per_minute,
            l.posts_per_new_user_per_minute,
            l.posts_per_ip_per_minute,
            l.flags_per_user_per_minute,
            l.flags_per_new_user_per_minute,
        ]
        .contains(&0)
        {
            bail!("invalid configuration: limits: every rate limit must be at least 1");
        }
        if l.new_account_hours < 0 || l.duplicate_window_secs < 0 {
            bail!("invalid configuration: limits.new_account_hours and limits.duplicate_window_secs cannot be negative");
        }
        self.regions()?;
        Ok(())
    }

    /// The regions and their calendars, validated: the five spaces, no calendar errors.
    pub fn regions(&self) -> anyhow::Result<Vec<RegionDef>> {
        let text = if self.regions_file.is_empty() {
            REGIONS_TOML.to_string()
        } else {
            std::fs::read_to_string(&self.regions_file).with_context(|| {
                format!(
                    "invalid configuration: regions_file {:?} cannot be read",
                    self.regions_file
                )
            })?
        };
        let file: RegionsFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid configuration: regions: {e}"))?;
        let report = file.validate();
        if !report.errors.is_empty() {
            bail!(
                "invalid configuration: regions: {}",
                report.errors.join("; ")
            );
        }
        let slugs: Vec<&str> = file.regions.iter().map(|r| r.slug.as_str()).collect();
        for slug in hub_domain::REGION_SLUGS {
            if !slugs.contains(&slug) {
                bail!("invalid configuration: regions: the {slug} space is missing");
            }
        }
        if let Some(extra) = slugs.iter().find(|s| !hub_domain::is_region(s)) {
            bail!("invalid configuration: regions: {extra:?} is not one of the five spaces");
        }
        Ok(file.regions)
    }

    /// `trusted_proxies` parsed: a bare address is a network of one.
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        networks("trusted_proxies", &self.trusted_proxies)
    }

    /// The API settings.
    pub fn api(&self) -> hub_api::ApiConfig {
        hub_api::ApiConfig {
            registration_open: self.auth.registration_open,
            token_ttl_hours: self.auth.token_ttl_hours,
            hashing: hub_api::hashing::HashSettings {
                memory_kib: self.auth.argon2_memory_kib,
                iterations: self.auth.argon2_iterations,
                workers: self.auth.hash_workers,
                queue: self.auth.hash_queue,
                queue_timeout: std::time::Duration::from_millis(self.auth.hash_queue_timeout_ms),
            },
            body_limit_bytes: self.limits.body_limit_bytes,
            login_attempts_per_minute: self.auth.login_attempts_per_minute,
            login_attempts_per_email_per_minute: self.auth.login_attempts_per_email_per_minute,
            request_timeout: std::time::Duration::from_secs(self.http.request_timeout_secs),
            redis_timeout: std::time::Duration::from_millis(self.redis_timeout_ms),
            analysis_lead_days: self.analysis.lead_days,
            trusted_proxies: self.trusted_proxies().unwrap_or_default(),
            ws_allowed_origins: self.live.allowed_origins.clone(),
            ws_max_message_bytes: self.live.max_message_bytes,
            ws_messages_per_second: self.live.messages_per_second,
            ws_connections_per_ip: self.live.connections_per_ip,
            ws_heartbeat_secs: self.live.heartbeat_secs,
            ws_write_timeout_secs: self.live.write_timeout_secs,
            flag_threshold: self.moderation.flag_threshold,
            premoderation: self.moderation.premoderation.clone(),
            limits: hub_api::state::RateLimits {
                signups_per_ip_per_hour: self.limits.signups_per_ip_per_hour,
                trusted_networks: networks(
                    "limits.trusted_networks",
                    &self.limits.trusted_networks,
                )
                .unwrap_or_default(),
                posts_per_user_per_minute: self.limits.posts_per_user_per_minute,
                posts_per_new_user_per_minute: self.limits.posts_per_new_user_per_minute,
                posts_per_ip_per_minute: self.limits.posts_per_ip_per_minute,
                flags_per_user_per_minute: self.limits.flags_per_user_per_minute,
                flags_per_new_user_per_minute: self.limits.flags_per_new_user_per_minute,
                new_account_hours: self.limits.new_account_hours,
                duplicate_window_secs: self.limits.duplicate_window_secs,
            },
            redis_url: (!self.redis_url.is_empty()).then(|| self.redis_url.clone()),
            analysis: self.analysis_settings(),
            public_url: self.public_url.clone(),
            thread_page_cache_mib: self.cache.thread_pages_mib,
        }
    }

    /// The analysis schedule and synthesis settings.
    pub fn analysis_settings(&self) -> hub_analysis::Settings {
        let a = &self.analysis;
        hub_analysis::Settings {
            lead_days: a.lead_days,
            weekly: a.weekly,
            weekly_weeks: a.weekly_weeks,
            lease: std::time::Duration::from_secs(a.lease_seconds),
            poll: std::time::Duration::from_secs(a.poll_seconds),
            params: hub_analysis::build::Params {
                prominent: a.prominent_objectives,
                background: a.background_posts,
                ..hub_analysis::build::Params::default()
            },
            sources: a.sources.clone(),
        }
    }

    /// The fan-out settings.
    pub fn live(&self) -> hub_live::LiveConfig {
        hub_live::LiveConfig {
            queue_capacity: self.live.queue_capacity,
            poll_interval: std::time::Duration::from_millis(self.live.poll_interval_ms),
            degraded_poll_interval: std::time::Duration::from_millis(
                self.live.poll_interval_ms.min(100),
            ),
            redis_url: (!self.redis_url.is_empty()).then(|| self.redis_url.clone()),
            redis_timeout: std::time::Duration::from_millis(self.redis_timeout_ms),
        }
    }

    /// The pool settings.
    pub fn store_options(&self) -> hub_store::StoreOptions {
        hub_store::StoreOptions {
            max_connections: self.database.max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.database.acquire_timeout_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    #[test]
    fn the_embedded_defaults_are_valid() {
        let c = Config::from_figment(Figment::from(Toml::string(DEFAULT_TOML)));
        assert!(c.is_ok(), "{:?}", c.err());
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let fig = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Serialized::default("auth.token_ttl_hours", "soon"));
        let e = Config::from_figment(fig)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("token_ttl_hours"), "{e}");
        let fig = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Serialized::default("database_url", "mysql://x"));
        let e = Config::from_figment(fig)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("database_url"), "{e}");
        let fig = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Serialized::default("listen", "nowhere"));
        let e = Config::from_figment(fig)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("listen"), "{e}");
        let fig = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Serialized::default("trusted_proxies", vec!["10.0.0.0/33"]));
        let e = Config::from_figment(fig)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("trusted_proxies"), "{e}");
        for bad in [0u64, 86_401] {
            let fig = Figment::from(Toml::string(DEFAULT_TOML))
                .merge(Serialized::default("write_timeout_secs", bad));
            let e = Config::from_figment(fig)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("write_timeout_secs"), "{bad}: {e}");
        }
    }

    #[test]
    fn trusted_proxies_are_networks_and_a_bare_address_is_one_of_one() {
        let fig = Figment::from(Toml::string(DEFAULT_TOML)).merge(Serialized::default(
            "trusted_proxies",
            vec!["10.0.0.0/8", "192.0.2.7"],
        ));
        let nets = Config::from_figment(fig)
            .map(|c| c.api().trusted_proxies)
            .unwrap_or_default();
        let expected: Vec<ipnet::IpNet> = ["10.0.0.0/8", "192.0.2.7/32"]
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        assert_eq!(nets.len(), 2);
        assert_eq!(nets, expected);
    }

    #[test]
    fn passwords_in_urls_are_not_printed() {
        assert_eq!(
            redact_url("postgres://hub:s3cret@db/hub"),
            "postgres://hub:***@db/hub"
        );
        let mut c = Config::from_figment(Figment::from(Toml::string(DEFAULT_TOML))).ok();
        if let Some(c) = c.as_mut() {
            c.database_url = "postgres://hub:s3cret@db/hub".into();
            assert!(!format!("{c:?}").contains("s3cret"));
        }
        assert!(c.is_some());
    }
}
