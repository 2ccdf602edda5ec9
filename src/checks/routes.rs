//! Checks: routes.

use super::Check;

/// Checks of this area.
pub static CHECKS: &[Check] = &[];
