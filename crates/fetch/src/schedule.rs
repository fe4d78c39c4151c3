//! When to fetch an article again: often while it is fresh, rarely as it
//! ages, never once it is old (the tiers NewsDiffs settled on), and later
//! and later after failures.

use std::time::Duration;

use newsarc_model::Millis;
use serde::Deserialize;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// One tier: articles whose text last changed less than `changed_within`
/// ago are checked `every` so often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The age bound of the tier (exclusive).
    #[serde(with = "crate::config::duration")]
    pub changed_within: Duration,
    /// The interval between checks in this tier.
    #[serde(with = "crate::config::duration")]
    pub every: Duration,
}

/// The recheck tiers, youngest first. An article older than the last tier
/// is not checked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecheckPolicy {
    tiers: Vec<Tier>,
}

impl Default for RecheckPolicy {
    /// Every 15 min while the article last changed less than 3 h ago, hourly
    /// under a day, every 3 h under a week, every 3 days under 30 days,
    /// monthly under a year, then never.
    fn default() -> Self {
        let tier = |within: u64, every: u64| Tier {
            changed_within: Duration::from_secs(within),
            every: Duration::from_secs(every),
        };
        Self {
            tiers: vec![
                tier(3 * HOUR, 15 * MINUTE),
                tier(DAY, HOUR),
                tier(7 * DAY, 3 * HOUR),
                tier(30 * DAY, 3 * DAY),
                tier(365 * DAY, 30 * DAY),
            ],
        }
    }
}

impl RecheckPolicy {
    /// A policy from tiers in any order (they are sorted by age bound).
    pub fn new(mut tiers: Vec<Tier>) -> Self {
        tiers.sort_by_key(|tier| tier.changed_within);
        Self { tiers }
    }

    /// The tiers, youngest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// When to check an article next, given when its text last changed and
    /// the time of the check just made; `None`: never again.
    pub fn next_check(&self, last_change: Millis, now: Millis) -> Option<Millis> {
        let age =
            u64::try_from(now.as_millis().saturating_sub(last_change.as_millis())).unwrap_or(0);
        self.tiers
            .iter()
            .find(|tier| u128::from(age) < tier.changed_within.as_millis())
            .map(|tier| after(now, tier.every))
    }
}

/// How long to wait after failures: `first` after one, doubling each time,
/// never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    /// The wait after the first failure.
    #[serde(with = "crate::config::duration")]
    pub first: Duration,
    /// The longest wait.
    #[serde(with = "crate::config::duration")]
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(MINUTE),
            max: Duration::from_secs(6 * HOUR),
        }
    }
}

impl Backoff {
    /// The wait after `failures` failures in a row (at least one).
    pub fn wait(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// When to try again after `failures` failures, at least `retry_after`
    /// from `now` when the server asked for that.
    pub fn retry_at(&self, failures: u32, now: Millis, retry_after: Option<Duration>) -> Millis {
        let wait = self.wait(failures).max(retry_after.unwrap_or_default());
        after(now, wait)
    }
}

/// `at` plus `wait`, saturating.
pub fn after(at: Millis, wait: Duration) -> Millis {
    let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    Millis::from_millis(at.as_millis().saturating_add(wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_MS: i64 = 60_000;
    const HOUR_MS: i64 = 60 * MIN_MS;
    const DAY_MS: i64 = 24 * HOUR_MS;

    fn at(ms: i64) -> Millis {
        Millis::from_millis(ms)
    }

    /// The interval the default policy gives an article that last changed
    /// `age` ms before the check.
    fn interval(age: i64) -> Option<i64> {
        let now = at(400 * DAY_MS);
        RecheckPolicy::default()
            .next_check(at(now.as_millis() - age), now)
            .map(|next| next.as_millis() - now.as_millis())
    }

    #[test]
    fn the_default_tiers_are_newsdiffs_schedule() {
        assert_eq!(interval(0), Some(15 * MIN_MS));
        assert_eq!(interval(3 * HOUR_MS - 1), Some(15 * MIN_MS));
        assert_eq!(interval(3 * HOUR_MS), Some(HOUR_MS));
        assert_eq!(interval(DAY_MS - 1), Some(HOUR_MS));
        assert_eq!(interval(DAY_MS), Some(3 * HOUR_MS));
        assert_eq!(interval(7 * DAY_MS - 1), Some(3 * HOUR_MS));
        assert_eq!(interval(7 * DAY_MS), Some(3 * DAY_MS));
        assert_eq!(interval(30 * DAY_MS - 1), Some(3 * DAY_MS));
        assert_eq!(interval(30 * DAY_MS), Some(30 * DAY_MS));
        assert_eq!(interval(365 * DAY_MS - 1), Some(30 * DAY_MS));
        assert_eq!(interval(365 * DAY_MS), None);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_honours_retry_after() {
        let backoff = Backoff {
            first: Duration::from_secs(60),
            max: Duration::from_secs(600),
        };
        let waits: Vec<u64> = (1..=6).map(|n| backoff.wait(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600]);
        assert_eq!(backoff.wait(u32::MAX).as_secs(), 600);
        let now = at(1_000);
        assert_eq!(backoff.retry_at(1, now, None), at(61_000));
        assert_eq!(
            backoff.retry_at(1, now, Some(Duration::from_secs(3600))),
            at(3_601_000)
        );
    }
}
