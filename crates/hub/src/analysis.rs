//! `hub analysis build`: a region's document built in this process, as the scheduled job
//! builds it (same queue, same claim), optionally written to a folder.

use crate::config::Config;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use hub_analysis::render::{self, RenderOptions};
use hub_analysis::Analyses;
use hub_store::analysis::Origin;
use hub_store::Store;
use std::path::Path;
use std::sync::Arc;

/// Queues a build of `region` and works the queue until it is ready or failed. Returns the
/// job's metadata as JSON.
pub async fn build_now(
    store: &Store,
    config: &Config,
    region: &str,
    until: Option<NaiveDate>,
    out: Option<&Path>,
    lang: &str,
) -> anyhow::Result<String> {
    if !matches!(lang, "en" | "fr" | "es") {
        bail!("--lang must be en, fr or es");
    }
    if let Some(d) = until {
        if d > chrono::Utc::now().date_naive() {
            bail!("--until must not be in the future");
        }
    }
    let regions = Arc::new(config.regions()?);
    let analyses = Analyses::new(store.clone(), regions, config.analysis_settings());
    let job = analyses
        .request(region, Origin::Cli, None, until)
        .await
        .with_context(|| format!("cannot queue a build of {region}"))?;
    let started = std::time::Instant::now();
    let done = loop {
        let current = store.analysis(job.id).await?;
        if current.status == "ready" || current.status == "failed" {
            break current;
        }
        if analyses.run_once().await?.is_none() {
            // Another process holds the build (or a region's earlier build): wait for it.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    };
    if done.status == "failed" {
        bail!(
            "the build failed: {}",
            done.error.as_deref().unwrap_or("unknown error")
        );
    }
    let elapsed = started.elapsed();
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let gz = store.document_gz(done.id).await?;
        let json = hub_analysis::build::gunzip(&gz).context("cannot read the stored document")?;
        let doc: hub_analysis::Document =
            serde_json::from_slice(&json).context("cannot parse the stored document")?;
        let opts = RenderOptions {
            lang,
            base_url: config.public_url.trim_end_matches('/'),
        };
        let write = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
            let path = dir.join(name);
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
        };
        write("document.json", &json)?;
        write("document.html", render::html(&doc, &opts).as_bytes())?;
        write("document.md", render::markdown(&doc, &opts).as_bytes())?;
        write("document.csv", &render::csv(&doc, &opts)?)?;
    }
    Ok(serde_json::to_string_pretty(&serde_json::json!({
        "id": done.id,
        "region": done.region,
        "status": done.status,
        "version": done.version,
        "cutoff_at": hub_store::from_micros(done.cutoff_at).to_rfc3339(),
        "cutoff_seq": done.cutoff_seq,
        "posts": done.posts,
        "size_bytes": done.size_bytes,
        "content_sha256": done.content_sha256,
        "seconds": elapsed.as_secs_f64(),
    }))?)
}
