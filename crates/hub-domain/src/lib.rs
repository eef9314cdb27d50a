//! The hub's domain: what a region, an objective, a post or a user *is*, and the rules that
//! hold for them whatever the storage or transport. Nothing here does I/O, so every rule can be
//! tested in isolation and reused by the API, the storage layer, the jobs and the analysis.
#![forbid(unsafe_code)]

pub mod calendar;
pub mod entities;
pub mod lang;
pub mod markup;
pub mod model;
pub mod objectives;
pub mod search;
pub mod validate;
pub mod visibility;

pub use entities::*;
pub use model::*;
