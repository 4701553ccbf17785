//! Warden's built-in rules.
//!
//! Each rule is one file under `rules/<provider>/` in ruff's shape: a [`declare_rule!`] whose
//! doc comment is the rule's documentation (What it checks, Why it matters, Example, Use
//! instead, Fix, Parameters, References), its metadata, and a check function that writes
//! findings (with fixes) into a [`Report`](context::Report). Its fixtures sit in
//! `fixtures/<provider>/<rule-name>.yaml`; adding a fixture file adds a test.
//!
//! Adding a rule touches three places: the rule file, one line in its provider's `mod.rs`
//! `RULES` list, and the fixture file. Everything else (the kind index, `warden rules`,
//! `warden explain`, SARIF rule metadata, `docs/rules/<id>.md`) is derived.

pub mod context;
pub mod docs;
pub mod engine;
pub mod helpers;
pub mod registry;
pub mod rule;
pub mod rules;

#[cfg(test)]
mod testing;

pub use context::{CheckContext, Report, ResolvedRule};
pub use engine::{BuiltinEngine, UnknownPolicy};
pub use registry::{all, derived_finding, find, SHARED_PARAMS};
pub use rule::{Check, FixAvailability, Param, ParamKind, RuleMeta, RuleStatus};

/// What every rule file imports.
#[allow(unused_imports, reason = "a prelude: each rule uses a different part")]
pub(crate) mod prelude {
    pub(crate) use crate::context::{CheckContext, Report};
    pub(crate) use crate::declare_rule;
    pub(crate) use crate::helpers;
    pub(crate) use crate::rule::{Check, FixAvailability, Param, ParamKind, RuleMeta, RuleStatus};
    pub(crate) use warden_core::{
        Action, Attr, ChangeSet, Enforcement, Fix, Resource, Severity, Value,
    };
}
