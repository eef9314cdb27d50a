//! The end-to-end suite, one test binary (it links the hub once) with a module per feature:
//! real HTTP, WebSocket and SSE clients against a hub on a random port, each scenario on SQLite
//! and on PostgreSQL (`both_backends!`). `cargo test -p hub-tests --test e2e -- api::` runs
//! one module; `-- sqlite::` one backend.
#![forbid(unsafe_code)]

mod analysis;
mod api;
mod hardening;
mod live;
mod moderation;
mod store;
mod visibility;
