//! The hub's HTTP API: axum handlers for the public contract (`shared/CONTRACT.md`), the
//! OpenAPI document generated from them, and the operations endpoints.
#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
pub mod extract;
pub mod hashing;
pub mod listener;
mod middleware;
pub mod openapi;
pub mod page_cache;
pub mod ratelimit;
pub mod routes;
pub mod state;

pub use routes::{app, openapi};
pub use state::{ApiConfig, AppState};
