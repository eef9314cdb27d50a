//! The servers under test, each run in a child process of its own (`--serve hub|bare`) so that
//! its CPU time and memory can be read from `/proc/<pid>` apart from the clients'.
//!
//! Protocol with the parent: the child prints `LISTENING <addr>` on stdout once it serves, and
//! stops when its stdin closes.

use anyhow::Context;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use futures::{SinkExt, StreamExt};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast;

/// `live.connections_per_ip` of the hub under test: every client comes from 127.0.0.1.
pub const HUB_CONNECTIONS_PER_IP: u32 = 20_000;

/// The bare server's broadcast capacity: the hub's default `live.queue_capacity`.
pub const BARE_CAPACITY: usize = 1024;

/// Tells the parent where we listen.
fn announce(addr: SocketAddr) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "LISTENING {addr}").context("writing to the parent")?;
    out.flush().context("writing to the parent")
}

/// Returns when stdin closes (the parent is done, or gone).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 256];
    // Bounded by the parent: it closes our stdin at the end of the phase, or dies.
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "hub-fanout-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Rate limits the benchmark's single writer (one account, one address, hundreds of posts a
/// second) would hit; raised when this version of the hub has them (`[limits]` refuses
/// unknown keys, so only those present in the defaults are set).
const RATE_LIMIT_KEYS: &[&str] = &[
    "signups_per_ip_per_hour",
    "posts_per_user_per_minute",
    "posts_per_new_user_per_minute",
    "posts_per_ip_per_minute",
];

/// The hub's configuration for the benchmark: defaults, a SQLite file, cheap password hashing,
/// one address allowed many live connections, no rate limit in the writer's way.
pub fn hub_figment(db_url: &str) -> Figment {
    let mut fig = Figment::from(Toml::string(hub::config::DEFAULT_TOML));
    for key in RATE_LIMIT_KEYS {
        let present = hub::config::DEFAULT_TOML
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{key} =")));
        if present {
            fig = fig.merge(Serialized::default(&format!("limits.{key}"), 10_000_000u32));
        }
    }
    fig.merge(Serialized::default("listen", "127.0.0.1:0"))
        .merge(Serialized::default("database_url", db_url))
        .merge(Serialized::default("log_level", "warn"))
        .merge(Serialized::default("auth.argon2_memory_kib", 64))
        .merge(Serialized::default("auth.argon2_iterations", 1))
        .merge(Serialized::default("auth.login_attempts_per_minute", 1000))
        .merge(Serialized::default(
            "live.connections_per_ip",
            HUB_CONNECTIONS_PER_IP,
        ))
        // Every client comes from 127.0.0.1: the HTTP connection caps too.
        .merge(Serialized::default(
            "http.max_connections_per_ip",
            HUB_CONNECTIONS_PER_IP,
        ))
        .merge(Serialized::default(
            "http.max_connections",
            HUB_CONNECTIONS_PER_IP,
        ))
}

/// `--serve hub`: the real hub (`hub::server::start`) on a fresh SQLite file.
pub async fn serve_hub() -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .try_init();
    let dir = TempDir::new()?;
    let url = format!("sqlite://{}/hub.db", dir.0.display());
    let config = hub::Config::from_figment(hub_figment(&url))?;
    let server = hub::server::start(&config, false)
        .await
        .context("starting the hub")?;
    announce(server.addr)?;
    stdin_closed().await;
    match tokio::time::timeout(Duration::from_secs(15), server.shutdown()).await {
        Ok(r) => r.context("hub shutdown")?,
        Err(_) => eprintln!("hub-fanout: the hub did not stop within 15 s"),
    }
    drop(dir);
    Ok(())
}

#[derive(Clone)]
struct Bare {
    tx: broadcast::Sender<Utf8Bytes>,
    seq: Arc<AtomicI64>,
    read_buffer: Option<usize>,
}

/// `--serve bare`: axum 0.8 + `tokio::sync::broadcast`. `POST /publish` takes a JSON object,
/// gives it an id, serialises the event frame once and broadcasts the shared bytes; each
/// WebSocket (`GET /ws`) waits for a subscribe message, acknowledges it, then writes every
/// broadcast frame (`send`: feed + flush), with a reader task watching for the close. A receiver that lags past the capacity is told `too_slow` and closed, as
/// the hub does.
///
/// `read_buffer`: the WebSockets' read buffer (tungstenite's default, 128 KiB, when `None`).
pub async fn serve_bare(read_buffer: Option<usize>) -> anyhow::Result<()> {
    let (tx, _) = broadcast::channel(BARE_CAPACITY);
    let state = Bare {
        tx,
        seq: Arc::new(AtomicI64::new(0)),
        read_buffer,
    };
    let app = Router::new()
        .route("/ws", get(bare_ws))
        .route("/publish", post(bare_publish))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1:0")?;
    announce(listener.local_addr()?)?;
    axum::serve(listener, app)
        .with_graceful_shutdown(stdin_closed())
        .await
        .context("bare server")
}

async fn bare_publish(State(s): State<Bare>, body: String) -> Response {
    let Some(rest) = body.trim_start().strip_prefix('{') else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "send a JSON object").into_response();
    };
    let id = s.seq.fetch_add(1, Ordering::SeqCst) + 1;
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    // Serialised once; every receiver shares these bytes.
    let frame = format!(
        "{{\"op\":\"event\",\"seq\":{id},\"channel\":\"region:europe\",\"type\":\"post.created\",\"data\":{{\"id\":{id}{sep}{rest}}}"
    );
    let _ = s.tx.send(Utf8Bytes::from(frame)); // Err: nobody listens
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"id\":{id}}}"),
    )
        .into_response()
}

async fn bare_ws(State(s): State<Bare>, ws: WebSocketUpgrade) -> Response {
    let ws = match s.read_buffer {
        Some(n) => ws.read_buffer_size(n),
        None => ws,
    };
    ws.on_upgrade(move |socket| bare_conn(socket, s))
}

async fn bare_conn(socket: WebSocket, s: Bare) {
    // Split, with a reader task of its own: polling the socket for input on every outgoing
    // frame would make tungstenite zero its whole read buffer (128 KiB by default) each time.
    let (mut sink, mut stream) = socket.split();
    match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
        Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains("\"subscribe\"") => {}
        _ => return,
    }
    let mut rx = s.tx.subscribe();
    let head = s.seq.load(Ordering::SeqCst);
    let ack = format!("{{\"op\":\"subscribed\",\"channels\":[\"region:europe\"],\"head\":{head}}}");
    if sink
        .send(Message::Text(Utf8Bytes::from(ack)))
        .await
        .is_err()
    {
        return;
    }
    // Ends when the client closes or goes away (ping replies are queued by tungstenite).
    let mut reader = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    });
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Ok(frame) => {
                    if sink.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = sink
                        .send(Message::Text(Utf8Bytes::from_static(
                            "{\"op\":\"error\",\"code\":\"too_slow\",\"message\":\"you fell behind\"}",
                        )))
                        .await;
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: 1008,
                            reason: Utf8Bytes::from_static("too slow"),
                        })))
                        .await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = &mut reader => break,
        }
    }
    reader.abort();
}
