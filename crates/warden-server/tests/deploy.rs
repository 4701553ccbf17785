//! The deployable package's YAML: `deploy/webhook/validating-webhook.yaml` parsed as is, and
//! the Helm chart's templates with every `{{ ... }}` replaced by a placeholder and the lines
//! that are only template actions left out (no Helm here: this checks the YAML shape and the
//! literal settings — failure policy, path, namespace exclusions, TLS flags, secrets —, not
//! Helm's rendering).

use std::path::PathBuf;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml(text: &str, what: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| unreachable!("{what}: {e}\n{text}"))
}

/// A template with its actions replaced: a line that is one action alone is dropped, any
/// other action becomes `PLACEHOLDER`.
fn placeholders(template: &str) -> String {
    let mut out = String::new();
    for line in template.lines() {
        let t = line.trim();
        if t.starts_with("{{") && t.ends_with("}}") && t.matches("{{").count() == 1 {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                unreachable!("unclosed action in {line}");
            };
            out.push_str("PLACEHOLDER");
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

fn template(name: &str) -> Value {
    let path = root().join("deploy/helm/warden/templates").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| unreachable!("{name}: {e}"));
    yaml(&placeholders(&text), name)
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn plain_webhook_manifest() {
    let path = root().join("deploy/webhook/validating-webhook.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| unreachable!("{e}"));
    let v = yaml(&text, "validating-webhook.yaml");
    assert_eq!(v["apiVersion"], "admissionregistration.k8s.io/v1");
    assert_eq!(v["kind"], "ValidatingWebhookConfiguration");
    let hook = &v["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Fail");
    assert!(hook["timeoutSeconds"]
        .as_u64()
        .is_some_and(|t| (1..=30).contains(&t)));
    assert_eq!(strings(&hook["admissionReviewVersions"]), ["v1"]);
    assert_eq!(hook["sideEffects"], "NoneOnDryRun");
    assert_eq!(hook["clientConfig"]["service"]["path"], "/v1/admission");
    let excluded = &hook["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["operator"], "NotIn");
    assert_eq!(strings(&excluded["values"]), ["kube-system", "warden"]);
    assert_eq!(
        strings(&hook["rules"][0]["operations"]),
        ["CREATE", "UPDATE", "DELETE"]
    );
}

#[test]
fn helm_chart_shape() {
    let chart_dir = root().join("deploy/helm/warden");
    let read = |name: &str| {
        std::fs::read_to_string(chart_dir.join(name)).unwrap_or_else(|e| unreachable!("{e}"))
    };
    let chart = yaml(&read("Chart.yaml"), "Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["name"], "warden");
    let values = yaml(&read("values.yaml"), "values.yaml");
    assert_eq!(values["webhook"]["failurePolicy"], "Fail");
    assert!(values["webhook"]["timeoutSeconds"]
        .as_u64()
        .is_some_and(|t| (1..=30).contains(&t)));
    assert!(values["replicaCount"].as_u64().is_some_and(|r| r >= 2));
    assert_eq!(values["admission"]["space"], "cluster");

    let deployment = template("deployment.yaml");
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["spec"]["replicas"], "PLACEHOLDER");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args = strings(&container["args"]);
    for want in [
        "serve",
        "--tls-cert=/etc/warden/tls/tls.crt",
        "--tls-key=/etc/warden/tls/tls.key",
        "--listen=0.0.0.0:8443",
    ] {
        assert!(args.contains(&want), "{want} not in {args:?}");
    }
    let env: Vec<&str> = container["env"]
        .as_array()
        .map(|e| e.iter().filter_map(|v| v["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(env, ["WARDEN_ADMIN_TOKEN", "WARDEN_DATABASE_URL"]);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(container["readinessProbe"]["httpGet"]["scheme"], "HTTPS");

    let service = template("service.yaml");
    assert_eq!(service["kind"], "Service");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "https");

    let secret = template("secret.yaml");
    assert_eq!(secret["kind"], "Secret");
    assert!(secret["stringData"]["admin-token"].is_string());
    assert!(secret["stringData"]["database-url"].is_string());

    let webhook = template("webhook.yaml");
    assert_eq!(webhook["kind"], "ValidatingWebhookConfiguration");
    let hook = &webhook["webhooks"][0];
    assert_eq!(hook["clientConfig"]["service"]["path"], "/v1/admission");
    assert_eq!(strings(&hook["admissionReviewVersions"]), ["v1"]);
    let excluded = strings(&hook["namespaceSelector"]["matchExpressions"][0]["values"]);
    // kube-system, the release namespace, then the `excludeNamespaces` range.
    assert_eq!(excluded, ["kube-system", "PLACEHOLDER", "PLACEHOLDER"]);
    assert!(read("templates/webhook.yaml").contains("- {{ .Release.Namespace }}"));
}

#[test]
fn placeholders_keep_yaml_and_drop_action_lines() {
    let t =
        "a: {{ .Values.x }}\nb:\n  {{- include \"x\" . | nindent 2 }}\nc: \"{{ .A }}:{{ .B }}\"\n";
    assert_eq!(
        placeholders(t),
        "a: PLACEHOLDER\nb:\nc: \"PLACEHOLDER:PLACEHOLDER\"\n"
    );
}
