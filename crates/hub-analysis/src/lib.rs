//! Analysis documents: one region's synthesis of what its stakeholders submitted, built on
//! the review calendar or on demand, from one consistent snapshot of the region's published
//! posts, kept per version and served as HTML, Markdown, JSON and CSV.
#![forbid(unsafe_code)]

pub mod build;
pub mod job;
pub mod model;
pub mod render;
pub mod text;

pub use job::{Analyses, Settings};
pub use model::Document;
