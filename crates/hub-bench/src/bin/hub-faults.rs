//! Benchmarks of the hub under faults and bursts, each against a baseline measured in the
//! same run:
//!
//! - `signin`: the resident memory of a hub process (a child of this one, so that its memory
//!   is its own) while 256 sign-ins arrive at once, with the configured argon2 costs, and
//!   sign-ins per second against argon2 verifications per second on all cores alone.
//! - `redis-freeze`: posting through a hub whose Redis is frozen (SIGSTOP) for a while, then
//!   thawed: the acknowledgement latency before, during and after, that every acknowledged
//!   post is stored, and that a live subscriber receives every post throughout.
//!
//! `cargo run --release -p hub-bench --bin hub-faults -- signin` (or `redis-freeze`).

use anyhow::{bail, Context};
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough passphrase";

fn figment(db_url: &str) -> Figment {
    let mut fig = Figment::from(Toml::string(hub::config::DEFAULT_TOML))
        .merge(Serialized::default("listen", "127.0.0.1:0"))
        .merge(Serialized::default("database_url", db_url))
        .merge(Serialized::default("log_level", "warn"));
    // One client address, many sign-ins and posts: no rate limit in the way.
    for key in [
        "auth.login_attempts_per_minute",
        "auth.login_attempts_per_email_per_minute",
        "limits.signups_per_ip_per_hour",
        "limits.posts_per_user_per_minute",
        "limits.posts_per_new_user_per_minute",
        "limits.posts_per_ip_per_minute",
    ] {
        fig = fig.merge(Serialized::default(key, 10_000_000u32));
    }
    fig
}

fn temp_db() -> anyhow::Result<(tempfile::TempDir, String)> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/hub.db", dir.path().display());
    Ok((dir, url))
}

/// `--serve`: a hub with the embedded defaults (argon2 costs included) on a fresh SQLite
/// file; prints `LISTENING addr` and stops when stdin closes.
async fn serve() -> anyhow::Result<()> {
    let (_dir, url) = temp_db()?;
    let config = hub::Config::from_figment(figment(&url))?;
    let server = hub::server::start(&config, false).await?;
    println!("LISTENING {}", server.addr);
    std::io::stdout().flush()?;
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    while tokio::io::AsyncReadExt::read(&mut stdin, &mut buf).await? > 0 {}
    server.shutdown().await
}

fn rss_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

async fn login(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<u16> {
    Ok(http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .status()
        .as_u16())
}

async fn signin() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let stdout = child.stdout.take().context("child stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("LISTENING ")
        .context("child did not start")?
        .parse()?;
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let email = format!("bench-{}@example.org", std::process::id());
    let res = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(
            &json!({"email": email, "password": PASSWORD, "display_name": "Bench",
                      "stakeholder_group": "other"}),
        )
        .send()
        .await?;
    if res.status() != 201 {
        bail!("register: {}", res.status());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid, "VmRSS:")?;

    // 256 at once, sampled every 10 ms.
    let started = Instant::now();
    let burst: Vec<_> = (0..256)
        .map(|_| {
            let (http, base, email) = (http.clone(), base.clone(), email.clone());
            tokio::spawn(async move { login(&http, &base, &email).await })
        })
        .collect();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            peak = peak.max(rss_kib(pid, "VmRSS:").unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        peak
    });
    let (mut ok, mut busy, mut other) = (0, 0, 0);
    for b in burst {
        match b.await? {
            Ok(200) => ok += 1,
            Ok(503) => busy += 1,
            _ => other += 1,
        }
    }
    let burst_time = started.elapsed();
    sampler.abort();
    let peak_sampled = rss_kib(pid, "VmHWM:")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid, "VmRSS:")?;

    // Throughput: sign-ins per second, two per core in flight, for 10 s...
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let until = Instant::now() + Duration::from_secs(10);
    let workers: Vec<_> = (0..cores * 2)
        .map(|_| {
            let (http, base, email) = (http.clone(), base.clone(), email.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    if matches!(login(&http, &base, &email).await, Ok(200)) {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let mut signins = 0;
    for w in workers {
        signins += w.await?;
    }
    drop(child.stdin.take());
    let _ = child.wait();
    // ...against argon2 verifications with the same costs, one thread per core, alone.
    let config = hub::Config::from_figment(figment("sqlite::memory:"))?;
    let hash = hub_api::auth::hash_password(
        PASSWORD,
        config.auth.argon2_memory_kib,
        config.auth.argon2_iterations,
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let until = Instant::now() + Duration::from_secs(10);
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < until {
                    if hub_api::auth::verify_password(PASSWORD, &hash) {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let verified: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();

    println!("## Sign-ins: memory and throughput (hub-faults signin)\n");
    println!(
        "argon2id {} KiB, {} passes; {cores} cores; SQLite\n",
        config.auth.argon2_memory_kib, config.auth.argon2_iterations
    );
    println!("| figure | value |\n|---|---:|");
    println!("| RSS before the burst | {} MiB |", before / 1024);
    println!(
        "| peak RSS during 256 sign-ins at once (VmHWM) | {} MiB |",
        peak_sampled / 1024
    );
    println!("| RSS 2 s after | {} MiB |", after / 1024);
    println!("| answered 200 / 503 / other | {ok} / {busy} / {other} |");
    println!("| burst answered in | {:.2} s |", burst_time.as_secs_f64());
    println!(
        "| sign-ins per second (2 per core in flight) | {:.1} |",
        signins as f64 / 10.0
    );
    println!(
        "| argon2 verifications per second, all cores, alone | {:.1} |",
        verified as f64 / 10.0
    );
    println!(
        "| ratio | {:.2} |",
        signins as f64 / (verified as f64).max(1.0)
    );
    Ok(())
}

/// A redis-server on a free port, frozen and thawed with signals.
struct Redis {
    child: std::process::Child,
    port: u16,
}

impl Redis {
    fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .context("redis-server")?;
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > until {
                bail!("redis-server did not start");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self { child, port })
    }

    fn signal(&self, sig: &str) -> anyhow::Result<()> {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()?
            .success();
        if !ok {
            bail!("kill {sig}");
        }
        Ok(())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn summary(h: &Histogram<u64>) -> String {
    format!(
        "{} | {:.1} | {:.1} | {:.1}",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    )
}

async fn redis_freeze(frozen_secs: u64) -> anyhow::Result<()> {
    let redis = Redis::start()?;
    let (_dir, url) = temp_db()?;
    let config = hub::Config::from_figment(
        figment(&url)
            .merge(Serialized::default(
                "redis_url",
                format!("redis://127.0.0.1:{}", redis.port),
            ))
            .merge(Serialized::default("auth.argon2_memory_kib", 64))
            .merge(Serialized::default("auth.argon2_iterations", 1)),
    )?;
    let server = hub::server::start(&config, false).await?;
    let base = format!("http://{}/api/v1", server.addr);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let v: Value = http
        .post(format!("{base}/auth/register"))
        .json(&json!({"email": "freeze@example.org", "password": PASSWORD,
                      "display_name": "Freeze", "stakeholder_group": "other"}))
        .send()
        .await?
        .json()
        .await?;
    let token = v["token"].as_str().context("token")?.to_string();
    let v: Value = http
        .post(format!("{base}/regions/europe/threads"))
        .bearer_auth(&token)
        .json(&json!({"title": "Frozen Redis", "body": "opening", "kind": "comment"}))
        .send()
        .await?
        .json()
        .await?;
    let thread = v["id"].as_i64().context("thread")?;
    // A live subscriber counts the posts it receives, by phase.
    let ws_url = format!("ws://{}/api/v1/ws", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await?;
    use futures::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"op": "subscribe", "channels": [format!("thread:{thread}")]})
            .to_string()
            .into(),
    ))
    .await?;
    let received = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = received.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            if m.to_text().is_ok_and(|t| t.contains("post.created")) {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    // Four writers, 20 posts a second in all, for 10 s before, `frozen_secs` during and
    // 10 s after the freeze.
    let phases = [("before", 10), ("frozen", frozen_secs), ("thawed", 10)];
    let mut table = Vec::new();
    let mut acknowledged = 0u64;
    for (name, secs) in phases {
        match name {
            "frozen" => redis.signal("-STOP")?,
            "thawed" => redis.signal("-CONT")?,
            _ => {}
        }
        let seen_before = received.load(std::sync::atomic::Ordering::Relaxed);
        let until = Instant::now() + Duration::from_secs(secs);
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (http, base, token) = (http.clone(), base.clone(), token.clone());
                tokio::spawn(async move {
                    let mut h = Histogram::<u64>::new(3)?;
                    let mut failed = 0u64;
                    let mut i = 0u64;
                    while Instant::now() < until {
                        let t = Instant::now();
                        let r = http
                            .post(format!("{base}/threads/{thread}/posts"))
                            .bearer_auth(&token)
                            .json(&json!({"body": format!("{name} {w} {i}"), "kind": "comment"}))
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status() == 201 => {
                                let _ = h.record(t.elapsed().as_micros() as u64);
                            }
                            _ => failed += 1,
                        }
                        i += 1;
                        tokio::time::sleep(Duration::from_millis(200).saturating_sub(t.elapsed()))
                            .await;
                    }
                    Ok::<_, anyhow::Error>((h, failed))
                })
            })
            .collect();
        let mut h = Histogram::<u64>::new(3)?;
        let mut failed = 0;
        for w in writers {
            let (wh, f) = w.await??;
            h.add(wh)?;
            failed += f;
        }
        acknowledged += h.len();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let delivered = received.load(std::sync::atomic::Ordering::Relaxed) - seen_before;
        table.push(format!(
            "| {name} ({secs} s) | {} | {failed} | {delivered} |",
            summary(&h)
        ));
    }
    reader.abort();
    let stored: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM posts WHERE thread_id = $1 AND parent_id IS NOT NULL",
    )
    .bind(thread)
    .fetch_one(server.store.pool())
    .await?;
    server.shutdown().await?;
    println!("## Posting through a frozen Redis (hub-faults redis-freeze)\n");
    println!("4 writers, 20 posts/s in all, SQLite, redis_timeout_ms 250; Redis SIGSTOPped in the second phase\n");
    println!("| phase | acknowledged | p50 ms | p99 ms | max ms | failed | delivered live |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in table {
        println!("{row}");
    }
    println!(
        "\nacknowledged {acknowledged}, stored {stored} (lost: {})",
        acknowledged as i64 - stored
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => serve().await,
        Some("signin") => signin().await,
        Some("redis-freeze") => {
            let secs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
            redis_freeze(secs).await
        }
        _ => bail!("usage: hub-faults signin | redis-freeze [SECONDS]"),
    }
}
