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
        }
    }
}

/// How long a pause sleeps before it looks again.
const STEP: Duration = Duration::from_micros(500);
/// The longest pause: after it, the background work runs for [`RUN_AFTER_PAUSE`] whatever is in
/// flight, so a steady load slows it (to a sixth at worst) but never stops it.
const MAX_PAUSE: Duration = Duration::from_millis(5);
/// See [`MAX_PAUSE`].
const RUN_AFTER_PAUSE: Duration = Duration::from_millis(1);

/// Called by background work between small units of it (a row, a text, a few kilobytes of
/// output): while work is in flight, it sleeps until that ends (at most [`MAX_PAUSE`]).
/// When nothing is in flight it costs one atomic load.
#[derive(Debug)]
pub struct Pacer {
    activity: Arc<Activity>,
    run_until: Option<Instant>,
    paused: Duration,
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
        Some(now + MAX_PAUSE)
    }

    /// Ends a pause that began at `started` with `deadline`.
    fn paused_since(&mut self, started: Instant, deadline: Instant) {
        let now = Instant::now();
        self.paused += now - started;
        if now >= deadline {
            self.run_until = Some(now + RUN_AFTER_PAUSE);
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

    /// How long this pacer has paused in all.
    pub fn paused(&self) -> Duration {
        self.paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_waits_for_work_in_flight_to_end() {
        let activity = Arc::new(Activity::default());
        let mut pacer = activity.pacer();
        let t = Instant::now();
        pacer.pause();
        assert_eq!(pacer.paused(), Duration::ZERO, "nothing in flight");
        let busy = activity.enter();
        assert!(activity.busy());
        let ends = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            drop(busy);
        });
        pacer.pause();
        assert!(!activity.busy(), "the pause lasted until the work ended");
        assert!(
            pacer.paused() >= Duration::from_millis(1),
            "{:?}",
            pacer.paused()
        );
        assert!(t.elapsed() < Duration::from_secs(5));
        ends.join().expect("the worker");
    }

    #[test]
    fn a_steady_load_slows_background_work_but_never_stops_it() {
        let activity = Arc::new(Activity::default());
        let mut pacer = activity.pacer();
        let _busy = activity.enter();
        pacer.pause();
        let first = pacer.paused();
        assert!(first >= MAX_PAUSE, "{first:?}");
        // Right after a full pause, the work runs on.
        pacer.pause();
        assert_eq!(
            pacer.paused(),
            first,
            "no second pause before RUN_AFTER_PAUSE"
        );
        std::thread::sleep(RUN_AFTER_PAUSE);
        pacer.pause();
        assert!(pacer.paused() >= first + MAX_PAUSE);
    }
}
