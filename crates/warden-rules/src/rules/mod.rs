//! The rules, by provider (`kubernetes` for manifests). `governance` holds provider-agnostic rules (regions, tags,
//! instance types, blast radius, secrets).

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod governance;
pub mod kubernetes;
