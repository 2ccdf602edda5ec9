//! `gateway install | uninstall`: CRD bundle sources, the install plan, server-side apply and waits,
//! and gateway control planes through helm.

pub mod apply;
pub mod crds;
pub mod helm;
pub mod plan;
pub mod report;
pub mod source;
