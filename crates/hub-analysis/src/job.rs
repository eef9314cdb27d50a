//! The schedule and the builds: which documents are due, the worker that claims and builds
//! them, and on-demand requests.

use crate::build::{self, Built, Params, Previous, Subject};
use crate::model::{RegionInfo, ReviewInfo};
use crate::text::Analyzer;
use chrono::{Datelike, NaiveDate};
use hub_domain::calendar::{RegionDef, ReviewCycle};
use hub_store::analysis::{
    AnalysisJob, Completion, FinishedDocument, NewAnalysis, Origin, PreviousDocument,
};
use hub_store::{now_micros, Created, IdempotencyKey, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Settings of the schedule and the worker.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Days before a review that its document is built.
    pub lead_days: u32,
    /// Also build every Monday while the space is open (`weekly_weeks` before the review).
    pub weekly: bool,
    /// Weeks before a review that its space counts as open for weekly builds.
    pub weekly_weeks: u32,
    /// How long a worker's claim lasts without renewal (renewed every third of it).
    pub lease: Duration,
    /// How often the worker looks for due and queued builds.
    pub poll: Duration,
    /// Synthesis parameters.
    pub params: Params,
    /// Sources credited on every document.
    pub sources: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lead_days: 14,
            weekly: false,
            weekly_weeks: 8,
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(60),
            params: Params::default(),
            sources: Vec::new(),
        }
    }
}

/// The runs due on `today` for one region: the build `lead_days` before each review whose
/// due day has come and whose review has not ended (so runs missed while no instance ran are
/// caught up at the next start, and past cycles are left alone), and with `weekly`, one each
/// Monday of the `weekly_weeks` before the review. Cutoffs are the due day at 00:00 UTC.
pub fn due_runs(region: &RegionDef, today: NaiveDate, s: &Settings) -> Vec<NewAnalysis> {
    let mut out = Vec::new();
    for cycle in &region.calendar.cycles {
        let (Some(review), Some(review_day)) = (cycle.review(), cycle.review_date()) else {
            continue;
        };
        if review.has_ended(today) {
            continue;
        }
        let Some(due) = review_day.checked_sub_days(chrono::Days::new(u64::from(s.lead_days)))
        else {
            continue;
        };
        if today >= due {
            out.push(NewAnalysis {
                region: region.slug.clone(),
                run_key: format!("{}:{}:due:{due}", region.slug, cycle.name),
                origin: Origin::Scheduled,
                cycle: Some(cycle.name.clone()),
                cutoff_at: build::day_start_micros(due),
                requested_by: None,
            });
        }
        if s.weekly {
            let opens = review_day
                .checked_sub_days(chrono::Days::new(u64::from(s.weekly_weeks) * 7))
                .unwrap_or(review_day);
            // The Monday of this week, if the space is open and it is not past the review.
            let monday = today
                .checked_sub_days(chrono::Days::new(u64::from(
                    today.weekday().num_days_from_monday(),
                )))
                .unwrap_or(today);
            if monday >= opens && monday < review_day {
                let week = monday.iso_week();
                out.push(NewAnalysis {
                    region: region.slug.clone(),
                    run_key: format!(
                        "{}:{}:week:{}-W{:02}",
                        region.slug,
                        cycle.name,
                        week.year(),
                        week.week()
                    ),
                    origin: Origin::Weekly,
                    cycle: Some(cycle.name.clone()),
                    cutoff_at: build::day_start_micros(monday),
                    requested_by: None,
                });
            }
        }
    }
    out
}

/// Errors of the analysis service.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The build failed.
    #[error(transparent)]
    Build(#[from] build::BuildError),
    /// No such region.
    #[error("unknown region {0}")]
    UnknownRegion(String),
}

/// The analysis service of one process: schedules, claims and builds.
#[derive(Clone)]
pub struct Analyses {
    store: Store,
    regions: Arc<Vec<RegionDef>>,
    settings: Arc<Settings>,
    analyzer: Arc<std::sync::OnceLock<Arc<Analyzer>>>,
    worker: Arc<str>,
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Analyses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyses")
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl Analyses {
    /// The service over `store` for these regions.
    pub fn new(store: Store, regions: Arc<Vec<RegionDef>>, settings: Settings) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "hub".into());
        let worker = format!("{host}:{}:{}", std::process::id(), uuid::Uuid::new_v4());
        Self {
            store,
            regions,
            settings: Arc::new(settings),
            analyzer: Arc::new(std::sync::OnceLock::new()),
            worker: worker.into(),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// This worker's id (recorded on the jobs it claims).
    pub fn worker_id(&self) -> &str {
        &self.worker
    }

    fn region(&self, slug: &str) -> Result<&RegionDef, JobError> {
        self.regions
            .iter()
            .find(|r| r.slug == slug)
            .ok_or_else(|| JobError::UnknownRegion(slug.into()))
    }

    /// Enqueues the runs due on `today` that no instance has enqueued yet. Returns how many
    /// were new.
    pub async fn schedule(&self, today: NaiveDate) -> Result<usize, JobError> {
        let mut new = 0;
        for region in self.regions.iter() {
            for run in due_runs(region, today, &self.settings) {
                let (_, inserted) = self.store.enqueue_analysis(&run).await?;
                new += usize::from(inserted);
            }
        }
        if new > 0 {
            self.wake.notify_one();
        }
        Ok(new)
    }

    /// Asks for a build of `region` now (cutoff: now, or the end of `until` when that day is
    /// past).
    pub async fn request(
        &self,
        region: &str,
        origin: Origin,
        requested_by: Option<i64>,
        until: Option<NaiveDate>,
    ) -> Result<AnalysisJob, JobError> {
        match self
            .request_once(region, origin, requested_by, until, None)
            .await?
        {
            Created::New(job) => Ok(job),
            Created::Replayed(id) => Ok(self.store.analysis(id).await?),
        }
    }

    /// [`request`](Self::request) honouring an `Idempotency-Key`: a retry gets the job the
    /// key made the first time (`Created::Replayed`) and enqueues nothing.
    pub async fn request_once(
        &self,
        region: &str,
        origin: Origin,
        requested_by: Option<i64>,
        until: Option<NaiveDate>,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<AnalysisJob>, JobError> {
        let r = self.region(region)?;
        let now = now_micros();
        let cutoff_at = match until.and_then(|d| d.succ_opt()) {
            Some(next) => (build::day_start_micros(next) - 1).min(now),
            None => now,
        };
        let today = hub_store::from_micros(cutoff_at).date_naive();
        let cycle = r.calendar.current_cycle(today).map(|c| c.name.clone());
        let created = self
            .store
            .enqueue_analysis_once(
                &NewAnalysis {
                    region: region.into(),
                    run_key: format!("{}:{}:{}", region, origin.as_str(), uuid::Uuid::new_v4()),
                    origin,
                    cycle,
                    cutoff_at,
                    requested_by,
                },
                key,
            )
            .await?;
        if matches!(created, Created::New(_)) {
            self.wake.notify_one();
        }
        Ok(created)
    }

    /// Claims one job and builds it. `None` when nothing was waiting.
    pub async fn run_once(&self) -> Result<Option<AnalysisJob>, JobError> {
        let lease_until = now_micros() + micros(self.settings.lease);
        let Some(job) = self.store.claim_analysis(&self.worker, lease_until).await? else {
            return Ok(None);
        };
        let id = job.id;
        tracing::info!(job = id, region = %job.region, "analysis build started");
        // The renewal stops with this build however it ends: finished, failed, or dropped
        // midway (a worker task aborted at shutdown). A renewal that outlived a killed build
        // would hold its lease forever and no other worker could ever retry it.
        let renew = AbortOnDrop(self.spawn_renewal(id));
        let outcome = self.build_job(&job).await;
        drop(renew);
        match outcome {
            Ok(Completion::Ready) => {
                tracing::info!(job = id, "analysis document ready");
            }
            Ok(Completion::VersionTaken) => {
                tracing::info!(job = id, "another build took the version; queued again");
            }
            Ok(Completion::LeaseLost) => {
                tracing::warn!(job = id, "lease lost; another worker builds it");
            }
            Err(e) => {
                tracing::error!(job = id, error = %e, "analysis build failed");
                self.store
                    .fail_analysis(id, &self.worker, &e.to_string())
                    .await?;
            }
        }
        Ok(Some(self.store.analysis(id).await?))
    }

    fn spawn_renewal(&self, id: i64) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let worker = self.worker.clone();
        let lease = self.settings.lease;
        tokio::spawn(async move {
            let every = (lease / 3).max(Duration::from_millis(100));
            loop {
                tokio::time::sleep(every).await;
                match store
                    .renew_analysis_lease(id, &worker, now_micros() + micros(lease))
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!(job = id, error = %e, "lease renewal failed"),
                }
            }
        })
    }

    /// Builds a claimed job's document and stores it.
    async fn build_job(&self, job: &AnalysisJob) -> Result<Completion, JobError> {
        let region = self.region(&job.region)?.clone();
        let built = self.build_document(&region, job).await?;
        let (built, version) = built;
        let payload = serde_json::json!({
            "id": job.id,
            "region": job.region,
            "version": version,
            "cutoff": hub_store::from_micros(job.cutoff_at).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "posts": built.posts,
            "formats": ["html", "md", "json", "csv"],
        })
        .to_string();
        Ok(self
            .store
            .complete_analysis(
                job.id,
                &self.worker,
                &FinishedDocument {
                    claim: job.started_at.unwrap_or_default(),
                    version,
                    cutoff_seq: built.cutoff_seq,
                    content_sha256: built.content_sha256,
                    posts: built.posts,
                    size_bytes: built.size_bytes,
                    json_gz: built.json_gz,
                    summary_gz: built.summary_gz,
                    event_payload: payload,
                },
            )
            .await?)
    }

    /// Builds the document a job asks for, with the next version number, without storing it.
    pub async fn build_document(
        &self,
        region: &RegionDef,
        job: &AnalysisJob,
    ) -> Result<(Built, i64), JobError> {
        let version = self.store.latest_analysis_version(&region.slug).await? + 1;
        let previous = self.store.previous_document(&region.slug, version).await?;
        let subject = self.subject(region, job.cutoff_at, version, job.cycle.as_deref());
        let (store, slug, cutoff_at) = (self.store.clone(), region.slug.clone(), job.cutoff_at);
        let (params, analyzer) = (self.settings.params.clone(), self.analyzer.clone());
        let built = on_idle_thread(move || async move {
            // Loaded once per process, on the build's thread (the dictionaries take a while).
            let analyzer = analyzer.get_or_init(|| Arc::new(Analyzer::new())).clone();
            // The previous version is read here too, as the build's work: from its summary, or
            // (stored before summaries were) from the whole document, which for a million
            // contributions is seconds of parsing.
            let previous: Option<Previous> = match previous {
                Some(PreviousDocument::Summary(gz)) => Some(build::previous_of_summary(&gz)?),
                Some(PreviousDocument::Whole(gz)) => Some(build::previous_of(&gz)?),
                None => None,
            };
            let snap = store.snapshot(&slug, cutoff_at).await?;
            Ok(build::build(snap, &subject, previous.as_ref(), &params, analyzer).await?)
        })
        .await?;
        Ok((built, version))
    }

    fn subject(
        &self,
        region: &RegionDef,
        cutoff_at: i64,
        version: i64,
        cycle: Option<&str>,
    ) -> Subject {
        let day = hub_store::from_micros(cutoff_at).date_naive();
        let cycle: Option<&ReviewCycle> = cycle
            .and_then(|name| region.calendar.cycles.iter().find(|c| c.name == name))
            .or_else(|| region.calendar.current_cycle(day));
        let review = cycle.and_then(|c| {
            let r = c.review()?;
            Some(ReviewInfo {
                cycle: c.name.clone(),
                date: std::iter::once(r.date.to_string())
                    .chain(r.alternatives.iter().map(ToString::to_string))
                    .collect::<Vec<_>>()
                    .join(" or "),
                earliest: c.review_date().map(|d| d.to_string()),
                place: r.place.clone(),
                tentative: r.tentative,
            })
        });
        Subject {
            region: RegionInfo {
                slug: region.slug.clone(),
                name: region.name.clone(),
                commission: Some(region.commission.clone()).filter(|c| !c.is_empty()),
                languages: region.languages.clone(),
            },
            review,
            cutoff_at,
            version,
            sources: self.settings.sources.clone(),
        }
    }

    /// Wakes the worker (a build was asked for).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs the schedule and the worker until `shutdown` turns true: schedules at start
    /// (catching up missed runs) and every poll, and builds whatever is queued.
    pub fn spawn(
        self,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let today = chrono::Utc::now().date_naive();
                if let Err(e) = self.schedule(today).await {
                    tracing::warn!(error = %e, "analysis schedule failed");
                }
                loop {
                    if *shutdown.borrow() {
                        break;
                    }
                    match self.run_once().await {
                        Ok(Some(_)) => continue,
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "analysis worker failed");
                            break;
                        }
                    }
                }
                tokio::select! {
                    _ = shutdown.changed() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.settings.poll) => {}
                }
            }
        })
    }
}

/// Runs a build on a thread of its own at idle priority (see [`build::idle_priority`]), with a
/// runtime of its own, and waits for it.
///
/// Everything the build does then yields to the process's requests: its queries and their
/// decoding, its text analysis and its JSON, and, on SQLite, the database work itself (the
/// snapshot's connection is opened on this thread, and its worker thread inherits the
/// priority). On the request runtime a build's reading held up posting for milliseconds at a
/// time. Dropping the returned future (a worker stopped at shutdown) stops the build at its
/// next await.
async fn on_idle_thread<T, F, Fut>(work: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, JobError>>,
{
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("analysis-build".into())
        .spawn(move || {
            build::idle_priority();
            let mut done = done;
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = done.send(Err(build::BuildError::Worker(e.to_string()).into()));
                    return;
                }
            };
            let outcome = runtime.block_on(async {
                tokio::select! {
                    r = work() => Some(r),
                    () = done.closed() => None,
                }
            });
            if let Some(r) = outcome {
                let _ = done.send(r);
            }
        })
        .map_err(|e| build::BuildError::Worker(format!("cannot start the build thread: {e}")))?;
    result
        .await
        .map_err(|_| build::BuildError::Worker("the build thread stopped".into()))?
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::calendar::RegionsFile;

    fn regions() -> RegionsFile {
        toml::from_str(
            r#"
            [[regions]]
            slug = "europe"
            name = "Europe"
            commission = "UNECE"
            languages = ["en"]
            [[regions.calendar.cycles]]
            name = "past"
            [[regions.calendar.cycles.events]]
            kind = "review"
            date = "2024-03-11"
            [[regions.calendar.cycles]]
            name = "next"
            [[regions.calendar.cycles.events]]
            kind = "review"
            date = "2027-03-11"
            place = "Geneva"
            "#,
        )
        .expect("regions parse")
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn due_after_lead_days_and_until_the_review_ends() {
        let r = regions();
        let europe = &r.regions[0];
        let s = Settings::default();
        assert!(due_runs(europe, d("2027-02-24"), &s).is_empty());
        let due = due_runs(europe, d("2027-02-25"), &s);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].run_key, "europe:next:due:2027-02-25");
        assert_eq!(due[0].cutoff_at, build::day_start_micros(d("2027-02-25")));
        // Missed while down: still due a week later, with the same key and cutoff.
        let late = due_runs(europe, d("2027-03-04"), &s);
        assert_eq!(late[0].run_key, due[0].run_key);
        assert_eq!(late[0].cutoff_at, due[0].cutoff_at);
        // After the review, nothing (and the 2024 cycle never).
        assert!(due_runs(europe, d("2027-03-12"), &s).is_empty());
    }

    #[test]
    fn weekly_runs_while_the_space_is_open() {
        let r = regions();
        let europe = &r.regions[0];
        let s = Settings {
            weekly: true,
            ..Settings::default()
        };
        // Eight weeks before 2027-03-11 is 2027-01-14; the Monday of 2027-01-20 is 01-18.
        let runs = due_runs(europe, d("2027-01-20"), &s);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].run_key, "europe:next:week:2027-W03");
        assert_eq!(runs[0].cutoff_at, build::day_start_micros(d("2027-01-18")));
        assert!(due_runs(europe, d("2027-01-06"), &s).is_empty());
    }
}
