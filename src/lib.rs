//! kubectl-llmd: install, diagnose and repair the llm-d inference gateway stack.
//!
//! Every command is the same pipeline: collect → Snapshot → pure checks → Findings → render | fix.
//! See docs/architecture.md.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod collect;
pub mod commands;
pub mod error;
pub mod findings;
pub mod fix;
pub mod fleet;
pub mod install;
pub mod model;
pub mod render;
pub mod repair;
pub mod routing;
pub mod snapshot;
