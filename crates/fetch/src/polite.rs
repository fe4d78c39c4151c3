//! Politeness: at most one request at a time per host, a least delay between
//! two requests to a host, and a host's `Retry-After` honoured for all its
//! URLs. Requests to different hosts run concurrently up to a limit.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use newsarc_model::Millis;

use crate::clock::Clock;
use crate::schedule::after;

/// When each host may be asked next.
#[derive(Debug)]
pub struct HostGate {
    min_delay: Duration,
    next_allowed: Mutex<HashMap<String, Millis>>,
}

impl HostGate {
    /// A gate spacing requests to one host by `min_delay`.
    pub fn new(min_delay: Duration) -> Self {
        Self {
            min_delay,
            next_allowed: Mutex::new(HashMap::new()),
        }
    }

    /// The host of `url` (the whole URL when it has none, so that it still
    /// gets a queue of its own).
    pub fn host_of(url: &str) -> String {
        url::Url::parse(url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| url.to_owned())
    }

    /// The earliest time `host` may be asked, `now` or later.
    pub fn ready_at(&self, host: &str, now: Millis) -> Millis {
        self.lock()
            .get(host)
            .map_or(now, |allowed| (*allowed).max(now))
    }

    /// A request to `host` starts at `at`.
    pub fn started(&self, host: &str, at: Millis) {
        let next = after(at, self.min_delay);
        let mut hosts = self.lock();
        let allowed = hosts.entry(host.to_owned()).or_insert(next);
        *allowed = (*allowed).max(next);
    }

    /// `host` asked not to be asked again before `until`.
    pub fn block_until(&self, host: &str, until: Millis) {
        let mut hosts = self.lock();
        let allowed = hosts.entry(host.to_owned()).or_insert(until);
        *allowed = (*allowed).max(until);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Millis>> {
        self.next_allowed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs `work` for every URL: one host's URLs one after another in the given
/// order, spaced by the gate; up to `max_concurrency` hosts at once. `work`
/// returns the `Retry-After` wait its server asked for, if any, which holds
/// back that host's remaining URLs.
pub async fn for_each_polite<C, T, F, Fut>(
    clock: &C,
    gate: &HostGate,
    jobs: Vec<(String, T)>,
    max_concurrency: usize,
    work: F,
) where
    C: Clock,
    F: Fn(String, T) -> Fut,
    Fut: Future<Output = Option<Duration>>,
{
    let mut queues: Vec<(String, Vec<(String, T)>)> = Vec::new();
    for (url, job) in jobs {
        let host = HostGate::host_of(&url);
        match queues.iter_mut().find(|(h, _)| *h == host) {
            Some((_, queue)) => queue.push((url, job)),
            None => queues.push((host, vec![(url, job)])),
        }
    }
    let work = &work;
    futures_util::stream::iter(queues)
        .map(|(host, queue)| async move {
            for (url, job) in queue {
                clock.sleep_until(gate.ready_at(&host, clock.now())).await;
                gate.started(&host, clock.now());
                if let Some(wait) = work(url, job).await {
                    gate.block_until(&host, after(clock.now(), wait));
                }
            }
        })
        .buffer_unordered(max_concurrency.max(1))
        .collect::<()>()
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn one_host_is_asked_in_turn_with_the_least_delay_between() {
        let clock = ManualClock::new(Millis::from_millis(0));
        let gate = HostGate::new(Duration::from_secs(2));
        let started = Mutex::new(Vec::new());
        let jobs = [
            "https://a.example/1",
            "https://b.example/1",
            "https://a.example/2",
        ]
        .map(|url| (url.to_owned(), ()))
        .to_vec();
        for_each_polite(&clock, &gate, jobs, 4, |url, ()| {
            started
                .lock()
                .unwrap()
                .push((url.clone(), clock.now().as_millis()));
            async move {
                url.ends_with("b.example/1")
                    .then(|| Duration::from_secs(60))
            }
        })
        .await;
        let started = started.into_inner().unwrap();
        let time_of = |url: &str| started.iter().find(|(u, _)| u == url).unwrap().1;
        assert_eq!(time_of("https://a.example/1"), 0);
        assert_eq!(time_of("https://b.example/1"), 0);
        assert_eq!(time_of("https://a.example/2"), 2_000);
        // b asked for a minute's rest: the gate holds b back, not a.
        assert_eq!(
            gate.ready_at("b.example", Millis::from_millis(2_000))
                .as_millis(),
            60_000
        );
        assert_eq!(
            gate.ready_at("a.example", Millis::from_millis(5_000))
                .as_millis(),
            5_000
        );
    }
}
