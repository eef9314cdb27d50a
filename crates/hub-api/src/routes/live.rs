//! Live updates over WebSocket (`GET /ws`) and Server-Sent Events (`GET /events`), and the
//! one-time tickets browsers use to open them.

use crate::auth::{new_token, token_hash};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{viewer_of, ApiQuery, Auth, ClientIp, MaybeAuth};
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use hub_domain::{User, Viewer};
use hub_live::{Channel, ChannelError, Ended, Subscription};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ticket))
        .routes(routes!(websocket))
        .routes(routes!(events))
}

/// A one-time WebSocket ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    /// Pass as `?ticket=` within 60 seconds; it works once.
    pub ticket: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// Issues a one-time ticket for opening a WebSocket (browsers cannot send headers on one).
#[utoipa::path(post, path = "/ws/ticket", tag = "live", security(("bearer" = [])),
    responses((status = 201, body = Ticket), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Auth(user): Auth,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let ticket = new_token();
    let expires_at = Utc::now() + chrono::Duration::seconds(60);
    // The session it comes from: a connection opened with the ticket ends with it.
    let session = session_of(&headers);
    state
        .store
        .create_ws_ticket(
            &token_hash(&ticket),
            user.id,
            expires_at.timestamp_micros(),
            session.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Ticket { ticket, expires_at })))
}

/// Query of the live endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// A one-time ticket from `POST /ws/ticket` (instead of an Authorization header).
    pub ticket: Option<String>,
    /// SSE only: channels, comma-separated.
    pub channels: Option<String>,
    /// SSE only: resume after this seq (`Last-Event-ID` wins when both are sent).
    pub since: Option<i64>,
}

/// Refuses browser origins that are neither the hub's own nor allowed by configuration.
fn check_origin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(()); // not a browser: nothing to forge
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let own = origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host);
    if own || state.config.ws_allowed_origins.iter().any(|o| o == origin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "origin {origin} is not allowed"
        )))
    }
}

/// The hash of the request's bearer token, if it has one.
fn session_of(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token_hash(token.trim()))
}

/// What a live connection was opened with, checked again while it lives (see [`recheck`]).
#[derive(Debug, Clone)]
enum Credential {
    /// Nobody: public channels only, nothing to check.
    Anonymous,
    /// A session (its token's hash): the connection ends when the session does.
    Session(String),
    /// A user, by a ticket from before tickets named their session: roles only.
    User(i64),
}

/// Who is connecting: a ticket, a bearer token, or nobody (public channels only).
async fn live_user(
    state: &AppState,
    ticket: Option<&str>,
    headers: &HeaderMap,
    auth: MaybeAuth,
) -> ApiResult<(Option<User>, Credential)> {
    if let Some(t) = ticket {
        let (user, session) = state
            .store
            .consume_ws_ticket(&token_hash(t))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the ticket is unknown, used or expired"))?;
        let credential = match session {
            Some(h) => Credential::Session(h),
            None => Credential::User(user.id),
        };
        return Ok((Some(user), credential));
    }
    let credential = match (&auth.0, session_of(headers)) {
        (Some(_), Some(h)) => Credential::Session(h),
        (Some(u), None) => Credential::User(u.id),
        (None, _) => Credential::Anonymous,
    };
    Ok((auth.0, credential))
}

/// Whom a live connection reads as: the user, less their staff roles while they are
/// suspended everywhere (a suspended moderator's powers, the moderation channel among them,
/// are suspended too).
fn live_viewer(mut user: User, suspended: bool) -> Viewer {
    if suspended {
        user.roles
            .retain(|r| r.role == hub_domain::RoleKind::Stakeholder);
    }
    viewer_of(Some(&user))
}

/// The viewer a new live connection reads as (see [`live_viewer`]).
async fn opening_viewer(state: &AppState, user: Option<User>) -> ApiResult<Viewer> {
    match user {
        Some(u) => {
            let suspended = state.store.suspension_in(u.id, None).await?.is_some();
            Ok(live_viewer(u, suspended))
        }
        None => Ok(viewer_of(None)),
    }
}

/// What a connection's credential is worth now.
enum Standing {
    /// As it was.
    Same,
    /// The user's roles changed: the subscription now sees as they may, and left these
    /// channels, no longer theirs to read.
    Changed(Vec<Channel>),
    /// Signed out, expired or deleted: the connection ends.
    Gone,
}

/// Checks a live connection's credential again (every heartbeat): a session that ended
/// (logout, expiry) ends the connection, and changed roles change what the subscription may
/// read. While the database cannot say, the connection goes on as it was.
async fn recheck(state: &AppState, credential: &Credential, sub: &mut Subscription) -> Standing {
    let (user, suspension) = match credential {
        Credential::Anonymous => return Standing::Same,
        Credential::Session(h) => match state.store.session(h).await {
            Ok(Some(found)) => found,
            Ok(None) => return Standing::Gone,
            Err(_) => return Standing::Same,
        },
        Credential::User(id) => match state.store.user(*id).await {
            Ok(user) => match state.store.suspension_in(user.id, None).await {
                Ok(s) => (user, s),
                Err(_) => return Standing::Same,
            },
            Err(hub_store::StoreError::NotFound(_)) => return Standing::Gone,
            Err(_) => return Standing::Same,
        },
    };
    let now = live_viewer(user, suspension.is_some());
    let was = &sub.viewer().roles;
    if now.roles.len() == was.len() && now.roles.iter().all(|r| was.contains(r)) {
        Standing::Same
    } else {
        Standing::Changed(sub.set_viewer(now))
    }
}

/// Holds one of the per-address live connection slots while it lives.
pub(crate) struct IpSlot {
    state: AppState,
    ip: String,
}

impl IpSlot {
    fn take(state: &AppState, ip: &str) -> ApiResult<Self> {
        let mut counts = state
            .live_per_ip
            .lock()
            .map_err(|_| ApiError::internal("poisoned lock"))?;
        let n = counts.entry(ip.to_string()).or_insert(0);
        if *n >= state.config.ws_connections_per_ip {
            return Err(ApiError::too_many_requests(
                5,
                "too many live connections from this address",
            ));
        }
        *n += 1;
        Ok(Self {
            state: state.clone(),
            ip: ip.to_string(),
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.state.live_per_ip.lock() {
            if let Some(n) = counts.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&self.ip);
                }
            }
        }
    }
}

/// Opens a WebSocket for live updates. See the README for the protocol.
#[utoipa::path(get, path = "/ws", tag = "live", security((), ("bearer" = [])), params(LiveQuery),
    responses((status = 101, description = "switching to the WebSocket protocol"),
              (status = 400, description = "Not a WebSocket handshake (no `Connection: upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Version: 13` or `Sec-WebSocket-Key`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn websocket(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    auth: MaybeAuth,
    ApiQuery(q): ApiQuery<LiveQuery>,
) -> ApiResult<Response> {
    // axum's rejection is plain text; the API answers problem+json.
    let ws = ws.map_err(|e| ApiError::bad_request(format!("not a WebSocket handshake: {e}")))?;
    check_origin(&state, &headers)?;
    let (user, credential) = live_user(&state, q.ticket.as_deref(), &headers, auth).await?;
    let viewer = opening_viewer(&state, user).await?;
    let slot = IpSlot::take(&state, &ip)?;
    let limit = state.config.ws_max_message_bytes;
    // The protocol's own limit is above ours, so that a message over ours is read whole and
    // answered with a close frame (1009) rather than a dropped connection; past the
    // protocol's, the connection is closed with 1009 too (see `run_socket`).
    Ok(ws
        .max_message_size(limit.saturating_mul(4))
        .max_frame_size(limit.saturating_mul(4))
        // Bounded: a client that stops reading makes writes wait (and then fail), instead of
        // the server buffering without end.
        .max_write_buffer_size(4 * 1024 * 1024)
        // Clients send little: tungstenite's default 128 KiB read buffer would be most of an
        // idle connection's memory (139 KiB each, measured by hub-fanout).
        .read_buffer_size(4096)
        .on_upgrade(move |socket| async move {
            // On the fan-out's runtime, apart from the one serving requests (see `Live::spawn`).
            let live = state.live.clone();
            live.spawn(async move {
                run_socket(socket, state, viewer, credential).await;
                drop(slot);
            });
        }))
}

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum ClientMessage {
    Subscribe {
        channels: Vec<String>,
        since: Option<i64>,
    },
    Unsubscribe {
        channels: Vec<String>,
    },
    Ping,
}

fn error_frame(code: &str, message: &str) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::json!({"op": "error", "code": code, "message": message}).to_string(),
    ))
}

/// Parses and authorises channel names; the refused ones become error frames.
fn authorize_all(names: &[String], viewer: &Viewer, errors: &mut Vec<Message>) -> Vec<Channel> {
    let mut out = Vec::new();
    for n in names {
        match Channel::authorize(n, viewer) {
            Ok(c) => out.push(c),
            Err(ChannelError::BadRequest(m)) => errors.push(error_frame("bad_request", &m)),
            Err(ChannelError::Forbidden(m)) => errors.push(error_frame("forbidden", &m)),
        }
    }
    out
}

/// Simple token bucket for client messages.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            tokens: rate * 2.0,
            rate,
            burst: rate * 2.0,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the reader tells the writer.
enum Control {
    Client(ClientMessage),
    Send(Message),
    Pong,
    /// The client broke a rule (a flood: 1008, a message too big: 1009): close with this.
    Close(u16, &'static str),
}

/// One connection: a reader task parses client messages; this task is the only writer, so
/// replies, replays and live frames go out in one order.
async fn run_socket(socket: WebSocket, state: AppState, viewer: Viewer, credential: Credential) {
    let (sink, stream) = socket.split();
    let mut out = Out {
        sink,
        within: Duration::from_secs(state.config.ws_write_timeout_secs.max(1)),
    };
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<Control>(64);
    let reader = tokio::spawn(read_client(
        stream,
        ctl_tx,
        state.config.ws_messages_per_second,
        state.config.ws_max_message_bytes,
    ));
    let mut sub = state.live.subscriber(viewer);
    let farewell = serve(&state, &credential, &mut sub, &mut out, &mut ctl_rx).await;
    if !farewell.is_empty() {
        for m in farewell {
            out.last(m).await;
        }
        // The closing handshake: read on until the client answers the close frame (the reader
        // then ends) or a second passes. Dropping the socket with the client's last frames
        // unread would reset the connection, and the client could lose the close frame and
        // the error before it.
        let drain = async { while ctl_rx.recv().await.is_some() {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
    reader.abort();
}

/// A close frame.
fn close_frame(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// The reader task: reads the client's frames, counts them against its rate, and tells the
/// writer what to do about each. Ends when the client goes, or at the first close it asks for.
async fn read_client(
    mut stream: futures::stream::SplitStream<WebSocket>,
    ctl_tx: mpsc::Sender<Control>,
    rate: u32,
    max_message: usize,
) {
    let mut bucket = Bucket::new(rate);
    let mut strikes = 0u32;
    while let Some(msg) = stream.next().await {
        // Every frame a client sends counts against its rate, pings and binary ones too;
        // 50 refused in a row close the connection (1008).
        let counted = matches!(
            msg,
            Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_))
        );
        if counted && !bucket.take() {
            strikes += 1;
            let control = if strikes > 50 {
                Control::Close(1008, "too many messages")
            } else {
                Control::Send(error_frame("rate_limited", "too many messages; slow down"))
            };
            let closing = matches!(control, Control::Close(..));
            if ctl_tx.send(control).await.is_err() || closing {
                break;
            }
            continue;
        }
        if counted {
            strikes = 0;
        }
        let Some(control) = control_of(msg, max_message) else {
            break;
        };
        let closing = matches!(control, Control::Close(..));
        if ctl_tx.send(control).await.is_err() || closing {
            break;
        }
    }
}

/// What the writer should do about one frame from the client; `None` when there is nothing
/// more to read (the client closed, or the connection broke).
fn control_of(msg: Result<Message, axum::Error>, max_message: usize) -> Option<Control> {
    Some(match msg {
        Ok(Message::Text(t)) if t.len() > max_message => Control::Close(1009, "message too big"),
        Ok(Message::Binary(b)) if b.len() > max_message => Control::Close(1009, "message too big"),
        Ok(Message::Text(t)) => match serde_json::from_str::<ClientMessage>(t.as_str()) {
            Ok(m) => Control::Client(m),
            Err(e) => Control::Send(error_frame("bad_request", &e.to_string())),
        },
        Ok(Message::Binary(_)) => {
            Control::Send(error_frame("bad_request", "send JSON text frames"))
        }
        Ok(Message::Pong(_)) | Ok(Message::Ping(_)) => Control::Pong,
        Ok(Message::Close(_)) => return None,
        // Past the protocol's own size limit: told as the smaller ones are. Any other
        // error (a broken frame, a reset) leaves nothing to answer.
        Err(e) if e.to_string().contains("Space limit exceeded") => {
            Control::Close(1009, "message too big")
        }
        Err(_) => return None,
    })
}

/// What the writer does after a step: go on, or end with these last words (an error, then a
/// close frame; none when the client is gone).
enum Step {
    Go,
    End(Vec<Message>),
}

impl Step {
    /// Goes on if the write went out; ends silently if not.
    fn sent(ok: bool) -> Self {
        if ok {
            Step::Go
        } else {
            Step::End(Vec::new())
        }
    }
}

/// The writer's loop: the client's messages, live frames, heartbeats and shutdown, until one
/// of them ends the connection. Returns this side's last words.
async fn serve<S>(
    state: &AppState,
    credential: &Credential,
    sub: &mut Subscription,
    out: &mut Out<S>,
    ctl_rx: &mut mpsc::Receiver<Control>,
) -> Vec<Message>
where
    S: futures::Sink<Message> + Unpin,
{
    let mut shutdown = state.shutdown.clone();
    // One wait for shutdown for the whole connection (not one registration per frame).
    let shutdown_changed = shutdown.changed();
    tokio::pin!(shutdown_changed);
    let heartbeat_every = Duration::from_secs(state.config.ws_heartbeat_secs.max(1));
    let mut heartbeat = tokio::time::interval(heartbeat_every);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    loop {
        let step = tokio::select! {
            ctl = ctl_rx.recv() => {
                let Some(ctl) = ctl else { return Vec::new() };
                last_heard = Instant::now();
                on_control(ctl, sub, out).await
            }
            next = sub.next() => on_frame(next, sub, out).await,
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > heartbeat_every * 3 {
                    Step::End(vec![close_frame(1001, "no answer to pings")])
                } else if !out.one(Message::Ping(Default::default())).await {
                    Step::End(Vec::new())
                } else {
                    on_recheck(state, credential, sub, out).await
                }
            }
            _ = &mut shutdown_changed => Step::End(vec![close_frame(1001, "server shutting down")]),
        };
        if let Step::End(farewell) = step {
            return farewell;
        }
    }
}

/// Acts on what the reader passed on.
async fn on_control<S>(ctl: Control, sub: &mut Subscription, out: &mut Out<S>) -> Step
where
    S: futures::Sink<Message> + Unpin,
{
    match ctl {
        Control::Close(code, reason) => Step::End(vec![
            error_frame(
                if code == 1009 {
                    "too_big"
                } else {
                    "rate_limited"
                },
                reason,
            ),
            close_frame(code, reason),
        ]),
        Control::Pong => Step::Go,
        Control::Send(m) => Step::sent(out.one(m).await),
        Control::Client(ClientMessage::Ping) => Step::sent(
            out.one(Message::Text(Utf8Bytes::from_static("{\"op\":\"pong\"}")))
                .await,
        ),
        Control::Client(ClientMessage::Unsubscribe { channels }) => {
            let mut errors = Vec::new();
            let chans = authorize_all(&channels, sub.viewer(), &mut errors);
            sub.unsubscribe(&chans);
            let reply = serde_json::json!({"op": "unsubscribed", "channels": chans.iter().map(ToString::to_string).collect::<Vec<_>>()});
            errors.push(Message::Text(Utf8Bytes::from(reply.to_string())));
            Step::sent(out.all(errors).await)
        }
        Control::Client(ClientMessage::Subscribe { channels, since }) => {
            Step::sent(subscribe(sub, &channels, since, out).await)
        }
    }
}

/// Sends a live frame, with whatever else is queued behind it.
async fn on_frame<S>(
    next: Result<hub_live::Frame, Ended>,
    sub: &mut Subscription,
    out: &mut Out<S>,
) -> Step
where
    S: futures::Sink<Message> + Unpin,
{
    match next {
        Ok(frame) => {
            // Coalesce: what is queued goes out in one flush.
            let mut frames = vec![Message::Text(frame.to_text())];
            while frames.len() < 257 {
                let Some(f) = sub.try_next() else { break };
                frames.push(Message::Text(f.to_text()));
            }
            Step::sent(out.all(frames).await)
        }
        Err(Ended::TooSlow) => Step::End(vec![
            error_frame(
                "too_slow",
                "you fell behind; reconnect and subscribe with since",
            ),
            close_frame(1008, "too slow"),
        ]),
        Err(Ended::Closed) => Step::End(Vec::new()),
    }
}

/// Checks the connection's credential again (at each heartbeat).
async fn on_recheck<S>(
    state: &AppState,
    credential: &Credential,
    sub: &mut Subscription,
    out: &mut Out<S>,
) -> Step
where
    S: futures::Sink<Message> + Unpin,
{
    match recheck(state, credential, sub).await {
        Standing::Same => Step::Go,
        Standing::Gone => Step::End(vec![
            error_frame("unauthorized", "your session ended; sign in again"),
            close_frame(1008, "session ended"),
        ]),
        // Channels no longer theirs to read were left: the client is told.
        Standing::Changed(lost) => {
            let frames = lost
                .iter()
                .map(|c| error_frame("forbidden", &format!("{c} is no longer yours to read")))
                .collect();
            Step::sent(out.all(frames).await)
        }
    }
}

/// The writing half of a connection. Every write is bounded in time: a client that stops
/// reading must not hold its connection, subscription and address slot for ever.
struct Out<S> {
    sink: S,
    /// Longest a write may take (`live.write_timeout_secs`).
    within: Duration,
}

impl<S> Out<S>
where
    S: futures::Sink<Message> + Unpin,
{
    /// Sends messages with one flush; false if the client is gone or did not take them in time.
    async fn all(&mut self, msgs: Vec<Message>) -> bool {
        let sink = &mut self.sink;
        let write = async {
            for m in msgs {
                sink.feed(m).await?;
            }
            sink.flush().await
        };
        matches!(tokio::time::timeout(self.within, write).await, Ok(Ok(())))
    }

    /// Sends one message (see [`Out::all`]).
    async fn one(&mut self, msg: Message) -> bool {
        self.all(vec![msg]).await
    }

    /// A last word before closing (an error, a close frame): the client gets a moment to
    /// take it, no more.
    async fn last(&mut self, msg: Message) {
        let within = self.within.min(Duration::from_secs(1));
        let _ = tokio::time::timeout(within, self.sink.send(msg)).await;
    }
}

async fn subscribe<S>(
    sub: &mut Subscription,
    names: &[String],
    since: Option<i64>,
    out: &mut Out<S>,
) -> bool
where
    S: futures::Sink<Message> + Unpin,
{
    if names.is_empty() || names.len() > 100 {
        return out
            .one(error_frame("bad_request", "subscribe to 1 to 100 channels"))
            .await;
    }
    let mut refused = Vec::new();
    let chans = authorize_all(names, sub.viewer(), &mut refused);
    if chans.is_empty() {
        return out.all(refused).await;
    }
    let unavailable = || {
        error_frame(
            "unavailable",
            "cannot read the event log now; subscribe again with the last seq you saw",
        )
    };
    let mut replay = match sub.subscribe(&chans, since).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "subscribe failed");
            refused.push(unavailable());
            return out.all(refused).await;
        }
    };
    if !refused.is_empty() && !out.all(refused).await {
        return false;
    }
    // The replay a page at a time, each sent before the next is read.
    loop {
        match replay.next_page().await {
            Ok(page) if page.is_empty() => break,
            Ok(page) => {
                let frames = page.iter().map(|f| Message::Text(f.to_text())).collect();
                if !out.all(frames).await {
                    return false;
                }
            }
            Err(e) => {
                // Part of the replay went out: not subscribed, so that the client's next
                // subscribe, from the last seq it saw, leaves no gap.
                tracing::warn!(error = %e, "replay failed");
                sub.unsubscribe(&chans);
                return out.one(unavailable()).await;
            }
        }
    }
    let ack = serde_json::json!({"op": "subscribed", "channels": chans.iter().map(ToString::to_string).collect::<Vec<_>>(), "head": replay.head()});
    out.one(Message::Text(Utf8Bytes::from(ack.to_string())))
        .await
}

/// What an SSE response's live part holds while it lasts.
struct SseLive {
    sub: Subscription,
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// Held for the connection's address while it lives.
    _slot: IpSlot,
    /// An error event went out: the stream ends.
    done: bool,
    state: AppState,
    credential: Credential,
    recheck_at: tokio::time::Interval,
}

/// Server-Sent Events: the same channels and events as the WebSocket, `id:` is the seq and
/// `Last-Event-ID` resumes.
#[utoipa::path(get, path = "/events", tag = "live", security((), ("bearer" = [])), params(LiveQuery),
    responses((status = 200, description = "The event stream: each event has `id: <seq>`, `event: <type>` and `data: <JSON>`", content_type = "text/event-stream", body = String), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many live connections from this address", body = Problem, content_type = "application/problem+json")))]
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    auth: MaybeAuth,
    ApiQuery(q): ApiQuery<LiveQuery>,
) -> ApiResult<Response> {
    check_origin(&state, &headers)?;
    let (user, credential) = live_user(&state, q.ticket.as_deref(), &headers, auth).await?;
    let viewer = opening_viewer(&state, user).await?;
    let names: Vec<String> = q
        .channels
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() || names.len() > 100 {
        return Err(ApiError::invalid(
            "channels",
            "name 1 to 100 channels, comma-separated",
        ));
    }
    let mut chans = Vec::new();
    for n in &names {
        match Channel::authorize(n, &viewer) {
            Ok(c) => chans.push(c),
            Err(ChannelError::BadRequest(m)) => return Err(ApiError::invalid("channels", m)),
            Err(ChannelError::Forbidden(m)) => return Err(ApiError::forbidden(m)),
        }
    }
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let since = last_event_id.or(q.since);
    let slot = IpSlot::take(&state, &ip)?;
    let mut sub = state.live.subscriber(viewer);
    let replay = sub.subscribe(&chans, since).await?;
    let every = Duration::from_secs(state.config.ws_heartbeat_secs.max(1));
    let mut recheck_at = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    recheck_at.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let shutdown = state.shutdown.clone();
    let to_event = |f: hub_live::Frame| {
        Event::default()
            .id(f.seq().to_string())
            .event(f.kind())
            .data(f.text().as_str())
    };
    // The replay a page at a time. Should reading it fail, the response ends: the client
    // reconnects with the `Last-Event-ID` it got, so nothing is missed.
    let replayed = futures::stream::unfold(Some(replay), |replay| async move {
        let mut replay = replay?;
        match replay.next_page().await {
            Ok(page) if page.is_empty() => None,
            Ok(page) => Some((page, Some(replay))),
            Err(e) => {
                tracing::warn!(error = %e, "replay failed");
                None
            }
        }
    })
    .flat_map(move |page| {
        futures::stream::iter(
            page.into_iter()
                .map(move |f| Ok::<_, std::convert::Infallible>(to_event(f))),
        )
    });
    // Live events until the client goes, the server stops or the stream ends with an error
    // event (`done`: the next poll ends it).
    let ended = |code: &str| {
        Event::default()
            .event("error")
            .data(format!("{{\"op\":\"error\",\"code\":\"{code}\"}}"))
    };
    let live = SseLive {
        sub,
        shutdown,
        _slot: slot,
        done: false,
        state,
        credential,
        recheck_at,
    };
    let live = futures::stream::unfold(live, move |mut l| async move {
        if l.done {
            return None;
        }
        loop {
            let event = tokio::select! {
                next = l.sub.next() => match next {
                    Ok(f) => to_event(f),
                    Err(Ended::TooSlow) => {
                        l.done = true;
                        ended("too_slow")
                    }
                    Err(Ended::Closed) => return None,
                },
                _ = l.shutdown.changed() => return None,
                // The credential checked again, as on the WebSocket: a session that ended
                // ends the stream, and so does a channel no longer the viewer's to read (the
                // client's reconnection is then refused or narrowed).
                _ = l.recheck_at.tick() => match recheck(&l.state, &l.credential, &mut l.sub).await {
                    Standing::Same => continue,
                    Standing::Changed(lost) if lost.is_empty() => continue,
                    Standing::Changed(_) => {
                        l.done = true;
                        ended("forbidden")
                    }
                    Standing::Gone => {
                        l.done = true;
                        ended("unauthorized")
                    }
                },
            };
            return Some((Ok::<_, std::convert::Infallible>(event), l));
        }
    });
    Ok(Sse::new(replayed.chain(live))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
