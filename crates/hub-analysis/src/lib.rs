//! Analysis documents: one region's synthesis of what its stakeholders submitted.
#![forbid(unsafe_code)]

pub mod model;
pub mod render;

pub use model::Document;
