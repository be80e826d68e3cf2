//! Settings: embedded defaults, then an optional TOML file, then `USHER_*` environment
//! variables. Validated once at start; every error names the key that is wrong.

use std::net::SocketAddr;

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// The longest stop bound accepted: orchestrators kill a container long before this
/// (Kubernetes' default grace period is 30 s, docker stop's 10 s).
const MAX_SHUTDOWN_TIMEOUT_MS: u64 = 600_000;

/// The longest one webhook attempt may take: a receiver should answer at once and do its
/// work later.
const MAX_WEBHOOK_TIMEOUT_MS: u64 = 60_000;

/// URL schemes usher can deliver webhooks to: no TLS client is built in (yet); an https
/// receiver is reached through a local TLS-terminating proxy (docs/integration.md).
const WEBHOOK_SCHEMES: &[&str] = &["http://"];
const WEBHOOK_SCHEME_HELP: &str =
    "expected an http:// URL (https is not built in: use a TLS-terminating proxy)";

/// Which queue engine keeps the waiting-room state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// One process, everything in memory: the zero-setup demo.
    Memory,
    /// All queue state in Redis: what several instances share in production.
    Redis,
}

/// Every setting usher reads. Field names are the TOML keys; `USHER_<NAME>` overrides them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port).
    pub bind: String,
    /// `memory` or `redis`; empty means `redis` when `redis_url` is set, else `memory`.
    pub engine: String,
    /// Redis URL; setting it switches to the Redis engine.
    pub redis_url: String,
    /// Seed nodes of a Redis Cluster, comma-separated (`redis://10.0.0.1:6379,redis://…`);
    /// setting it switches to the Redis engine on that cluster (instead of `redis_url`).
    pub redis_cluster_urls: String,
    /// Namespace of every Redis key and channel this deployment uses.
    pub redis_prefix: String,
    /// `sqlite://…` (default, a file next to the binary) or `postgres://…`.
    pub database_url: String,
    /// Bearer key of the admin API. Empty disables the admin API.
    pub admin_key: String,
    /// HMAC secret shared with the ticket site for signed user ids. Empty disables them.
    pub site_secret: String,
    /// Hex Ed25519 seed (64 hex digits) of the token signing key. Empty: one is generated at
    /// first start and kept in the database, so every instance on that database shares it.
    pub signing_key: String,
    /// Create a demo event when the database has no event yet.
    pub demo: bool,
    /// A directory of custom pages to serve instead of the ones built into the binary
    /// (empty: the built-in pages).
    pub static_dir: String,
    /// Longest time between two position updates pushed to a waiting buyer.
    pub update_interval_ms: u64,
    /// How often each instance runs the admission step of every event.
    pub tick_ms: u64,
    /// How often connected buyers are marked present in the engine.
    pub heartbeat_ms: u64,
    /// Joins allowed per second from one IP address (burst: `join_burst_per_ip`).
    pub join_rate_per_ip: u32,
    /// Burst of joins from one IP address.
    pub join_burst_per_ip: u32,
    /// Messages per second one socket may send (burst: twice that).
    pub messages_per_socket: u32,
    /// Largest WebSocket message accepted from a client, in bytes.
    pub max_message_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Issuer (`iss`) of entry tokens.
    pub token_issuer: String,
    /// Longest a stop (SIGTERM, SIGINT) may take: in-flight requests finish and every
    /// socket is closed with 4000 within it; then the process exits regardless.
    pub shutdown_timeout_ms: u64,
    /// Where events (`order.paid`, …) are POSTed, signed. Empty turns webhooks off.
    pub webhook_url: String,
    /// HMAC-SHA256 key of the `Usher-Signature` header; required with `webhook_url`.
    pub webhook_secret: String,
    /// How long after an event happened its delivery is still retried (then it gives up).
    pub webhook_retry_secs: u64,
    /// Longest one delivery attempt may take (connect, send, answer).
    pub webhook_timeout_ms: u64,
    /// Wait before the second attempt; each later wait doubles, up to an hour, with jitter.
    pub webhook_backoff_ms: u64,
    /// How often each instance looks for deliveries that are due.
    pub webhook_poll_ms: u64,
    /// The ticket site's payment page, with `{order}` and `{token}` filled in: a buyer's
    /// `book` then makes an order awaiting payment (`checkout`), which the ticket site
    /// confirms server to server before its deadline. Empty (the default, the demo): `book`
    /// confirms at once.
    pub checkout_url: String,
    /// How much an order's payment deadline may be extended, once
    /// (`POST /api/orders/{id}/extend`); 0: never.
    pub checkout_extend_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            engine: String::new(),
            redis_url: String::new(),
            redis_cluster_urls: String::new(),
            redis_prefix: "usher".into(),
            database_url: "sqlite://usher.db?mode=rwc".into(),
            admin_key: String::new(),
            site_secret: String::new(),
            signing_key: String::new(),
            demo: true,
            static_dir: String::new(),
            update_interval_ms: 1000,
            tick_ms: 100,
            heartbeat_ms: 5000,
            join_rate_per_ip: 20,
            join_burst_per_ip: 50,
            messages_per_socket: 10,
            max_message_bytes: 4096,
            trust_forwarded_for: false,
            token_issuer: "usher".into(),
            shutdown_timeout_ms: 10_000,
            webhook_url: String::new(),
            checkout_url: String::new(),
            checkout_extend_secs: 300,
            webhook_secret: String::new(),
            webhook_retry_secs: 259_200,
            webhook_timeout_ms: 5000,
            webhook_backoff_ms: 5000,
            webhook_poll_ms: 1000,
        }
    }
}

/// A setting that failed validation, with the key that names it.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting `{key}`: {reason}")]
pub struct ConfigError {
    /// The TOML key (environment: `USHER_` + upper case).
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl Settings {
    /// Loads defaults, then `USHER_CONFIG` (or `./usher.toml` if present), then `USHER_*`.
    pub fn load() -> anyhow::Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match std::env::var("USHER_CONFIG") {
            Ok(path) => {
                anyhow::ensure!(
                    std::path::Path::new(&path).exists(),
                    "invalid setting `USHER_CONFIG`: file {path} does not exist"
                );
                figment = figment.merge(Toml::file(path));
            }
            Err(_) => figment = figment.merge(Toml::file("usher.toml")),
        }
        // Only variables that name a setting: other USHER_* variables (a script's own)
        // must not stop the server.
        let known: Vec<String> = match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let settings: Settings = figment
            .merge(Env::prefixed("USHER_").filter(move |k| known.iter().any(|f| k == f.as_str())))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every value that types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| {
            Err(ConfigError {
                key,
                reason: reason.into(),
            })
        };
        if self.bind.parse::<SocketAddr>().is_err() {
            return bad("bind", "expected an address like 127.0.0.1:8080");
        }
        self.engine_kind()?;
        if self.engine_kind()? == EngineKind::Redis
            && self.redis_url.is_empty()
            && self.redis_cluster_nodes().is_empty()
        {
            return bad(
                "redis_url",
                "the redis engine needs a redis_url (or redis_cluster_urls)",
            );
        }
        if !self.redis_url.is_empty() && !self.redis_cluster_urls.trim().is_empty() {
            return bad(
                "redis_cluster_urls",
                "set either redis_url (one server) or redis_cluster_urls (a cluster), not both",
            );
        }
        if self
            .redis_cluster_nodes()
            .iter()
            .any(|u| !u.starts_with("redis://"))
        {
            return bad(
                "redis_cluster_urls",
                "expected comma-separated redis://host:port URLs",
            );
        }
        if self.redis_prefix.is_empty()
            || !self
                .redis_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return bad("redis_prefix", "use letters, digits, '-' and '_' only");
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return bad("database_url", "expected sqlite:… or postgres://…");
        }
        if !self.signing_key.is_empty() && hex::decode(&self.signing_key).map(|k| k.len()) != Ok(32)
        {
            return bad("signing_key", "expected 64 hex digits (an Ed25519 seed)");
        }
        for (key, value) in [
            ("update_interval_ms", self.update_interval_ms),
            ("tick_ms", self.tick_ms),
            ("heartbeat_ms", self.heartbeat_ms),
        ] {
            if value == 0 {
                return bad(key, "must be greater than 0");
            }
        }
        for (key, value) in [
            ("join_rate_per_ip", self.join_rate_per_ip),
            ("join_burst_per_ip", self.join_burst_per_ip),
            ("messages_per_socket", self.messages_per_socket),
        ] {
            if value == 0 {
                return bad(key, "must be greater than 0");
            }
        }
        if !(1..=MAX_SHUTDOWN_TIMEOUT_MS).contains(&self.shutdown_timeout_ms) {
            return bad(
                "shutdown_timeout_ms",
                "must be between 1 and 600000 (10 minutes)",
            );
        }
        if self.max_message_bytes < 256 {
            return bad("max_message_bytes", "must be at least 256");
        }
        self.validate_checkout()?;
        self.validate_webhooks()
    }

    fn validate_checkout(&self) -> Result<(), ConfigError> {
        if !self.checkout_url.is_empty() && !self.checkout_url.contains("{order}") {
            return Err(ConfigError {
                key: "checkout_url",
                reason: "must contain {order} (and may contain {token})".into(),
            });
        }
        Ok(())
    }

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| {
            Err(ConfigError {
                key,
                reason: reason.into(),
            })
        };
        if self.webhook_url.is_empty() {
            return Ok(());
        }
        if !WEBHOOK_SCHEMES
            .iter()
            .any(|s| self.webhook_url.starts_with(s))
        {
            return bad("webhook_url", WEBHOOK_SCHEME_HELP);
        }
        if self.webhook_secret.is_empty() {
            return bad("webhook_secret", "required when webhook_url is set");
        }
        if self.webhook_retry_secs == 0 {
            return bad("webhook_retry_secs", "must be greater than 0");
        }
        if !(1..=MAX_WEBHOOK_TIMEOUT_MS).contains(&self.webhook_timeout_ms) {
            return bad("webhook_timeout_ms", "must be between 1 and 60000");
        }
        for (key, value) in [
            ("webhook_backoff_ms", self.webhook_backoff_ms),
            ("webhook_poll_ms", self.webhook_poll_ms),
        ] {
            if value == 0 {
                return bad(key, "must be greater than 0");
            }
        }
        Ok(())
    }

    /// True when webhooks are configured.
    pub fn webhooks_on(&self) -> bool {
        !self.webhook_url.is_empty()
    }

    /// The seed nodes of `redis_cluster_urls` (none when it is empty).
    pub fn redis_cluster_nodes(&self) -> Vec<String> {
        self.redis_cluster_urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The engine named by `engine`, or implied by `redis_url` / `redis_cluster_urls`.
    pub fn engine_kind(&self) -> Result<EngineKind, ConfigError> {
        match self.engine.as_str() {
            "" if self.redis_url.is_empty() && self.redis_cluster_nodes().is_empty() => {
                Ok(EngineKind::Memory)
            }
            "" | "redis" => Ok(EngineKind::Redis),
            "memory" => Ok(EngineKind::Memory),
            other => Err(ConfigError {
                key: "engine",
                reason: format!("unknown engine {other:?}: expected memory or redis"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_pick_the_memory_engine() {
        let s = Settings::default();
        s.validate().unwrap();
        assert_eq!(s.engine_kind().unwrap(), EngineKind::Memory);
    }

    #[test]
    fn an_unknown_engine_names_the_key() {
        let s = Settings {
            engine: "etcd".into(),
            ..Settings::default()
        };
        let err = s.validate().unwrap_err();
        assert_eq!(err.key, "engine");
    }

    #[test]
    fn a_shutdown_bound_of_zero_or_hours_names_the_key() {
        for bad in [0, 3_600_000] {
            let s = Settings {
                shutdown_timeout_ms: bad,
                ..Settings::default()
            };
            assert_eq!(s.validate().unwrap_err().key, "shutdown_timeout_ms");
        }
    }

    #[test]
    fn a_webhook_url_needs_a_secret_and_a_known_scheme() {
        let s = Settings {
            webhook_url: "http://127.0.0.1:9/hooks".into(),
            ..Settings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "webhook_secret");
        let s = Settings {
            webhook_url: "https://example.com/".into(),
            webhook_secret: "s".into(),
            ..Settings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "webhook_url");
        let s = Settings {
            webhook_url: "http://127.0.0.1:9/hooks".into(),
            webhook_secret: "s".into(),
            webhook_timeout_ms: 0,
            ..Settings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "webhook_timeout_ms");
    }

    #[test]
    fn cluster_urls_switch_the_engine_and_exclude_a_redis_url() {
        let s = Settings {
            redis_cluster_urls: "redis://10.0.0.1:7000, redis://10.0.0.2:7000".into(),
            ..Settings::default()
        };
        s.validate().unwrap();
        assert_eq!(s.engine_kind().unwrap(), EngineKind::Redis);
        assert_eq!(s.redis_cluster_nodes().len(), 2);
        let both = Settings {
            redis_url: "redis://127.0.0.1/".into(),
            ..s.clone()
        };
        assert_eq!(both.validate().unwrap_err().key, "redis_cluster_urls");
        let bad = Settings {
            redis_cluster_urls: "10.0.0.1:7000".into(),
            ..Settings::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "redis_cluster_urls");
    }

    #[test]
    fn a_redis_url_switches_the_engine() {
        let s = Settings {
            redis_url: "redis://127.0.0.1/".into(),
            ..Settings::default()
        };
        assert_eq!(s.engine_kind().unwrap(), EngineKind::Redis);
    }
}
