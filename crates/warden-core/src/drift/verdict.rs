//! The policy verdict on drift: the findings of one policy set on the last-known and on the
//! live state of each compared resource, told apart.
//!
//! A violation is the same on both sides when the rule, the resource and the attribute
//! match (the message when the rule names no attribute): messages often quote the value,
//! which is what drifted. A live violation the last-known state lacks is **introduced** and
//! becomes a [`RULE_ID`] finding; one both have is **pre-existing**; one only the
//! last-known state has is **resolved**. Waived findings count as neither (an exception
//! accepted them), nor do findings on values unknown until apply (a live state has none),
//! nor findings that name no compared resource (a Rego message about a whole input).

use std::collections::{HashMap, HashSet};

use super::diff::{masked, DiffOptions};
use super::{
    remediation, AttributeChange, ChangeKind, Comparison, DriftReport, DriftedResource, Source,
    Status, Violation, MASK, RULE_ID,
};
use crate::decision::{Decision, EngineError, WaivedFinding};
use crate::engine::RuleInfo;
use crate::finding::{dotted_to_pointer, Finding, Fix, PatchOp, Severity};
use crate::resource::Action;
use crate::value::Value;

/// What the verdict needs besides the two decisions.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerdictOptions<'a> {
    /// The drift rule as configured; `None` when it is not enabled (introduced violations
    /// are still listed per resource, without findings).
    pub rule: Option<&'a RuleInfo>,
    /// Rules whose findings point at secret values (the secret rule, WD-GOV-008): the
    /// attributes they name are masked in the report.
    pub secret_rules: &'a [&'a str],
}

/// What the verdict reads of one evaluation: a decision's findings, waived findings and
/// engine errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evaluation<'a> {
    /// Active findings.
    pub findings: &'a [Finding],
    /// Findings an exception or waiver covered.
    pub waived: &'a [WaivedFinding],
    /// Engine errors.
    pub errors: &'a [EngineError],
}

impl<'a> From<&'a Decision> for Evaluation<'a> {
    fn from(d: &'a Decision) -> Evaluation<'a> {
        Evaluation {
            findings: &d.findings,
            waived: &d.waived,
            errors: &d.errors,
        }
    }
}

/// Applies the verdict of `last_known` and `live` (the evaluations of one policy set on the
/// comparison's two change sets, usually decisions) to its report.
#[must_use]
pub fn apply(
    comparison: Comparison,
    last_known: Evaluation<'_>,
    live: Evaluation<'_>,
    options: &VerdictOptions<'_>,
) -> DriftReport {
    let Comparison {
        mut report,
        quiet,
        live: live_states,
        ..
    } = comparison;
    for e in last_known.errors.iter().chain(live.errors) {
        if !report.errors.contains(e) {
            report.errors.push(e.clone());
        }
    }
    let before = by_resource(&last_known);
    let after = by_resource(&live);
    let secrets = secret_attributes(last_known, live, options.secret_rules);
    let live_objects: HashMap<&str, &Value> = live_states
        .resources
        .iter()
        .map(|r| (r.address.as_str(), &r.after))
        .collect();

    let quiet_from = report.drifted.len();
    let mut resources = std::mem::take(&mut report.drifted);
    resources.extend(quiet);
    let mut kept = Vec::with_capacity(resources.len());
    for (i, mut r) in resources.into_iter().enumerate() {
        let was = before
            .get(r.address.as_str())
            .map_or(&[][..], Vec::as_slice);
        let now = after.get(r.address.as_str()).map_or(&[][..], Vec::as_slice);
        let was_keys: HashSet<Key<'_>> = was.iter().map(|f| key(f)).collect();
        let now_keys: HashSet<Key<'_>> = now.iter().map(|f| key(f)).collect();
        r.introduced = now
            .iter()
            .filter(|f| !was_keys.contains(&key(f)))
            .map(|f| violation(f))
            .collect();
        r.pre_existing = now
            .iter()
            .filter(|f| was_keys.contains(&key(f)))
            .map(|f| violation(f))
            .collect();
        r.resolved = was
            .iter()
            .filter(|f| !now_keys.contains(&key(f)))
            .map(|f| violation(f))
            .collect();
        if report.source == Source::Kubernetes && r.status == Status::Changed {
            let object = live_objects.get(r.address.as_str()).copied();
            show_flagged_fields(&mut r, object);
        }
        if let Some(attributes) = secrets.get(r.address.as_str()) {
            mask_attributes(&mut r.changes, attributes);
        }
        let is_quiet = i >= quiet_from;
        if is_quiet && r.changes.is_empty() {
            if r.introduced.is_empty() {
                continue;
            }
            r.notes.push(
                "every field the manifest sets matches; the violations come from fields it does not set"
                    .to_owned(),
            );
        }
        r.remediation = remediation::suggest(report.source, &r);
        if let Some(rule) = options.rule {
            for v in &r.introduced {
                report.findings.push(finding(rule, &r, v, report.source));
            }
        }
        kept.push(r);
    }
    report.drifted = kept;
    report.refresh();
    report
}

/// What makes two findings the same violation.
type Key<'a> = (&'a str, &'a str, bool);

fn key(f: &Finding) -> Key<'_> {
    match &f.attribute {
        Some(a) => (&f.rule_id, a, true),
        None => (&f.rule_id, &f.message, false),
    }
}

/// Active, known findings by resource address.
fn by_resource<'a>(d: &Evaluation<'a>) -> HashMap<&'a str, Vec<&'a Finding>> {
    let mut out: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in d.findings.iter().filter(|f| !f.unknown) {
        out.entry(f.resource.as_str()).or_default().push(f);
    }
    out
}

/// The attributes the secret rules flagged, by resource (waived findings included: a
/// waived secret is still a secret).
fn secret_attributes<'d>(
    a: Evaluation<'d>,
    b: Evaluation<'d>,
    rules: &[&str],
) -> HashMap<&'d str, Vec<&'d str>> {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    let all = [a, b]
        .into_iter()
        .flat_map(|d| d.findings.iter().chain(d.waived.iter().map(|w| &w.finding)));
    for f in all.filter(|f| rules.contains(&f.rule_id.as_str())) {
        if let Some(attribute) = f.attribute.as_deref() {
            out.entry(f.resource.as_str()).or_default().push(attribute);
        }
    }
    out
}

/// `true` when one dotted path is the other or inside it.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |x: &str, y: &str| x.strip_prefix(y).is_some_and(|rest| rest.starts_with('.'));
    a == b || inside(a, b) || inside(b, a)
}

fn mask_attributes(changes: &mut [AttributeChange], attributes: &[&str]) {
    for c in changes
        .iter_mut()
        .filter(|c| attributes.iter().any(|a| overlaps(&c.path, a)))
    {
        for v in [&mut c.before, &mut c.after] {
            if !v.is_null() {
                *v = Value::string(MASK);
            }
        }
        c.sensitive = true;
    }
}

/// Adds to the diff the live fields a new violation points at that the manifest does not
/// set (they were ignored as server defaults, but a policy says they matter).
fn show_flagged_fields(r: &mut DriftedResource, live: Option<&Value>) {
    let Some(live) = live else {
        return;
    };
    let secret = r.resource_kind == "Secret";
    let options = DiffOptions {
        secret_members: if secret { &["data", "stringData"] } else { &[] },
    };
    let mut added = Vec::new();
    for v in &r.introduced {
        let Some(path) = v.attribute.as_deref() else {
            continue;
        };
        if r.changes
            .iter()
            .chain(&added)
            .any(|c: &AttributeChange| overlaps(&c.path, path))
        {
            continue;
        }
        let Some(value) = live.path(path).filter(|v| !v.is_null()) else {
            continue;
        };
        let (value, sensitive) = masked(value, path, &Value::Null, &options);
        added.push(AttributeChange {
            path: path.to_owned(),
            pointer: dotted_to_pointer(path),
            change: ChangeKind::Added,
            before: Value::Null,
            after: value,
            sensitive,
        });
        r.notes.push(format!(
            "`{path}` is not set in the manifests (ignored as a server default); shown because {} flags it",
            v.rule_id
        ));
    }
    r.changes.extend(added);
}

fn violation(f: &Finding) -> Violation {
    Violation {
        rule_id: f.rule_id.clone(),
        title: f.title.clone(),
        severity: f.severity,
        enforcement: f.enforcement,
        attribute: f.attribute.clone(),
        message: f.message.clone(),
    }
}

/// The drift rule's finding for one introduced violation.
fn finding(rule: &RuleInfo, r: &DriftedResource, v: &Violation, source: Source) -> Finding {
    let outside = match source {
        Source::Terraform => "outside Terraform",
        Source::Kubernetes => "outside the manifests",
    };
    Finding {
        rule_id: RULE_ID.to_owned(),
        rule_name: rule.name.clone(),
        title: rule.title.clone(),
        severity: v.severity.max(Severity::High),
        enforcement: rule.enforcement,
        resource: r.address.clone(),
        resource_kind: r.resource_kind.clone(),
        action: match r.status {
            Status::Extra => Action::Create,
            _ => Action::Update,
        },
        attribute: v.attribute.clone(),
        location: r.location.clone(),
        message: format!(
            "drift {outside} introduces {} ({}): {}",
            v.rule_id, v.title, v.message
        ),
        why: rule.why.clone(),
        fix: revert_fix(r, source),
        unknown: false,
        aliases: Vec::new(),
        help_uri: rule.help_uri.clone(),
        note: None,
    }
}

/// The revert as a JSON Patch of the live state, when it can be one: Terraform, every
/// change a plain value (not sensitive, not a whole list element added or removed).
fn revert_fix(r: &DriftedResource, source: Source) -> Option<Fix> {
    if source != Source::Terraform || r.status != Status::Changed || r.changes.is_empty() {
        return None;
    }
    let element = |c: &AttributeChange| {
        c.change != ChangeKind::Changed
            && c.pointer
                .rsplit('/')
                .next()
                .is_some_and(|last| last.parse::<usize>().is_ok())
    };
    if r.changes.iter().any(|c| c.sensitive || element(c)) {
        return None;
    }
    let ops = r
        .changes
        .iter()
        .map(|c| match c.change {
            ChangeKind::Changed => PatchOp::Replace {
                path: c.pointer.clone(),
                value: c.before.clone(),
            },
            ChangeKind::Added => PatchOp::Remove {
                path: c.pointer.clone(),
            },
            ChangeKind::Removed => PatchOp::Add {
                path: c.pointer.clone(),
                value: c.before.clone(),
            },
        })
        .collect();
    Some(Fix::patch(
        format!("Revert the drift: {}", r.remediation.revert),
        ops,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Enforcement;

    fn finding_on(resource: &str, rule: &str, attribute: Option<&str>, message: &str) -> Finding {
        Finding {
            rule_id: rule.to_owned(),
            rule_name: rule.to_lowercase(),
            title: format!("{rule} title"),
            severity: Severity::Medium,
            enforcement: Enforcement::Deny,
            resource: resource.to_owned(),
            resource_kind: "aws_security_group".to_owned(),
            action: Action::Update,
            attribute: attribute.map(str::to_owned),
            location: crate::resource::Location::default(),
            message: message.to_owned(),
            why: "why".to_owned(),
            fix: None,
            unknown: false,
            aliases: Vec::new(),
            help_uri: None,
            note: None,
        }
    }

    fn eval(findings: &[Finding]) -> Evaluation<'_> {
        Evaluation {
            findings,
            ..Evaluation::default()
        }
    }

    fn rule() -> RuleInfo {
        RuleInfo {
            id: RULE_ID.to_owned(),
            name: "drift-introduces-violation".to_owned(),
            title: "drift title".to_owned(),
            severity: Severity::High,
            default_enforcement: Enforcement::Deny,
            enforcement: Enforcement::Deny,
            kinds: Vec::new(),
            why: "drift why".to_owned(),
            docs: String::new(),
            help_uri: None,
            aliases: Vec::new(),
            fixable: true,
        }
    }

    fn comparison() -> Comparison {
        let plan = crate::inputs::terraform::parse_plan(
            "p.json",
            br#"{"format_version":"1.2","resource_drift":[
              {"address":"aws_security_group.web","mode":"managed","type":"aws_security_group","name":"web",
               "change":{"actions":["update"],
                 "before":{"description":"web","ingress":[{"cidr_blocks":["10.0.0.0/8"],"from_port":22}],"token":"a-secret-1"},
                 "after":{"description":"web!","ingress":[{"cidr_blocks":["0.0.0.0/0"],"from_port":22}],"token":"a-secret-2"}}}]}"#,
        )
        .unwrap();
        super::super::terraform::compare(&plan).unwrap()
    }

    #[test]
    fn introduced_pre_existing_and_resolved_are_told_apart() {
        let address = "aws_security_group.web";
        let last_known = vec![
            finding_on(address, "WD-GOV-003", None, "missing tags: team"),
            finding_on(address, "WD-AWS-099", Some("description"), "old"),
        ];
        let live = vec![
            finding_on(address, "WD-GOV-003", None, "missing tags: team"),
            finding_on(
                address,
                "WD-AWS-007",
                Some("ingress.0.cidr_blocks"),
                "port 22 open to 0.0.0.0/0",
            ),
        ];
        let rule = rule();
        let report = apply(
            comparison(),
            eval(&last_known),
            eval(&live),
            &VerdictOptions {
                rule: Some(&rule),
                secret_rules: &[],
            },
        );
        let r = &report.drifted[0];
        let ids = |v: &[Violation]| v.iter().map(|v| v.rule_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&r.introduced), ["WD-AWS-007"]);
        assert_eq!(ids(&r.pre_existing), ["WD-GOV-003"]);
        assert_eq!(ids(&r.resolved), ["WD-AWS-099"]);
        assert_eq!(r.remediation.suggested, super::super::Suggestion::Revert);
        assert!(
            r.remediation.reason.contains("WD-AWS-007"),
            "{:?}",
            r.remediation
        );
        assert_eq!(report.findings.len(), 1);
        let f = &report.findings[0];
        assert_eq!(f.rule_id, RULE_ID);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.attribute.as_deref(), Some("ingress.0.cidr_blocks"));
        assert!(
            f.message.contains("WD-AWS-007") && f.message.contains("port 22 open"),
            "{}",
            f.message
        );
        // `token` is masked (a secret's name), so no patch can carry its old value.
        assert!(f.fix.is_none());
        assert_eq!(report.summary.introduced, 1);
        assert_eq!(report.summary.pre_existing, 1);
        assert_eq!(report.summary.resolved, 1);
    }

    #[test]
    fn a_disabled_rule_lists_violations_without_findings_and_secret_findings_mask() {
        let address = "aws_security_group.web";
        let live = vec![finding_on(
            address,
            "WD-GOV-008",
            Some("description"),
            "contains an AWS access key id",
        )];
        let report = apply(
            comparison(),
            eval(&[]),
            eval(&live),
            &VerdictOptions {
                rule: None,
                secret_rules: &["WD-GOV-008"],
            },
        );
        assert!(report.findings.is_empty());
        let r = &report.drifted[0];
        assert_eq!(r.introduced.len(), 1);
        let description = r.changes.iter().find(|c| c.path == "description").unwrap();
        assert!(description.sensitive);
        assert_eq!(description.after, Value::from(MASK));
        let text = serde_json::to_string(&report).unwrap();
        assert!(
            !text.contains("web!") && !text.contains("a-secret"),
            "{text}"
        );
    }

    #[test]
    fn revert_patches_only_plain_values() {
        let plan = crate::inputs::terraform::parse_plan(
            "p.json",
            br#"{"format_version":"1.2","resource_drift":[
              {"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b",
               "change":{"actions":["update"],"before":{"acl":"private","tags":{"a":"1"}},"after":{"acl":"public-read","tags":{"a":"1","b":"2"}}}}]}"#,
        )
        .unwrap();
        let cmp = super::super::terraform::compare(&plan).unwrap();
        let live = vec![finding_on(
            "aws_s3_bucket.b",
            "WD-AWS-001",
            Some("acl"),
            "public",
        )];
        let rule = rule();
        let report = apply(
            cmp,
            eval(&[]),
            eval(&live),
            &VerdictOptions {
                rule: Some(&rule),
                secret_rules: &[],
            },
        );
        let fix = report.findings[0].fix.as_ref().unwrap();
        let patched = crate::patch::apply(
            &serde_json::from_str(r#"{"acl":"public-read","tags":{"a":"1","b":"2"}}"#).unwrap(),
            &fix.patch,
        )
        .unwrap();
        assert_eq!(
            patched,
            serde_json::from_str::<Value>(r#"{"acl":"private","tags":{"a":"1"}}"#).unwrap()
        );
    }
}
