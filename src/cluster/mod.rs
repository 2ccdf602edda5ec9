//! Everything that talks to a cluster: the client, the snapshot collector, apply and wait helpers.

pub mod client;
pub mod error;
pub mod layer;
pub mod write;

pub use client::{connect, Connection, Settings};
pub use error::{classify, Class};
