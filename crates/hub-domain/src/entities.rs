//! The records the hub keeps, as clients see them. Storage builds them, the API serialises
//! them; the redaction rules (who sees a hidden or pending post) live here so that every
//! transport applies the same ones.

use crate::visibility::{self, PostFacts, Sight};
use crate::{Aspect, PostKind, PostStatus, Role, StakeholderGroup, Viewer};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A registered person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: i64,
    /// E-mail address (lower-cased); shown to the user themself only.
    pub email: String,
    /// Name shown with posts.
    pub display_name: String,
    /// Organisation, if any.
    pub organisation: Option<String>,
    /// Stakeholder group.
    pub stakeholder_group: StakeholderGroup,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// Preferred language (BCP 47).
    pub language: Option<String>,
    /// Whether analysis documents may name the organisation.
    pub attribution: bool,
    /// Roles held.
    pub roles: Vec<Role>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

/// The author of a post as others see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuthorRef {
    /// User id.
    pub id: i64,
    /// Display name.
    pub display_name: String,
    /// Organisation, if any.
    pub organisation: Option<String>,
    /// Stakeholder group.
    pub stakeholder_group: StakeholderGroup,
    /// Country.
    pub country: Option<String>,
}

/// A discussion in one regional space.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Thread {
    /// Id.
    pub id: i64,
    /// Region slug.
    pub region: String,
    /// Title.
    pub title: String,
    /// Kind of the opening post.
    pub kind: PostKind,
    /// Objectives the thread is about (those of its opening post).
    pub objectives: Vec<i64>,
    /// Who opened it.
    pub author: AuthorRef,
    /// The opening post's id.
    pub opening_post_id: Option<i64>,
    /// Pinned threads are listed first.
    pub pinned: bool,
    /// A locked thread takes no new posts.
    pub locked: bool,
    /// Published posts in the thread.
    pub post_count: i64,
    /// Endorsements of its posts.
    pub endorsements: i64,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When a post was last added.
    pub last_activity_at: DateTime<Utc>,
}

/// A post in a thread's tree.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Post {
    /// Id.
    pub id: i64,
    /// Thread.
    pub thread_id: i64,
    /// Region slug of the thread.
    pub region: String,
    /// Parent post; none for the opening post and top-level replies.
    pub parent_id: Option<i64>,
    /// 0 for the opening post, parent's depth + 1 for a reply.
    pub depth: i64,
    /// Author.
    pub author: AuthorRef,
    /// Kind.
    pub kind: PostKind,
    /// The author's Markdown; absent on a tombstone.
    pub body: Option<String>,
    /// The Markdown rendered to sanitised HTML; absent on a tombstone.
    pub body_html: Option<String>,
    /// Declared or detected language (BCP 47).
    pub language: Option<String>,
    /// Whether `language` was detected rather than declared.
    pub language_detected: bool,
    /// GCM objectives (1-23).
    pub objectives: Vec<i64>,
    /// What the post reports on.
    pub aspects: Vec<Aspect>,
    /// Moderation status.
    pub status: PostStatus,
    /// Why a moderator hid or removed it; shown to its author and moderators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Endorsements.
    pub endorsements: i64,
    /// Current revision number (1 = as first posted).
    pub revision: i64,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// When it was last edited.
    pub edited_at: Option<DateTime<Utc>>,
}

impl Post {
    /// What visibility depends on about this post (see [`crate::visibility`]).
    pub fn facts(&self) -> PostFacts<'_> {
        PostFacts {
            status: self.status,
            author_id: self.author.id,
            region: &self.region,
        }
    }

    /// Whether `viewer` may see this post's content and reason: its author, the region's
    /// moderators, or anyone when it is published ([`visibility::post_sight`]).
    pub fn visible_in_full_to(&self, viewer: &Viewer) -> bool {
        visibility::post_sight(viewer, &self.facts()) == Sight::Full
    }

    /// The post as `viewer` may see it ([`visibility::post_sight`]): `None` when it is
    /// pending and not theirs to see (it does not exist for them), a tombstone without body or
    /// reason when it is hidden or removed, the whole post otherwise.
    pub fn redacted_for(self, viewer: &Viewer) -> Option<Post> {
        let sight = visibility::post_sight(viewer, &self.facts());
        self.shown_as(sight)
    }

    /// The post as a viewer with this [`Sight`] of it sees it.
    pub fn shown_as(mut self, sight: Sight) -> Option<Post> {
        match sight {
            Sight::Full => Some(self),
            Sight::Nothing => None,
            Sight::Tombstone => {
                self.body = None;
                self.body_html = None;
                self.status_reason = None;
                Some(self)
            }
        }
    }
}

/// One version of a post.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Revision {
    /// Post id.
    pub post_id: i64,
    /// 1 = as first posted.
    pub revision: i64,
    /// Markdown of that version.
    pub body: String,
    /// Kind at that version.
    pub kind: PostKind,
    /// Objectives at that version.
    pub objectives: Vec<i64>,
    /// Who wrote that version.
    pub editor_id: i64,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Counts shown with a region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct RegionCounts {
    /// Threads.
    pub threads: i64,
    /// Published posts.
    pub posts: i64,
    /// Distinct authors of published posts.
    pub participants: i64,
}

/// A post waiting for a moderator, with why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QueueItem {
    /// The post, in full (moderators see everything).
    pub post: Post,
    /// Open flags.
    pub open_flags: i64,
    /// Sum of the open flags' weights.
    pub flag_weight: i64,
    /// Open flags for personal data (these come first).
    pub personal_data_flags: i64,
    /// Open flags by reason.
    pub reasons: Vec<ReasonCount>,
    /// Since when it waits.
    pub queued_at: DateTime<Utc>,
    /// The moderator who took it, if any.
    pub assigned_to: Option<i64>,
    /// Moderators' notes, oldest first.
    pub notes: Vec<ModeratorNote>,
    /// The author's appeal of the last decision, if any.
    pub appeal: Option<String>,
}

/// How many open flags give a reason.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReasonCount {
    /// The reason.
    pub reason: crate::FlagReason,
    /// How many.
    pub count: i64,
}

/// A moderator's note on a queued post.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ModeratorNote {
    /// Who wrote it.
    pub moderator_id: i64,
    /// The note.
    pub note: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A moderation decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Decision {
    /// Id (appeals name it).
    pub id: i64,
    /// Region.
    pub region: String,
    /// Post decided on.
    pub post_id: Option<i64>,
    /// Thread decided on.
    pub thread_id: Option<i64>,
    /// The author concerned.
    pub subject_id: Option<i64>,
    /// Who decided.
    pub moderator_id: i64,
    /// What.
    pub action: String,
    /// Why (shown to the author).
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// Region concerned, if any.
    pub region: Option<String>,
    /// Who acted (none for the system, e.g. an automatic hide).
    pub actor_id: Option<i64>,
    /// What was done.
    pub action: String,
    /// On what kind of object.
    pub object_type: String,
    /// Which one.
    pub object_id: Option<i64>,
    /// Why.
    pub reason: Option<String>,
    /// State before (JSON).
    pub before: Option<serde_json::Value>,
    /// State after (JSON).
    pub after: Option<serde_json::Value>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A suspension in force.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Suspension {
    /// The user.
    pub user_id: i64,
    /// Until when.
    pub until: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// The region it applies to (posting, flagging and endorsing there); `null`: everywhere,
    /// imposed by an admin, and then the account's moderation and secretariat powers are
    /// suspended too.
    pub region: Option<String>,
}
