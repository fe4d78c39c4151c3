//! `watch`'s TOML configuration. Every key is optional; see
//! `docs/FETCH.md` for the file with its defaults.

use std::time::Duration;

use serde::Deserialize;

use crate::client::FetchSettings;
use crate::schedule::{Backoff, RecheckPolicy, Tier};

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct ConfigError {
    /// The file (or other origin) of the configuration.
    pub origin: String,
    /// What is wrong, with its line when TOML knows it.
    pub reason: String,
}

/// Everything `watch` can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// How often each feed is polled.
    pub feed_interval: Duration,
    /// The least time between two requests to one host.
    pub min_host_delay: Duration,
    /// Requests in flight at once (to different hosts).
    pub max_concurrency: usize,
    /// When articles are checked again.
    pub recheck: RecheckPolicy,
    /// How long to wait after failures.
    pub backoff: Backoff,
    /// The HTTP client's limits.
    pub fetch: FetchSettings,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            feed_interval: Duration::from_secs(15 * 60),
            min_host_delay: Duration::from_secs(2),
            max_concurrency: 4,
            recheck: RecheckPolicy::default(),
            backoff: Backoff::default(),
            fetch: FetchSettings::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default, with = "duration::optional")]
    feed_interval: Option<Duration>,
    #[serde(default, with = "duration::optional")]
    min_host_delay: Option<Duration>,
    max_concurrency: Option<usize>,
    recheck: Option<Vec<Tier>>,
    backoff: Option<Backoff>,
    #[serde(default)]
    fetch: FetchFile,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchFile {
    user_agent: Option<String>,
    #[serde(default, with = "duration::optional")]
    connect_timeout: Option<Duration>,
    #[serde(default, with = "duration::optional")]
    timeout: Option<Duration>,
    max_redirects: Option<usize>,
    max_body_bytes: Option<u64>,
}

impl WatchConfig {
    /// Reads a configuration from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let refuse = |reason: String| ConfigError {
            origin: origin.to_owned(),
            reason,
        };
        let file: ConfigFile = toml::from_str(text).map_err(|err| refuse(err.to_string()))?;
        let defaults = Self::default();
        let max_concurrency = file.max_concurrency.unwrap_or(defaults.max_concurrency);
        if max_concurrency == 0 {
            return Err(refuse("max_concurrency must be at least 1".into()));
        }
        let recheck = match file.recheck {
            Some(tiers) if tiers.iter().any(|tier| tier.every.is_zero()) => {
                return Err(refuse(
                    "a recheck tier's `every` must be more than 0".into(),
                ));
            }
            Some(tiers) => RecheckPolicy::new(tiers),
            None => defaults.recheck,
        };
        let fetch_defaults = defaults.fetch;
        Ok(Self {
            feed_interval: file.feed_interval.unwrap_or(defaults.feed_interval),
            min_host_delay: file.min_host_delay.unwrap_or(defaults.min_host_delay),
            max_concurrency,
            recheck,
            backoff: file.backoff.unwrap_or(defaults.backoff),
            fetch: FetchSettings {
                user_agent: file.fetch.user_agent.unwrap_or(fetch_defaults.user_agent),
                connect_timeout: file
                    .fetch
                    .connect_timeout
                    .unwrap_or(fetch_defaults.connect_timeout),
                timeout: file.fetch.timeout.unwrap_or(fetch_defaults.timeout),
                max_redirects: file
                    .fetch
                    .max_redirects
                    .unwrap_or(fetch_defaults.max_redirects),
                max_body_bytes: file
                    .fetch
                    .max_body_bytes
                    .unwrap_or(fetch_defaults.max_body_bytes),
            },
        })
    }
}

/// Durations written as humantime text: `"15m"`, `"3h"`, `"2days"`.
pub(crate) mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(input)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }

    pub(crate) mod optional {
        use super::*;

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            input: D,
        ) -> Result<Option<Duration>, D::Error> {
            super::deserialize(input).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(
            WatchConfig::from_toml("", "x").unwrap(),
            WatchConfig::default()
        );
    }

    #[test]
    fn every_key_is_read() {
        let config = WatchConfig::from_toml(
            r#"
feed_interval = "5m"
min_host_delay = "500ms"
max_concurrency = 2
recheck = [
  { changed_within = "1day", every = "1h" },
  { changed_within = "2h", every = "10m" },
]
backoff = { first = "30s", max = "1h" }
[fetch]
user_agent = "test-agent"
connect_timeout = "1s"
timeout = "2s"
max_redirects = 3
max_body_bytes = 1000
"#,
            "watch.toml",
        )
        .unwrap();
        assert_eq!(config.feed_interval, Duration::from_secs(300));
        assert_eq!(config.min_host_delay, Duration::from_millis(500));
        assert_eq!(config.max_concurrency, 2);
        // Sorted youngest first.
        assert_eq!(config.recheck.tiers()[0].every, Duration::from_secs(600));
        assert_eq!(config.backoff.max, Duration::from_secs(3600));
        assert_eq!(config.fetch.user_agent, "test-agent");
        assert_eq!(config.fetch.max_redirects, 3);
        assert_eq!(config.fetch.max_body_bytes, 1000);
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let err = WatchConfig::from_toml("feed_interval = \"soon\"\n", "watch.toml").unwrap_err();
        assert!(err.to_string().starts_with("watch.toml: "), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = WatchConfig::from_toml("\n\nfeed_intervall = \"5m\"\n", "w.toml").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = WatchConfig::from_toml("max_concurrency = 0", "w.toml").unwrap_err();
        assert!(err.to_string().contains("at least 1"), "{err}");
    }
}
