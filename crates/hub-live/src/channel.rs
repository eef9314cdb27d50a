//! Channels, who may subscribe to them, which events go on them, and what each viewer sees.

use crate::Frame;
use axum::extract::ws::Utf8Bytes;
use hub_domain::Viewer;
use hub_store::{EventFilter, EventRecord};
use std::sync::Arc;

/// A channel of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `region:{slug}`: threads and posts of a space.
    Region(String),
    /// `thread:{id}`: posts of a thread.
    Thread(i64),
    /// `moderation:{slug}`: the region's moderators only.
    Moderation(String),
    /// `user:{id}`: that user only.
    User(i64),
}

/// Why a channel was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelError {
    /// Not a channel name.
    BadRequest(String),
    /// Not this viewer's to read.
    Forbidden(String),
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Channel::Region(s) => write!(f, "region:{s}"),
            Channel::Thread(id) => write!(f, "thread:{id}"),
            Channel::Moderation(s) => write!(f, "moderation:{s}"),
            Channel::User(id) => write!(f, "user:{id}"),
        }
    }
}

impl Channel {
    /// Parses a channel name and checks the viewer may read it.
    pub fn authorize(name: &str, viewer: &Viewer) -> Result<Channel, ChannelError> {
        let bad = || ChannelError::BadRequest(format!("{name:?} is not a channel"));
        let (kind, arg) = name.split_once(':').ok_or_else(bad)?;
        let id = || arg.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(bad);
        let region = || {
            if hub_domain::is_region(arg) {
                Ok(arg.to_string())
            } else {
                Err(ChannelError::BadRequest(format!("{arg:?} is not a region")))
            }
        };
        match kind {
            "region" => Ok(Channel::Region(region()?)),
            "thread" => Ok(Channel::Thread(id()?)),
            "moderation" => {
                let r = region()?;
                if viewer.moderates(&r) {
                    Ok(Channel::Moderation(r))
                } else {
                    Err(ChannelError::Forbidden(format!(
                        "{name} is for the moderators of {r}"
                    )))
                }
            }
            "user" => {
                let u = id()?;
                if viewer.user_id == Some(u) {
                    Ok(Channel::User(u))
                } else {
                    Err(ChannelError::Forbidden(format!(
                        "{name} is for that user alone"
                    )))
                }
            }
            _ => Err(bad()),
        }
    }

    /// Adds what this channel reads to a replay filter.
    pub(crate) fn add_to(&self, f: &mut EventFilter) {
        match self {
            Channel::Region(r) | Channel::Moderation(r) => f.regions.push(r.clone()),
            Channel::Thread(t) => f.threads.push(*t),
            Channel::User(u) => f.users.push(*u),
        }
    }
}

/// The channels an event goes on. Events for moderators go on `moderation:` only, events for
/// one user on `user:` only; the others on their region and thread.
pub(crate) fn channels_of(e: &EventRecord) -> Vec<Channel> {
    let mut out = Vec::with_capacity(2);
    match e.audience.as_str() {
        "moderators" => {
            if let Some(r) = &e.region {
                out.push(Channel::Moderation(r.clone()));
            }
        }
        "user" => {
            if let Some(u) = e.user_id {
                out.push(Channel::User(u));
            }
        }
        _ => {
            if let Some(r) = &e.region {
                out.push(Channel::Region(r.clone()));
            }
            if let Some(t) = e.thread_id {
                out.push(Channel::Thread(t));
            }
        }
    }
    out
}

/// Whether `viewer` may receive `e` at all, and whether in full.
fn access(e: &EventRecord, viewer: &Viewer) -> Option<bool> {
    let region_mod = e.region.as_deref().is_some_and(|r| viewer.moderates(r));
    let is_subject = viewer.user_id.is_some() && viewer.user_id == e.user_id;
    match e.audience.as_str() {
        "public" => Some(region_mod || is_subject),
        "restricted" => (region_mod || is_subject).then_some(true),
        "moderators" => region_mod.then_some(true),
        "user" => is_subject.then_some(true),
        _ => None,
    }
}

/// The frames of one event on one channel, built on first need and shared by every receiver:
/// the full payload, and a public one with the content of a hidden or removed post taken out.
pub(crate) struct Frames<'a> {
    event: &'a EventRecord,
    channel: Arc<str>,
    kind: Arc<str>,
    full: Option<Frame>,
    public: Option<Frame>,
    /// Whether others than the author and moderators must get a tombstone (checked once).
    redact: bool,
}

impl<'a> Frames<'a> {
    pub(crate) fn new(event: &'a EventRecord, channel: &Channel) -> Self {
        Self {
            event,
            channel: Arc::from(channel.to_string()),
            kind: Arc::from(event.kind.as_str()),
            full: None,
            public: None,
            redact: needs_redaction(&event.payload),
        }
    }

    fn build(&self, data: &str) -> Frame {
        let text = format!(
            "{{\"op\":\"event\",\"seq\":{},\"channel\":{},\"type\":{},\"data\":{}}}",
            self.event.seq,
            serde_json::to_string(&*self.channel).unwrap_or_default(),
            serde_json::to_string(&*self.kind).unwrap_or_default(),
            data
        );
        Frame {
            seq: self.event.seq,
            channel: self.channel.clone(),
            kind: self.kind.clone(),
            text: Utf8Bytes::from(text),
        }
    }

    /// The frame `viewer` receives, if any.
    pub(crate) fn for_viewer(&mut self, viewer: &Viewer) -> Option<Frame> {
        let full = access(self.event, viewer)?;
        if full || !self.redact {
            if self.full.is_none() {
                self.full = Some(self.build(&self.event.payload));
            }
            return self.full.clone();
        }
        if self.public.is_none() {
            self.public = Some(self.build(&redact(&self.event.payload)));
        }
        self.public.clone()
    }
}

/// Whether a payload is a post whose content others may not see.
fn needs_redaction(payload: &str) -> bool {
    // Cheap pre-check before parsing: only post payloads with a non-published status.
    payload.contains("\"status\":\"hidden\"")
        || payload.contains("\"status\":\"removed\"")
        || payload.contains("\"status\":\"pending\"")
}

/// The post with its body, HTML and moderation reason taken out (a tombstone).
fn redact(payload: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                for k in ["body", "body_html", "status_reason"] {
                    if o.contains_key(k) {
                        o.insert(k.to_string(), serde_json::Value::Null);
                    }
                }
            }
            v.to_string()
        }
        Err(_) => "null".to_string(),
    }
}
