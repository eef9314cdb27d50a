//! What this process is doing for others right now (writes, and in the hub its requests), so
//! that background work (an analysis build) can give way to it.
//!
//! On the 2-core virtual machine this was measured on, a busy core delays a commit on the
//! other one even when the busy thread is at idle priority: the guest's scheduler gives way,
//! the host does not (pgbench at 200 commits/s: p99 1.4-3.6 ms alone, 7.8-12.2 ms beside an
//! idle-priority spinner, 1.4 ms beside a spinner that sleeps while anything else runs; see
//! the README). So a build stops its own work while a write is in flight: its threads sleep,
//! and the core is idle for the host too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Work in flight that background work gives way to.
#[derive(Debug, Default)]
pub struct Activity {
    in_flight: AtomicUsize,
}

/// Marks one piece of work in flight until it is dropped.
#[derive(Debug)]
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Release);
    }
}

impl Activity {
    /// Marks work in flight until the returned guard is dropped.
    pub fn enter(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Acquire);
        Busy(self.clone())
    }

    /// Whether any work is in flight.
    pub fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// A pacer for background work that gives way to this activity.
    pub fn pacer(self: &Arc<Self>) -> Pacer {
        Pacer {
            activity: self.clone(),
            run_until: None,
            paused: Duration::ZERO,
            max_pause: MAX_PAUSE,
            run_after_pause: RUN_AFTER_PAUSE,
        }
    }
}

/// How long a pause sleeps before it looks again (on the async path, tokio's timer rounds it
/// up to its 1 ms tick).
const STEP: Duration = Duration::from_micros(500);
/// The longest pause (give or take one [`STEP`]): after it, the background work runs for at
/// least [`RUN_AFTER_PAUSE`] (a unit of work always runs to its end) whatever is in flight, so
/// a steady load slows it, to about a sixth at worst, but never stops it.
const MAX_PAUSE: Duration = Duration::from_millis(5);
/// See [`MAX_PAUSE`].
const RUN_AFTER_PAUSE: Duration = Duration::from_millis(1);

/// Called by background work between small units of it (a row, a text, a contribution):
/// while work is in flight, it sleeps until that ends (at most about [`MAX_PAUSE`]). When
/// nothing is in flight it costs one atomic load.
#[derive(Debug)]
pub struct Pacer {
    activity: Arc<Activity>,
    run_until: Option<Instant>,
    paused: Duration,
    max_pause: Duration,
    run_after_pause: Duration,
}

impl Pacer {
    /// Whether to pause now; `None` if not, else when the pause ends at the latest.
    fn pause_until(&mut self) -> Option<Instant> {
        if !self.activity.busy() {
            return None;
        }
        let now = Instant::now();
        if self.run_until.is_some_and(|t| now < t) {
            return None;
        }
        self.run_until = None;
        Some(now + self.max_pause)
    }

    /// Ends a pause that began at `started` with `deadline`.
    fn paused_since(&mut self, started: Instant, deadline: Instant) {
        let now = Instant::now();
        self.paused += now - started;
        if now >= deadline {
            self.run_until = Some(now + self.run_after_pause);
        }
    }

    /// Gives way to work in flight, sleeping the calling thread.
    pub fn pause(&mut self) {
        let Some(deadline) = self.pause_until() else {
            return;
        };
        let started = Instant::now();
        while self.activity.busy() && Instant::now() < deadline {
            std::thread::sleep(STEP);
        }
        self.paused_since(started, deadline);
    }

    /// Gives way to work in flight, sleeping the task (which must not hold up other tasks
    /// that others wait for: the analysis runs on a runtime of its own).
    pub async fn pause_async(&mut self) {
        let Some(deadline) = self.pause_until() else {
            return;
        };
        let started = Instant::now();
        while self.activity.busy() && Instant::now() < deadline {
            tokio::time::sleep(STEP).await;
        }
        self.paused_since(started, deadline);
    }

    /// Another pacer for the same activity, with nothing paused yet (for another thread).
    pub fn fresh(&self) -> Pacer {
        self.activity.pacer()
    }

    /// How long this pacer has paused in all.
    pub fn paused(&self) -> Duration {
        self.paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pacer whose limits the test sets.
    fn pacer(activity: &Arc<Activity>, max_pause: Duration, run_after_pause: Duration) -> Pacer {
        Pacer {
            max_pause,
            run_after_pause,
            ..activity.pacer()
        }
    }

    #[test]
    fn a_pause_waits_for_work_in_flight_to_end() {
        let activity = Arc::new(Activity::default());
        let mut p = pacer(&activity, Duration::from_secs(60), RUN_AFTER_PAUSE);
        p.pause();
        assert_eq!(p.paused(), Duration::ZERO, "nothing in flight");
        let busy = activity.enter();
        assert!(activity.busy());
        let ends = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(busy);
        });
        let t = Instant::now();
        p.pause();
        assert!(!activity.busy(), "the pause lasted until the work ended");
        assert!(p.paused() >= Duration::from_millis(100), "{:?}", p.paused());
        assert!(t.elapsed() < Duration::from_secs(30), "not until the limit");
        assert!(p.run_until.is_none(), "the work ended before the limit");
        ends.join().expect("the worker");
    }

    #[test]
    fn a_steady_load_slows_background_work_but_never_stops_it() {
        let activity = Arc::new(Activity::default());
        let mut p = pacer(&activity, Duration::from_millis(5), Duration::from_secs(60));
        let _busy = activity.enter();
        p.pause();
        let first = p.paused();
        assert!(first >= Duration::from_millis(5), "{first:?}");
        // After a pause up to the limit, the work runs on for `run_after_pause`.
        p.pause();
        assert_eq!(p.paused(), first, "no second pause while the work runs on");
        // Once that has passed, it gives way again.
        p.run_until = Some(Instant::now());
        p.pause();
        assert!(p.paused() >= first + Duration::from_millis(5));
        assert!(p.run_until.is_some());
    }
}
