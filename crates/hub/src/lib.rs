//! The `hub` binary's library: configuration, wiring, and the offline commands (users, demo
//! corpus, Pol.is import). Kept as a library so the end-to-end tests start the real thing.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod config;
pub mod demo;
pub mod polis;
pub mod server;
pub mod users;

pub use config::Config;
