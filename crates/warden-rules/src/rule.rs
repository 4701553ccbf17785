//! The anatomy of a rule: metadata, docs captured from the doc comment, parameters, a check.

use warden_core::{ChangeSet, Enforcement, Resource, Severity};

use crate::context::{CheckContext, Report};

/// Declares a rule: the doc comment becomes its documentation (`warden explain`, SARIF help,
/// `docs/rules/<id>.md`), and the file and line are recorded for "view source" links.
///
/// This is clippy's `declare_clippy_lint!` technique as a `macro_rules!`: no proc macro.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $NAME:ident = RuleMeta { $($field:ident : $value:expr),* $(,)? };
    ) => {
        $(#[doc = $doc])*
        $vis static $NAME: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
            $($field: $value,)*
            docs: concat!($($doc, "\n"),*),
            location: concat!(file!(), "#L", line!()),
        };
    };
}

/// How often a rule can attach a machine-applicable fix (ruff's `FixAvailability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    /// Every violation has a fix.
    Always,
    /// Some violations have a fix.
    Sometimes,
    /// No violation has a fix.
    None,
}

/// What a rule's check function looks at.
#[derive(Clone, Copy)]
pub enum Check {
    /// One resource at a time: every managed resource that exists after the change (create,
    /// update, replace, no-op) whose kind is in `kinds` (data sources as `data.<type>`).
    Resource(fn(&Resource, &CheckContext<'_>, &mut Report<'_>)),
    /// The whole change set at once (blast radius, deletes).
    ChangeSet(fn(&ChangeSet, &CheckContext<'_>, &mut Report<'_>)),
    /// Nothing the engine runs: the rule's findings are derived from two evaluations by the
    /// step that makes them (`warden drift` compares the findings on the last-known and the
    /// live state: `warden_core::drift`). The rule is registered for its id, docs and
    /// configuration (`warden rules`, `warden explain`, `ignore`, enforcement); its tests
    /// sit with that step, not in a fixture file.
    Derived,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Check::Resource(_) => "Check::Resource",
            Check::ChangeSet(_) => "Check::ChangeSet",
            Check::Derived => "Check::Derived",
        })
    }
}

/// The type of a rule parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A list of strings.
    StringList,
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A boolean.
    Bool,
    /// A table of string → string.
    StringMap,
    /// A table of string → list of strings.
    StringListMap,
}

impl ParamKind {
    /// How the type is written in docs.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            ParamKind::StringList => "list of strings",
            ParamKind::String => "string",
            ParamKind::Integer => "integer",
            ParamKind::Bool => "boolean",
            ParamKind::StringMap => "table of strings",
            ParamKind::StringListMap => "table of string lists",
        }
    }

    /// `true` when the JSON value has this type.
    #[must_use]
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match self {
            ParamKind::StringList => value.as_array().is_some_and(|a| a.iter().all(J::is_string)),
            ParamKind::String => value.is_string(),
            ParamKind::Integer => value.is_i64() || value.is_u64(),
            ParamKind::Bool => value.is_boolean(),
            ParamKind::StringMap => value
                .as_object()
                .is_some_and(|m| m.values().all(J::is_string)),
            ParamKind::StringListMap => value.as_object().is_some_and(|m| {
                m.values()
                    .all(|v| v.as_array().is_some_and(|a| a.iter().all(J::is_string)))
            }),
        }
    }
}

/// A rule parameter, set in `warden.toml` under `[rules.<id>]`.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Key (kebab-case).
    pub name: &'static str,
    /// Type.
    pub kind: ParamKind,
    /// Default, as JSON text.
    pub default: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// Lifecycle of a rule id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleStatus {
    /// Stable since a version.
    Stable {
        /// The version.
        since: &'static str,
    },
    /// New: advisory until promoted, so upgrades never start blocking without warning.
    Preview,
}

/// A built-in rule.
#[derive(Debug)]
pub struct RuleMeta {
    /// `WD-<PROVIDER>-NNN`, never reused.
    pub id: &'static str,
    /// Kebab-case name of the bad state (`s3-bucket-public-acl`).
    pub name: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Enforcement when the configuration says nothing.
    pub enforcement: Enforcement,
    /// Resource kinds the rule applies to (`data.<type>` for data sources; empty: every kind).
    pub kinds: &'static [&'static str],
    /// Fix availability.
    pub fix: FixAvailability,
    /// Parameters.
    pub params: &'static [Param],
    /// Equivalent ids in other tools (`CKV_AWS_20`, `AVD-AWS-0092`).
    pub aliases: &'static [&'static str],
    /// Lifecycle.
    pub status: RuleStatus,
    /// The check.
    pub check: Check,
    /// Markdown docs, from the doc comment (filled by [`declare_rule!`]).
    pub docs: &'static str,
    /// `file#Lline` of the declaration (filled by [`declare_rule!`]).
    pub location: &'static str,
}

impl RuleMeta {
    /// The docs with the one leading space of each doc-comment line removed.
    #[must_use]
    pub fn markdown(&self) -> String {
        self.docs
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned()
    }

    /// The body of a `## Heading` section of the docs (trimmed).
    #[must_use]
    pub fn section(&self, heading: &str) -> Option<String> {
        section(&self.markdown(), heading)
    }

    /// The first paragraph of "Why it matters".
    #[must_use]
    pub fn why(&self) -> String {
        self.section("Why it matters")
            .and_then(|s| {
                s.split("\n\n")
                    .next()
                    .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .unwrap_or_default()
    }

    /// The URL of the rule's documentation page.
    #[must_use]
    pub fn help_uri(&self) -> String {
        format!(
            "https://github.com/warden-dev/warden/blob/main/docs/rules/{}.md",
            self.id
        )
    }

    /// The default of a parameter, parsed.
    #[must_use]
    pub fn param_default(&self, name: &str) -> Option<serde_json::Value> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| serde_json::from_str(p.default).ok())
    }
}

/// The body of a `## Heading` section in Markdown text.
#[must_use]
pub fn section(markdown: &str, heading: &str) -> Option<String> {
    let marker = format!("## {heading}");
    let mut lines = markdown.lines().skip_while(|l| l.trim() != marker);
    lines.next()?;
    let body: Vec<&str> = lines.take_while(|l| !l.starts_with("## ")).collect();
    Some(body.join("\n").trim().to_owned())
}
