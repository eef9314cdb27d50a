//! The `hub` binary's library: configuration, wiring, and the offline commands (users; the
//! demo corpus and the Pol.is import live in `hub-demo`, re-exported here as `hub::demo` and
//! `hub::polis`). Kept as a library so the end-to-end tests start the real thing.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod config;
pub mod server;
pub mod users;

pub use config::Config;
pub use hub_demo::{demo, polis};
