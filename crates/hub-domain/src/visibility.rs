//! Who may see what: the one statement of the rule, which every read path applies.
//!
//! # The rule
//!
//! **A published post is everyone's.** A post that is not published (pending, hidden or
//! removed) is *withheld*: it is seen in full only by those who **see what is withheld of
//! it**: its author and the moderators of its region ([`sees_withheld`]). No other role
//! widens that: a moderator of another region, the secretariat and admins see a withheld post
//! as an anonymous reader does. To everyone else a pending post does not exist (it was never
//! public), and a hidden or removed one is a *tombstone*: the post without its body, its
//! rendered HTML or the moderator's reason ([`post_sight`]).
//!
//! **A thread stands on its opening post.** While the opening post is not published, the
//! thread, its title included, is withheld from everyone who does not see what is withheld of
//! that post ([`thread_withheld`]); it comes back when the post is published again. Whether the
//! thread is locked changes nothing here (a locked thread takes no new posts, and is read as
//! before).
//!
//! **What is withheld from someone is withheld from their reads and replies.** In a thread
//! withheld from a viewer, no reply exists for them: the thread's page and each reply read by
//! id answer 404, and they may not reply there. The opening post read by id is what its own
//! status makes it (a tombstone when hidden or removed): the thread's withholding covers its
//! title and its replies ([`read_sight`]). A thread page served from the cache is the page as
//! everyone sees it, so it is served only to viewers who see nothing withheld on it.
//!
//! **Search** finds a thread by the words of its published posts (and its title), and lists it
//! only to those it is not withheld from ([`found_by_search`]): the words of a withheld post
//! find nothing, even for those who may read it.
//!
//! **Live events and their replay** decide per event, on the post the event is about. An event
//! about a post that is withheld now (not published, or in a thread whose opening post is not
//! published) goes in full to the post's author and its region's moderators, and as a
//! tombstone (the thread's title taken out too) to everyone else; an event logged while its
//! post was withheld is never shown to others at all ([`event_sight`]). So on the live channels
//! a reply in a withheld thread is its author's to see, and others (the opening post's author
//! among them) get no more than a tombstone of it.
//!
//! The storage layer keeps the same rule in SQL where it filters rows (the thread list, search,
//! replies into withheld threads, which posts a replay withholds); the agreement test
//! (`tests/e2e/visibility.rs`) checks every read path against this module for every
//! combination of post status, viewer and thread state.

use crate::{PostStatus, Viewer};

/// How much of a post a viewer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sight {
    /// The post does not exist for them (404; left out of lists and events).
    Nothing,
    /// The post without its body, HTML and moderation reason.
    Tombstone,
    /// The whole post.
    Full,
}

/// What visibility depends on about one post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostFacts<'a> {
    /// Its moderation status.
    pub status: PostStatus,
    /// Its author.
    pub author_id: i64,
    /// Its thread's region.
    pub region: &'a str,
}

/// Whether a post with this status is everyone's (only published posts are).
pub fn is_public(status: PostStatus) -> bool {
    status == PostStatus::Published
}

/// Whether `viewer` sees what is withheld of a post by `author_id` in `region`: they wrote it,
/// or they moderate its region. `None` stands for an unknown author or region, which grants
/// nothing.
pub fn sees_withheld(viewer: &Viewer, author_id: Option<i64>, region: Option<&str>) -> bool {
    (viewer.user_id.is_some() && viewer.user_id == author_id)
        || region.is_some_and(|r| viewer.moderates(r))
}

/// How much of `post` itself `viewer` sees, its thread aside.
pub fn post_sight(viewer: &Viewer, post: &PostFacts<'_>) -> Sight {
    if is_public(post.status) || sees_withheld(viewer, Some(post.author_id), Some(post.region)) {
        Sight::Full
    } else if post.status == PostStatus::Pending {
        Sight::Nothing
    } else {
        Sight::Tombstone
    }
}

/// Whether the thread opened by `opening` is withheld from `viewer` (404, unlisted, title
/// unseen): its opening post is not published and `viewer` does not see what is withheld of
/// it. A thread without an opening post is withheld from nobody.
pub fn thread_withheld(viewer: &Viewer, opening: Option<&PostFacts<'_>>) -> bool {
    opening.is_some_and(|op| {
        !is_public(op.status) && !sees_withheld(viewer, Some(op.author_id), Some(op.region))
    })
}

/// How much of `post` a read shows `viewer` (the post by id, a page of its thread):
/// nothing of a reply in a thread withheld from them, otherwise [`post_sight`]. `opening` is
/// the thread's opening post; `is_opening` says `post` is that post.
pub fn read_sight(
    viewer: &Viewer,
    post: &PostFacts<'_>,
    opening: Option<&PostFacts<'_>>,
    is_opening: bool,
) -> Sight {
    if !is_opening && thread_withheld(viewer, opening) {
        return Sight::Nothing;
    }
    post_sight(viewer, post)
}

/// Whether searching for words of `post` lists its thread to `viewer`: the post is published
/// and the thread is not withheld from them.
pub fn found_by_search(
    viewer: &Viewer,
    post: &PostFacts<'_>,
    opening: Option<&PostFacts<'_>>,
) -> bool {
    is_public(post.status) && !thread_withheld(viewer, opening)
}

/// How much of an event about a post by `author_id` in `region` `viewer` gets on a live
/// channel or in a replay. `withheld` says the post is withheld (not published when the event
/// was logged, or now, or its thread's opening post is not published now: see
/// [`withheld_now`]); `announced` says the event went to everyone when it was logged (it was
/// not logged for the author and the region's moderators only).
pub fn event_sight(
    viewer: &Viewer,
    author_id: Option<i64>,
    region: Option<&str>,
    withheld: bool,
    announced: bool,
) -> Sight {
    // An event everyone may see in full asks nothing of the viewer (the fan-out's common case).
    if (announced && !withheld) || sees_withheld(viewer, author_id, region) {
        Sight::Full
    } else if announced {
        Sight::Tombstone
    } else {
        Sight::Nothing
    }
}

/// Whether an event about `post`, whose thread opens with `opening`, is withheld now: the post
/// or the opening post is not published.
pub fn withheld_now(post: &PostFacts<'_>, opening: Option<&PostFacts<'_>>) -> bool {
    !is_public(post.status) || opening.is_some_and(|op| !is_public(op.status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, RoleKind};

    const AUTHOR: i64 = 1;
    const OPENER: i64 = 2;

    /// The viewers of the rule, each with a name for failure messages.
    fn viewers() -> Vec<(&'static str, Viewer)> {
        let with = |id: i64, roles: Vec<Role>| Viewer {
            user_id: Some(id),
            roles,
        };
        let role = |role: RoleKind, region: Option<&str>| Role {
            role,
            region: region.map(str::to_string),
        };
        vec![
            ("anonymous", Viewer::anonymous()),
            (
                "author",
                with(AUTHOR, vec![role(RoleKind::Stakeholder, None)]),
            ),
            (
                "opener",
                with(OPENER, vec![role(RoleKind::Stakeholder, None)]),
            ),
            (
                "stakeholder",
                with(3, vec![role(RoleKind::Stakeholder, None)]),
            ),
            (
                "moderator",
                with(4, vec![role(RoleKind::Moderator, Some("europe"))]),
            ),
            (
                "other moderator",
                with(5, vec![role(RoleKind::Moderator, Some("africa"))]),
            ),
            (
                "secretariat",
                with(6, vec![role(RoleKind::Secretariat, None)]),
            ),
            ("admin", with(7, vec![role(RoleKind::Admin, None)])),
        ]
    }

    /// What a read shows, written out as the table the prose above states.
    fn expected_read(viewer: &str, status: PostStatus, opening: PostStatus) -> Sight {
        let thread_open =
            opening == PostStatus::Published || matches!(viewer, "opener" | "moderator");
        if !thread_open {
            return Sight::Nothing;
        }
        match (status, viewer) {
            (PostStatus::Published, _) | (_, "author" | "moderator") => Sight::Full,
            (PostStatus::Pending, _) => Sight::Nothing,
            (PostStatus::Hidden | PostStatus::Removed, _) => Sight::Tombstone,
        }
    }

    #[test]
    fn a_reply_is_read_as_the_table_says_for_every_status_viewer_and_thread() {
        let mut wrong = Vec::new();
        for (name, viewer) in viewers() {
            for &opening in PostStatus::ALL {
                for &status in PostStatus::ALL {
                    let op = PostFacts {
                        status: opening,
                        author_id: OPENER,
                        region: "europe",
                    };
                    let post = PostFacts {
                        status,
                        author_id: AUTHOR,
                        region: "europe",
                    };
                    let got = read_sight(&viewer, &post, Some(&op), false);
                    let want = expected_read(name, status, opening);
                    if got != want {
                        wrong.push(format!(
                            "{name}, {status} in {opening}: {got:?}, not {want:?}"
                        ));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn the_opening_post_read_by_id_is_what_its_status_makes_it() {
        for (name, viewer) in viewers() {
            for &status in PostStatus::ALL {
                let op = PostFacts {
                    status,
                    author_id: OPENER,
                    region: "europe",
                };
                let want = match (status, name) {
                    (PostStatus::Published, _) | (_, "opener" | "moderator") => Sight::Full,
                    (PostStatus::Pending, _) => Sight::Nothing,
                    _ => Sight::Tombstone,
                };
                assert_eq!(
                    read_sight(&viewer, &op, Some(&op), true),
                    want,
                    "{name}, {status}"
                );
                assert_eq!(
                    thread_withheld(&viewer, Some(&op)),
                    status != PostStatus::Published && !matches!(name, "opener" | "moderator"),
                    "{name}, {status}"
                );
            }
        }
    }

    #[test]
    fn search_finds_only_published_words_of_threads_the_viewer_may_read() {
        for (name, viewer) in viewers() {
            for &opening in PostStatus::ALL {
                for &status in PostStatus::ALL {
                    let op = PostFacts {
                        status: opening,
                        author_id: OPENER,
                        region: "europe",
                    };
                    let post = PostFacts {
                        status,
                        author_id: AUTHOR,
                        region: "europe",
                    };
                    let want = status == PostStatus::Published
                        && (opening == PostStatus::Published
                            || matches!(name, "opener" | "moderator"));
                    assert_eq!(
                        found_by_search(&viewer, &post, Some(&op)),
                        want,
                        "{name}, {status} in {opening}"
                    );
                }
            }
        }
    }

    #[test]
    fn events_of_withheld_posts_are_tombstones_to_all_but_author_and_moderators() {
        for (name, viewer) in viewers() {
            for &opening in PostStatus::ALL {
                for &status in PostStatus::ALL {
                    let op = PostFacts {
                        status: opening,
                        author_id: OPENER,
                        region: "europe",
                    };
                    let post = PostFacts {
                        status,
                        author_id: AUTHOR,
                        region: "europe",
                    };
                    let withheld = withheld_now(&post, Some(&op));
                    assert_eq!(
                        withheld,
                        status != PostStatus::Published || opening != PostStatus::Published
                    );
                    for announced in [true, false] {
                        let want = match (name, withheld, announced) {
                            ("author" | "moderator", _, _) => Sight::Full,
                            (_, _, false) => Sight::Nothing,
                            (_, true, true) => Sight::Tombstone,
                            (_, false, true) => Sight::Full,
                        };
                        assert_eq!(
                            event_sight(
                                &viewer,
                                Some(post.author_id),
                                Some(post.region),
                                withheld,
                                announced
                            ),
                            want,
                            "{name}, {status} in {opening}, announced {announced}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn an_unknown_author_or_region_grants_nothing() {
        assert!(!sees_withheld(&Viewer::anonymous(), None, None));
        let v = Viewer {
            user_id: Some(1),
            roles: Vec::new(),
        };
        assert!(!sees_withheld(&v, None, Some("europe")));
        assert!(sees_withheld(&v, Some(1), None));
        assert!(!thread_withheld(&Viewer::anonymous(), None));
    }
}
