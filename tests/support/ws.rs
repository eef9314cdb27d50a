//! A WebSocket test client speaking the hub's live protocol.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A connected client.
pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects to `url` (`ws://...`), with optional extra headers.
    pub async fn connect(
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request()?;
        for (k, v) in headers {
            if let (Ok(name), Ok(value)) = (
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()),
                tokio_tungstenite::tungstenite::http::HeaderValue::from_str(v),
            ) {
                req.headers_mut().insert(name, value);
            }
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Self { ws })
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("ws send");
    }

    /// Sends raw text.
    pub async fn send_text(
        &mut self,
        s: String,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        self.ws.send(Message::Text(s.into())).await
    }

    /// Subscribes and returns (replayed events, head), waiting for the `subscribed` ack.
    pub async fn subscribe(&mut self, channels: &[&str], since: Option<i64>) -> (Vec<Value>, i64) {
        let mut msg = json!({"op": "subscribe", "channels": channels});
        if let Some(s) = since {
            msg["since"] = json!(s);
        }
        self.send(msg).await;
        let mut events = Vec::new();
        loop {
            let v = self
                .next_json(Duration::from_secs(10))
                .await
                .expect("subscribed ack");
            match v["op"].as_str() {
                Some("event") => events.push(v),
                Some("subscribed") => return (events, v["head"].as_i64().unwrap_or(-1)),
                _ => panic!("unexpected while subscribing: {v}"),
            }
        }
    }

    /// The next JSON text message within `wait` (pings are answered by the library), or
    /// `None` on timeout or close.
    pub async fn next_json(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next message of any kind (to observe close frames).
    pub async fn next_raw(
        &mut self,
        wait: Duration,
    ) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
        tokio::time::timeout(wait, self.ws.next()).await.ok()?
    }

    /// Collects events until `n` arrived or `wait` passed.
    pub async fn events(&mut self, n: usize, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        while out.len() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_json(left).await {
                Some(v) if v["op"] == "event" => out.push(v),
                Some(_) => {}
                None => break,
            }
        }
        out
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
