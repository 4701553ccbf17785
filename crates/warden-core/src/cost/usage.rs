//! The usage file: what usage-based prices need and a plan cannot say.
//!
//! YAML or JSON, one entry per resource address (`aws_s3_bucket.logs`), per configuration
//! address without indexes (`aws_s3_bucket.logs` for `aws_s3_bucket.logs["a"]`), or per kind
//! (`aws_s3_bucket`, a key without a dot). For each value the most specific entry that sets
//! it wins.
//!
//! ```yaml
//! aws_s3_bucket: { storage_gb: 100 }          # every bucket ...
//! aws_s3_bucket.logs: { storage_gb: 2000 }    # ... but this one
//! aws_nat_gateway.main: { data_processed_gb: 500 }
//! aws_instance.batch: { hours_per_month: 200 }
//! ```

use std::collections::HashMap;
use std::path::Path;

use crate::resource::{strip_indexes, Resource};
use crate::value::Value;

use super::CostError;

/// The usage keys an entry may set.
pub const KEYS: &[&str] = &[
    "hours_per_month",
    "storage_gb",
    "data_processed_gb",
    "capacity_units",
];

/// Usage of one resource or kind; unset values are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageEntry {
    /// Hours the resource runs per month (default 730).
    pub hours_per_month: Option<f64>,
    /// GB stored (S3, Cloud Storage).
    pub storage_gb: Option<f64>,
    /// GB processed per month (NAT gateways, classic load balancers, firewalls).
    pub data_processed_gb: Option<f64>,
    /// Average capacity units per hour (LCUs of application, network and gateway load
    /// balancers).
    pub capacity_units: Option<f64>,
}

/// A parsed usage file (empty: no usage known).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    origin: Option<String>,
    entries: HashMap<String, UsageEntry>,
}

/// The usage entries that apply to one resource, most specific first.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UsageView<'a> {
    entries: [Option<&'a UsageEntry>; 3],
}

impl UsageView<'_> {
    fn pick(&self, get: fn(&UsageEntry) -> Option<f64>) -> Option<f64> {
        self.entries.iter().flatten().find_map(|e| get(e))
    }

    /// Hours per month the resource runs.
    pub(crate) fn hours_per_month(&self) -> Option<f64> {
        self.pick(|e| e.hours_per_month)
    }

    /// GB stored.
    pub(crate) fn storage_gb(&self) -> Option<f64> {
        self.pick(|e| e.storage_gb)
    }

    /// GB processed per month.
    pub(crate) fn data_processed_gb(&self) -> Option<f64> {
        self.pick(|e| e.data_processed_gb)
    }

    /// Average capacity units per hour.
    pub(crate) fn capacity_units(&self) -> Option<f64> {
        self.pick(|e| e.capacity_units)
    }
}

impl Usage {
    /// Reads a usage file (YAML or JSON).
    pub fn load(path: &Path) -> Result<Usage, CostError> {
        let text = std::fs::read_to_string(path).map_err(|e| CostError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Usage::parse(&path.display().to_string(), &text)
    }

    /// Parses usage YAML or JSON; `name` is used in errors.
    pub fn parse(name: &str, text: &str) -> Result<Usage, CostError> {
        let documents = crate::inputs::yaml::load(name, text)?;
        let invalid = |key: String, message: String| CostError::Invalid {
            path: name.to_owned(),
            key,
            message,
        };
        let mut entries = HashMap::new();
        let root = match documents.as_slice() {
            [] => return Ok(Usage::default()),
            [one] => &one.value,
            _ => {
                return Err(invalid(
                    "(document)".into(),
                    "expected one document, found several".into(),
                ))
            }
        };
        if root.is_null() {
            return Ok(Usage::default());
        }
        let Some(pairs) = root.as_object() else {
            return Err(invalid(
                "(document)".into(),
                format!(
                    "expected a map of resource addresses or kinds to usage, found {}",
                    root.type_name()
                ),
            ));
        };
        for (address, values) in pairs {
            let Some(values) = values.as_object() else {
                return Err(invalid(
                    address.to_string(),
                    format!(
                        "expected a map of usage values, found {}",
                        values.type_name()
                    ),
                ));
            };
            let mut entry = UsageEntry::default();
            for (key, value) in values {
                let number = number(value).ok_or_else(|| {
                    invalid(
                        format!("{address}.{key}"),
                        format!("expected a number ≥ 0, found {}", describe(value)),
                    )
                })?;
                let slot = match key.as_str() {
                    "hours_per_month" => {
                        if number > 744.0 {
                            return Err(invalid(
                                format!("{address}.{key}"),
                                format!("{number} hours is more than a month has (744)"),
                            ));
                        }
                        &mut entry.hours_per_month
                    }
                    "storage_gb" => &mut entry.storage_gb,
                    "data_processed_gb" => &mut entry.data_processed_gb,
                    "capacity_units" => &mut entry.capacity_units,
                    other => {
                        return Err(invalid(
                            format!("{address}.{other}"),
                            format!("unknown usage key; expected one of {}", KEYS.join(", ")),
                        ))
                    }
                };
                *slot = Some(number);
            }
            entries.insert(address.to_string(), entry);
        }
        Ok(Usage {
            origin: Some(name.to_owned()),
            entries,
        })
    }

    /// The file it was read from (`None`: no usage file).
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// `true` when no usage is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries for a resource: its address, its address without indexes, its kind.
    pub(crate) fn view(&self, resource: &Resource) -> UsageView<'_> {
        if self.entries.is_empty() {
            return UsageView::default();
        }
        let exact = self.entries.get(resource.address.as_str());
        let block = if resource.address.contains('[') {
            self.entries.get(strip_indexes(&resource.address).as_str())
        } else {
            None
        };
        UsageView {
            entries: [exact, block, self.entries.get(resource.kind.as_str())],
        }
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(n.as_f64()).filter(|n| n.is_finite() && *n >= 0.0),
        _ => None,
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("the string \"{s}\""),
        other => other.type_name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Action;

    #[test]
    fn the_most_specific_entry_wins_value_by_value() {
        let u = Usage::parse(
            "usage.yaml",
            "aws_s3_bucket: { storage_gb: 100, hours_per_month: 10 }\naws_s3_bucket.logs: { storage_gb: 2000 }\n",
        )
        .unwrap();
        let logs = Resource::new("aws_s3_bucket.logs[\"a\"]", "aws_s3_bucket", Action::Create);
        let other = Resource::new("aws_s3_bucket.web", "aws_s3_bucket", Action::Create);
        assert_eq!(u.view(&logs).storage_gb(), Some(2000.0));
        assert_eq!(u.view(&logs).hours_per_month(), Some(10.0));
        assert_eq!(u.view(&other).storage_gb(), Some(100.0));
        assert_eq!(u.origin(), Some("usage.yaml"));
        // JSON is YAML.
        let j = Usage::parse(
            "u.json",
            r#"{"aws_nat_gateway.main": {"data_processed_gb": 5}}"#,
        )
        .unwrap();
        let nat = Resource::new("aws_nat_gateway.main", "aws_nat_gateway", Action::Create);
        assert_eq!(j.view(&nat).data_processed_gb(), Some(5.0));
        assert!(Usage::parse("e.yaml", "").unwrap().is_empty());
    }

    #[test]
    fn bad_usage_names_the_file_and_the_key() {
        let err = |t: &str| Usage::parse("u.yaml", t).unwrap_err().to_string();
        let e = err("aws_s3_bucket.b: { storage_g: 1 }\n");
        assert!(
            e.starts_with("u.yaml: aws_s3_bucket.b.storage_g:") && e.contains("storage_gb"),
            "{e}"
        );
        let e = err("aws_s3_bucket.b: { storage_gb: lots }\n");
        assert!(
            e.contains("aws_s3_bucket.b.storage_gb") && e.contains("lots"),
            "{e}"
        );
        let e = err("aws_instance.a: { hours_per_month: 1000 }\n");
        assert!(e.contains("744"), "{e}");
        let e = err("- a\n");
        assert!(e.contains("expected a map"), "{e}");
        let e = err("a: [1\n");
        assert!(e.starts_with("u.yaml:"), "{e}");
    }
}
