//! The records the hub keeps, as clients see them. Storage builds them, the API serialises
//! them; the redaction rules (who sees a hidden or pending post) live here so that every
//! transport applies the same ones.

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
    /// Whether `viewer` may see this post's content and reason: its author, the region's
    /// moderators, or anyone when it is published.
    pub fn visible_in_full_to(&self, viewer: &Viewer) -> bool {
        self.status == PostStatus::Published
            || viewer.user_id == Some(self.author.id)
            || viewer.moderates(&self.region)
    }

    /// The post as `viewer` may see it: `None` when it is pending and not theirs to see (it
    /// does not exist for them), a tombstone without body or reason when it is hidden or
    /// removed, the whole post otherwise.
    pub fn redacted_for(mut self, viewer: &Viewer) -> Option<Post> {
        if self.visible_in_full_to(viewer) {
            return Some(self);
        }
        if self.status == PostStatus::Pending {
            return None;
        }
        self.body = None;
        self.body_html = None;
        self.status_reason = None;
        Some(self)
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
