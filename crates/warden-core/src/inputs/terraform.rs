//! `terraform show -json` plans (format 0.1 to 1.x; Terraform and OpenTofu) → [`ChangeSet`].
//!
//! The plan is parsed once into typed structures. What no rule reads is skipped while parsing
//! rather than built and dropped: `planned_values` (it repeats `resource_changes`),
//! `output_changes`, `checks`, the managed resources of `prior_state` (only data sources are
//! kept), and every `configuration` expression except references, literals' presence and
//! provider settings.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{decode_text, InputError};
use crate::changeset::{
    ChangeSet, Context, InputInfo, InputKind, ProviderConfig, ResourceConfig, Setting,
    TerraformInfo,
};
use crate::digest;
use crate::resource::{provider_of_type, Action, Location, Mode, Resource};
use crate::value::Value;

/// Parses the bytes of a plan. `name` is used in errors and locations.
pub fn parse_plan(name: &str, bytes: &[u8]) -> Result<ChangeSet, InputError> {
    parse_json(name, bytes)?.ok_or_else(|| InputError::NotAPlan {
        path: name.to_owned(),
        reason: "this is a Kubernetes object (it has `apiVersion` and `kind`)".to_owned(),
    })
}

/// Parses a JSON document that should be a plan; `Ok(None)` when it is a Kubernetes object
/// instead (it has `apiVersion` and `kind` and none of a plan's members).
pub(crate) fn parse_json(name: &str, bytes: &[u8]) -> Result<Option<ChangeSet>, InputError> {
    let text = decode_text(name, bytes)?;
    let text: &[u8] = &text;
    let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(InputError::Empty {
            path: name.to_owned(),
        });
    };
    if text.get(first) != Some(&b'{') {
        // Not an object: say what it is without hashing or keeping anything.
        return Err(match serde_json::from_slice::<IgnoredAny>(text) {
            Err(e) => json_error(name, &e),
            Ok(_) => InputError::NotAPlan {
                path: name.to_owned(),
                reason: match text.get(first) {
                    Some(b'[') => "the document is a JSON array; a plan is an object",
                    Some(b'"') => "the document is a JSON string; a plan is an object",
                    _ => "the document is a JSON scalar; a plan is an object",
                }
                .to_owned(),
            },
        });
    }
    // Hash and validate UTF-8 on a second core while this one parses: at 285 MB the parse
    // takes about a second and the other two a third of that. serde_json checks UTF-8 only in
    // the strings it keeps, and a gate must not accept a file with invalid bytes anywhere.
    // Below a megabyte a thread costs more than it saves (a server parses many small plans).
    let (digest, utf8, raw) = if bytes.len() < PARALLEL_CHECK_BYTES {
        let raw = serde_json::from_slice::<RawPlan<'_>>(text);
        (digest::sha256(bytes), std::str::from_utf8(text).err(), raw)
    } else {
        parse_beside_checks(bytes, text)
    };
    if let Some(e) = utf8 {
        let at = e.valid_up_to();
        let prefix = text.get(..at).unwrap_or_default();
        let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - prefix
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        return Err(InputError::Encoding {
            path: name.to_owned(),
            message: format!(
                "{line}:{column}: invalid UTF-8 (byte 0x{:02x}); a plan must be UTF-8, or UTF-16 with a byte order mark",
                text.get(at).copied().unwrap_or_default()
            ),
        });
    }
    let raw = raw.map_err(|e| json_error(name, &e))?;
    build(name, text, raw, digest)
}

/// Plans at least this large are hashed and UTF-8-checked on a second thread while parsed.
const PARALLEL_CHECK_BYTES: usize = 1 << 20;

/// The plan parsed while another thread hashes the file and validates its UTF-8.
fn parse_beside_checks<'t>(
    bytes: &[u8],
    text: &'t [u8],
) -> (
    String,
    Option<std::str::Utf8Error>,
    serde_json::Result<RawPlan<'t>>,
) {
    std::thread::scope(|scope| {
        let checker = scope.spawn(|| (digest::sha256(bytes), std::str::from_utf8(text).err()));
        let raw = serde_json::from_slice::<RawPlan<'_>>(text);
        let (digest, utf8) = checker
            .join()
            .unwrap_or_else(|_| (digest::sha256(bytes), std::str::from_utf8(text).err()));
        (digest, utf8, raw)
    })
}

/// `true` when the document has none of a plan's members but a Kubernetes object's.
fn is_kubernetes_object(raw: &RawPlan<'_>) -> bool {
    raw.api_version.is_some()
        && raw.kind.is_some()
        && raw.resource_changes.is_none()
        && raw.planned_values.is_none()
        && raw.configuration.is_none()
        && raw.format_version.is_none()
}

fn json_error(name: &str, e: &serde_json::Error) -> InputError {
    let message = strip_position(&e.to_string());
    match e.classify() {
        serde_json::error::Category::Data => InputError::Invalid {
            path: name.to_owned(),
            line: e.line(),
            column: e.column(),
            message: format!("invalid Terraform plan: {message}"),
        },
        serde_json::error::Category::Eof => InputError::Syntax {
            path: name.to_owned(),
            line: e.line(),
            column: e.column(),
            message: "unexpected end of input (is the file truncated?)".to_owned(),
        },
        _ => InputError::Syntax {
            path: name.to_owned(),
            line: e.line(),
            column: e.column(),
            message,
        },
    }
}

/// serde_json appends " at line L column C"; the error already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

fn build(
    name: &str,
    text: &[u8],
    raw: RawPlan<'_>,
    digest: String,
) -> Result<Option<ChangeSet>, InputError> {
    if is_kubernetes_object(&raw) {
        return Ok(None);
    }
    let is_plan = raw.resource_changes.is_some()
        || raw.planned_values.is_some()
        || raw.resource_drift.is_some()
        || raw.configuration.is_some() && raw.values.is_none();
    if !is_plan {
        let reason = if raw.values.is_some() {
            "this is a Terraform state file (`terraform show -json` of state, no `resource_changes`); \
             run `terraform plan -out tfplan && terraform show -json tfplan` and check that"
        } else if raw.format_version.is_some() {
            "it has a `format_version` but no `resource_changes`, `planned_values` or `configuration`"
        } else {
            "no `format_version`, `resource_changes` or `planned_values`; expected the output of \
             `terraform show -json PLANFILE`"
        };
        return Err(InputError::NotAPlan {
            path: name.to_owned(),
            reason: reason.to_owned(),
        });
    }

    let resources = parse_changes(
        name,
        text,
        raw.resource_changes.as_deref().unwrap_or_default(),
        "resource_changes",
    )?;
    let drift = parse_changes(
        name,
        text,
        raw.resource_drift.as_deref().unwrap_or_default(),
        "resource_drift",
    )?;

    let variables: HashMap<String, Value> = raw
        .variables
        .into_iter()
        .map(|(k, v)| (k, v.value))
        .collect();
    let mut info = TerraformInfo {
        drift,
        errored: raw.errored.unwrap_or(false),
        ..TerraformInfo::default()
    };
    if let Some(config) = raw.configuration {
        let mut calls = HashMap::new();
        collect_module(None, config.root_module, &mut info.config, &mut calls);
        let resolver = Resolver {
            variables: &variables,
            calls: &calls,
        };
        info.providers = config
            .provider_config
            .into_iter()
            .map(|(key, p)| provider_config(key, p, &resolver))
            .collect();
        info.providers.sort_by(|a, b| a.key.cmp(&b.key));
    }
    if let Some(state) = raw
        .prior_state
        .and_then(|s| s.values)
        .and_then(|v| v.root_module)
    {
        collect_data_sources(name, state, &mut info.data_sources);
    }

    Ok(Some(ChangeSet {
        resources,
        context: Context::default(),
        input: InputInfo {
            path: name.to_owned(),
            kind: InputKind::TerraformPlan,
            digest,
            format_version: raw.format_version,
            tool_version: raw.terraform_version,
        },
        terraform: Some(info),
    }))
}

/// Below this many resource changes, parsing stays on one thread.
const PARALLEL_CHANGES: usize = 2_000;

/// Parses resource changes, the bulk of a plan, on both cores: the first pass kept each change
/// as a raw slice of the text (a fast syntax-only scan), and each half is now built into
/// resources on its own thread. Errors keep their line and column in the whole file.
fn parse_changes(
    name: &str,
    text: &[u8],
    raws: &[&RawValue],
    field: &str,
) -> Result<Vec<Resource>, InputError> {
    let parse_range = |start: usize, raws: &[&RawValue]| -> Result<Vec<Resource>, InputError> {
        let mut out = Vec::with_capacity(raws.len());
        for (i, raw) in raws.iter().enumerate() {
            let offset = || (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let change: RawChange = serde_json::from_str(raw.get())
                .map_err(|e| element_error(name, text, offset(), &e))?;
            let resource = change
                .into_resource(name, &format!("/{field}/{}", start + i))
                .map_err(|e| match e {
                    InputError::Invalid { path, message, .. } => {
                        let (line, column) = line_column(text, offset());
                        InputError::Invalid {
                            path,
                            line,
                            column,
                            message,
                        }
                    }
                    other => other,
                })?;
            out.push(resource);
        }
        Ok(out)
    };
    if raws.len() < PARALLEL_CHANGES {
        return parse_range(0, raws);
    }
    let (left, right) = raws.split_at(raws.len() / 2);
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| parse_range(left.len(), right));
        let first = parse_range(0, left);
        (first, other.join())
    });
    let mut resources = first?;
    match second {
        Ok(rest) => resources.extend(rest?),
        Err(_) => resources.extend(parse_range(left.len(), right)?),
    }
    Ok(resources)
}

/// 1-based line and column of a byte offset.
fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

/// An error inside one element, placed in the whole file.
fn element_error(name: &str, text: &[u8], offset: usize, e: &serde_json::Error) -> InputError {
    let (base_line, base_column) = line_column(text, offset);
    let line = base_line + e.line() - 1;
    let column = if e.line() == 1 {
        base_column + e.column() - 1
    } else {
        e.column()
    };
    match json_error(name, e) {
        InputError::Invalid { path, message, .. } => InputError::Invalid {
            path,
            line,
            column,
            message,
        },
        InputError::Syntax { path, message, .. } => InputError::Syntax {
            path,
            line,
            column,
            message,
        },
        other => other,
    }
}

#[derive(Deserialize)]
struct RawPlan<'a> {
    format_version: Option<String>,
    terraform_version: Option<String>,
    #[serde(default)]
    variables: HashMap<String, RawVariable>,
    planned_values: Option<IgnoredAny>,
    #[serde(borrow)]
    resource_changes: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    resource_drift: Option<Vec<&'a RawValue>>,
    prior_state: Option<RawPriorState>,
    configuration: Option<RawConfiguration>,
    /// Present in state documents, not in plans.
    values: Option<IgnoredAny>,
    /// Present in Kubernetes objects.
    #[serde(rename = "apiVersion")]
    api_version: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    errored: Option<bool>,
}

#[derive(Deserialize)]
struct RawVariable {
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct RawChange {
    /// Absent from `resource_drift` entries of Terraform 1.0.0; rebuilt from the parts then.
    address: Option<String>,
    module_address: Option<String>,
    mode: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    index: Option<Value>,
    provider_name: Option<String>,
    deposed: Option<String>,
    action_reason: Option<String>,
    change: RawChangeBody,
}

/// `change` of a resource change. `before` of a no-op change is skipped unbuilt: it repeats
/// `after` (see [`Resource::before_state`]); Terraform writes `actions` first, so the skip is
/// decided before `before` is reached.
#[derive(Default)]
struct RawChangeBody {
    actions: Vec<String>,
    before: Value,
    after: Value,
    after_unknown: Value,
    before_sensitive: Value,
    after_sensitive: Value,
}

impl<'de> Deserialize<'de> for RawChangeBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BodyV;
        impl<'de> Visitor<'de> for BodyV {
            type Value = RawChangeBody;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a change object with `actions`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawChangeBody, A::Error> {
                let mut body = RawChangeBody::default();
                let mut has_actions = false;
                while let Some(key) = map.next_key::<std::borrow::Cow<'_, str>>()? {
                    let no_op = has_actions && body.actions.iter().all(|a| a == "no-op");
                    match key.as_ref() {
                        "actions" => {
                            body.actions = map.next_value()?;
                            has_actions = true;
                        }
                        "before" | "before_sensitive" if no_op => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        "before" => body.before = map.next_value()?,
                        "after" => body.after = map.next_value()?,
                        "after_unknown" => body.after_unknown = map.next_value()?,
                        "before_sensitive" => body.before_sensitive = map.next_value()?,
                        "after_sensitive" => body.after_sensitive = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if !has_actions {
                    return Err(de::Error::missing_field("actions"));
                }
                if body.actions.iter().all(|a| a == "no-op") {
                    body.before = Value::Null;
                    body.before_sensitive = Value::Null;
                }
                Ok(body)
            }
        }
        d.deserialize_map(BodyV)
    }
}

impl RawChange {
    fn into_resource(self, file: &str, pointer: &str) -> Result<Resource, InputError> {
        let address = self
            .address
            .clone()
            .unwrap_or_else(|| self.rebuild_address());
        let action =
            Action::from_terraform(&self.change.actions).ok_or_else(|| InputError::Invalid {
                path: file.to_owned(),
                line: 0,
                column: 0,
                message: format!(
                    "invalid Terraform plan: resource `{}` has unsupported actions {:?} (at {pointer}/change/actions)",
                    address, self.change.actions
                ),
            })?;
        let provider_source = self
            .provider_name
            .unwrap_or_else(|| provider_of_type(&self.kind).to_owned());
        let provider = provider_source
            .rsplit('/')
            .next()
            .unwrap_or(&provider_source)
            .to_owned();
        Ok(Resource {
            mode: if self.mode.as_deref() == Some("data") {
                Mode::Data
            } else {
                Mode::Managed
            },
            address,
            kind: self.kind,
            name: self.name,
            provider,
            provider_source,
            module: self.module_address,
            index: self.index,
            deposed: self.deposed,
            action,
            action_reason: self.action_reason,
            before: self.change.before,
            after: self.change.after,
            after_unknown: self.change.after_unknown,
            before_sensitive: self.change.before_sensitive,
            after_sensitive: self.change.after_sensitive,
            source: Location {
                file: Some(file.to_owned()),
                line: None,
                pointer: Some(pointer.to_owned()),
            },
        })
    }
}

impl RawChange {
    /// `module.a.data.aws_x.y["k"]` from the separate fields.
    fn rebuild_address(&self) -> String {
        let mut out = String::new();
        if let Some(m) = self.module_address.as_deref().filter(|m| !m.is_empty()) {
            out.push_str(m);
            out.push('.');
        }
        if self.mode.as_deref() == Some("data") {
            out.push_str("data.");
        }
        out.push_str(&self.kind);
        out.push('.');
        out.push_str(&self.name);
        match &self.index {
            Some(Value::String(k)) => {
                out.push('[');
                out.push_str(&serde_json::to_string(k.as_str()).unwrap_or_default());
                out.push(']');
            }
            Some(Value::Number(n)) => out.push_str(&format!("[{n}]")),
            _ => {}
        }
        out
    }
}

// ---- configuration ------------------------------------------------------------------------

#[derive(Deserialize)]
struct RawConfiguration {
    #[serde(default)]
    provider_config: HashMap<String, RawProviderConfig>,
    #[serde(default)]
    root_module: RawConfigModule,
}

#[derive(Deserialize)]
struct RawProviderConfig {
    name: String,
    alias: Option<String>,
    module_address: Option<String>,
    #[serde(default)]
    expressions: Value,
}

#[derive(Deserialize, Default)]
struct RawConfigModule {
    #[serde(default)]
    resources: Vec<RawConfigResource>,
    #[serde(default)]
    module_calls: HashMap<String, RawModuleCall>,
}

#[derive(Deserialize)]
struct RawModuleCall {
    #[serde(default)]
    expressions: Value,
    #[serde(default)]
    module: RawConfigModule,
}

#[derive(Deserialize)]
struct RawConfigResource {
    address: String,
    provider_config_key: Option<String>,
    #[serde(default)]
    expressions: Value,
}

fn collect_module(
    module: Option<&str>,
    raw: RawConfigModule,
    out: &mut HashMap<String, ResourceConfig>,
    calls: &mut HashMap<String, Value>,
) {
    for r in raw.resources {
        let address = qualify(module, &r.address);
        let mut config = ResourceConfig {
            provider_config_key: r.provider_config_key,
            ..ResourceConfig::default()
        };
        summarize("", &r.expressions, module, &mut config, 0);
        out.insert(address, config);
    }
    for (name, call) in raw.module_calls {
        let child = qualify(module, &format!("module.{name}"));
        collect_module(Some(&child), call.module, out, calls);
        calls.insert(child, call.expressions);
    }
}

fn qualify(module: Option<&str>, address: &str) -> String {
    match module {
        Some(m) => format!("{m}.{address}"),
        None => address.to_owned(),
    }
}

/// Records, for each attribute path, its references and whether it is a literal.
fn summarize(
    prefix: &str,
    expressions: &Value,
    module: Option<&str>,
    out: &mut ResourceConfig,
    depth: usize,
) {
    if depth > 6 {
        return;
    }
    for (key, expr) in expressions.entries() {
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        if !out.attributes.contains(&path) {
            out.attributes.push(path.clone());
        }
        match expr {
            Value::Object(_)
                if expr.get("references").is_some() || expr.get("constant_value").is_some() =>
            {
                if let Some(refs) = expr.get("references").and_then(Value::as_array) {
                    let refs: Vec<String> = refs
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|r| qualify_reference(module, r))
                        .collect();
                    match out.references.iter_mut().find(|(p, _)| *p == path) {
                        Some((_, existing)) => existing.extend(refs),
                        None => out.references.push((path.clone(), refs)),
                    }
                }
                if expr.get("constant_value").is_some() && !out.constants.contains(&path) {
                    out.constants.push(path);
                }
            }
            Value::Object(_) => summarize(&path, expr, module, out, depth + 1),
            Value::Array(blocks) => {
                for block in blocks.iter() {
                    summarize(&path, block, module, out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn qualify_reference(module: Option<&str>, reference: &str) -> String {
    let local = [
        "var.",
        "local.",
        "each.",
        "count.",
        "path.",
        "self.",
        "terraform.",
    ];
    match module {
        Some(m) if !local.iter().any(|p| reference.starts_with(p)) => format!("{m}.{reference}"),
        _ => reference.to_owned(),
    }
}

struct Resolver<'a> {
    variables: &'a HashMap<String, Value>,
    calls: &'a HashMap<String, Value>,
}

impl Resolver<'_> {
    /// Resolves an expression object (`{constant_value}` or `{references}`) in `module`.
    fn resolve(&self, module: Option<&str>, expr: &Value, depth: usize) -> Setting {
        if let Some(v) = expr.get("constant_value") {
            return Setting::Known(v.clone());
        }
        let refs: Vec<&str> = expr
            .field("references")
            .items()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let Some(first) = refs.first() else {
            return Setting::Unset;
        };
        let Some(var) = first.strip_prefix("var.") else {
            return Setting::Unknown((*first).to_owned());
        };
        let var = var.split('.').next().unwrap_or(var);
        if depth > 16 {
            return Setting::Unknown(format!("var.{var}"));
        }
        match module {
            None => match self.variables.get(var) {
                Some(v) if !v.is_null() => Setting::Known(v.clone()),
                _ => Setting::Unknown(format!("var.{var}")),
            },
            Some(m) => {
                let parent = m.rfind(".module.").and_then(|i| m.get(..i));
                match self.calls.get(m).and_then(|c| c.get(var)) {
                    Some(e) => self.resolve(parent, e, depth + 1),
                    None => Setting::Unknown(format!("var.{var} (module default)")),
                }
            }
        }
    }
}

fn provider_config(key: String, raw: RawProviderConfig, resolver: &Resolver<'_>) -> ProviderConfig {
    let module = raw.module_address.filter(|m| !m.is_empty());
    let region = raw.expressions.get("region").map_or(Setting::Unset, |e| {
        resolver.resolve(module.as_deref(), e, 0)
    });
    let default_tags = raw
        .expressions
        .field("default_tags")
        .items()
        .iter()
        .find_map(
            |block| match resolver.resolve(module.as_deref(), block.field("tags"), 0) {
                Setting::Known(v) => Some(v),
                _ => None,
            },
        )
        .unwrap_or(Value::Null);
    ProviderConfig {
        key,
        name: raw.name,
        alias: raw.alias,
        module,
        region,
        default_tags,
    }
}

// ---- prior_state: keep data sources only ---------------------------------------------------

#[derive(Deserialize)]
struct RawPriorState {
    values: Option<RawStateValues>,
}

#[derive(Deserialize)]
struct RawStateValues {
    root_module: Option<RawStateModule>,
}

#[derive(Deserialize)]
struct RawStateModule {
    #[serde(default)]
    resources: DataOnly,
    #[serde(default)]
    child_modules: Vec<RawStateModule>,
}

/// The data sources of a state module's `resources`; managed resources are skipped unbuilt.
#[derive(Default)]
struct DataOnly(Vec<StateResource>);

struct StateResource {
    address: String,
    kind: String,
    provider_name: Option<String>,
    values: Value,
}

impl<'de> Deserialize<'de> for DataOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SeqV;
        impl<'de> Visitor<'de> for SeqV {
            type Value = DataOnly;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of resources")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DataOnly, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = seq.next_element::<StateEntry>()? {
                    if let StateEntry::Data(r) = entry {
                        out.push(r);
                    }
                }
                Ok(DataOnly(out))
            }
        }
        d.deserialize_seq(SeqV)
    }
}

enum StateEntry {
    Data(StateResource),
    Skipped,
}

impl<'de> Deserialize<'de> for StateEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapV;
        impl<'de> Visitor<'de> for MapV {
            type Value = StateEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a state resource object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StateEntry, A::Error> {
                let (mut address, mut kind, mut mode, mut provider) =
                    (None, None, None::<String>, None);
                let mut values = Value::Null;
                while let Some(key) = map.next_key::<std::borrow::Cow<'_, str>>()? {
                    match key.as_ref() {
                        "address" => address = Some(map.next_value::<String>()?),
                        "type" => kind = Some(map.next_value::<String>()?),
                        "mode" => mode = Some(map.next_value::<String>()?),
                        "provider_name" => provider = Some(map.next_value::<String>()?),
                        // Terraform writes `mode` before `values`; a managed resource's values
                        // are skipped without building them.
                        "values" if mode.as_deref() == Some("data") => values = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if mode.as_deref() != Some("data") {
                    return Ok(StateEntry::Skipped);
                }
                Ok(StateEntry::Data(StateResource {
                    address: address.ok_or_else(|| de::Error::missing_field("address"))?,
                    kind: kind.ok_or_else(|| de::Error::missing_field("type"))?,
                    provider_name: provider,
                    values,
                }))
            }
        }
        d.deserialize_map(MapV)
    }
}

fn collect_data_sources(file: &str, module: RawStateModule, out: &mut Vec<Resource>) {
    for r in module.resources.0 {
        let mut resource = Resource::new(r.address, r.kind, Action::Read);
        resource.mode = Mode::Data;
        if let Some(p) = r.provider_name {
            resource.provider = p.rsplit('/').next().unwrap_or(&p).to_owned();
            resource.provider_source = p;
        }
        resource.before = r.values.clone();
        resource.after = r.values;
        resource.source = Location {
            file: Some(file.to_owned()),
            line: None,
            pointer: None,
        };
        out.push(resource);
    }
    for child in module.child_modules {
        collect_data_sources(file, child, out);
    }
}

// ---- locations -----------------------------------------------------------------------------

/// Finds the 1-based line of each wanted resource in `resource_changes` of a pretty-printed
/// plan, in one pass. Returns nothing for single-line (minified) plans, where a line says
/// nothing.
#[must_use]
pub fn locate_lines(
    bytes: &[u8],
    wanted: &std::collections::HashSet<&str>,
) -> HashMap<String, u32> {
    let mut found = HashMap::new();
    let Ok(text) = decode_text("", bytes) else {
        return found;
    };
    let text: &[u8] = &text;
    if wanted.is_empty() || memchr::memchr_iter(b'\n', text).take(2).count() < 2 {
        return found;
    }
    let Some(start) = memchr::memmem::find(text, b"\"resource_changes\"") else {
        return found;
    };
    let finder = memchr::memmem::Finder::new(b"\"address\"");
    let mut line: u32 =
        1 + u32::try_from(memchr::memchr_iter(b'\n', text.get(..start).unwrap_or(&[])).count())
            .unwrap_or(0);
    let mut pos = start;
    for hit in finder.find_iter(text.get(start..).unwrap_or(&[])) {
        let at = start + hit;
        line += u32::try_from(memchr::memchr_iter(b'\n', text.get(pos..at).unwrap_or(&[])).count())
            .unwrap_or(0);
        pos = at;
        let rest = text.get(at + 9..).unwrap_or(&[]);
        let rest = trim_ascii_start(rest);
        let Some(rest) = rest.strip_prefix(b":") else {
            continue;
        };
        let rest = trim_ascii_start(rest);
        if rest.first() != Some(&b'"') {
            continue;
        }
        let mut de = serde_json::Deserializer::from_slice(rest);
        if let Ok(address) = <String as Deserialize>::deserialize(&mut de) {
            if wanted.contains(address.as_str()) && !found.contains_key(&address) {
                found.insert(address, line);
                if found.len() == wanted.len() {
                    break;
                }
            }
        }
    }
    found
}

fn trim_ascii_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}
