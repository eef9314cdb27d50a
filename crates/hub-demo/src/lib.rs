//! The demo corpus and the Pol.is import, the two ways `hub demo` fills a database with
//! discussions that can be shown and tested without real participants' data: [`demo`]
//! generates a multilingual corpus in all five regional spaces, [`polis`] imports public
//! Pol.is conversations.
#![forbid(unsafe_code)]

pub mod demo;
pub mod polis;
mod write;
