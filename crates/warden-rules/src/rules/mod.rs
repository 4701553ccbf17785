//! The rules, by provider. `governance` holds provider-agnostic rules (regions, tags,
//! instance types, blast radius, secrets).

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod governance;
