//! The control plane's operations, with their authorisation: the HTTP handlers and the
//! `warden` commands call these, so every door checks the same rules.
//!
//! Role rules: evaluating needs `requester`; reading an approval needs any role in its
//! space; approving and rejecting need `approver` and a human or pipeline token (agents never
//! approve); creating tokens needs `admin`. A token acts only in its spaces. The store adds
//! the rules that belong to the data (never the requester, the space's approver roles).

use std::sync::Arc;

use serde_json::{json, Value};
use time::OffsetDateTime;
use warden_core::{Decision, Outcome};
use warden_policy::{Policies, PolicySet};
use warden_store::{
    Actor, Approval, ApprovalFilter, ApprovalState, ExceptionRecord, NewApproval, NewDecision,
    NewException, NewExceptionUse, NewInput, NewSpace, NewToken, Role, SpaceSettings, Store, Token,
};

use crate::error::ApiError;
use crate::memo::{MemoKey, Memoized};
use crate::reload::PolicyHandle;

/// What evaluation needs: the policies in force, the store and the metrics.
#[derive(Clone)]
pub struct AppState {
    /// The policies decisions are made under (the account's and each space's layer),
    /// replaced whole on reload.
    pub policies: Arc<PolicyHandle>,
    /// Where decisions, approvals and the audit log are kept.
    pub store: Arc<dyn Store>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Per-token rate limits (none unless set with [`AppState::with_rate_limit`]).
    pub rate_limiter: Arc<crate::ratelimit::RateLimiter>,
    /// Evaluations running at once, at most one per core: more only make them share the
    /// cores and all finish later.
    pub evaluations: Arc<tokio::sync::Semaphore>,
    /// Evaluations remembered by the exact change (see [`crate::memo`]).
    pub memo: Arc<crate::memo::DecisionMemo>,
    /// The admission webhook's settings (off unless set with [`AppState::with_admission`]).
    pub admission: Arc<crate::admission::AdmissionSettings>,
    /// Environments this process is launching or tearing down.
    pub environment_work: Arc<crate::environments::Busy>,
    /// The dashboard's settings ([`AppState::with_ui`]).
    pub ui: Arc<crate::ui::UiSettings>,
    /// The dashboard's audit chain verification, kept per head.
    pub audit_chain: Arc<crate::ui::chain::ChainCache>,
}

/// How many evaluations [`AppState::memo`] remembers unless told otherwise.
pub const DEFAULT_MEMO_CAPACITY: usize = 256;

impl AppState {
    /// State with fresh metrics and one policy set for every space.
    #[must_use]
    pub fn new(policy: PolicySet, store: Arc<dyn Store>) -> AppState {
        AppState::with_policies(Policies::single(policy), store)
    }

    /// State with fresh metrics and the account's policy layered with the spaces'.
    #[must_use]
    pub fn with_policies(policies: Policies, store: Arc<dyn Store>) -> AppState {
        AppState {
            policies: Arc::new(PolicyHandle::new(policies)),
            store,
            metrics: Arc::default(),
            rate_limiter: Arc::default(),
            evaluations: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
            memo: Arc::new(crate::memo::DecisionMemo::new(DEFAULT_MEMO_CAPACITY)),
            admission: Arc::default(),
            environment_work: Arc::default(),
            ui: Arc::default(),
            audit_chain: Arc::default(),
        }
    }

    /// The same state with these dashboard settings.
    #[must_use]
    pub fn with_ui(mut self, settings: crate::ui::UiSettings) -> AppState {
        self.ui = Arc::new(settings);
        self
    }

    /// The same state with these admission webhook settings.
    #[must_use]
    pub fn with_admission(mut self, settings: crate::admission::AdmissionSettings) -> AppState {
        self.admission = Arc::new(settings);
        self
    }

    /// The same state remembering at most `capacity` evaluations (0: none, every request is
    /// parsed and evaluated).
    #[must_use]
    pub fn with_memo_capacity(mut self, capacity: usize) -> AppState {
        self.memo = Arc::new(crate::memo::DecisionMemo::new(capacity));
        self
    }

    /// The same state with a per-token rate limit (`None`: no limit).
    #[must_use]
    pub fn with_rate_limit(mut self, limit: Option<crate::ratelimit::RateLimit>) -> AppState {
        self.rate_limiter = Arc::new(crate::ratelimit::RateLimiter::new(limit));
        self
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("policy_revision", &self.policies.current().revision())
            .finish_non_exhaustive()
    }
}

/// The token behind an `Authorization: Bearer <secret>` header value.
pub async fn authenticate(store: &dyn Store, header: Option<&str>) -> Result<Token, ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
    })?;
    let secret = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header is not `Bearer <token>`".into())
        })?;
    authenticate_secret(store, secret).await
}

/// The unrevoked token whose secret this is.
pub async fn authenticate_secret(store: &dyn Store, secret: &str) -> Result<Token, ApiError> {
    store
        .authenticate(secret)
        .await
        .map_err(|e| ApiError::store("authentication", e))?
        .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))
}

/// Fails unless the token holds the role (admins hold every role).
pub fn require_role(token: &Token, role: Role, doing: &str) -> Result<(), ApiError> {
    if Actor::from_token(token).has_role(role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "{doing} needs the {} role; token `{}` has {}",
            role.as_str(),
            token.name,
            roles_text(&token.roles)
        )))
    }
}

/// Fails unless the token may act in the space.
pub fn require_space(token: &Token, space: &str) -> Result<(), ApiError> {
    if token.allows_space(space) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "token `{}` may not act in space `{space}`",
            token.name
        )))
    }
}

fn roles_text(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "no role".into();
    }
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A change to evaluate: the request body and where it goes.
#[derive(Debug, Clone)]
pub struct EvaluateRequest<'a> {
    /// The space it is evaluated in.
    pub space: &'a str,
    /// What the change is about, stable across re-plans (a newer digest for the same subject
    /// supersedes a pending approval request); the change digest when not given.
    pub subject: Option<&'a str>,
    /// The document: a Terraform plan (JSON) or Kubernetes manifests (YAML or JSON).
    pub body: &'a [u8],
    /// The structured change request the document came in, if it did.
    pub request: Option<&'a crate::change_request::ChangeRequest>,
    /// Open an approval request when the outcome is `require_approval` (false for a dry run).
    pub open_approval: bool,
    /// An environment request's checkpoint: its findings are added to the decision (after
    /// evaluation, before exceptions), the cost ones from the decision's estimate.
    pub checkpoint: Option<&'a crate::environments::checkpoint::Checkpoint>,
}

/// Evaluates a change and records the decision (with its audit record) before returning
/// it. The response is the decision document plus `decision_id`; a `require_approval`
/// outcome opens an approval request bound to the change digest (`approval`), and an
/// approved request for the same digest turns it into `allow` citing the request
/// (`approved_by`). If the decision cannot be recorded the answer is an error, never a
/// decision.
pub async fn evaluate(
    state: &AppState,
    token: &Token,
    request: EvaluateRequest<'_>,
) -> Result<Vec<u8>, ApiError> {
    require_role(token, Role::Requester, "evaluating a change")?;
    require_space(token, request.space)?;
    let actor = Actor::from_token(token);
    let space = request.space;
    let change_request = request.request;
    let decided = decide(state, &actor, request, None, None).await?;
    let mut extra = serde_json::Map::new();
    extra.insert("decision_id".into(), json!(decided.record_id));
    extra.insert("space".into(), json!(space));
    if let Some(r) = change_request {
        extra.insert("request".into(), r.to_json());
    }
    if let Some(a) = &decided.opened {
        extra.insert("approval".into(), approval_json(a));
    }
    if let Some(a) = &decided.cited {
        extra.insert("approved_by".into(), approval_json(a));
    }
    if decided.memoized {
        extra.insert("memoized".into(), json!(true));
    }
    if token.kind == warden_core::ActorKind::Agent {
        if let Some(hint) = retry_hint(
            &decided.decision,
            decided.opened.as_ref().map(|a| a.id),
            decided.attempt.as_ref(),
        ) {
            extra.insert("retry".into(), hint);
        }
    }
    json_with_members(decided.text.into_bytes(), extra).map_err(|e| ApiError::Internal {
        public: "the decision could not be serialized".into(),
        detail: e.to_string(),
    })
}

/// Changes a parsed change set before it is evaluated (the admission webhook sets the
/// action, the old object and the request around it); an error is the request's fault.
pub type Prepare = Box<dyn FnOnce(&mut warden_core::ChangeSet) -> Result<(), ApiError> + Send>;

/// Makes, from the final decision, one more audit record stored in the decision's
/// transaction (the admission webhook's `admission.reviewed`; see
/// [`warden_store::NewDecision::follow_up`]).
pub type FollowUp = Box<dyn FnOnce(&Decision) -> warden_store::AuditEvent + Send>;

/// A decision made and recorded by [`decide`].
#[derive(Debug)]
pub struct Decided {
    /// The decision, exceptions applied.
    pub decision: Decision,
    /// The decision as JSON, as stored.
    pub text: String,
    /// The recorded decision's id.
    pub record_id: i64,
    /// The approval request opened for a `require_approval` outcome.
    pub opened: Option<Approval>,
    /// The approved request that let this exact change through.
    pub cited: Option<Approval>,
    /// The evaluation was remembered, not made again.
    pub memoized: bool,
    /// For an agent: which attempt at the change this was (the retry contract).
    pub attempt: Option<crate::agents::Attempt>,
}

/// The work of [`evaluate`] once the caller is authorised: evaluates the body in the space
/// (after `prepare`, when given, changed the parsed change set; remembered evaluations are
/// not used then), applies the space's exceptions, cites an approved request for the same
/// change, records the decision with its audit record as `actor`, and opens an approval
/// request on `require_approval` unless `request.open_approval` is false.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    request: EvaluateRequest<'_>,
    prepare: Option<Prepare>,
    follow_up: Option<FollowUp>,
) -> Result<Decided, ApiError> {
    let store = state.store.as_ref();
    let Some((_, exceptions)) = store
        .space_with_exceptions(request.space)
        .await
        .map_err(|e| ApiError::store("looking up the space", e))?
    else {
        return Err(ApiError::NotFound(format!(
            "space `{}` does not exist",
            request.space
        )));
    };
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty: send a Terraform plan (JSON) or Kubernetes manifests",
        ));
    }
    let started = std::time::Instant::now();
    let now = store.now();
    // The policies in force when the request arrived decide it, even if a reload lands
    // meanwhile.
    let policies = state.policies.current();
    let operation = request.request.map(|r| r.operation);
    let layered = policies.layered(request.space);
    let memo_key =
        (prepare.is_none() && state.memo.enabled() && !layered.reads_clock()).then(|| MemoKey {
            digest: warden_core::digest::sha256(request.body),
            revision: layered.revision().to_owned(),
            space: request.space.to_owned(),
            operation: operation.map(crate::change_request::Operation::as_str),
            date: now.date(),
        });
    let remembered = memo_key.as_ref().and_then(|k| state.memo.get(k));
    let (mut decision, input, secrets, derived_subject, touched) = if let (Some(hit), Some(key)) =
        (&remembered, &memo_key)
    {
        let mut decision = hit.decision.clone();
        decision.evaluated_at = Decision::timestamp(now);
        decision.duration_ms = 0.0;
        let input = NewInput {
            digest: key.digest.clone(),
            kind: hit.kind.clone(),
            // Valid text: the same bytes were decoded when the decision was first made.
            content: match warden_core::inputs::decode_text("request", request.body) {
                Ok(std::borrow::Cow::Borrowed(b)) => std::str::from_utf8(b)
                    .map_or_else(|_| String::from_utf8_lossy(b), std::borrow::Cow::Borrowed),
                Ok(std::borrow::Cow::Owned(v)) => String::from_utf8_lossy(&v).into_owned().into(),
                Err(e) => return Err(ApiError::bad_request(e.to_string())),
            },
        };
        (
            decision,
            input,
            hit.secrets.clone(),
            hit.subject.clone(),
            hit.resources.clone(),
        )
    } else {
        let space = request.space.to_owned();
        let body = request.body.to_vec();
        // Parsing and evaluation are CPU work: off the async workers, one per core at most.
        let _slot = state
            .evaluations
            .acquire()
            .await
            .map_err(|e| ApiError::Internal {
                public: "evaluation failed".into(),
                detail: e.to_string(),
            })?;
        let evaluating = policies.clone();
        let evaluated = tokio::task::spawn_blocking(move || {
            evaluate_blocking(evaluating.layered(&space), body, now, operation, prepare)
        })
        .await
        .map_err(|e| ApiError::Internal {
            public: "evaluation failed".into(),
            detail: e.to_string(),
        })??;
        if let Some(key) = memo_key.filter(|k| k.digest == evaluated.1.digest) {
            state.memo.put(
                key,
                Memoized {
                    decision: evaluated.0.clone(),
                    kind: evaluated.1.kind.clone(),
                    secrets: evaluated.2.clone(),
                    subject: evaluated.3.clone(),
                    resources: evaluated.4.clone(),
                },
            );
        }
        evaluated
    };

    if let Some(check) = request.checkpoint {
        let found = check.findings_for(&decision);
        if !found.is_empty() {
            decision.findings.extend(found);
            decision.refresh();
        }
    }
    let exception_uses = apply_exceptions(&exceptions, now, &mut decision);
    let subject = request
        .subject
        .map_or(derived_subject, std::borrow::ToOwned::to_owned);
    let attempt = if actor.kind == Some(warden_core::ActorKind::Agent) {
        Some(
            crate::agents::apply(
                store,
                &policies.account().config().agents,
                &actor.principal,
                request.space,
                subject.clone(),
                request.request.and_then(|r| r.context.attempt),
                now,
                &mut decision,
            )
            .await?,
        )
    } else {
        None
    };
    // Who asks and when: the decision (perhaps remembered) was scored without them.
    let risk = &policies.account().config().risk;
    let mut factors = warden_policy::risk::context_factors(
        risk,
        actor.kind.unwrap_or(warden_core::ActorKind::Human),
        now,
    );
    factors.extend(attempt.as_ref().map(crate::agents::Attempt::denials_factor));
    warden_policy::risk::apply(&mut decision, risk, factors, || {
        policies.account().risk_rule()
    });
    let mut cited = None;
    if decision.outcome == Outcome::RequireApproval {
        cited = store
            .approved_change(request.space, &decision.input_digest)
            .await
            .map_err(|e| ApiError::store("looking up approvals", e))?;
        if cited.is_some() {
            decision.outcome = Outcome::Allow;
        }
    }
    // Serialized once: the store keeps this text and the answer is this text with members
    // appended.
    let text = serde_json::to_string(&decision).map_err(|e| ApiError::Internal {
        public: "the decision could not be serialized".into(),
        detail: e.to_string(),
    })?;
    let record = store
        .record_decision(
            actor,
            &NewDecision {
                decision: &decision,
                text: Some(&text),
                space: Some(request.space.to_owned()),
                inputs: vec![input],
                secrets,
                exception_uses,
                approval_id: cited.as_ref().map(|a| a.id),
                subject: Some(subject),
                attempt: attempt.as_ref().map(|a| a.number),
                cost_delta: decision.cost.as_ref().map(|c| c.delta),
                resources: touched,
                follow_up: follow_up.map(|make| make(&decision)),
            },
        )
        .await
        .map_err(|e| match e {
            warden_store::StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal {
                public: "the decision could not be recorded, so it is not given (fail closed)"
                    .into(),
                detail: other.to_string(),
            },
        })?;

    tracing::info!(
        decision_id = record.id,
        space = request.space,
        outcome = decision.outcome.as_str(),
        actor = %actor.principal,
        actor_kind = actor.kind_str(),
        findings = decision.findings.len(),
        input_digest = %decision.input_digest,
        policy_revision = %decision.policy_revision,
        operation = request.request.map_or("", |r| r.operation.as_str()),
        environment = request
            .request
            .and_then(|r| r.context.environment.as_deref())
            .unwrap_or(""),
        memoized = remembered.is_some(),
        ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        "decision recorded"
    );
    state.metrics.decision(
        decision.outcome.as_str(),
        request.space,
        actor.kind_str(),
        decision.findings.iter().map(|f| f.rule_id.clone()),
        started.elapsed().as_secs_f64(),
    );

    let mut opened = None;
    if decision.outcome == Outcome::RequireApproval && request.open_approval {
        opened = Some(
            store
                .open_approval(
                    actor,
                    &NewApproval {
                        space: request.space.to_owned(),
                        subject: request
                            .subject
                            .map_or_else(|| decision.input_digest.clone(), str::to_owned),
                        change_digest: decision.input_digest.clone(),
                        decision_id: Some(record.id),
                    },
                )
                .await
                .map_err(|e| ApiError::store("opening the approval request", e))?,
        );
    }

    Ok(Decided {
        decision,
        text,
        record_id: record.id,
        opened,
        cited,
        memoized: remembered.is_some(),
        attempt,
    })
}

/// A serialized JSON object (`out`) with `extra` members appended: the object is not parsed
/// or built as a `Value` tree again.
pub(crate) fn json_with_members(
    mut out: Vec<u8>,
    extra: serde_json::Map<String, Value>,
) -> serde_json::Result<Vec<u8>> {
    if out.last() != Some(&b'}') {
        return Err(serde::ser::Error::custom("not a JSON object"));
    }
    out.pop();
    let mut first = out.last() == Some(&b'{');
    for (key, v) in extra {
        if !first {
            out.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut out, &key)?;
        out.push(b':');
        serde_json::to_writer(&mut out, &v)?;
    }
    out.push(b'}');
    Ok(out)
}

/// What an agent should change before evaluating again, for any outcome but `allow`:
/// `{"change": [{"rule_id", "resource", "attribute", "enforcement", "fix"}], "approval_id"}`,
/// one entry per active finding that holds the outcome above `allow` (advisory findings and
/// waived ones are left out), `fix` being the rule's fix summary or `null` when the rule has
/// none; `approval_id` (when a request was opened) is the request that, once approved, lets
/// this exact change through unchanged. There is no attempt counter, so no "remaining
/// attempts" member.
#[must_use]
pub fn retry_hint(
    decision: &Decision,
    approval_id: Option<i64>,
    attempt: Option<&crate::agents::Attempt>,
) -> Option<Value> {
    if decision.outcome == Outcome::Allow {
        return None;
    }
    let change: Vec<Value> = decision
        .findings
        .iter()
        .filter(|f| Outcome::from_enforcement(f.enforcement) != Outcome::Allow)
        .map(|f| {
            json!({
                "rule_id": f.rule_id,
                "resource": f.resource,
                "attribute": f.attribute,
                "enforcement": f.enforcement.as_str(),
                "fix": f.fix.as_ref().map(|x| x.description.as_str()),
            })
        })
        .collect();
    let mut hint = serde_json::Map::new();
    hint.insert("change".into(), Value::Array(change));
    if let Some(id) = approval_id {
        hint.insert("approval_id".into(), json!(id));
    }
    if let Some(Value::Object(members)) = attempt.map(crate::agents::Attempt::to_json) {
        hint.extend(members);
    }
    Some(Value::Object(hint))
}

fn evaluate_blocking(
    policy: warden_policy::Layered<'_>,
    body: Vec<u8>,
    now: OffsetDateTime,
    operation: Option<crate::change_request::Operation>,
    prepare: Option<Prepare>,
) -> Result<Evaluated, ApiError> {
    let input = warden_core::inputs::InputBytes {
        name: "request".into(),
        bytes: body,
    };
    let mut change =
        warden_core::inputs::parse(&input).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(operation) = operation {
        operation.check_fits(&change)?;
    }
    if let Some(prepare) = prepare {
        prepare(&mut change)?;
    }
    let decoded = warden_core::inputs::decode_text(&input.name, &input.bytes)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let as_sent = matches!(&decoded, std::borrow::Cow::Borrowed(b) if b.len() == input.bytes.len());
    let text = if as_sent {
        // The common case (UTF-8 without a byte order mark): the body becomes the text without
        // a copy.
        String::from_utf8(input.bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    } else {
        String::from_utf8_lossy(&decoded).into_owned()
    };
    if let Some(t) = change.terraform.as_mut() {
        if policy.wants_raw_documents() {
            t.document = policy.prepare_document(&text, now);
        }
    }
    let decision = policy.evaluate(&[&change], now);
    let secrets = secrets_found(&decision, &change);
    let kind = serde_json::to_value(change.input.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let stored = NewInput {
        digest: change.input.digest.clone(),
        kind,
        content: text.into(),
    };
    let subject = crate::agents::change_subject(&change);
    Ok((
        decision,
        stored,
        secrets,
        subject,
        touched_addresses(&change),
    ))
}

/// What [`evaluate_blocking`] makes of a body: the decision, the input to store, the secrets
/// to mask, the subject derived from the change and the addresses it touches.
type Evaluated = (
    Decision,
    NewInput<'static>,
    Vec<String>,
    String,
    Vec<String>,
);

/// The distinct addresses of the resources a change creates, updates, replaces or deletes
/// (no-op and read resources are only looked at), as the store keeps them for drift
/// attribution.
#[must_use]
pub fn touched_addresses(change: &warden_core::ChangeSet) -> Vec<String> {
    let mut out: Vec<String> = change
        .resources
        .iter()
        .filter(|r| {
            !matches!(
                r.action,
                warden_core::Action::NoOp | warden_core::Action::Read
            )
        })
        .map(|r| r.address.clone())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Id of the built-in rule that finds secrets written into the configuration.
pub const SECRET_RULE: &str = warden_policy::drift::SECRET_RULE;

/// The secret values the secret rule found, read from the resources at the findings'
/// attributes (the findings carry only where, never the value), so the store masks them in
/// everything it keeps.
#[must_use]
pub fn secrets_found(decision: &Decision, change: &warden_core::ChangeSet) -> Vec<String> {
    let mut out = Vec::new();
    let findings = decision
        .findings
        .iter()
        .chain(decision.waived.iter().map(|w| &w.finding))
        .filter(|f| f.rule_id == SECRET_RULE);
    for f in findings {
        let Some(attribute) = f.attribute.as_deref() else {
            continue;
        };
        let segments: Vec<&str> = attribute.split('.').collect();
        for r in change.resources.iter().filter(|r| r.address == f.resource) {
            collect_strings(&r.after, &segments, &mut out);
            collect_strings(&r.before, &segments, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The strings at a dotted path; list indexes may be given or left out (then every item).
fn collect_strings(value: &warden_core::Value, path: &[&str], out: &mut Vec<String>) {
    use warden_core::Value;
    match (value, path.split_first()) {
        (Value::String(s), None) => out.push(s.to_string()),
        (Value::Array(items), Some((first, rest))) if first.parse::<usize>().is_ok() => {
            if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                collect_strings(item, rest, out);
            }
        }
        (Value::Array(items), _) => {
            for item in items {
                collect_strings(item, path, out);
            }
        }
        (Value::Object(_), Some((first, rest))) => {
            if let Some(v) = value.get(first) {
                collect_strings(v, rest, out);
            }
        }
        _ => {}
    }
}

/// An approval request as the API shows it.
#[must_use]
pub fn approval_json(a: &Approval) -> Value {
    let time = |t: Option<OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    json!({
        "id": a.id,
        "space": a.space,
        "subject": a.subject,
        "change_digest": a.change_digest,
        "decision_id": a.decision_id,
        "state": a.state.as_str(),
        "requested_by": a.requested_by,
        "requester_kind": a.requester_kind,
        "required": a.required,
        "approver_roles": a.approver_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "approvers": a.approvers,
        "created_at": time(Some(a.created_at)),
        "expires_at": time(a.expires_at),
        "resolved_at": time(a.resolved_at),
        "resolved_by": a.resolved_by,
        "reason": a.reason,
    })
}

/// An approval request the token may see.
pub async fn approval(store: &dyn Store, token: &Token, id: i64) -> Result<Approval, ApiError> {
    let a = store
        .approval(id)
        .await
        .map_err(|e| ApiError::store("reading the approval request", e))?
        .ok_or_else(|| ApiError::NotFound(format!("approval request {id} not found")))?;
    if !token.allows_space(&a.space) {
        // Do not reveal requests in other spaces.
        return Err(ApiError::NotFound(format!(
            "approval request {id} not found"
        )));
    }
    Ok(a)
}

/// Approval requests in the token's spaces, newest first.
pub async fn approvals(
    store: &dyn Store,
    token: &Token,
    space: Option<&str>,
    state: Option<ApprovalState>,
) -> Result<Vec<Approval>, ApiError> {
    if let Some(space) = space {
        require_space(token, space)?;
    }
    let all = store
        .approvals(&ApprovalFilter {
            space: space.map(str::to_owned),
            state,
        })
        .await
        .map_err(|e| ApiError::store("listing approval requests", e))?;
    Ok(all
        .into_iter()
        .filter(|a| token.allows_space(&a.space))
        .collect())
}

fn may_decide(token: &Token, id: i64, doing: &str) -> Result<(), ApiError> {
    if token.kind == warden_core::ActorKind::Agent {
        return Err(ApiError::Forbidden(format!(
            "agents never {doing} approval requests (token `{}` is an agent's)",
            token.name
        )));
    }
    require_role(token, Role::Approver, &format!("{doing} request {id}"))
}

/// Adds the token's approval to a pending request.
pub async fn approve(
    store: &dyn Store,
    token: &Token,
    id: i64,
    note: Option<&str>,
) -> Result<Approval, ApiError> {
    may_decide(token, id, "approve")?;
    approval(store, token, id).await?;
    store
        .approve(&Actor::from_token(token), id, note)
        .await
        .map_err(|e| ApiError::store("approving", e))
}

/// Rejects a pending request, with a reason.
pub async fn reject(
    store: &dyn Store,
    token: &Token,
    id: i64,
    reason: &str,
) -> Result<Approval, ApiError> {
    may_decide(token, id, "reject")?;
    if reason.trim().is_empty() {
        return Err(ApiError::bad_request("a rejection needs a reason"));
    }
    approval(store, token, id).await?;
    store
        .reject(&Actor::from_token(token), id, reason)
        .await
        .map_err(|e| ApiError::store("rejecting", e))
}

/// A new token secret: 32 random bytes, hex, prefixed `wdn_` so scanners can spot it.
pub fn generate_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal {
        public: "no randomness for a token".into(),
        detail: e.to_string(),
    })?;
    let mut out = String::with_capacity(4 + 64);
    out.push_str("wdn_");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    Ok(out)
}

/// Creates a token as `actor` (an admin token's actor, or the system at bootstrap), creating
/// its named spaces with default settings when they do not exist. Returns the token and its
/// secret (shown once; only its hash is stored).
pub async fn create_token(
    store: &dyn Store,
    actor: &Actor,
    token: &NewToken,
) -> Result<(Token, String), ApiError> {
    require_admin(actor, "creating tokens")?;
    for space in token.spaces.iter().filter(|s| s.as_str() != "*") {
        let exists = store
            .space(space)
            .await
            .map_err(|e| ApiError::store("looking up the space", e))?
            .is_some();
        if !exists {
            store
                .put_space(
                    actor,
                    &NewSpace {
                        name: space.clone(),
                        description: String::new(),
                        settings: SpaceSettings::default(),
                    },
                )
                .await
                .map_err(|e| ApiError::store("creating the space", e))?;
        }
    }
    let secret = generate_secret()?;
    let created = store
        .create_token(actor, token, &secret)
        .await
        .map_err(|e| ApiError::store("creating the token", e))?;
    Ok((created, secret))
}

/// Applies the space's governed exceptions to a decision: a finding an active (granted,
/// unexpired) exception covers moves to `waived` (the waiver names the exception, its
/// grantor and expiry) and a use is returned to record with the decision; a finding only an
/// expired exception would cover stays active with a note saying so.
pub fn apply_exceptions(
    all: &[ExceptionRecord],
    now: time::OffsetDateTime,
    decision: &mut Decision,
) -> Vec<NewExceptionUse> {
    if all.is_empty() {
        return Vec::new();
    }
    let covers = |e: &ExceptionRecord, f: &warden_core::Finding| {
        warden_core::exceptions::rule_selector_matches(&e.rule, &f.rule_id, &f.rule_name)
            && warden_core::exceptions::glob_matches(&e.resource_glob, &f.resource)
    };
    let lapsed = |e: &ExceptionRecord| {
        e.state == warden_store::ExceptionState::Expired
            || (e.state == warden_store::ExceptionState::Granted && now >= e.expires_at)
    };
    let mut uses = Vec::new();
    let mut kept = Vec::with_capacity(decision.findings.len());
    for mut f in std::mem::take(&mut decision.findings) {
        if let Some(e) = all.iter().find(|e| e.is_active(now) && covers(e, &f)) {
            uses.push(NewExceptionUse {
                exception_id: e.id,
                rule: f.rule_id.clone(),
                resource: f.resource.clone(),
            });
            decision.waived.push(warden_core::WaivedFinding {
                finding: f,
                waiver: warden_core::exceptions::Waiver::Exception {
                    exception: warden_core::exceptions::Exception {
                        rule: e.rule.clone(),
                        resource: e.resource_glob.clone(),
                        reason: format!("governed exception #{}: {}", e.id, e.justification),
                        owner: Some(format!(
                            "requested by {}, granted by {}{}",
                            e.requested_by,
                            e.decided_by.as_deref().unwrap_or("?"),
                            e.ticket
                                .as_deref()
                                .map(|t| format!(", ticket {t}"))
                                .unwrap_or_default()
                        )),
                        expires: e.expires_at.date(),
                    },
                },
            });
            continue;
        }
        if let Some(e) = all.iter().find(|e| lapsed(e) && covers(e, &f)) {
            let note = format!(
                "governed exception #{} for this finding expired at {}; it no longer applies",
                e.id,
                warden_store::model::audit_time(e.expires_at)
            );
            f.note = Some(match f.note.take() {
                Some(n) => format!("{n}; {note}"),
                None => note,
            });
        }
        kept.push(f);
    }
    decision.findings = kept;
    decision.refresh();
    uses
}

/// An exception to request over the API.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionRequest {
    /// Rule id, name, id prefix or `*`.
    pub rule: String,
    /// Resource address glob.
    pub resource: String,
    /// Why (required).
    pub justification: String,
    /// Ticket reference.
    pub ticket: Option<String>,
    /// How many days it lasts (at most the space's maximum).
    pub days: u32,
}

/// Requests a governed exception in a space (requester role; agents included).
pub async fn request_exception(
    store: &dyn Store,
    token: &Token,
    space: &str,
    request: &ExceptionRequest,
) -> Result<ExceptionRecord, ApiError> {
    require_role(token, Role::Requester, "requesting an exception")?;
    require_space(token, space)?;
    if request.days == 0 {
        return Err(ApiError::bad_request("`days` must be at least 1"));
    }
    store
        .request_exception(
            &Actor::from_token(token),
            &NewException {
                space: space.to_owned(),
                rule: request.rule.clone(),
                resource_glob: request.resource.clone(),
                justification: request.justification.clone(),
                ticket: request.ticket.clone(),
                expires_at: store.now() + time::Duration::days(i64::from(request.days)),
            },
        )
        .await
        .map_err(|e| ApiError::store("requesting the exception", e))
}

/// An exception the token may see.
pub async fn exception(
    store: &dyn Store,
    token: &Token,
    id: i64,
) -> Result<ExceptionRecord, ApiError> {
    let e = store
        .exception(id)
        .await
        .map_err(|e| ApiError::store("reading the exception", e))?
        .filter(|e| token.allows_space(&e.space))
        .ok_or_else(|| ApiError::NotFound(format!("exception {id} not found")))?;
    Ok(e)
}

/// Grants (`grant = true`) or rejects a requested exception: approver role, never an
/// agent; the store refuses the requester.
pub async fn decide_exception(
    store: &dyn Store,
    token: &Token,
    id: i64,
    grant: bool,
    reason: Option<&str>,
) -> Result<ExceptionRecord, ApiError> {
    let doing = if grant { "grant" } else { "reject" };
    if token.kind == warden_core::ActorKind::Agent {
        return Err(ApiError::Forbidden(format!(
            "agents never {doing} exceptions (token `{}` is an agent's)",
            token.name
        )));
    }
    require_role(token, Role::Approver, &format!("{doing}ing exception {id}"))?;
    exception(store, token, id).await?;
    let actor = Actor::from_token(token);
    if grant {
        store.grant_exception(&actor, id).await
    } else {
        let reason = reason
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("a rejection needs a reason"))?;
        store.reject_exception(&actor, id, reason).await
    }
    .map_err(|e| ApiError::store(doing, e))
}

/// An exception as the API shows it.
#[must_use]
pub fn exception_json(e: &ExceptionRecord) -> Value {
    let time = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    json!({
        "id": e.id,
        "space": e.space,
        "rule": e.rule,
        "resource": e.resource_glob,
        "justification": e.justification,
        "ticket": e.ticket,
        "state": e.state.as_str(),
        "requested_by": e.requested_by,
        "requester_kind": e.requester_kind,
        "created_at": time(e.created_at),
        "expires_at": time(e.expires_at),
        "decided_by": e.decided_by,
        "decided_at": e.decided_at.and_then(time),
        "reason": e.reason,
    })
}

/// Fails unless the token may read the whole audit log: viewer role over every space
/// (`*`), since the log covers them all.
pub fn require_audit_reader(token: &Token) -> Result<(), ApiError> {
    require_role(token, Role::Viewer, "verifying the audit log")?;
    if !token.spaces.iter().any(|s| s == "*") {
        return Err(ApiError::Forbidden(format!(
            "verifying the audit log needs a token for every space (`*`): the log covers them all; token `{}` has {}",
            token.name,
            token.spaces.join(", ")
        )));
    }
    Ok(())
}

/// Walks the audit chain (viewer role over every space: the log covers them all):
/// `{"intact", "records", "head": {"seq", "hash"}, "broken": {"seq", "position", "reason"}}`.
pub async fn verify_audit(store: &dyn Store, token: &Token) -> Result<Value, ApiError> {
    require_audit_reader(token)?;
    let v = store
        .verify_audit()
        .await
        .map_err(|e| ApiError::store("verifying the audit log", e))?;
    Ok(json!({
        "intact": v.is_intact(),
        "records": v.records,
        "head": v.last.as_ref().map(|(seq, hash)| json!({ "seq": seq, "hash": hash })),
        "broken": v.broken.as_ref().map(|b| json!({
            "seq": b.seq,
            "position": b.position,
            "reason": b.reason.to_string(),
        })),
    }))
}

/// Fails unless the actor is an admin.
fn require_admin(actor: &Actor, doing: &str) -> Result<(), ApiError> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "{doing} needs the admin role; {} has {}",
            actor.principal,
            roles_text(&actor.roles)
        )))
    }
}

/// Every token, revoked ones included (admin role; the store keeps no secrets to show).
pub async fn tokens(store: &dyn Store, actor: &Actor) -> Result<Vec<Token>, ApiError> {
    require_admin(actor, "listing tokens")?;
    store
        .tokens()
        .await
        .map_err(|e| ApiError::store("listing tokens", e))
}

/// Revokes a token by name or id (admin role); its secret stops working at once.
pub async fn revoke_token(
    store: &dyn Store,
    actor: &Actor,
    which: &str,
) -> Result<Token, ApiError> {
    require_admin(actor, "revoking tokens")?;
    let tokens = tokens(store, actor).await?;
    let token = tokens
        .iter()
        .find(|t| t.name == which || t.id.to_string() == which)
        .ok_or_else(|| ApiError::NotFound(format!("no token named `{which}`")))?;
    if token.revoked_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "token `{}` is already revoked",
            token.name
        )));
    }
    store
        .revoke_token(actor, token.id)
        .await
        .map_err(|e| ApiError::store("revoking the token", e))
}

/// Revokes a granted exception, with a reason: approver role, never an agent (revoking
/// tightens, so the requester may).
pub async fn revoke_exception(
    store: &dyn Store,
    token: &Token,
    id: i64,
    reason: &str,
) -> Result<ExceptionRecord, ApiError> {
    if token.kind == warden_core::ActorKind::Agent {
        return Err(ApiError::Forbidden(format!(
            "agents never revoke exceptions (token `{}` is an agent's)",
            token.name
        )));
    }
    require_role(token, Role::Approver, &format!("revoking exception {id}"))?;
    if reason.trim().is_empty() {
        return Err(ApiError::bad_request("a revocation needs a reason"));
    }
    exception(store, token, id).await?;
    store
        .revoke_exception(&Actor::from_token(token), id, reason)
        .await
        .map_err(|e| ApiError::store("revoke", e))
}

/// The spaces a token reads: `None` for every space (`*`), else its own.
#[must_use]
pub fn readable_spaces(token: &Token) -> Option<Vec<String>> {
    if token.spaces.iter().any(|s| s == "*") {
        None
    } else {
        Some(token.spaces.clone())
    }
}

/// Decisions the token may see (any role reads, as with approval requests; its spaces
/// only), newest first.
pub async fn decisions(
    store: &dyn Store,
    token: &Token,
    mut query: warden_store::DecisionQuery,
) -> Result<Vec<warden_store::DecisionSummary>, ApiError> {
    if let Some(space) = &query.space {
        require_space(token, space)?;
    }
    query.within = readable_spaces(token);
    store
        .decisions(&query)
        .await
        .map_err(|e| ApiError::store("listing decisions", e))
}

/// A decision the token may see (a decision outside its spaces is not found).
pub async fn decision(
    store: &dyn Store,
    token: &Token,
    id: i64,
) -> Result<warden_store::DecisionRecord, ApiError> {
    let d = store
        .decision(id)
        .await
        .map_err(|e| ApiError::store("reading the decision", e))?
        .filter(|d| match &d.space {
            Some(space) => token.allows_space(space),
            None => readable_spaces(token).is_none(),
        })
        .ok_or_else(|| ApiError::NotFound(format!("decision {id} not found")))?;
    Ok(d)
}

/// The overview's aggregates over the token's spaces since `since`.
pub async fn decision_stats(
    store: &dyn Store,
    token: &Token,
    since: OffsetDateTime,
    bucket_secs: i64,
) -> Result<warden_store::DecisionStats, ApiError> {
    store
        .decision_stats(&warden_store::StatsQuery {
            within: readable_spaces(token),
            since,
            bucket_secs,
            top_rules: 8,
        })
        .await
        .map_err(|e| ApiError::store("reading decision statistics", e))
}

/// A decision in a list, as the API shows it.
#[must_use]
pub fn decision_summary_json(d: &warden_store::DecisionSummary) -> Value {
    json!({
        "id": d.id,
        "space": d.space,
        "actor": d.actor,
        "actor_kind": d.actor_kind,
        "outcome": d.outcome.as_str(),
        "input_digest": d.input_digest,
        "policy_revision": d.policy_revision,
        "approval_id": d.approval_id,
        "subject": d.subject,
        "attempt": d.attempt,
        "cost_delta": d.cost_delta,
        "created_at": d.created_at.format(&time::format_description::well_known::Rfc3339).ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_appended_to_the_serialized_object() {
        let mut extra = serde_json::Map::new();
        extra.insert("decision_id".into(), json!(7));
        extra.insert("space".into(), json!("d\"ev"));
        let out = json_with_members(br#"{"outcome":"allow"}"#.to_vec(), extra.clone()).ok();
        let v: Value = serde_json::from_slice(&out.unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            v,
            json!({"outcome": "allow", "decision_id": 7, "space": "d\"ev"})
        );
        let out = json_with_members(b"{}".to_vec(), extra).ok();
        let v: Value = serde_json::from_slice(&out.unwrap_or_default()).unwrap_or_default();
        assert_eq!(v, json!({"decision_id": 7, "space": "d\"ev"}));
        assert!(json_with_members(b"[1]".to_vec(), serde_json::Map::new()).is_err());
    }
}
