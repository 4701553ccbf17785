//! The admission webhook as kube-apiserver calls it: recorded `AdmissionReview` requests
//! (`tests/fixtures/admission/`, in the shape the API server sends: defaulted fields,
//! server-set metadata, `options`) posted over HTTPS on loopback to a real server with a
//! certificate made for the test, and the decisions and audit records checked in the store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use warden_policy::{Policies, RegoOptions};
use warden_server::admission::AdmissionSettings;
use warden_server::tls::TlsFiles;
use warden_server::AppState;
use warden_store::{
    Actor, ApprovalFilter, AuditRecord, NewSpace, OpenOptions, SpaceSettings, SqliteStore, Store,
};

/// `image-tag-mutable` needs approval rather than denying, to see `require_approval`.
const CONFIG: &str = "[rules.image-tag-mutable]\nenforcement = \"require_approval\"\n";

/// A Kyverno policy in Audit mode: its failures warn, never block.
const AUDIT_POLICY: &str = r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-team-label
spec:
  validationFailureAction: Audit
  rules:
    - name: team-label
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "every Pod names its owning team in the `team` label"
        pattern:
          metadata:
            labels:
              team: "?*"
"#;

/// A Gatekeeper-style Rego policy: it reads the admission request as `input.review`.
const REVIEW_POLICY: &str = r#"package main

deny[msg] {
  input.review.object.metadata.annotations["example.com/block"] == "yes"
  msg := sprintf("blocked by annotation (%s by %s)", [input.review.operation, input.review.userInfo.username])
}
"#;

const AGENT: &str = "system:serviceaccount:agents:claude-infra";

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/admission")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| unreachable!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| unreachable!("{name}: {e}"))
}

/// A self-signed certificate for `localhost`: (certificate PEM, key PEM, certificate DER).
fn certificate() -> (String, String, Vec<u8>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap_or_else(|e| unreachable!("{e}"));
    (
        made.cert.pem(),
        made.signing_key.serialize_pem(),
        made.cert.der().to_vec(),
    )
}

struct Server {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    /// The DER of the certificate the server started with.
    cert_der: Vec<u8>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start() -> Server {
        Server::start_with(&[]).await
    }

    /// Starts with more policy files (name, content) beside the test's own.
    async fn start_with(more: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let store = Arc::new(
            SqliteStore::open_dir(&dir.path().join("data"), OpenOptions::default())
                .await
                .unwrap_or_else(|e| unreachable!("{e}")),
        );
        store
            .put_space(
                &Actor::system(),
                &NewSpace {
                    name: "cluster".into(),
                    description: String::new(),
                    settings: SpaceSettings::default(),
                },
            )
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let policies_dir = dir.path().join("policies");
        std::fs::create_dir_all(&policies_dir).unwrap_or_else(|e| unreachable!("{e}"));
        std::fs::write(policies_dir.join("team.yaml"), AUDIT_POLICY)
            .unwrap_or_else(|e| unreachable!("{e}"));
        std::fs::write(policies_dir.join("review.rego"), REVIEW_POLICY)
            .unwrap_or_else(|e| unreachable!("{e}"));
        for (name, content) in more {
            std::fs::write(policies_dir.join(name), content)
                .unwrap_or_else(|e| unreachable!("{e}"));
        }
        let config = warden_policy::config::parse("warden.toml", CONFIG)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let policies = Policies::load(config, &[policies_dir], &RegoOptions::default())
            .unwrap_or_else(|e| unreachable!("{e}"));
        let state =
            AppState::with_policies(policies, store.clone()).with_admission(AdmissionSettings {
                enabled: true,
                agents: vec!["system:serviceaccount:agents:*".into()],
                pipelines: vec!["system:serviceaccount:ci:*".into()],
                ..AdmissionSettings::default()
            });
        let (cert, key, cert_der) = certificate();
        let files = TlsFiles {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
        };
        write_pair(&files, &cert, &key);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| unreachable!("{e}"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(warden_server::tls::serve_tls(
            listener,
            state,
            files,
            Duration::from_millis(50),
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            dir,
            store,
            cert_der,
            stop: Some(stop),
            task,
        }
    }

    fn files(&self) -> TlsFiles {
        TlsFiles {
            cert: self.dir.path().join("tls.crt"),
            key: self.dir.path().join("tls.key"),
        }
    }

    /// POSTs a body over HTTPS trusting the server's first certificate.
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let body = serde_json::to_vec(body).unwrap_or_default();
        https(self.addr, &self.cert_der, "POST", path, &body)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    async fn review(&self, name: &str) -> (u16, Value) {
        self.post("/v1/admission", &fixture(name)).await
    }

    async fn audit(&self) -> Vec<AuditRecord> {
        self.store
            .audit_records(0, 10_000)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The `admission.reviewed` record of a request uid.
    async fn reviewed(&self, uid: &str) -> AuditRecord {
        self.audit()
            .await
            .into_iter()
            .find(|r| r.action == "admission.reviewed" && r.detail["uid"] == uid)
            .unwrap_or_else(|| unreachable!("no admission.reviewed record for {uid}"))
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        assert!(
            matches!(served, Ok(Ok(Ok(())))),
            "the server did not stop cleanly: {served:?}"
        );
    }
}

fn write_pair(files: &TlsFiles, cert: &str, key: &str) {
    std::fs::write(&files.cert, cert).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(&files.key, key).unwrap_or_else(|e| unreachable!("{e}"));
}

/// One HTTP/1.1 request over TLS, trusting only `trusted` (DER), `Connection: close`:
/// (status, JSON body).
async fn https(
    addr: SocketAddr,
    trusted: &[u8],
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, Value), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(trusted.to_vec()))
        .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    tls.write_all(body).await.map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    // A peer closing without close_notify still gave the whole response.
    let _ = tls.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP response: {text}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head}"))?;
    let value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    Ok((status, value))
}

fn response(v: &Value) -> &Value {
    &v["response"]
}

fn message(v: &Value) -> &str {
    v["response"]["status"]["message"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_reviews_over_https() {
    let server = Server::start().await;

    // A privileged Pod: denied, the message naming the rule and its fix.
    let (status, v) = server.review("pod-create-privileged.json").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(response(&v)["uid"], "1f6a2c3e-0001-4e5f-8a9b-0c1d2e3f4a5b");
    assert_eq!(response(&v)["allowed"], false, "{v}");
    assert_eq!(response(&v)["status"]["code"], 403);
    let m = message(&v);
    assert!(
        m.starts_with("warden: CREATE v1/Pod web denied (decision ")
            && m.contains("privileged")
            && m.contains("(fix: "),
        "{m}"
    );
    let record = server
        .reviewed("1f6a2c3e-0001-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(record.actor, "kubernetes-admin");
    assert_eq!(record.actor_kind, "human");
    assert_eq!(record.detail["allowed"], false);
    assert_eq!(record.detail["dry_run"], false);
    assert_eq!(record.detail["operation"], "CREATE");
    assert_eq!(record.detail["kind"], "v1/Pod");
    assert_eq!(
        record.detail["groups"],
        json!(["kubeadm:cluster-admins", "system:authenticated"])
    );
    let id = record.detail["decision_id"].as_i64().unwrap_or_default();
    let decision = server
        .store
        .decision(id)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .unwrap_or_else(|| unreachable!("decision {id} not stored"));
    assert_eq!(decision.outcome, warden_core::Outcome::Deny);
    assert_eq!(decision.space.as_deref(), Some("cluster"));
    assert_eq!(decision.actor, "kubernetes-admin");
    let document: Value =
        serde_json::from_str(&decision.document).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(
        document["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["resource"] == "v1/Pod/shop/web")),
        "{document}"
    );
    // The object as evaluated has no server-set metadata: the same manifest, the same digest.
    let input = server
        .store
        .input(&decision.input_digest)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let input_text = format!("{input:?}");
    assert!(
        !input_text.contains("managedFields") && !input_text.contains("creationTimestamp"),
        "{input_text}"
    );

    // A compliant Pod: allowed, no warnings.
    let (status, v) = server.review("pod-create-compliant.json").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(response(&v)["allowed"], true, "{v}");
    assert!(response(&v).get("status").is_none(), "{v}");
    assert!(response(&v).get("warnings").is_none(), "{v}");

    // The Kyverno Audit policy fails: allowed, with the failure as a warning.
    let (_, v) = server.review("pod-create-no-team-label.json").await;
    assert_eq!(response(&v)["allowed"], true, "{v}");
    let warnings = response(&v)["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        warnings.len() == 1
            && warnings[0]
                .as_str()
                .is_some_and(|w| w.starts_with("kyverno:require-team-label") && w.contains("team")),
        "{v}"
    );
    let record = server
        .reviewed("1f6a2c3e-0003-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(record.detail["outcome"], "warn");

    // UPDATE: the new object is compliant, the old one was not; the old one is `before`.
    let (_, v) = server.review("pod-update.json").await;
    assert_eq!(response(&v)["allowed"], true, "{v}");
    let record = server
        .reviewed("1f6a2c3e-0007-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(record.detail["operation"], "UPDATE");
    assert_eq!(record.detail["outcome"], "allow");

    // DELETE of a privileged Pod: what is deleted is not held against the deletion.
    let (_, v) = server.review("pod-delete.json").await;
    assert_eq!(response(&v)["allowed"], true, "{v}");
    let record = server
        .reviewed("1f6a2c3e-0008-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(record.detail["operation"], "DELETE");
    let id = record.detail["decision_id"].as_i64().unwrap_or_default();
    let decision = server.store.decision(id).await.ok().flatten();
    assert!(
        decision.is_some_and(|d| d.outcome == warden_core::Outcome::Allow),
        "DELETE decision {id}"
    );

    // dryRun: evaluated and recorded, marked in the audit record.
    let (_, v) = server.review("pod-create-dry-run.json").await;
    assert_eq!(response(&v)["allowed"], false, "{v}");
    let record = server
        .reviewed("1f6a2c3e-0004-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(record.detail["dry_run"], true);
    assert!(record.detail["decision_id"].as_i64().is_some());

    // A known agent's service account: the decision is the agent's.
    let (_, v) = server.review("pod-create-by-agent.json").await;
    assert_eq!(response(&v)["allowed"], true, "{v}");
    let record = server
        .reviewed("1f6a2c3e-0006-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(record.actor, AGENT);
    assert_eq!(record.actor_kind, "agent");
    let id = record.detail["decision_id"].as_i64().unwrap_or_default();
    let decision = server.store.decision(id).await.ok().flatten();
    assert!(
        decision.is_some_and(|d| d.actor == AGENT && d.actor_kind == "agent"),
        "decision {id}"
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_dry_runs_rego_review_and_malformed_requests() {
    let server = Server::start().await;

    // require_approval: refused, naming the approval request opened.
    let (_, v) = server.review("pod-create-mutable-tag.json").await;
    assert_eq!(response(&v)["allowed"], false, "{v}");
    let m = message(&v).to_owned();
    assert!(m.contains("requires approval: approval request "), "{m}");
    let record = server
        .reviewed("1f6a2c3e-0005-4e5f-8a9b-0c1d2e3f4a5b")
        .await;
    // The review names its decision; the approval request opened names the same decision.
    let decision_id = record.detail["decision_id"].as_i64();
    assert!(decision_id.is_some(), "{}", record.detail);
    let approval = server
        .store
        .approvals(&ApprovalFilter::default())
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .into_iter()
        .find(|a| a.decision_id == decision_id)
        .map(|a| a.id);
    assert!(
        approval.is_some_and(|a| m.contains(&format!("approval request {a} "))),
        "{m} / {}",
        record.detail
    );

    // The same request as a dry run: refused, no approval request opened.
    let mut dry = fixture("pod-create-mutable-tag.json");
    dry["request"]["uid"] = json!("dry-1");
    dry["request"]["dryRun"] = json!(true);
    let (_, v) = server.post("/v1/admission", &dry).await;
    assert_eq!(response(&v)["allowed"], false, "{v}");
    assert!(
        message(&v).contains("dry run: no approval request opened"),
        "{v}"
    );
    let record = server.reviewed("dry-1").await;
    assert_eq!(record.detail["dry_run"], true);
    assert!(record.detail["approval_id"].is_null(), "{}", record.detail);

    // A Gatekeeper-style Rego policy reads `input.review`.
    let mut blocked = fixture("pod-create-compliant.json");
    blocked["request"]["uid"] = json!("rego-1");
    blocked["request"]["object"]["metadata"]["annotations"] = json!({"example.com/block": "yes"});
    let (_, v) = server.post("/v1/admission?space=cluster", &blocked).await;
    assert_eq!(response(&v)["allowed"], false, "{v}");
    assert!(
        message(&v).contains("blocked by annotation (CREATE by kubernetes-admin)"),
        "{v}"
    );

    // Malformed reviews: 400 naming the field; nothing recorded.
    let before = server.audit().await.len();
    let mut no_uid = fixture("pod-create-compliant.json");
    if let Some(r) = no_uid["request"].as_object_mut() {
        r.remove("uid");
    }
    let (status, v) = server.post("/v1/admission", &no_uid).await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("`request.uid`")),
        "{v}"
    );
    let mut bad_object = fixture("pod-create-compliant.json");
    bad_object["request"]["object"] = json!("a pod");
    let (status, v) = server.post("/v1/admission", &bad_object).await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("`request.object` is not an object")),
        "{v}"
    );
    let (status, _) = server
        .post("/v1/admission", &json!({"apiVersion": "v1", "kind": "Pod"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(server.audit().await.len(), before);

    // A space that does not exist: 404, not a decision.
    let (status, v) = server
        .post(
            "/v1/admission?space=nowhere",
            &fixture("pod-create-compliant.json"),
        )
        .await;
    assert_eq!(status, 404, "{v}");

    // Nothing else is opened without a token.
    let (status, _) = server
        .post(
            "/v1/evaluate?space=cluster",
            &fixture("pod-create-compliant.json"),
        )
        .await;
    assert_eq!(status, 401);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewritten_certificate_files_are_picked_up() {
    let server = Server::start().await;
    let body = fixture("pod-create-compliant.json");
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let (status, _) = https(
        server.addr,
        &server.cert_der,
        "POST",
        "/v1/admission",
        &bytes,
    )
    .await
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(status, 200);

    // A broken pair is not put in force: the old certificate still serves.
    let files = server.files();
    write_pair(&files, "not a certificate", "not a key");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        https(server.addr, &server.cert_der, "GET", "/healthz", b"")
            .await
            .is_ok(),
        "a pair that does not load replaced the one in force"
    );

    // A new pair: new connections get it, on the same listener.
    let (cert, key, new_der) = certificate();
    write_pair(&files, &cert, &key);
    let mut switched = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if https(server.addr, &new_der, "GET", "/healthz", b"")
            .await
            .is_ok()
        {
            switched = true;
            break;
        }
    }
    assert!(switched, "the rewritten certificate was not picked up");
    let old = https(server.addr, &server.cert_der, "GET", "/healthz", b"").await;
    assert!(
        old.as_ref().is_err_and(|e| e.contains("TLS handshake")),
        "the old certificate still served: {old:?}"
    );
    server.stop().await;
}

#[test]
fn bad_certificate_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let files = TlsFiles {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
    };
    let err = |files: &TlsFiles| {
        files
            .load()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(
        err(&files).contains("tls.crt: cannot read"),
        "{}",
        err(&files)
    );
    let (cert, key, _) = certificate();
    write_pair(&files, "garbage", &key);
    assert!(
        err(&files).contains("tls.crt: no certificate"),
        "{}",
        err(&files)
    );
    write_pair(&files, &cert, "garbage");
    assert!(
        err(&files).contains("tls.key: no usable private key"),
        "{}",
        err(&files)
    );
    let (_, other_key, _) = certificate();
    write_pair(&files, &cert, &other_key);
    let e = err(&files);
    assert!(e.contains("tls.crt with") && e.contains("tls.key"), "{e}");
    write_pair(&files, &cert, &key);
    assert!(files.load().is_ok());
}

/// A policy that cannot load never lets a Pod in: every review is refused, naming the
/// error, and recorded (with `failurePolicy: Fail`, a server that cannot start refuses too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_fails_closed_when_a_policy_cannot_load() {
    let broken = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec:\n  rules: [{name: x, match: 7}]\n";
    let server = Server::start_with(&[("broken.yaml", broken)]).await;
    let (status, v) = server.review("pod-create-compliant.json").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(response(&v)["allowed"], false, "{v}");
    let message = message(&v);
    assert!(message.contains("broken.yaml"), "{message}");
    let decisions: Vec<AuditRecord> = server
        .audit()
        .await
        .into_iter()
        .filter(|r| r.action == "decision.recorded")
        .collect();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].detail["outcome"], "deny");
}
