use std::sync::LazyLock;

use regex::Regex;
use warden_core::ResourceConfig;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Secrets written into the configuration, in any string attribute of any managed
    /// resource (nested blocks, maps and JSON documents included):
    ///
    /// - well-known credential formats: AWS access key ids (`AKIA…`/`ASIA…`, 20 characters;
    ///   AWS's documented `…EXAMPLE` keys excepted), private key blocks
    ///   (`-----BEGIN … PRIVATE KEY-----`), GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`,
    ///   `ghr_`, `github_pat_`), Slack tokens (`xoxb-`, `xoxp-` …), Stripe live keys
    ///   (`sk_live_`, `rk_live_`) and Google API keys (`AIza…`);
    /// - attributes named like secrets (`password`, `secret`, `token`, `api_key`,
    ///   `private_key`, `passphrase` …, but not `*_arn`, `*_id`, `*_name`, `*_length` …), plus
    ///   `azurerm_key_vault_secret.value`, SecureString `aws_ssm_parameter.value`,
    ///   `github_actions_secret.plaintext_value` and `kubernetes_secret` data, whose value is a
    ///   literal in the configuration.
    ///
    /// A credential format found in a value that comes from another resource or a data source
    /// (a generated key, a secret read from a secrets manager) is not reported, nor is one
    /// from a variable marked `sensitive`: it is not written in the code. One that comes from
    /// a variable not marked sensitive is reported. The message never contains the secret:
    /// only its type, its first four characters and its length.
    ///
    /// ## Why it matters
    /// A secret in Terraform code is in the repository's history forever, in every clone and
    /// CI log, and in the plan and state files in clear text. Leaked cloud keys are exploited
    /// within minutes of being pushed to a public repository, and rotating a credential after
    /// the fact does not undo what was done with it.
    ///
    /// ## Example
    /// ```yaml
    /// config: { "aws_db_instance.main": { constants: [password] } }
    /// resources:
    ///   aws_db_instance.main: { action: create, after: { engine: postgres, username: app, password: "Hunter2-prod" } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// config: { "aws_db_instance.main": { constants: [engine], references: { password: ["random_password.db.result"] } } }
    /// resources:
    ///   aws_db_instance.main: { action: create, after: { engine: postgres, username: app, password: "generated" } }
    /// ```
    ///
    /// ## Fix
    /// None: rotate the exposed secret first (it is already in your history), then take the
    /// value from a variable marked `sensitive = true` set by your CI's secret store, from a
    /// secrets manager data source (`aws_secretsmanager_secret_version`,
    /// `google_secret_manager_secret_version`, `azurerm_key_vault_secret`), or from a
    /// generated value (`random_password`). Better still, let the service manage it
    /// (`manage_master_user_password = true` on RDS) or use write-only attributes.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Terraform: Protect sensitive input variables](https://developer.hashicorp.com/terraform/tutorials/configuration-language/sensitive-variables)
    /// - [AWS: Managing access keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html)
    /// - Checkov `CKV_SECRET_2` (AWS access key), `CKV_SECRET_10` (secret keyword),
    ///   `CKV_SECRET_13` (private key), `CKV_SECRET_14` (Slack), `CKV_SECRET_17` (Stripe);
    ///   Trivy secret scanning `aws-access-key-id`, `private-key`, `github-pat`,
    ///   `slack-access-token`, `stripe-secret-token`, `gcp-api-key`
    pub(crate) static HARDCODED_SECRET = RuleMeta {
        id: "WD-GOV-008",
        name: "hardcoded-secret",
        title: "Secret is hardcoded in the configuration",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_SECRET_2", "CKV_SECRET_10", "CKV_SECRET_13", "CKV_SECRET_14", "CKV_SECRET_17"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// A credential format. `detect` finds its trigger (`needle`) in one pass over the bytes
/// before the regex runs.
pub(crate) struct Format {
    /// What it is, for a message (`an AWS access key id`).
    pub(crate) what: &'static str,
    /// Its regular expression (compiled in [`REGEXES`]).
    pattern: &'static str,
    /// `true` when the first four characters may be shown (a fixed prefix, not secret).
    show_prefix: bool,
}

/// Indexes into [`FORMATS`], as bits of the mask [`triggers`] returns.
const AWS_KEY: u8 = 0;
const PRIVATE_KEY: u8 = 1;
const GITHUB: u8 = 2;
pub(crate) const GITHUB_PAT: u8 = 3;
const SLACK: u8 = 4;
const STRIPE: u8 = 5;
pub(crate) const GOOGLE: u8 = 6;

/// The credential formats, in the order they are looked for.
pub(crate) const FORMATS: &[Format] = &[
    Format {
        what: "an AWS access key id",
        pattern: r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        show_prefix: true,
    },
    Format {
        what: "a private key block",
        pattern: r"-----BEGIN [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?-----",
        show_prefix: false,
    },
    Format {
        what: "a GitHub token",
        pattern: r"\bgh[pousr]_[A-Za-z0-9]{36,}",
        show_prefix: true,
    },
    Format {
        what: "a GitHub fine-grained personal access token",
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        show_prefix: true,
    },
    Format {
        what: "a Slack token",
        pattern: r"\bxox[abprse]-[0-9]{6,}-[0-9A-Za-z-]{8,}",
        show_prefix: true,
    },
    Format {
        what: "a Stripe live key",
        pattern: r"\b[rs]k_live_[A-Za-z0-9]{20,}",
        show_prefix: true,
    },
    Format {
        what: "a Google API key",
        pattern: r"AIza[A-Za-z0-9_\-]{35}",
        show_prefix: true,
    },
];

/// The regexes of [`FORMATS`], compiled once (`None` never happens: a test compiles them).
pub(crate) static REGEXES: LazyLock<Vec<Option<Regex>>> =
    LazyLock::new(|| FORMATS.iter().map(|f| Regex::new(f.pattern).ok()).collect());

/// The shortest string any format can match (a Slack token: `xoxb-`, six digits, `-` and
/// eight characters).
const MIN_FORMAT_LEN: usize = 20;

/// How deep into `after` the walk goes.
const MAX_DEPTH: usize = 16;

/// Maps whose keys are metadata, not attribute names.
const METADATA_MAPS: &[&str] = &[
    "tags",
    "tags_all",
    "labels",
    "terraform_labels",
    "effective_labels",
    "annotations",
];

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Resource types with a secret-holding attribute whose name does not say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    /// `value` (`azurerm_key_vault_secret`; `aws_ssm_parameter` of type SecureString).
    Value,
    /// `plaintext_value` (GitHub secrets).
    PlaintextValue,
    /// Everything under `data` and `binary_data` (`kubernetes_secret`).
    Data,
}

impl Special {
    fn of(resource: &Resource) -> Special {
        match resource.kind.as_str() {
            "azurerm_key_vault_secret" => Special::Value,
            "aws_ssm_parameter" if resource.after_str("type") == Some("SecureString") => {
                Special::Value
            }
            "github_actions_secret" | "github_dependabot_secret" | "github_codespaces_secret" => {
                Special::PlaintextValue
            }
            "kubernetes_secret" | "kubernetes_secret_v1" => Special::Data,
            _ => Special::None,
        }
    }
}

/// A string worth a closer look.
struct Hit {
    /// Dotted path with indexes (`environment.0.variables.KEY`).
    path: String,
    /// Dotted path without indexes: the configuration's key.
    config_path: String,
    /// What credential format it matched, with its shown prefix and length.
    format: Option<String>,
    /// Its attribute name looks like a secret.
    secret_name: bool,
    /// Its length, for messages.
    len: usize,
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let mut walker = Walker {
        special: Special::of(resource),
        stack: Vec::new(),
        hits: Vec::new(),
    };
    walker.walk(&resource.after, 0);
    if walker.hits.is_empty() {
        return;
    }
    let config = cx.config_of(resource);
    for hit in walker.hits {
        let origin = origin(config, &hit.config_path);
        if let Some(format) = &hit.format {
            let note = match &origin {
                Origin::Reference { external: true } => continue,
                Origin::Reference { external: false } if resource.is_sensitive(&hit.path) => {
                    continue
                }
                Origin::Reference { external: false } => {
                    " (set from a variable that is not marked sensitive)"
                }
                Origin::Literal | Origin::Unrecorded => "",
            };
            let _ = out
                .violation(resource, format!("`{}` contains {format}{note}", hit.path))
                .at(&hit.path);
        } else if hit.secret_name && origin == Origin::Literal {
            let _ = out
                .violation(
                    resource,
                    format!(
                        "`{}` is set to a literal value ({} characters) in the configuration",
                        hit.path, hit.len
                    ),
                )
                .at(&hit.path);
        }
    }
}

/// Walks the strings of a value, recording those that match a credential format or sit
/// under a secret-like name.
struct Walker<'a> {
    special: Special,
    stack: Vec<Segment<'a>>,
    hits: Vec<Hit>,
}

impl<'a> Walker<'a> {
    fn walk(&mut self, value: &'a Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::String(s) => {
                let format = if s.len() >= MIN_FORMAT_LEN {
                    detect(s)
                } else {
                    None
                };
                let secret_name = !s.is_empty() && self.secret_field() && plausible_literal(s);
                if format.is_some() || secret_name {
                    let path = dotted(&self.stack, true);
                    let config_path = dotted(&self.stack, false);
                    self.hits.push(Hit {
                        path,
                        config_path,
                        format,
                        secret_name,
                        len: s.chars().count(),
                    });
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if matches!(item, Value::String(_) | Value::Array(_) | Value::Object(_)) {
                        self.stack.push(Segment::Index(i));
                        self.walk(item, depth + 1);
                        self.stack.pop();
                    }
                }
            }
            Value::Object(pairs) => {
                for (k, v) in pairs.iter() {
                    if matches!(v, Value::String(_) | Value::Array(_) | Value::Object(_)) {
                        self.stack.push(Segment::Key(k.as_str()));
                        self.walk(v, depth + 1);
                        self.stack.pop();
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// `true` when the string at the top of the stack is held by an attribute that stores
    /// secrets.
    fn secret_field(&self) -> bool {
        let (Some(Segment::Key(top)), Some(Segment::Key(name))) =
            (self.stack.first(), self.stack.last())
        else {
            return false;
        };
        if METADATA_MAPS.contains(top) {
            return false;
        }
        let top_level = self.stack.len() == 1;
        let special = match self.special {
            Special::None => false,
            Special::Value => top_level && *name == "value",
            Special::PlaintextValue => top_level && *name == "plaintext_value",
            Special::Data => *top == "data" || *top == "binary_data",
        };
        special || looks_secret(name)
    }
}

/// Which formats a string may contain: one pass over its bytes looking for their fixed
/// parts, so most strings never reach a regex.
fn triggers(s: &str) -> u8 {
    let bytes = s.as_bytes();
    let mut mask = 0u8;
    for (i, &c) in bytes.iter().enumerate() {
        if !matches!(c, b'A' | b'P' | b'g' | b'x' | b'k') {
            continue;
        }
        let rest = bytes.get(i..).unwrap_or_default();
        match c {
            b'A' if rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA") => mask |= 1 << AWS_KEY,
            b'A' if rest.starts_with(b"AIza") => mask |= 1 << GOOGLE,
            b'P' if rest.starts_with(b"PRIVATE KEY-----") => mask |= 1 << PRIVATE_KEY,
            b'g' if rest.starts_with(b"github_pat_") => mask |= 1 << GITHUB_PAT,
            b'g' if rest.len() > 4 && rest.get(1) == Some(&b'h') && rest.get(3) == Some(&b'_') => {
                if matches!(rest.get(2), Some(b'p' | b'o' | b'u' | b's' | b'r')) {
                    mask |= 1 << GITHUB;
                }
            }
            b'x' if rest.starts_with(b"xox") => mask |= 1 << SLACK,
            b'k' if rest.starts_with(b"k_live_") => mask |= 1 << STRIPE,
            _ => {}
        }
    }
    mask
}

/// The credential format a string contains, described without revealing it.
fn detect(s: &str) -> Option<String> {
    let mask = triggers(s);
    if mask == 0 {
        return None;
    }
    for (i, (format, regex)) in FORMATS.iter().zip(REGEXES.iter()).enumerate() {
        if mask & (1 << i) == 0 {
            continue;
        }
        let Some(regex) = regex else { continue };
        let found = regex
            .find_iter(s)
            .find(|m| !(i == usize::from(AWS_KEY) && m.as_str().ends_with("EXAMPLE")));
        if let Some(m) = found {
            let text = m.as_str();
            return Some(if format.show_prefix {
                let prefix: String = text.chars().take(4).collect();
                format!(
                    "{} ({prefix}…, {} characters)",
                    format.what,
                    text.chars().count()
                )
            } else {
                format.what.to_owned()
            });
        }
    }
    None
}

/// `true` when an attribute name mentions a secret and is not a reference to one
/// (`secret_arn`), as Terraform names attributes.
fn looks_secret(name: &str) -> bool {
    warden_core::secret_names::looks_secret(name, warden_core::secret_names::Naming::Snake)
}

/// `false` for values that point at a secret rather than being one.
fn plausible_literal(s: &str) -> bool {
    !(s.starts_with("arn:")
        || s.starts_with("{{resolve:")
        || s.starts_with("projects/")
        || s == "true"
        || s == "false")
}

fn dotted(stack: &[Segment<'_>], indexes: bool) -> String {
    let mut out = String::new();
    for segment in stack {
        let text = match segment {
            Segment::Key(k) => (*k).to_owned(),
            Segment::Index(i) if indexes => i.to_string(),
            Segment::Index(_) => continue,
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&text);
    }
    out
}

/// Where a value comes from, by the configuration of the nearest enclosing attribute.
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    /// A literal (`constant_value`), or built only from locals.
    Literal,
    /// From references: `external` when one is to a resource, data source or module output.
    Reference { external: bool },
    /// The configuration does not say.
    Unrecorded,
}

fn origin(config: Option<&ResourceConfig>, path: &str) -> Origin {
    let Some(config) = config else {
        return Origin::Unrecorded;
    };
    let mut current = path;
    loop {
        let refs = config.references_of(current);
        if !refs.is_empty() {
            if refs.iter().all(|r| r.starts_with("local.")) {
                return Origin::Literal;
            }
            let internal = ["var.", "local.", "each.", "count.", "path.", "terraform."];
            let external = refs
                .iter()
                .any(|r| !internal.iter().any(|p| r.starts_with(p)));
            return Origin::Reference { external };
        }
        if config.is_constant(current) {
            return Origin::Literal;
        }
        match current.rsplit_once('.') {
            Some((parent, _)) => current = parent,
            None => return Origin::Unrecorded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_compiles() {
        assert!(REGEXES.iter().all(Option::is_some));
    }

    #[test]
    fn formats_are_described_without_the_secret() {
        let d = detect("export AWS_ACCESS_KEY_ID=AKIAZ3MSJV4WSQWRT7HQ").unwrap();
        assert_eq!(d, "an AWS access key id (AKIA…, 20 characters)");
        assert!(!d.contains("Z3MS"));
        assert!(detect("key = AKIAIOSFODNN7EXAMPLE").is_none());
        assert!(detect("-----BEGIN RSA PRIVATE KEY-----\nMIIE...")
            .is_some_and(|d| d == "a private key block"));
        assert!(detect("-----BEGIN PUBLIC KEY-----\nMIIB...").is_none());
        assert!(detect("token: ghp_0123456789abcdefghijABCDEFGHIJ012345").is_some());
        assert!(detect("ghp_short").is_none());
        assert!(detect("xoxb-1234567890-abcdefghij").is_some());
        assert!(detect("xoxb-bucket-name-for-tests").is_none());
        assert!(detect("sk_live_0123456789abcdefghijklmn").is_some_and(|d| d.contains("sk_l…")));
        assert!(detect("AIzaSyA0123456789abcdefghijklmnopqrstuv").is_some());
    }

    #[test]
    fn secret_like_names() {
        assert!(looks_secret("master_password"));
        assert!(looks_secret("client_secret"));
        assert!(looks_secret("API_KEY"));
        assert!(!looks_secret("secret_arn"));
        assert!(!looks_secret("password_length"));
        assert!(!looks_secret("kms_key_id"));
        assert!(!looks_secret("auth_token_update_strategy"));
        assert!(!looks_secret("name"));
    }

    #[test]
    fn origin_follows_the_nearest_configured_parent() {
        let config = ResourceConfig {
            provider_config_key: None,
            references: vec![
                ("password".into(), vec!["var.db_password".into()]),
                (
                    "user_data".into(),
                    vec!["data.aws_secretsmanager_secret_version.s.secret_string".into()],
                ),
                ("tags".into(), vec!["local.tags".into()]),
            ],
            constants: vec!["environment.variables".into()],
            ..ResourceConfig::default()
        };
        assert_eq!(
            origin(Some(&config), "environment.variables.DB_PASSWORD"),
            Origin::Literal
        );
        assert_eq!(
            origin(Some(&config), "password"),
            Origin::Reference { external: false }
        );
        assert_eq!(
            origin(Some(&config), "user_data"),
            Origin::Reference { external: true }
        );
        assert_eq!(origin(Some(&config), "tags.Name"), Origin::Literal);
        assert_eq!(origin(Some(&config), "description"), Origin::Unrecorded);
        assert_eq!(origin(None, "password"), Origin::Unrecorded);
    }
}
