//! Warden's vocabulary and its pure parts.
//!
//! The data path is one straight line, and this crate holds both ends of it:
//!
//! ```text
//! bytes -> inputs:: parse + normalize => ChangeSet
//!       -> engines (other crates)      => Vec<Finding>
//!       -> decide:: waivers, outcome   => Decision
//!       -> render:: text | json | sarif | junit | markdown
//! ```
//!
//! Nothing here does I/O beyond reading inputs, nothing is async, and nothing prints.

pub mod changeset;
pub mod cost;
pub mod decide;
pub mod decision;
pub mod digest;
pub mod drift;
pub mod engine;
pub mod exceptions;
pub mod finding;
pub mod inputs;
pub mod patch;
pub mod render;
pub mod resource;
pub mod risk;
pub mod secret_names;
pub mod value;

pub use changeset::{
    ActorKind, ChangeSet, Context, InputInfo, InputKind, ProviderConfig, RawDocument,
    ResourceConfig, Setting, TerraformInfo,
};
pub use decision::{BundleRevision, Decision, EngineError, Outcome, Summary, WaivedFinding};
pub use engine::{Engine, RuleInfo};
pub use exceptions::{Exception, Waiver};
pub use finding::{Enforcement, Finding, Fix, PatchOp, Severity, SourceEdit};
pub use resource::{Action, Attr, Location, Mode, Resource};
pub use value::Value;
