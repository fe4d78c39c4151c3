//! newsarc's fetcher: HTTP downloads with conditional requests, RSS/Atom
//! feed reading, the recheck schedule and the politeness rules. Nothing here
//! touches the store: the archive facade records what these return.
//!
//! ```
//! use newsarc_fetch::schedule::RecheckPolicy;
//! use newsarc_model::Millis;
//!
//! let policy = RecheckPolicy::default();
//! let changed = Millis::from_millis(0);
//! let now = Millis::from_millis(60 * 60 * 1000); // an hour later
//! // Changed less than 3 h ago: checked again in 15 minutes.
//! assert_eq!(
//!     policy.next_check(changed, now),
//!     Some(Millis::from_millis(now.as_millis() + 15 * 60 * 1000))
//! );
//! ```

pub mod client;
pub mod clock;
pub mod config;
pub mod feed;
pub mod polite;
pub mod schedule;

pub use client::{Answer, FetchError, FetchSettings, Fetcher, Validators};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, WatchConfig};
