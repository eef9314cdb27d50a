//! Channels, who may subscribe to them, which events go on them, and what each viewer sees.

use axum::extract::ws::Utf8Bytes;
use hub_domain::visibility::{self, Sight};
use hub_domain::{PostStatus, Viewer};
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
            "moderation" => Channel::Moderation(region()?).for_viewer(viewer),
            "user" => Channel::User(id()?).for_viewer(viewer),
            _ => Err(bad()),
        }
    }

    /// The channel if `viewer` may read it.
    fn for_viewer(self, viewer: &Viewer) -> Result<Channel, ChannelError> {
        if self.readable_by(viewer) {
            return Ok(self);
        }
        Err(ChannelError::Forbidden(match &self {
            Channel::Moderation(r) => format!("{self} is for the moderators of {r}"),
            _ => format!("{self} is for that user alone"),
        }))
    }

    /// Whether `viewer` may read this channel.
    pub fn readable_by(&self, viewer: &Viewer) -> bool {
        match self {
            Channel::Region(_) | Channel::Thread(_) => true,
            Channel::Moderation(r) => viewer.moderates(r),
            Channel::User(u) => viewer.user_id == Some(*u),
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

/// One event on one channel, serialised once (and once more without the content of a hidden,
/// removed or pending post when others than its author and moderators may see it), shared by
/// every subscriber of the channel.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The event's position in the log.
    pub(crate) seq: i64,
    /// The channel it goes on.
    pub(crate) channel: Arc<str>,
    /// The event type.
    pub(crate) kind: Arc<str>,
    /// Who may receive it.
    audience: Audience,
    /// The region of the event (moderators of it may see everything).
    region: Option<String>,
    /// The user the event concerns (the author, or the addressee of a `user:` event).
    user_id: Option<i64>,
    /// `{"op":"event",...}` with the full payload.
    full: Utf8Bytes,
    /// The same with a tombstone instead of the post, when others may see only that.
    redacted: Option<Utf8Bytes>,
}

/// The `audience` of an event, parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Anyone, in full.
    Everyone,
    /// About a withheld post: in full to those who see what is withheld of it (the region's
    /// moderators and the subject), a tombstone to others.
    Redacted,
    /// Logged while its post was withheld: those who see what is withheld of it only.
    Restricted,
    /// The region's moderators only.
    Moderators,
    /// The subject only.
    User,
    /// Unknown audience: nobody.
    Nobody,
}

impl Entry {
    /// Serialises `event` for `channel`.
    pub(crate) fn new(event: &EventRecord, channel: &Channel) -> Self {
        Self::replayed(event, channel, false)
    }

    /// The same for a replay, where `withheld` says the event's post is no longer published
    /// (hidden, removed or pending now): a public event about it then goes in full only to
    /// the region's moderators and the author, as a tombstone to the others.
    pub(crate) fn replayed(event: &EventRecord, channel: &Channel, withheld: bool) -> Self {
        let channel: Arc<str> = Arc::from(channel.to_string());
        let kind: Arc<str> = Arc::from(event.kind.as_str());
        let audience = match event.audience.as_str() {
            "public" if withheld || needs_redaction(&event.payload) => Audience::Redacted,
            "public" => Audience::Everyone,
            "restricted" => Audience::Restricted,
            "moderators" => Audience::Moderators,
            "user" => Audience::User,
            _ => Audience::Nobody,
        };
        let build = |data: &str| {
            Utf8Bytes::from(format!(
                "{{\"op\":\"event\",\"seq\":{},\"channel\":{},\"type\":{},\"data\":{}}}",
                event.seq,
                serde_json::to_string(&*channel).unwrap_or_default(),
                serde_json::to_string(&*kind).unwrap_or_default(),
                data
            ))
        };
        let full = build(&event.payload);
        let redacted = (audience == Audience::Redacted).then(|| build(&redact(&event.payload)));
        Self {
            seq: event.seq,
            channel,
            kind,
            audience,
            region: event.region.clone(),
            user_id: event.user_id,
            full,
            redacted,
        }
    }

    /// Whether `viewer` receives this entry, and if so whether the redacted variant (`Some(true)`).
    /// An event about a post goes as [`visibility::event_sight`] says.
    pub(crate) fn access(&self, viewer: &Viewer) -> Option<bool> {
        let about_post = |withheld: bool, announced: bool| match visibility::event_sight(
            viewer,
            self.user_id,
            self.region.as_deref(),
            withheld,
            announced,
        ) {
            Sight::Full => Some(false),
            Sight::Tombstone => Some(true),
            Sight::Nothing => None,
        };
        match self.audience {
            Audience::Everyone => about_post(false, true),
            Audience::Redacted => about_post(true, true),
            Audience::Restricted => about_post(true, false),
            Audience::Moderators => self
                .region
                .as_deref()
                .is_some_and(|r| viewer.moderates(r))
                .then_some(false),
            Audience::User => {
                (viewer.user_id.is_some() && viewer.user_id == self.user_id).then_some(false)
            }
            Audience::Nobody => None,
        }
    }

    /// The serialised frame, full or redacted.
    pub(crate) fn text(&self, redacted: bool) -> &Utf8Bytes {
        match (&self.redacted, redacted) {
            (Some(r), true) => r,
            _ => &self.full,
        }
    }
}

/// Whether a payload is a post whose content others may not see: its status is not public
/// ([`visibility::is_public`]).
fn needs_redaction(payload: &str) -> bool {
    // Cheap check before parsing: the status as serde writes it.
    static WITHHELD: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        PostStatus::ALL
            .iter()
            .filter(|s| !visibility::is_public(**s))
            .map(|s| format!("\"status\":\"{s}\""))
            .collect()
    });
    WITHHELD.iter().any(|w| payload.contains(w.as_str()))
}

/// The post with its body, HTML and moderation reason taken out (a tombstone), or the thread
/// with its title taken out.
fn redact(payload: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                // A post's text, or a thread's title (a thread stands on its opening post).
                for k in ["body", "body_html", "status_reason", "title"] {
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
