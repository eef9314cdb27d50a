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

/// The hub's configuration for the benchmark: defaults, a SQLite file, cheap password hashing,
/// one address allowed many live connections.
pub fn hub_figment(db_url: &str) -> Figment {
    Figment::from(Toml::string(hub::config::DEFAULT_TOML))
        .merge(Serialized::default("listen", "127.0.0.1:0"))
        .merge(Serialized::default("database_url", db_url))
        .merge(Serialized::default("log_level", "warn"))
        .merge(Serialized::default("auth.argon2_memory_kib", 64))
        .merge(Serialized::default("auth.argon2_iterations", 1))
        .merge(Serialized::default("auth.login_attempts_per_minute", 1000))
        .merge(Serialized::default(
            "live.connections_per_ip",
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
}

/// `--serve bare`: axum 0.8 + `tokio::sync::broadcast`. `POST /publish` takes a JSON object,
/// gives it an id, serialises the event frame once and broadcasts the shared bytes; each
/// WebSocket (`GET /ws`) waits for a subscribe message, acknowledges it, then writes every
/// broadcast frame. A receiver that lags past the capacity is told `too_slow` and closed, as
/// the hub does.
pub async fn serve_bare() -> anyhow::Result<()> {
    let (tx, _) = broadcast::channel(BARE_CAPACITY);
    let state = Bare {
        tx,
        seq: Arc::new(AtomicI64::new(0)),
    };
    let app = Router::new()
        .route("/ws", get(bare_ws))
        .route("/publish", post(bare_publish))
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
    ws.on_upgrade(move |socket| bare_conn(socket, s))
}

async fn bare_conn(mut socket: WebSocket, s: Bare) {
    match tokio::time::timeout(Duration::from_secs(30), socket.recv()).await {
        Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains("\"subscribe\"") => {}
        _ => return,
    }
    let mut rx = s.tx.subscribe();
    let head = s.seq.load(Ordering::SeqCst);
    let ack = format!(
        "{{\"op\":\"subscribed\",\"channels\":[\"region:europe\"],\"head\":{head}}}"
    );
    if socket
        .send(Message::Text(Utf8Bytes::from(ack)))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Ok(frame) => {
                    if socket.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = socket
                        .send(Message::Text(Utf8Bytes::from_static(
                            "{\"op\":\"error\",\"code\":\"too_slow\",\"message\":\"you fell behind\"}",
                        )))
                        .await;
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: 1008,
                            reason: Utf8Bytes::from_static("too slow"),
                        })))
                        .await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
