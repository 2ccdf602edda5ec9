//! kubectl-llmd: install, diagnose and repair the llm-d inference gateway stack.
//!
//! Every command is the same pipeline: collect → Snapshot → pure checks → Findings → render | fix.
//! See docs/architecture.md.

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod render;
