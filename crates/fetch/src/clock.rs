//! Time as the scheduler sees it. Watching uses the system clock; tests
//! inject a [`ManualClock`] so that schedules are checked without sleeping.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use newsarc_model::Millis;

/// A source of the current time that can also wait.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Millis;
    /// Returns at `at` (at once when `at` has passed).
    fn sleep_until(&self, at: Millis) -> impl Future<Output = ()> + Send;
}

/// The system's clock; waits with tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        Millis::now()
    }

    async fn sleep_until(&self, at: Millis) {
        let wait = at.as_millis().saturating_sub(Millis::now().as_millis());
        if let Ok(wait) = u64::try_from(wait)
            && wait > 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
    }
}

/// A clock that only moves when told to, or when something sleeps on it
/// (the sleep lets other tasks run once, then jumps to its end). It
/// remembers every sleep, so tests can see the waits the politeness rules
/// imposed.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
    sleeps: Mutex<Vec<(Millis, Millis)>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Millis) -> Self {
        Self {
            now: AtomicI64::new(start.as_millis()),
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// Moves the clock to `at` (never backwards).
    pub fn set(&self, at: Millis) {
        self.now.fetch_max(at.as_millis(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: i64) {
        self.now.fetch_add(millis, Ordering::SeqCst);
    }

    /// Every sleep so far, as (asked at, until).
    pub fn sleeps(&self) -> Vec<(Millis, Millis)> {
        self.sleeps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        Millis::from_millis(self.now.load(Ordering::SeqCst))
    }

    async fn sleep_until(&self, at: Millis) {
        let now = self.now();
        if at > now {
            self.sleeps
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((now, at));
            // Whatever else is ready runs at the time it was ready.
            tokio::task::yield_now().await;
            self.set(at);
        }
    }
}
