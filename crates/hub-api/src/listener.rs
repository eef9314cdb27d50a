//! The listener the hub serves on: TCP, where a write waits for the client at most a set time.
//!
//! Every response (an event stream, an analysis document, a WebSocket) is written through
//! [`TimedListener`]'s connections. A client that stops reading leaves a write pending; past
//! the timeout the write fails and the connection is dropped with everything it held (its
//! live subscription, its address's connection slot), and a graceful shutdown never waits
//! on it for longer.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

/// A TCP listener whose connections time out writes that the client does not take.
#[derive(Debug)]
pub struct TimedListener {
    inner: TcpListener,
    write_timeout: Duration,
}

impl TimedListener {
    /// Serves on `inner`; a write pending for `write_timeout` fails its connection.
    pub fn new(inner: TcpListener, write_timeout: Duration) -> Self {
        Self {
            inner,
            write_timeout,
        }
    }
}

impl Listener for TimedListener {
    type Io = Pin<Box<TimeoutStream<TcpStream>>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // TcpListener's accept logs and retries its errors (out of file descriptors...).
        let (tcp, addr) = Listener::accept(&mut self.inner).await;
        // Responses go out as they are written (small live frames included), not after
        // Nagle's delay.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let mut io = TimeoutStream::new(tcp);
        io.set_write_timeout(Some(self.write_timeout));
        (Box::pin(io), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The TCP peer of a connection served by [`TimedListener`] (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, TimedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TimedListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}
