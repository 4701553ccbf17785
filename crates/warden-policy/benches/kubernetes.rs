//! `cargo bench -p warden-policy --bench kubernetes`: one admission-sized Pod against the
//! built-in Kubernetes rules and against 20 Kyverno policies from the shared corpus (the Pod
//! Security Standards and best-practices policies; skipped, with a note, when the corpus is
//! absent), and manifests parsed and evaluated in bulk.
#![expect(clippy::panic, reason = "benchmarks abort on setup errors")]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use warden_core::inputs::{self, InputBytes};
use warden_kyverno::engine::{KyvernoEngine, Request};
use warden_policy::pod_security::BuiltinPodSecurity;
use warden_policy::{Config, PolicySet};

/// The allocator of the `warden` binary, so figures match what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// A Deployment as an agent writes it: privileged, host port, no limits, `latest` image.
const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d9f","namespace":"shop","labels":{"app":"web"}},
"spec":{"containers":[{"name":"web","image":"nginx:latest","ports":[{"containerPort":8080,"hostPort":80}],
"securityContext":{"privileged":true},"env":[{"name":"MODE","value":"prod"}]},
{"name":"sidecar","image":"envoyproxy/envoy:v1.31.0","resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}}}],
"volumes":[{"name":"data","emptyDir":{}}]}}"#;

const POLICIES: &[&str] = &[
    "pod-security/baseline/disallow-capabilities",
    "pod-security/baseline/disallow-host-namespaces",
    "pod-security/baseline/disallow-host-path",
    "pod-security/baseline/disallow-host-ports",
    "pod-security/baseline/disallow-host-process",
    "pod-security/baseline/disallow-privileged-containers",
    "pod-security/baseline/disallow-proc-mount",
    "pod-security/baseline/disallow-selinux",
    "pod-security/baseline/restrict-apparmor-profiles",
    "pod-security/baseline/restrict-seccomp",
    "pod-security/baseline/disallow-host-ports-range",
    "pod-security/restricted/disallow-privilege-escalation",
    "pod-security/restricted/require-run-as-nonroot",
    "pod-security/restricted/restrict-seccomp-strict",
    "pod-security/restricted/restrict-volume-types",
    "best-practices/disallow-latest-tag",
    "best-practices/require-drop-all",
    "best-practices/require-pod-requests-limits",
    "best-practices/require-ro-rootfs",
    "best-practices/restrict-image-registries",
];

fn kyverno() -> Option<&'static KyvernoEngine> {
    static ENGINE: OnceLock<Option<KyvernoEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let corpus = PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus/kyverno"
            ));
            if !corpus.is_dir() {
                eprintln!(
                    "skipped: Kyverno benchmarks need {} (absent)",
                    corpus.display()
                );
                return None;
            }
            let mut policies = Vec::new();
            let mut exceptions = Vec::new();
            for dir in POLICIES {
                let name = dir.rsplit('/').next().unwrap_or(dir);
                let (p, e, errors) = warden_kyverno::policy::load_file(
                    &corpus.join(dir).join(format!("{name}.yaml")),
                );
                assert!(errors.is_empty(), "{errors:?}");
                policies.extend(p);
                exceptions.extend(e);
            }
            Some(
                KyvernoEngine::new(policies, exceptions)
                    .with_pod_security(Arc::new(BuiltinPodSecurity::new())),
            )
        })
        .as_ref()
}

/// One Pod against 20 Kyverno policies: parse the object, evaluate every rule.
#[divan::bench]
fn kyverno_20_policies_one_pod(bencher: divan::Bencher<'_, '_>) {
    let Some(engine) = kyverno() else { return };
    bencher.bench(|| {
        let resource: serde_json::Value = serde_json::from_str(black_box(POD)).unwrap_or_default();
        engine.evaluate_request(&Request::create(resource)).len()
    });
}

/// One Pod through every built-in rule, from bytes to decision.
#[divan::bench]
fn builtin_rules_one_pod(bencher: divan::Bencher<'_, '_>) {
    let policy = PolicySet::load(Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let input = InputBytes {
        name: "pod.json".into(),
        bytes: POD.as_bytes().to_vec(),
    };
    let now = time::OffsetDateTime::UNIX_EPOCH;
    bencher.bench(|| {
        let changes = inputs::parse(black_box(&input)).unwrap_or_else(|e| panic!("{e}"));
        policy.evaluate(&[&changes], now).findings.len()
    });
}

/// N workloads in one YAML stream, parsed and evaluated with every built-in rule.
#[divan::bench(args = [100, 1_000])]
fn manifests_through_builtin_rules(bencher: divan::Bencher<'_, '_>, n: usize) {
    let policy = PolicySet::load(Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let doc = |i: usize| {
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          securityContext:\n            privileged: {}\n",
            i.is_multiple_of(10)
        )
    };
    let input = InputBytes {
        name: "k8s.yaml".into(),
        bytes: (0..n).map(doc).collect::<String>().into_bytes(),
    };
    let now = time::OffsetDateTime::UNIX_EPOCH;
    bencher
        .counter(divan::counter::BytesCount::new(input.bytes.len()))
        .bench(|| {
            let changes = inputs::parse(black_box(&input)).unwrap_or_else(|e| panic!("{e}"));
            policy.evaluate(&[&changes], now).findings.len()
        });
}
