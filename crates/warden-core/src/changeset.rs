//! The normalized change every engine evaluates.

use std::collections::HashMap;

use serde::Serialize;

use crate::resource::{Location, Resource};
use crate::value::Value;

/// What kind of actor proposes a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A person.
    #[default]
    Human,
    /// An AI agent.
    Agent,
    /// A CI/CD pipeline.
    Pipeline,
}

/// Who proposes the change, where, and when.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Context {
    /// Actor id (user, token or agent name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Actor kind.
    pub actor_kind: ActorKind,
    /// Space (team or project scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    /// Environment name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Operation (`apply`, `launch` ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Free-form labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(String, String)>,
    /// The Kubernetes admission request this change came in (the `request` of an
    /// AdmissionReview, as the API server sent it), for policies that read it the way
    /// Gatekeeper passes it (`input.review` in Rego). `None` outside admission: `warden check`
    /// never sets it. Not serialized (it repeats the object).
    #[serde(skip)]
    pub review: Option<Value>,
}

/// The kind of document an input was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// `terraform show -json` of a plan (Terraform or OpenTofu).
    TerraformPlan,
    /// Kubernetes manifests (YAML or JSON; Helm and Kustomize output).
    KubernetesManifests,
}

/// What was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    /// Path as given (`-` for standard input).
    pub path: String,
    /// Document kind.
    pub kind: InputKind,
    /// `sha256:<hex>` of the bytes read.
    pub digest: String,
    /// Terraform plan `format_version`, when a plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    /// `terraform_version` (or OpenTofu's), when a plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
}

/// A setting that may be a literal, a value known only at apply, or unset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "value")]
pub enum Setting {
    /// Resolved to this value.
    Known(Value),
    /// Set, but not resolvable from the plan (names the expression).
    Unknown(String),
    /// Not set.
    Unset,
}

impl Setting {
    /// The string value when known.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Setting::Known(v) => v.as_str(),
            _ => None,
        }
    }
}

/// A provider configuration block, with the settings rules need resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderConfig {
    /// Key in `configuration.provider_config` (`aws`, `aws.west`, `module.a:aws`).
    pub key: String,
    /// Provider name (`aws`).
    pub name: String,
    /// Alias, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Module the block is declared in, `None` for root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `region` (AWS, Google) resolved through variables.
    pub region: Setting,
    /// `default_tags.tags` (AWS) when known, else `null`.
    pub default_tags: Value,
}

/// What the configuration says about one resource block: references and literals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceConfig {
    /// `provider_config_key` of the block.
    pub provider_config_key: Option<String>,
    /// Attribute path (dotted, no indexes) → addresses it references, module-qualified
    /// (`aws_s3_bucket.b.id`, `module.a.aws_vpc.main.id`).
    pub references: Vec<(String, Vec<String>)>,
    /// Attribute paths set to a literal (`constant_value`) in the configuration.
    pub constants: Vec<String>,
    /// Every attribute path the configuration sets, whatever the expression.
    pub attributes: Vec<String>,
}

impl ResourceConfig {
    /// The references of one attribute.
    #[must_use]
    pub fn references_of(&self, attribute: &str) -> &[String] {
        self.references
            .iter()
            .find(|(a, _)| a == attribute)
            .map_or(&[], |(_, refs)| refs.as_slice())
    }

    /// `true` when the configuration sets the attribute (dotted path without indexes), or a
    /// block inside it, or the block it is in.
    #[must_use]
    pub fn sets(&self, attribute: &str) -> bool {
        self.attributes.iter().any(|a| {
            a == attribute
                || a.strip_prefix(attribute)
                    .is_some_and(|rest| rest.starts_with('.'))
                || attribute
                    .strip_prefix(a.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// `true` when the attribute is a literal in the configuration.
    #[must_use]
    pub fn is_constant(&self, attribute: &str) -> bool {
        self.constants.iter().any(|a| a == attribute)
    }
}

/// Terraform-specific context of a plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TerraformInfo {
    /// Provider configuration blocks.
    pub providers: Vec<ProviderConfig>,
    /// Configuration of each resource block, by config address (no indexes).
    pub config: HashMap<String, ResourceConfig>,
    /// Data sources read into `prior_state`.
    pub data_sources: Vec<Resource>,
    /// `resource_drift`: changes made outside Terraform, found on refresh.
    pub drift: Vec<Resource>,
    /// `true` when the plan says it errored (`errored: true`).
    pub errored: bool,
    /// The plan document as read (UTF-8 text, or already converted by the engine that reads
    /// it), for engines that evaluate the raw plan the way conftest passes it (Rego). The
    /// parser never fills it (it would cost a copy of every plan); the caller attaches it
    /// when a loaded engine asks for it ([`RawDocument::new`], or the engine's own
    /// preparation: `PolicySet::prepare_document`).
    pub document: Option<RawDocument>,
}

/// A raw input document shared without copying: the text as read, or what the engine that
/// reads it made of it ahead of evaluation (so the text need not stay in memory). `Debug`
/// prints its size or kind only.
#[derive(Clone)]
pub struct RawDocument(RawRepr);

#[derive(Clone)]
enum RawRepr {
    Text(std::sync::Arc<str>),
    Prepared(std::sync::Arc<dyn std::any::Any + Send + Sync>),
}

impl RawDocument {
    /// Wraps UTF-8 text.
    #[must_use]
    pub fn new(text: impl Into<std::sync::Arc<str>>) -> RawDocument {
        RawDocument(RawRepr::Text(text.into()))
    }

    /// Wraps a document already converted by the engine that reads it (that engine
    /// downcasts it with [`RawDocument::prepared_as`]).
    #[must_use]
    pub fn prepared<T: std::any::Any + Send + Sync>(value: T) -> RawDocument {
        RawDocument(RawRepr::Prepared(std::sync::Arc::new(value)))
    }

    /// The text, when the document was kept as text.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            RawRepr::Text(t) => Some(t),
            RawRepr::Prepared(_) => None,
        }
    }

    /// The prepared document, when it is a `T`.
    #[must_use]
    pub fn prepared_as<T: std::any::Any>(&self) -> Option<&T> {
        match &self.0 {
            RawRepr::Text(_) => None,
            RawRepr::Prepared(p) => p.downcast_ref(),
        }
    }
}

impl PartialEq for RawDocument {
    fn eq(&self, other: &RawDocument) -> bool {
        match (&self.0, &other.0) {
            (RawRepr::Text(a), RawRepr::Text(b)) => a == b,
            (RawRepr::Prepared(a), RawRepr::Prepared(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for RawDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            RawRepr::Text(t) => write!(f, "RawDocument({} bytes)", t.len()),
            RawRepr::Prepared(_) => f.write_str("RawDocument(prepared)"),
        }
    }
}

impl TerraformInfo {
    /// The configuration block of a resource.
    #[must_use]
    pub fn config_of(&self, resource: &Resource) -> Option<&ResourceConfig> {
        self.config.get(&resource.config_address())
    }

    /// The provider configuration a resource uses: its block's `provider_config_key`, else the
    /// default (un-aliased) configuration of its provider in its module or the root.
    #[must_use]
    pub fn provider_of(&self, resource: &Resource) -> Option<&ProviderConfig> {
        if let Some(key) = self
            .config_of(resource)
            .and_then(|c| c.provider_config_key.as_deref())
        {
            if let Some(p) = self.providers.iter().find(|p| p.key == key) {
                return Some(p);
            }
            // Older Terraform writes `child:aws` for a provider inherited from the root.
            if let Some((_, short)) = key.rsplit_once(':') {
                if let Some(p) = self.providers.iter().find(|p| p.key == short) {
                    return Some(p);
                }
            }
        }
        let module = resource
            .module
            .as_deref()
            .map(crate::resource::strip_indexes);
        self.providers
            .iter()
            .filter(|p| p.name == resource.provider && p.alias.is_none())
            .find(|p| p.module == module)
            .or_else(|| {
                self.providers.iter().find(|p| {
                    p.name == resource.provider && p.alias.is_none() && p.module.is_none()
                })
            })
    }
}

/// Resources plus context: the one input shape every engine evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSet {
    /// The resources, in input order.
    pub resources: Vec<Resource>,
    /// Who, where, when.
    pub context: Context,
    /// What was read.
    pub input: InputInfo,
    /// Terraform plan context, for plans.
    pub terraform: Option<TerraformInfo>,
}

impl ChangeSet {
    /// Where a resource is, for reports: its location in the input.
    #[must_use]
    pub fn location_of(&self, resource: &Resource) -> Location {
        resource.source.clone()
    }
}
