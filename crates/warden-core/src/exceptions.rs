//! Exceptions and waiver tags: scoped, justified, expiring permission to ignore a finding.

use serde::Serialize;
use time::Date;

use crate::finding::Finding;
use crate::resource::Resource;
use crate::value::Value;

/// The resource tag that waives findings inline: `warden:ignore = "WD-AWS-001 reason"`.
pub const IGNORE_TAG: &str = "warden:ignore";

/// A governed exception from `warden.toml` (`[[exceptions]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// Rule id, rule name, id prefix (`WD-AWS-`) or `*`.
    pub rule: String,
    /// Resource address glob (`*` any run of characters, `?` one character).
    pub resource: String,
    /// Why the exception exists (required).
    pub reason: String,
    /// Who owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Last day it applies (inclusive).
    #[serde(serialize_with = "serialize_date")]
    pub expires: Date,
}

fn serialize_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_date(*d))
}

/// `YYYY-MM-DD`.
#[must_use]
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Exception {
    /// `true` when this exception's scope covers the finding (ignoring expiry).
    #[must_use]
    pub fn covers(&self, finding: &Finding) -> bool {
        rule_selector_matches(&self.rule, &finding.rule_id, &finding.rule_name)
            && glob_matches(&self.resource, &finding.resource)
    }

    /// `true` when the exception no longer applies on `today`.
    #[must_use]
    pub fn is_expired(&self, today: Date) -> bool {
        today > self.expires
    }
}

/// What covered a waived finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Waiver {
    /// An `[[exceptions]]` entry.
    Exception {
        /// The exception.
        #[serde(flatten)]
        exception: Exception,
    },
    /// A `warden:ignore` tag on the resource.
    Tag {
        /// The tag's value.
        value: String,
        /// The reason written in the tag.
        reason: String,
    },
}

/// `true` when a rule selector (id, name, id prefix, `*`) selects the rule.
#[must_use]
pub fn rule_selector_matches(selector: &str, id: &str, name: &str) -> bool {
    selector == "*"
        || selector.eq_ignore_ascii_case(id)
        || selector == name
        || (id.len() > selector.len()
            && id
                .get(..selector.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(selector))
            && (selector.ends_with('-') || id.as_bytes().get(selector.len()) == Some(&b'-')))
}

/// Wildcard match: `*` matches any run of characters (dots and brackets included), `?` one
/// character, everything else itself.
#[must_use]
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// A parsed `warden:ignore` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreTag {
    /// Rule selectors (comma-separated in the tag).
    pub rules: Vec<String>,
    /// The reason (the rest of the tag); empty means the tag is not honoured.
    pub reason: String,
    /// The raw tag value.
    pub raw: String,
}

/// Reads the `warden:ignore` tag of a resource (AWS/Azure `tags`, Google `labels`).
#[must_use]
pub fn ignore_tag(resource: &Resource) -> Option<IgnoreTag> {
    let state = if resource.action.is_live() {
        &resource.after
    } else {
        &resource.before
    };
    let raw = ["tags", "labels"].iter().find_map(|k| {
        state
            .get(k)
            .and_then(|t| t.get(IGNORE_TAG))
            .and_then(Value::as_str)
    })?;
    let raw = raw.trim();
    let (rules, reason) = raw.split_once(char::is_whitespace).unwrap_or((raw, ""));
    Some(IgnoreTag {
        rules: rules
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        reason: reason.trim().to_owned(),
        raw: raw.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("aws_s3_bucket.*", "aws_s3_bucket.logs[\"a\"]"));
        assert!(glob_matches("module.*.aws_*", "module.a.aws_vpc.x"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("aws_s3_bucket.logs", "aws_s3_bucket.logs2"));
        assert!(!glob_matches("a*d", "abc"));
    }

    #[test]
    fn selectors() {
        assert!(rule_selector_matches("WD-AWS-001", "WD-AWS-001", "x"));
        assert!(rule_selector_matches("WD-AWS", "WD-AWS-001", "x"));
        assert!(rule_selector_matches("WD-AWS-", "WD-AWS-001", "x"));
        assert!(rule_selector_matches("WD", "WD-AWS-001", "x"));
        assert!(!rule_selector_matches("WD-AWS-00", "WD-AWS-001", "x"));
        assert!(!rule_selector_matches("WD-AW", "WD-AWS-001", "x"));
        assert!(rule_selector_matches(
            "s3-bucket-public-acl",
            "WD-AWS-001",
            "s3-bucket-public-acl"
        ));
    }
}
