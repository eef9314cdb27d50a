//! Who may see what, as SQL: the predicates every statement about posts and threads uses.
//!
//! The rule (decided once, here; the API and the fan-out apply its Rust side):
//!
//! - a **published** post is seen in full by everyone;
//! - a **pending** post exists only for its author and its region's moderators: others do not
//!   get it at all;
//! - a **hidden** or **removed** post is a tombstone to everyone else (its place in the tree
//!   stays, its texts and reason do not);
//! - **a thread stands on its opening post**: while that post is not published, the thread is
//!   withheld from others as the post is, and so is everything in it: listings, replies to it,
//!   reads of its pages, search, the page cache and the replay of the event log.
//!
//! Each fragment is a macro expanding to a string literal, so that statements assembled at
//! compile time (`concat!`) and at run time (`format!`) share it. Aliases are given as
//! literals (`"p"` for a post, `"t"` for a thread, `"op"` for its opening post).
//!
//! Not here: a thread's counters of its published posts, kept from a bound status (`$15 =
//! 'published'` in the insert of a post, `set_status`) and by triggers (migration 0007).

/// The post `$p` is published: everyone sees it in full. Without an alias, the `status` column
/// of the statement's one table of posts.
macro_rules! published {
    () => {
        "status = 'published'"
    };
    ($p:literal) => {
        concat!($p, ".status = 'published'")
    };
}
pub(crate) use published;

/// The post `$p` is withheld from everyone but its author and its region's moderators: pending
/// (not there for others), hidden or removed (a tombstone for others).
macro_rules! withheld {
    ($p:literal) => {
        concat!($p, ".status <> 'published'")
    };
}
pub(crate) use withheld;

/// The post `$p` is on a page others read, in full or as a tombstone: anything but pending.
macro_rules! listed {
    ($p:literal) => {
        concat!($p, ".status <> 'pending'")
    };
}
pub(crate) use listed;

/// Joins the opening post `$op` of the thread `$t` (the condition of the join: `JOIN posts op
/// ON ...`): a thread stands on it.
macro_rules! opening_post_of {
    ($t:literal, $op:literal) => {
        concat!($op, ".id = ", $t, ".opening_post_id")
    };
}
pub(crate) use opening_post_of;

/// The thread `$t` is withheld from others: its opening post is not published.
macro_rules! thread_withheld {
    ($t:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM posts op WHERE ",
            crate::visible::opening_post_of!($t, "op"),
            " AND ",
            crate::visible::withheld!("op"),
            ")"
        )
    };
}
pub(crate) use thread_withheld;

/// The post `$p` is withheld, or its thread is: `$op` is the opening post of `$p`'s thread,
/// joined (a replay withholds what was logged about such a post).
macro_rules! post_or_thread_withheld {
    ($p:literal, $op:literal) => {
        concat!(
            "(",
            crate::visible::withheld!($p),
            " OR ",
            crate::visible::withheld!($op),
            ")"
        )
    };
}
pub(crate) use post_or_thread_withheld;

/// The author `$viewer` (who moderates no region) sees the post whose status and author are the
/// columns `$status` and `$author`: it is published or theirs. True when there is no such post
/// (its absence is judged elsewhere).
macro_rules! author_sees {
    ($status:literal, $author:literal, $viewer:literal) => {
        concat!(
            "COALESCE(",
            $status,
            " = 'published' OR ",
            $author,
            " = ",
            $viewer,
            ", true)"
        )
    };
}
pub(crate) use author_sees;

/// The audience of an event about a post in a thread whose opening post has the status
/// `$opening_status` (null: none): `'restricted'` while that post is not published, else
/// `$audience` (the post's own).
macro_rules! thread_audience {
    ($opening_status:literal, $audience:literal) => {
        concat!(
            "CASE WHEN COALESCE(",
            $opening_status,
            ", 'published') <> 'published' THEN 'restricted' ELSE ",
            $audience,
            " END"
        )
    };
}
pub(crate) use thread_audience;

#[cfg(test)]
mod tests {
    #[test]
    fn fragments_read_as_the_rule_says() {
        assert_eq!(published!(), "status = 'published'");
        assert_eq!(published!("p"), "p.status = 'published'");
        assert_eq!(withheld!("op"), "op.status <> 'published'");
        assert_eq!(listed!("p"), "p.status <> 'pending'");
        assert_eq!(opening_post_of!("t", "op"), "op.id = t.opening_post_id");
        assert_eq!(
            thread_withheld!("t"),
            "EXISTS (SELECT 1 FROM posts op WHERE op.id = t.opening_post_id \
             AND op.status <> 'published')"
        );
        assert_eq!(
            post_or_thread_withheld!("p", "op"),
            "(p.status <> 'published' OR op.status <> 'published')"
        );
        assert_eq!(
            author_sees!("c.opening_status", "c.opening_author", "c.author_id"),
            "COALESCE(c.opening_status = 'published' OR c.opening_author = c.author_id, true)"
        );
        assert_eq!(
            thread_audience!("opening_status", "audience"),
            "CASE WHEN COALESCE(opening_status, 'published') <> 'published' \
             THEN 'restricted' ELSE audience END"
        );
    }
}
