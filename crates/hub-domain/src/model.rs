//! Vocabularies of the public contract. Each is a closed enum so that an unknown value can only
//! exist as a parse error at the edge, never inside the system.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a closed, snake_case vocabulary with its wire names in one place, so the serde
/// representation, `as_str` (used in SQL) and `parse` (used when reading rows) cannot drift.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        // utoipa cannot read the variants' `rename` through the macro: it reads this, and a test
        // in hub-api checks that the document's values are the wire names.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire (and database) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a wire name; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What a post is: the analysis treats recommendations and reports differently.
    PostKind {
        Comment => "comment",
        Recommendation => "recommendation",
        Report => "report",
    }
}

vocabulary! {
    /// What a post reports on, set by its author and correctable by moderators; the analysis
    /// groups quotes by these.
    Aspect {
        Priority => "priority",
        Progress => "progress",
        Gap => "gap",
        Practice => "practice",
        Collaboration => "collaboration",
    }
}

vocabulary! {
    /// Where a post stands in moderation. Only `published` posts are public and counted.
    PostStatus {
        Published => "published",
        Pending => "pending",
        Hidden => "hidden",
        Removed => "removed",
    }
}

vocabulary! {
    /// The stakeholder groups of A/RES/73/195 para 15(j), 43-44, plus youth.
    StakeholderGroup {
        MigrantOrg => "migrant_org",
        DiasporaOrg => "diaspora_org",
        CivilSociety => "civil_society",
        FaithBased => "faith_based",
        TradeUnion => "trade_union",
        PrivateSector => "private_sector",
        Academia => "academia",
        LocalAuthority => "local_authority",
        Parliamentarian => "parliamentarian",
        Nhri => "nhri",
        RedCrossRedCrescent => "red_cross_red_crescent",
        Media => "media",
        Youth => "youth",
        Philanthropy => "philanthropy",
        UnEntity => "un_entity",
        MemberState => "member_state",
        Other => "other",
    }
}

vocabulary! {
    /// Roles. `moderator` is always held for a region; the others are global.
    RoleKind {
        Stakeholder => "stakeholder",
        Moderator => "moderator",
        Secretariat => "secretariat",
        Admin => "admin",
    }
}

vocabulary! {
    /// How threads are listed.
    ThreadSort {
        Activity => "activity",
        New => "new",
        Top => "top",
    }
}

vocabulary! {
    /// Why a post is flagged. `personal_data` jumps the moderation queue.
    FlagReason {
        Spam => "spam",
        Abuse => "abuse",
        OffTopic => "off_topic",
        PersonalData => "personal_data",
        Other => "other",
    }
}

impl FlagReason {
    /// How much a flag of this reason weighs in the queue order.
    pub fn weight(self) -> i64 {
        match self {
            FlagReason::PersonalData => 3,
            FlagReason::Abuse | FlagReason::Spam => 2,
            FlagReason::OffTopic | FlagReason::Other => 1,
        }
    }
}

vocabulary! {
    /// A moderator's decision on a post.
    PostAction {
        Approve => "approve",
        Hide => "hide",
        Restore => "restore",
        Remove => "remove",
    }
}

vocabulary! {
    /// A moderator's decision on a thread.
    ThreadAction {
        Lock => "lock",
        Unlock => "unlock",
        Pin => "pin",
        Unpin => "unpin",
        Move => "move",
    }
}

/// The five regional discussion spaces. The set is fixed by the GCM's review process; the
/// names, languages and calendars come from configuration.
pub const REGION_SLUGS: [&str; 5] = [
    "africa",
    "arab-region",
    "asia-pacific",
    "europe",
    "latin-america-caribbean",
];

/// Whether `slug` names one of the five spaces.
pub fn is_region(slug: &str) -> bool {
    REGION_SLUGS.contains(&slug)
}

/// A role held by a user; `region` is set for moderators only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Role {
    /// The kind of role.
    pub role: RoleKind,
    /// The region a moderator moderates; absent for other roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Who is asking: decides what a reader may see (pending and hidden posts) and do.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The signed-in user, if any.
    pub user_id: Option<i64>,
    /// The roles of that user.
    pub roles: Vec<Role>,
}

impl Viewer {
    /// An anonymous reader.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Whether this viewer moderates `region`.
    pub fn moderates(&self, region: &str) -> bool {
        self.roles
            .iter()
            .any(|r| r.role == RoleKind::Moderator && r.region.as_deref() == Some(region))
    }

    /// Whether this viewer holds a global role.
    pub fn has(&self, role: RoleKind) -> bool {
        self.roles.iter().any(|r| r.role == role)
    }

    /// The regions this viewer moderates.
    pub fn moderated_regions(&self) -> Vec<String> {
        self.roles
            .iter()
            .filter(|r| r.role == RoleKind::Moderator)
            .filter_map(|r| r.region.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_through_their_wire_names() {
        for g in StakeholderGroup::ALL {
            assert_eq!(StakeholderGroup::parse(g.as_str()), Some(*g));
            let json = serde_json::to_string(g).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", g.as_str()));
        }
        assert_eq!(StakeholderGroup::ALL.len(), 17);
        assert_eq!(PostKind::parse("opinion"), None);
    }

    #[test]
    fn moderator_powers_are_scoped_to_their_region() {
        let v = Viewer {
            user_id: Some(1),
            roles: vec![Role {
                role: RoleKind::Moderator,
                region: Some("europe".into()),
            }],
        };
        assert!(v.moderates("europe"));
        assert!(!v.moderates("africa"));
    }
}
