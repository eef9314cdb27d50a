//! Password hashing, bounded: argon2id takes tens of MiB and tens of milliseconds per hash, so
//! sign-ins and registrations hash on a fixed set of worker threads (one per core by default),
//! behind a bounded queue with a deadline. A burst of sign-ins waits its turn or is answered
//! 503 with `Retry-After`; it never takes more memory than the workers' hashes.
//!
//! Why threads of our own rather than `spawn_blocking`: the blocking pool grows to hundreds of
//! threads, each hashing at once. And why each worker keeps its argon2 memory from one hash to
//! the next rather than allocating it per hash: the allocator keeps freed blocks of that size
//! in its arenas (measured: 256 sign-ins at once left a hub at 266 MiB with two workers that
//! allocated per hash, and 444 MiB with unknown e-mails). Reused, the memory is the workers'
//! blocks, allocated once: `workers × argon2_memory_kib`.

use crate::auth;
use crate::error::ApiError;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Settings of the pool.
#[derive(Debug, Clone)]
pub struct HashSettings {
    /// argon2id memory cost of new hashes, in KiB.
    pub memory_kib: u32,
    /// argon2id passes of new hashes.
    pub iterations: u32,
    /// Hashes computed at once (0: one per core).
    pub workers: usize,
    /// Hashes waiting at most; past them a request is answered 503 at once.
    pub queue: usize,
    /// Longest a hash may wait for a worker before its request is answered 503.
    pub queue_timeout: Duration,
}

impl Default for HashSettings {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            workers: 0,
            queue: 64,
            queue_timeout: Duration::from_secs(5),
        }
    }
}

enum Work {
    Hash(String),
    /// A password and its stored hash (`None`: the e-mail has no account).
    Verify(String, Option<String>),
}

enum Done {
    Hashed(Result<String, String>),
    Verified(bool),
    /// It waited past the deadline and was not computed.
    Expired,
}

struct Job {
    work: Work,
    queued: Instant,
    reply: oneshot::Sender<Done>,
}

/// The pool. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    tx: SyncSender<Job>,
    settings: Arc<HashSettings>,
    /// A hash of a password nobody has, made with the configured costs on first use: an
    /// unknown e-mail costs what a wrong password does.
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Hasher {
    /// Starts the worker threads.
    pub fn start(settings: HashSettings) -> Self {
        let workers = if settings.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            settings.workers
        };
        let (tx, rx) = mpsc::sync_channel::<Job>(settings.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let settings = Arc::new(settings);
        let dummy = Arc::new(OnceLock::new());
        for i in 0..workers {
            let rx = rx.clone();
            let settings = settings.clone();
            let dummy = dummy.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hub-hash-{i}"))
                .spawn(move || work(&rx, &settings, &dummy));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self {
            tx,
            settings,
            dummy,
        }
    }

    /// Hashes a new password with the configured costs.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        match self.run(Work::Hash(password)).await? {
            Done::Hashed(r) => r.map_err(ApiError::internal),
            _ => Err(ApiError::internal("unexpected answer from the hasher")),
        }
    }

    /// Verifies a password against a stored hash, or against the dummy when `hash` is `None`
    /// (then always false, after the same work).
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        match self.run(Work::Verify(password, hash)).await? {
            Done::Verified(ok) => Ok(ok),
            _ => Err(ApiError::internal("unexpected answer from the hasher")),
        }
    }

    /// The dummy hash (made on first use with the configured costs).
    pub fn dummy_hash(&self) -> &str {
        dummy_of(&self.dummy, &self.settings)
    }

    async fn run(&self, work: Work) -> Result<Done, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work,
            queued: Instant::now(),
            reply,
        };
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!("password_hash_refused_total", "why" => "queue_full")
                    .increment(1);
                return Err(busy());
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("no password hashing thread"))
            }
        }
        match answer.await {
            Ok(Done::Expired) => {
                metrics::counter!("password_hash_refused_total", "why" => "deadline").increment(1);
                Err(busy())
            }
            Ok(done) => Ok(done),
            Err(_) => Err(ApiError::internal("a password hashing thread stopped")),
        }
    }
}

fn busy() -> ApiError {
    ApiError::unavailable(
        2,
        "too many sign-ins and registrations at once; try again in a moment",
    )
}

fn dummy_of<'a>(dummy: &'a OnceLock<String>, s: &HashSettings) -> &'a str {
    dummy.get_or_init(|| {
        auth::hash_password("no account has this password", s.memory_kib, s.iterations)
            .unwrap_or_default()
    })
}

/// argon2 with memory of its own, reused from one hash to the next.
#[derive(Default)]
struct Memory {
    blocks: Vec<argon2::Block>,
}

impl Memory {
    /// The blocks for `params`, grown (once) to the largest cost seen.
    fn for_params(&mut self, params: &argon2::Params) -> &mut [argon2::Block] {
        let n = params.block_count();
        if self.blocks.len() < n {
            self.blocks.resize(n, argon2::Block::default());
        }
        &mut self.blocks[..n]
    }

    /// A new PHC hash of `password` with these costs and a random salt.
    fn hash(&mut self, password: &str, memory_kib: u32, iterations: u32) -> Result<String, String> {
        use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
        use argon2::{Algorithm, Argon2, Params, Version};
        let params = Params::new(memory_kib, iterations, 1, None).map_err(|e| e.to_string())?;
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_buf)
            .map_err(|e| e.to_string())?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                &mut out,
                self.for_params(&params),
            )
            .map_err(|e| e.to_string())?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params)
                .try_into()
                .map_err(|e: argon2::password_hash::Error| e.to_string())?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` is the one `stored` (a PHC string) was made from, with the costs
    /// stored in it. The comparison of outputs takes constant time.
    fn verify(&mut self, password: &str, stored: &str) -> bool {
        use argon2::password_hash::{Output, PasswordHash};
        use argon2::{Algorithm, Argon2, Params, Version};
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
            parsed.salt,
            parsed.hash,
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                &mut out,
                self.for_params(&params),
            )
            .is_ok()
            && Output::new(&out).is_ok_and(|o| o == expected)
    }
}

/// A worker: takes jobs until the pool is dropped. A job that waited past the deadline is
/// answered without being computed: its client has been told to come back.
fn work(rx: &Mutex<mpsc::Receiver<Job>>, settings: &HashSettings, dummy: &OnceLock<String>) {
    let mut memory = Memory::default();
    loop {
        let job = {
            let guard = match rx.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            match guard.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if job.queued.elapsed() > settings.queue_timeout || job.reply.is_closed() {
            let _ = job.reply.send(Done::Expired);
            continue;
        }
        let done = match job.work {
            Work::Hash(password) => {
                Done::Hashed(memory.hash(&password, settings.memory_kib, settings.iterations))
            }
            Work::Verify(password, hash) => {
                let stored = match &hash {
                    Some(h) => h.as_str(),
                    None => dummy.get_or_init(|| {
                        memory
                            .hash(
                                "no account has this password",
                                settings.memory_kib,
                                settings.iterations,
                            )
                            .unwrap_or_default()
                    }),
                };
                Done::Verified(memory.verify(&password, stored) && hash.is_some())
            }
        };
        let _ = job.reply.send(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(workers: usize, queue: usize, timeout_ms: u64) -> HashSettings {
        HashSettings {
            memory_kib: 1024,
            iterations: 1,
            workers,
            queue,
            queue_timeout: Duration::from_millis(timeout_ms),
        }
    }

    /// The dummy hash carries the configured costs, so an unknown e-mail takes as long as a
    /// wrong password (with costs above the defaults it used to take an eighth of the time).
    #[test]
    fn the_dummy_hash_has_the_configured_costs() {
        let h = Hasher::start(HashSettings {
            memory_kib: 4096,
            iterations: 3,
            ..small(1, 4, 1000)
        });
        let dummy = argon2::PasswordHash::new(h.dummy_hash()).map(|p| {
            (
                p.params.get_decimal("m"),
                p.params.get_decimal("t"),
                p.params.get_decimal("p"),
            )
        });
        assert_eq!(dummy.ok(), Some((Some(4096), Some(3), Some(1))));
    }

    /// Hashes made with reused memory are the argon2 crate's own: each verifies the other's.
    #[test]
    fn reused_memory_hashes_are_standard_phc_hashes() {
        let mut m = Memory::default();
        let ours = m
            .hash("a long enough passphrase", 2048, 2)
            .unwrap_or_default();
        assert!(
            auth::verify_password("a long enough passphrase", &ours),
            "{ours}"
        );
        let theirs = auth::hash_password("a long enough passphrase", 4096, 1).unwrap_or_default();
        assert!(m.verify("a long enough passphrase", &theirs));
        assert!(!m.verify("a long enough passphrasE", &theirs));
        // And again after a larger cost grew the memory.
        assert!(m.verify("a long enough passphrase", &ours));
        assert!(!m.verify("a long enough passphrase", "$argon2id$v=19$m=8,t=1,p=1$bad"));
    }

    #[tokio::test]
    async fn hashes_verify_and_an_unknown_account_never_does() {
        let h = Hasher::start(small(1, 4, 5000));
        let stored = h.hash("correct horse battery staple".into()).await;
        let stored = stored.unwrap_or_default();
        assert!(
            stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "{stored}"
        );
        let ok = |p: &str, hash: Option<&str>| {
            let h = h.clone();
            let (p, hash) = (p.to_string(), hash.map(str::to_string));
            async move { h.verify(p, hash).await.unwrap_or(true) }
        };
        assert!(ok("correct horse battery staple", Some(&stored)).await);
        assert!(!ok("correct horse battery stapler", Some(&stored)).await);
        // The dummy's own password does not sign anyone in.
        assert!(!ok("no account has this password", None).await);
    }

    /// More sign-ins at once than workers and queue hold: the rest are refused at once with
    /// a 503 (they used to all hash at once, each with its own memory).
    #[tokio::test]
    async fn a_burst_past_the_queue_is_refused_with_503() {
        let h = Hasher::start(HashSettings {
            memory_kib: 8 * 1024,
            iterations: 4,
            ..small(1, 2, 60_000)
        });
        let jobs: Vec<_> = (0..12)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move { h.hash(format!("password number {i}")).await })
            })
            .collect();
        let (mut hashed, mut refused) = (0, 0);
        for j in jobs {
            match j.await {
                Ok(Ok(_)) => hashed += 1,
                Ok(Err(e)) if e.status().as_u16() == 503 => refused += 1,
                other => panic!("unexpected: {:?}", other.map(|r| r.map(|_| ()))),
            }
        }
        // One computing, two waiting, (perhaps one more taken by the worker meanwhile).
        assert!(hashed <= 4, "{hashed} hashed");
        assert_eq!(hashed + refused, 12);
        assert!(refused >= 8, "{refused} refused");
    }

    /// A hash that waited past the deadline is not computed: its request is answered 503.
    #[tokio::test]
    async fn a_hash_past_its_deadline_is_refused() {
        let h = Hasher::start(HashSettings {
            memory_kib: 16 * 1024,
            iterations: 8,
            ..small(1, 16, 1)
        });
        let jobs: Vec<_> = (0..6)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move { h.hash(format!("password number {i}")).await })
            })
            .collect();
        let mut refused = 0;
        for j in jobs {
            if let Ok(Err(e)) = j.await {
                assert_eq!(e.status().as_u16(), 503);
                refused += 1;
            }
        }
        assert!(
            refused >= 1,
            "every hash ran although they waited past 1 ms"
        );
    }
}
