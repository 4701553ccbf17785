//! The blueprint file: what can be launched, with which inputs, for how long, where.
//!
//! ```yaml
//! name: sandbox
//! description: A small web server for trying things out
//! source: {path: examples/environments/sandbox, ref: v1}
//! inputs:
//!   region: {type: string, allowed: [eu-west-1, eu-central-1], default: eu-west-1}
//!   instance_type: {type: string, allowed: [t3.micro, m5.4xlarge], default: t3.micro}
//! duration: {default: 8h, max: 72h}
//! spaces: [dev]
//! cost: {monthly: 20}
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use warden_policy::environments::parse_duration;

/// Why a blueprint file cannot be used: `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct BlueprintError {
    /// The file (or `blueprint <name>` for a stored one).
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// An input's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Text.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
}

impl InputType {
    fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Number => "number",
            InputType::Bool => "bool",
        }
    }
}

/// One declared input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: InputType,
    /// The values allowed (empty: any of the type).
    #[serde(default)]
    pub allowed: Vec<Value>,
    /// The value when none is given (none: required).
    #[serde(default)]
    pub default: Option<Value>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// Where the IaC source is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A folder (relative to the server's working folder), copied into each environment's
    /// working folder.
    pub path: String,
    /// A version label kept with the environment.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuration {
    default: String,
    max: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    monthly: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlueprint {
    name: String,
    #[serde(default)]
    description: String,
    source: Source,
    #[serde(default)]
    inputs: BTreeMap<String, InputSpec>,
    duration: RawDuration,
    #[serde(default)]
    spaces: Vec<String>,
    cost: Option<RawCost>,
}

/// A validated blueprint.
#[derive(Debug, Clone, PartialEq)]
pub struct BlueprintSpec {
    /// Name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// The IaC source.
    pub source: Source,
    /// Declared inputs, by name.
    pub inputs: BTreeMap<String, InputSpec>,
    /// Duration when the launch names none.
    pub default_duration: Duration,
    /// Longest an environment may last without approval.
    pub max_duration: Duration,
    /// Spaces it may be launched in (`*` for all; empty: all).
    pub spaces: Vec<String>,
    /// Monthly cost in USD when the plan prices nothing.
    pub monthly_cost: Option<f64>,
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i + 1)
}

impl BlueprintSpec {
    /// Parses and validates a blueprint file; `file` names it in errors.
    ///
    /// # Errors
    /// The first problem, with the file and line.
    pub fn parse(file: &str, text: &str) -> Result<BlueprintSpec, BlueprintError> {
        let err = |line: usize, message: String| BlueprintError {
            file: file.to_owned(),
            line,
            message,
        };
        let docs =
            warden_core::inputs::yaml::load(file, text).map_err(|e| err(0, e.to_string()))?;
        let [doc] = docs.as_slice() else {
            return Err(err(1, "expected one YAML document".into()));
        };
        let raw: RawBlueprint = serde_json::from_value(doc.value.to_json()).map_err(|e| {
            let message = e.to_string();
            // serde names the field in backticks: find its line.
            let line = message
                .split('`')
                .nth(1)
                .map_or(doc.line as usize, |field| line_of(text, field).max(1));
            err(line, message)
        })?;
        let at = |key: &str| line_of(text, key);
        warden_store_name(&raw.name).map_err(|m| err(at("name:"), m))?;
        let duration = |key: &str, value: &str| {
            parse_duration(value).map_err(|m| err(at("duration:"), format!("duration.{key}: {m}")))
        };
        let default_duration = duration("default", &raw.duration.default)?;
        let max_duration = duration("max", &raw.duration.max)?;
        if default_duration > max_duration {
            return Err(err(
                at("duration:"),
                format!(
                    "duration.default {} is above duration.max {}",
                    raw.duration.default, raw.duration.max
                ),
            ));
        }
        if raw.source.path.trim().is_empty() {
            return Err(err(at("source"), "source.path is required".into()));
        }
        if let Some(c) = &raw.cost {
            if !c.monthly.is_finite() || c.monthly < 0.0 {
                return Err(err(
                    at("monthly"),
                    "cost.monthly must be a number ≥ 0".into(),
                ));
            }
        }
        for (name, spec) in &raw.inputs {
            let bad = |m: String| err(at(&format!("{name}:")), format!("inputs.{name}: {m}"));
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad("input names are letters, digits, `_` or `-`".into()));
            }
            for v in spec.allowed.iter().chain(spec.default.iter()) {
                if !type_fits(spec.kind, v) {
                    return Err(bad(format!("{v} is not a {}", spec.kind.as_str())));
                }
            }
            if let Some(d) = &spec.default {
                if !spec.allowed.is_empty() && !spec.allowed.contains(d) {
                    return Err(bad(format!("the default {d} is not one of `allowed`")));
                }
            }
        }
        Ok(BlueprintSpec {
            name: raw.name,
            description: raw.description,
            source: raw.source,
            inputs: raw.inputs,
            default_duration,
            max_duration,
            spaces: raw.spaces,
            monthly_cost: raw.cost.map(|c| c.monthly),
        })
    }

    /// True if the blueprint may be launched in the space.
    #[must_use]
    pub fn allows_space(&self, space: &str) -> bool {
        self.spaces.is_empty() || self.spaces.iter().any(|s| s == "*" || s == space)
    }

    /// The blueprint as the API shows it.
    #[must_use]
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "source": {"path": self.source.path, "ref": self.source.reference},
            "inputs": self.inputs.iter().map(|(k, v)| (k.clone(), serde_json::json!({
                "type": v.kind.as_str(),
                "allowed": v.allowed,
                "default": v.default,
                "description": v.description,
            }))).collect::<serde_json::Map<_, _>>(),
            "duration": {
                "default": warden_policy::environments::format_duration(self.default_duration),
                "max": warden_policy::environments::format_duration(self.max_duration),
            },
            "spaces": self.spaces,
            "cost": self.monthly_cost.map(|m| serde_json::json!({"monthly": m})),
        })
    }
}

fn warden_store_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name `{name}`: 1-64 letters, digits, `-`, `_` or `.`"
        ))
    }
}

/// True if the value has the input type.
#[must_use]
pub fn type_fits(kind: InputType, v: &Value) -> bool {
    match kind {
        InputType::String => v.is_string(),
        InputType::Number => v.is_number(),
        InputType::Bool => v.is_boolean(),
    }
}

/// A value given as text (`--input k=v`, query strings) read as the input's type.
#[must_use]
pub fn coerce(kind: InputType, v: &Value) -> Value {
    match (kind, v) {
        (InputType::Number, Value::String(s)) => s
            .parse::<f64>()
            .ok()
            .and_then(|n| {
                if n.fract() == 0.0 && n.abs() < 9e15 {
                    #[expect(clippy::cast_possible_truncation, reason = "checked integral")]
                    Some(Value::from(n as i64))
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            })
            .unwrap_or_else(|| v.clone()),
        (InputType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Value::Bool(s == "true")
        }
        _ => v.clone(),
    }
}

/// An input value as the runner's `-var name=value` takes it.
#[must_use]
pub fn var_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: sandbox\nsource: {path: src}\ninputs:\n  region: {type: string, allowed: [eu-west-1], default: eu-west-1}\n  size: {type: number}\nduration: {default: 8h, max: 72h}\nspaces: [dev]\ncost: {monthly: 20}\n";

    #[test]
    fn parses_a_blueprint() {
        let b = BlueprintSpec::parse("b.yaml", GOOD).unwrap();
        assert_eq!(b.max_duration, Duration::from_secs(72 * 3600));
        assert!(b.allows_space("dev") && !b.allows_space("prod"));
        assert_eq!(b.monthly_cost, Some(20.0));
        assert_eq!(b.to_json()["duration"]["max"], "3d");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = BlueprintSpec::parse("b.yaml", &GOOD.replace("72h", "1h")).unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        let e = BlueprintSpec::parse("b.yaml", &GOOD.replace("default: eu-west-1", "default: 3"))
            .unwrap_err();
        assert!(e.to_string().starts_with("b.yaml:4: inputs.region"), "{e}");
        let e = BlueprintSpec::parse("b.yaml", &GOOD.replace("spaces:", "spacez:")).unwrap_err();
        assert!(e.to_string().contains("spacez") && e.line == 7, "{e}");
        let e = BlueprintSpec::parse("b.yaml", "name: [").unwrap_err();
        assert!(e.to_string().starts_with("b.yaml"), "{e}");
    }

    #[test]
    fn coercion() {
        assert_eq!(coerce(InputType::Number, &Value::from("3")), Value::from(3));
        assert_eq!(
            coerce(InputType::Bool, &Value::from("true")),
            Value::Bool(true)
        );
        assert_eq!(var_text(&Value::from(3)), "3");
    }
}
