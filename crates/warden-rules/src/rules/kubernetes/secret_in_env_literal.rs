use std::sync::LazyLock;

use regex::Regex;

use super::pod::{containers, POD_CONTROLLERS};
use crate::prelude::*;
use crate::rules::governance::hardcoded_secret::{FORMATS, GITHUB_PAT, GOOGLE, REGEXES};

declare_rule! {
    /// ## What it checks
    /// Container environment variables set with a literal `value` that is a secret, in every
    /// container, init container and ephemeral container of a pod or pod template:
    ///
    /// - the variable's name says it holds one (`PASSWORD`, `PASSWD`, `PASSPHRASE`, `SECRET`,
    ///   `TOKEN`, `API_KEY`, `APIKEY`, `PRIVATE_KEY`, `CREDENTIAL`, `ACCESS_KEY`, any case),
    ///   unless it names a file, path, id, name, URL or setting about one (`…_FILE`,
    ///   `…_PATH`, `…_ID`, `…_NAME`, `…_URL`, `…_ENABLED` …) or its value is a switch
    ///   (`true`, `yes`, `0` …) or a `$(VAR)` reference to another variable;
    /// - or its value contains a known credential format, whatever the name: an AWS access
    ///   key id (`AKIA…`/`ASIA…`; AWS's `…EXAMPLE` keys excepted), a private key block, a
    ///   GitHub token (`ghp_` …, `github_pat_`), a Slack token (`xox…-`) or a Stripe live key.
    ///
    /// Variables set through `valueFrom` are not literals and are not reported. Messages
    /// name the variable and the value's length, never the value.
    ///
    /// ## Why it matters
    /// A literal in a manifest is in the Git history forever, in every clone, CI log, Helm
    /// release and `kubectl get -o yaml`: anyone who can read the Deployment (a much wider
    /// audience than who can read Secrets, under the built-in `view` role for instance) has
    /// the credential. Secrets can be restricted by RBAC, encrypted at rest and rotated
    /// without touching the workload.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: api, namespace: shop }, spec: { template: { spec: { containers: [ { name: api, image: "api:1.4", env: [ { name: DB_PASSWORD, value: "Hunter2-prod" } ] } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: api, namespace: shop }, spec: { template: { spec: { containers: [ { name: api, image: "api:1.4", env: [ { name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: api-db, key: password } } } ] } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// None: rotate the exposed credential first (it is already in your history), then store
    /// it in a Secret (created out of band, or by External Secrets, Sealed Secrets or the
    /// Secrets Store CSI driver) and reference it with `env[].valueFrom.secretKeyRef`, or
    /// better mount it as a file from a `secret` volume.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Using Secrets as environment variables](https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables)
    /// - [Kubernetes: Good practices for Secrets](https://kubernetes.io/docs/concepts/security/secrets-good-practices/)
    /// - Related: Checkov `CKV_K8S_35` (prefer Secrets as files over environment variables),
    ///   Trivy `AVD-KSV-0109` (secrets in ConfigMaps) and secret scanning
    pub(crate) static SECRET_IN_ENV_LITERAL = RuleMeta {
        id: "WD-K8S-030",
        name: "secret-in-env-literal",
        title: "Container environment variable holds a literal secret",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::None,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Words that make a variable name a secret's.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "ACCESS_KEY",
];

/// Suffixes of names that are about a secret without holding one (`DB_PASSWORD_FILE`).
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_DIR",
    "_ID",
    "_NAME",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_LENGTH",
    "_ENABLED",
    "_TTL",
    "_EXPIRY",
    "_TIMEOUT",
    "_TYPE",
    "_HEADER",
    "_KEY_ID",
    "_ROTATION",
    "_POLICY",
    "_MODE",
];

/// Values that switch something rather than being a secret (`ALLOW_EMPTY_PASSWORD=yes`).
const SWITCHES: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "0", "1", "enabled", "disabled", "none", "null",
];

/// `$(VAR)` references only: Kubernetes expands them from other variables.
static REFERENCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?:\$\([A-Za-z_][A-Za-z0-9_.-]*\))+$").ok());

fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    SECRET_WORDS.iter().any(|w| upper.contains(w))
        && !NOT_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

fn plausible_secret(value: &str) -> bool {
    let trimmed = value.trim();
    !trimmed.is_empty()
        && !SWITCHES.iter().any(|s| trimmed.eq_ignore_ascii_case(s))
        && !REFERENCE.as_ref().is_some_and(|re| re.is_match(trimmed))
}

/// The credential format a value contains: those of WD-GOV-001 ([`FORMATS`]) but Google API
/// keys, any GitHub token described as one, and AWS's documentation keys (`AKIA…EXAMPLE`)
/// ignored.
fn format_of(value: &str) -> Option<&'static str> {
    FORMATS
        .iter()
        .zip(REGEXES.iter())
        .enumerate()
        .find_map(|(i, (format, re))| {
            if i == usize::from(GOOGLE) {
                return None;
            }
            let re = re.as_ref()?;
            re.find_iter(value)
                .any(|m| !(m.as_str().starts_with("AKIA") && m.as_str().ends_with("EXAMPLE")))
                .then_some(if i == usize::from(GITHUB_PAT) {
                    "a GitHub token"
                } else {
                    format.what
                })
        })
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        for (i, var) in container.value.field("env").items().iter().enumerate() {
            let Some(value) = var.field("value").as_str() else {
                continue;
            };
            let name = var.field("name").as_str().unwrap_or_default();
            let what = if let Some(format) = format_of(value) {
                format!("contains {format}")
            } else if secret_name(name) && plausible_secret(value) {
                format!("is a literal ({} characters)", value.chars().count())
            } else {
                continue;
            };
            out.violation(
                resource,
                format!(
                    "{}: environment variable `{name}` {what}; take it from a Secret",
                    container.label()
                ),
            )
            .at(&container.at(&format!("env.{i}.value")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_compile_and_match() {
        assert!(REGEXES.iter().all(Option::is_some));
        assert!(REFERENCE.is_some());
        assert_eq!(
            format_of("AKIAZ3MSJV4WSQWRT7HQ"),
            Some("an AWS access key id")
        );
        assert_eq!(format_of("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(
            format_of("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"),
            Some("a private key block")
        );
        assert_eq!(format_of("-----BEGIN CERTIFICATE-----"), None);
        assert_eq!(
            format_of("github_pat_0123456789abcdefghijABCDEFGHIJ"),
            Some("a GitHub token")
        );
        assert_eq!(format_of("AIzaSyA0123456789abcdefghijklmnopqrstuv"), None);
    }

    #[test]
    fn names_and_values() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("github-token"));
        assert!(secret_name("AWS_SECRET_ACCESS_KEY"));
        assert!(!secret_name("DB_PASSWORD_FILE"));
        assert!(!secret_name("AWS_ACCESS_KEY_ID"));
        assert!(!secret_name("SECRET_NAME"));
        assert!(!secret_name("LOG_LEVEL"));
        assert!(!plausible_secret("yes"));
        assert!(!plausible_secret("$(DB_PASSWORD)"));
        assert!(plausible_secret("s3cr3t"));
    }
}
