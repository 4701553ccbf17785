//! Drift on the server: scans submitted through the API or run on a schedule, stored as drift
//! events that open, stay open and resolve, each attributed to the Warden decision that
//! touched the resource (or "out of band") and carrying its remediation.
//!
//! ```text
//! refresh-only plan | {"manifests", "live"}  -> scan::compare       => Comparison
//! the space's layered policies                -> scan::report        => DriftReport (WD-DRIFT-001)
//! decisions that touched each address         -> attribution         => who, through which door
//! store                                       -> record_drift_scan   => events opened / kept / resolved
//! ```
//!
//! [`api`] holds the operations behind `/v1/drift` with their authorisation; [`schedule`]
//! the loop `warden serve` runs over `[drift]` targets through [`schedule::DriftSource`].

pub mod api;
pub mod attribution;
pub mod scan;
pub mod schedule;
