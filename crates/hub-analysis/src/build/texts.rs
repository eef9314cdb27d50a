//! Phase two, the key terms' counts: the region's texts (those on a prominent objective or
//! on none) and then the other regions' background sample, read in batches and segmented and
//! stemmed on text workers.

use super::{idle_priority, BuildError, Params};
use crate::text::{self, Analyzer, Corpus, TermCounts};
use hub_store::activity::Pacer;
use hub_store::analysis::{Snapshot, SnapshotText};
use std::sync::Arc;

/// Texts per batch handed to the workers.
const BATCH: usize = 1_000;

/// Phase two: the term counts of the region's texts (per prominent objective and emerging)
/// and the document frequencies over them and the background sample.
pub(super) async fn count(
    snap: &mut Snapshot,
    prominent: &[i64],
    params: &Params,
    analyzer: &Arc<Analyzer>,
) -> Result<TextTotals, BuildError> {
    let workers = TextWorkers::start(
        analyzer.clone(),
        TextPass::Region {
            prominent: Arc::new(prominent.to_vec()),
        },
        text_threads(),
        &snap.pacer(),
    );
    snap.texts(
        BATCH,
        Some(prominent),
        |t| t.objectives.is_empty() || t.objectives.iter().any(|o| prominent.contains(o)),
        &workers.tx,
    )
    .await?;
    let mut totals = workers.finish().await?;
    tracing::debug!("analysis: region texts read");
    // The background counts only the region's stems, so it starts once they are all known.
    let vocab = Arc::new(std::mem::take(&mut totals.vocab));
    let workers = TextWorkers::start(
        analyzer.clone(),
        TextPass::Background {
            vocab: vocab.clone(),
        },
        text_threads(),
        &snap.pacer(),
    );
    let (_, step) = snap.background_step(params.background).await?;
    snap.background(step, BATCH, &workers.tx).await?;
    let background = workers.finish().await?;
    totals.vocab = Arc::try_unwrap(vocab).unwrap_or_else(|shared| (*shared).clone());
    totals.corpus.absorb_same(&background.corpus);
    totals.background = background.background;
    tracing::debug!("analysis: background read, texts analysed");
    Ok(totals)
}

/// The term counts of the texts read so far: per prominent objective (index in the prominent
/// list) and, last, the posts with no objective (emerging issues); document frequencies over
/// every text; the stems and forms their ids stand for.
#[derive(Debug, Default)]
pub(super) struct TextTotals {
    pub(super) groups: Vec<TermCounts>,
    pub(super) corpus: Corpus,
    pub(super) vocab: text::Vocab,
    /// Background texts counted.
    pub(super) background: i64,
}

impl TextTotals {
    /// Adds `other`'s counts: with `shared_ids`, counted against the same vocabulary (the
    /// background pass, whose workers share the region's); else against `other.vocab`.
    fn merge(&mut self, other: TextTotals, shared_ids: bool) {
        if shared_ids {
            self.corpus.absorb_same(&other.corpus);
            self.background += other.background;
            return;
        }
        let (stems, forms) = self.vocab.absorb(&other.vocab);
        if self.groups.len() < other.groups.len() {
            self.groups
                .resize(other.groups.len(), TermCounts::default());
        }
        for (mine, theirs) in self.groups.iter_mut().zip(&other.groups) {
            mine.absorb(theirs, &stems, &forms);
        }
        self.corpus.absorb(&other.corpus, &stems);
        self.background += other.background;
    }
}

/// Text workers: threads that segment and stem texts and sum their term counts, fed batches
/// through one queue (whichever thread is free takes the next batch). One per core (at most
/// four): a machine whose every core is busy, even with idle-priority work, answers its
/// requests later (measured on a 2-core virtual machine: a commit's p99 tripled with two
/// idle-priority spinners, see the README), but the workers give way to the process's work in
/// flight (they sleep while it runs; see [`Pacer`]), so they need not leave a core idle for
/// it, and the region's texts are counted a fifth faster than on one thread fewer. Each keeps
/// its own counts and vocabulary, merged at the end; nothing a document shows depends on the
/// ids or on which thread counted what.
struct TextWorkers {
    tx: tokio::sync::mpsc::Sender<Vec<SnapshotText>>,
    done: Vec<tokio::sync::oneshot::Receiver<TextTotals>>,
    /// The workers' ids are the same (the background pass).
    shared_ids: bool,
}

/// What the text workers count.
#[derive(Clone)]
enum TextPass {
    /// The region's texts: every stem is interned; per prominent objective and emerging.
    Region { prominent: Arc<Vec<i64>> },
    /// The background sample: only document frequencies of the region's stems.
    Background { vocab: Arc<text::Vocab> },
}

fn text_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

impl TextWorkers {
    fn start(analyzer: Arc<Analyzer>, pass: TextPass, threads: usize, pacer: &Pacer) -> Self {
        let shared_ids = matches!(pass, TextPass::Background { .. });
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<SnapshotText>>(2 * threads);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut done = Vec::with_capacity(threads);
        for i in 0..threads {
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let (analyzer, pass, rx) = (analyzer.clone(), pass.clone(), rx.clone());
            let mut pacer = pacer.fresh();
            let spawned = std::thread::Builder::new()
                .name(format!("analysis-text-{i}"))
                .spawn(move || {
                    idle_priority();
                    let _ = done_tx.send(count_texts(&analyzer, &pass, &rx, &mut pacer));
                });
            match spawned {
                Ok(_) => done.push(done_rx),
                Err(e) => tracing::error!(error = %e, "cannot start an analysis text thread"),
            }
        }
        Self {
            tx,
            done,
            shared_ids,
        }
    }

    async fn finish(self) -> Result<TextTotals, BuildError> {
        drop(self.tx);
        let mut totals: Option<TextTotals> = None;
        for d in self.done {
            let part = d
                .await
                .map_err(|_| BuildError::Worker("a text thread stopped".into()))?;
            match totals.as_mut() {
                None => totals = Some(part),
                Some(t) => t.merge(part, self.shared_ids),
            }
        }
        totals.ok_or_else(|| BuildError::Worker("no text thread could start".into()))
    }
}

/// One text worker's loop: takes batches until the queue is closed and empty.
fn count_texts(
    analyzer: &Analyzer,
    pass: &TextPass,
    rx: &std::sync::Mutex<tokio::sync::mpsc::Receiver<Vec<SnapshotText>>>,
    pacer: &mut Pacer,
) -> TextTotals {
    let mut totals = TextTotals::default();
    if let TextPass::Region { prominent } = pass {
        totals.groups = vec![TermCounts::default(); prominent.len() + 1];
    }
    let mut terms = Vec::new();
    let mut distinct: Vec<u32> = Vec::new();
    let mut words = text::WordCache::default();
    loop {
        // The lock is held only while waiting for the next batch, never while counting.
        let batch = match rx.lock() {
            Ok(mut rx) => rx.blocking_recv(),
            Err(_) => None,
        };
        let Some(batch) = batch else { break };
        for t in batch {
            pacer.pause();
            let lang = text::base_language(t.language.as_deref());
            let plain = text::words_of_markdown(&t.body);
            match pass {
                TextPass::Region { .. } => {
                    analyzer.term_ids(&plain, &lang, &mut totals.vocab, &mut words, &mut terms);
                }
                TextPass::Background { vocab } => {
                    analyzer.known_term_ids(&plain, &lang, vocab, &mut words, &mut terms);
                }
            }
            distinct.clear();
            distinct.extend(terms.iter().map(|t| t.0));
            distinct.sort_unstable();
            distinct.dedup();
            match pass {
                TextPass::Region { prominent } => {
                    for (i, o) in prominent.iter().enumerate() {
                        if t.objectives.contains(o) {
                            totals.groups[i].add(&terms, &distinct);
                        }
                    }
                    if t.objectives.is_empty() {
                        if let Some(g) = totals.groups.last_mut() {
                            g.add(&terms, &distinct);
                        }
                    }
                }
                TextPass::Background { .. } => totals.background += 1,
            }
            totals.corpus.add(&distinct);
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Runs both passes of term counting over the same texts with `threads` workers; returns,
    /// by stem, the document frequency over the region and background, and the tf and df of
    /// each group.
    /// Document frequency by stem, and each group's (tf, df) by stem.
    type Counted = (BTreeMap<String, u64>, Vec<BTreeMap<String, (u64, u64)>>);

    fn count_with(threads: usize) -> Counted {
        let analyzer = Arc::new(Analyzer::new());
        let text = |id: i64, body: &str, objectives: Vec<i64>| SnapshotText {
            id,
            body: body.to_string(),
            language: Some("en".into()),
            objectives,
        };
        let region: Vec<Vec<SnapshotText>> = (0..12)
            .map(|b| {
                (0..5)
                    .map(|i| {
                        let id = b * 10 + i;
                        let body = match id % 4 {
                            0 => "Migrant workers need decent work and fair recruitment.",
                            1 => "Health care and justice for workers on the move.",
                            2 => "Remittance fees fell; families receive more.",
                            _ => "Fair recruitment without fees, decent work for all workers.",
                        };
                        text(id, body, if id % 3 == 0 { vec![] } else { vec![6] })
                    })
                    .collect()
            })
            .collect();
        let background: Vec<Vec<SnapshotText>> = (0..9)
            .map(|b| {
                (0..4)
                    .map(|i| {
                        text(
                            1000 + b * 10 + i,
                            "Workers and families; remittance costs.",
                            vec![],
                        )
                    })
                    .collect()
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let w = TextWorkers::start(
                analyzer.clone(),
                TextPass::Region {
                    prominent: Arc::new(vec![6]),
                },
                threads,
                &Arc::new(hub_store::activity::Activity::default()).pacer(),
            );
            for b in region {
                w.tx.send(b).await.expect("send");
            }
            let mut totals = w.finish().await.expect("region");
            let vocab = Arc::new(std::mem::take(&mut totals.vocab));
            let w = TextWorkers::start(
                analyzer.clone(),
                TextPass::Background {
                    vocab: vocab.clone(),
                },
                threads,
                &Arc::new(hub_store::activity::Activity::default()).pacer(),
            );
            for b in background {
                w.tx.send(b).await.expect("send");
            }
            let bg = w.finish().await.expect("background");
            assert_eq!(bg.background, 36);
            totals.corpus.absorb_same(&bg.corpus);
            let df = (0..totals.corpus.df.len())
                .map(|i| (vocab.stem(i as u32).to_string(), totals.corpus.df[i]))
                .collect();
            let groups = totals
                .groups
                .iter()
                .map(|g| {
                    g.tf.iter()
                        .map(|(s, tf)| {
                            let df = g.df.get(s).copied().unwrap_or(0);
                            (vocab.stem(*s).to_string(), (*tf, df))
                        })
                        .collect()
                })
                .collect();
            (df, groups)
        })
    }

    #[test]
    fn several_text_workers_count_as_one_does_in_both_passes() {
        let one = count_with(1);
        let three = count_with(3);
        assert_eq!(one, three);
        // The background was counted: "remittance" is in 18 region texts and 36 background ones.
        assert_eq!(one.0.get("remitt"), Some(&54), "{:?}", one.0);
        assert_eq!(one.1.len(), 2, "the objective's group and emerging");
    }
}
