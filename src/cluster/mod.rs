//! Everything that talks to a cluster: the client, the snapshot collector, apply and wait helpers.

pub mod client;

pub use client::{connect, Connection};
