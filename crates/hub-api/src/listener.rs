//! Serving connections within limits: how many are open (in all, and per client address), how
//! long a client may take to send its request, and how long a write may wait for it to read.
//!
//! What each guards against:
//! - **A slow client** (a byte a second) or **an idle one** holds a connection and its file
//!   descriptor: the request's headers must arrive within `header_read_timeout`, and a
//!   keep-alive connection waiting for its next request is closed after the same time.
//! - **Many connections** exhaust file descriptors, and then every new client, health checks
//!   included, waits: at most `max` are served; past them, up to `reserve` more are accepted
//!   for `/healthz`, `/readyz` and `/metrics` only (anything else gets 503 with `Retry-After`),
//!   and past those, new clients wait in the kernel's listen queue while the open connections
//!   are served as usual.
//! - **One address** taking every connection: at most `per_ip` from one client address (the
//!   trusted proxies' are exempt, they carry many clients); the next is answered 503 at once.
//! - **A client that stops reading**: a write pending for `write_timeout` fails its connection,
//!   which is dropped with everything it held (its live subscription, its address's slot).

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

/// The TCP peer of a connection (`ConnectInfo<Peer>` in every request's extensions).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Limits of the connections served (see the module's documentation).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections served at most.
    pub max: usize,
    /// More accepted past `max`, for health checks and metrics only.
    pub reserve: usize,
    /// Connections at most from one client address.
    pub per_ip: usize,
    /// Addresses (reverse proxies) not held to `per_ip`.
    pub exempt: Vec<ipnet::IpNet>,
    /// Time to send a request's headers; also the idle keep-alive timeout.
    pub header_read_timeout: Duration,
    /// Longest a write may wait for the client.
    pub write_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max: 10_000,
            reserve: 64,
            per_ip: 1024,
            exempt: Vec::new(),
            header_read_timeout: Duration::from_secs(15),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// The paths a reserve connection may ask for.
fn is_operations(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Open connections, in all and per address, with a wake-up when one closes.
#[derive(Default)]
struct Open {
    counts: Mutex<(usize, HashMap<IpAddr, usize>)>,
    freed: Notify,
}

/// One open connection, counted until it is dropped.
struct Slot {
    open: Arc<Open>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut c = self.open.lock();
            c.0 = c.0.saturating_sub(1);
            if let Some(n) = c.1.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.1.remove(&self.ip);
                }
            }
            metrics::gauge!("http_connections_open").set(c.0 as f64);
        }
        self.open.freed.notify_waiters();
    }
}

/// A connection's stream, holding its slot for as long as it lives: through an upgrade to a
/// WebSocket too, where hyper's connection ends but the stream goes on.
struct Counted {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    _slot: Slot,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// What a new connection gets.
enum Admission {
    /// Served as usual.
    Served(Slot),
    /// Past the cap: operations endpoints only.
    Reserve(Slot),
    /// Its address has too many already.
    TooManyFromAddress,
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, HashMap<IpAddr, usize>)> {
        match self.counts.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        }
    }

    fn total(&self) -> usize {
        self.lock().0
    }

    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &ConnectionLimits) -> Admission {
        let mut c = self.lock();
        let exempt = limits.exempt.iter().any(|n| n.contains(&ip));
        let from_ip = c.1.get(&ip).copied().unwrap_or(0);
        if !exempt && from_ip >= limits.per_ip {
            return Admission::TooManyFromAddress;
        }
        let reserve = c.0 >= limits.max;
        c.0 += 1;
        *c.1.entry(ip).or_insert(0) += 1;
        metrics::gauge!("http_connections_open").set(c.0 as f64);
        let slot = Slot {
            open: self.clone(),
            ip,
        };
        if reserve {
            Admission::Reserve(slot)
        } else {
            Admission::Served(slot)
        }
    }
}

/// The soft limit on open files of this process, read from `/proc/self/limits` (Linux).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Refused connections answered at once, at most (each holds its descriptor for up to a
/// second); past them a refused connection is closed without an answer.
const REFUSALS: usize = 64;

/// File descriptors kept for everything but client connections: the database pool, Redis,
/// files, the listener itself.
const DESCRIPTORS_KEPT: usize = 256;

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets the
/// requests in flight finish (each connection is told to close after its current request).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    mut limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    if let Some(files) = open_files_limit() {
        let room = files.saturating_sub(DESCRIPTORS_KEPT).max(16);
        if limits.max + limits.reserve > room {
            tracing::warn!(
                open_files = files,
                configured = limits.max,
                "http.max_connections and http.reserve_connections exceed this process's open-file limit: lowered to fit"
            );
            limits.reserve = limits.reserve.min(room / 8);
            limits.max = room - limits.reserve;
        }
    }
    let limits = Arc::new(limits);
    let open = Arc::new(Open::default());
    // Each connection's task holds `signal_tx` and a receiver of `close`: dropping
    // `signal_rx` tells them to finish, and `close_tx.closed()` says when all have.
    let (signal_tx, signal_rx) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    // Connections refused for their address are answered by at most this many tasks at once.
    let refusals = Arc::new(tokio::sync::Semaphore::new(REFUSALS));
    'accept: loop {
        // At the cap and its reserve: accept nothing until a connection closes.
        loop {
            let freed = open.freed.notified();
            if open.total() < limits.max + limits.reserve {
                break;
            }
            tokio::select! {
                _ = freed => {}
                _ = &mut shutdown => break 'accept,
            }
        }
        let (tcp, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, a connection reset before it was accepted...:
                    // the listener is fine, try again shortly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // An IPv4 client of a listener on [::] comes as ::ffff:a.b.c.d: counted as itself.
        let (slot, reserve) = match open.admit(addr.ip().to_canonical(), &limits) {
            Admission::Served(slot) => (slot, false),
            Admission::Reserve(slot) => (slot, true),
            Admission::TooManyFromAddress => {
                metrics::counter!("http_connections_refused_total", "why" => "per_address")
                    .increment(1);
                // Answered by a bounded number of tasks; past them, closed unanswered.
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(tcp).await;
                        drop(permit);
                    });
                }
                continue;
            }
        };
        if reserve {
            metrics::counter!("http_connections_refused_total", "why" => "reserve").increment(1);
        }
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let mut io = TimeoutStream::new(tcp);
        io.set_write_timeout(Some(limits.write_timeout));
        let io = TokioIo::new(Counted {
            io: Box::pin(io),
            _slot: slot,
        });
        let app = app.clone();
        let service = tower::service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            async move {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(Peer(addr)));
                if !reserve {
                    return app.oneshot(req).await;
                }
                let mut res = if is_operations(req.uri().path()) {
                    app.oneshot(req).await?
                } else {
                    crate::error::ApiError::unavailable(
                        5,
                        "the hub has as many connections as it serves; try again shortly",
                    )
                    .into_response()
                };
                // A reserve connection serves one request.
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                res.headers_mut().insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                Ok::<Response, std::convert::Infallible>(res)
            }
        });
        let limits = limits.clone();
        let signal_tx = signal_tx.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            // HTTP/1.1 (with upgrades, for WebSockets): the header timeout then runs from the
            // first byte awaited, where detecting HTTP/2's preface would wait for a silent
            // client unbounded. HTTP/2 reaches the hub through a TLS-terminating proxy.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(io, TowerToHyperService::new(service))
                .with_upgrades();
            let mut conn = pin!(conn);
            let mut stop = pin!(signal_tx.closed());
            let mut stopping = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::trace!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = &mut stop, if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(close_rx);
        });
    }
    drop(listener);
    drop(signal_rx);
    drop(close_rx);
    close_tx.closed().await;
}

/// Answers a connection the hub will not serve with a 503 and closes it, without reading its
/// request (the answer is the same whatever it is).
async fn refuse(mut tcp: TcpStream) {
    let body = serde_json::json!({
        "type": "/problems/unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "too many connections from this address; close some, or try again shortly",
        "code": "unavailable",
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 5\r\nx-content-type-options: nosniff\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(body.as_bytes()).await?;
        tcp.shutdown().await?;
        // Read what the client sent before closing: closing with unread bytes would reset
        // the connection and could take the answer with it.
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}
