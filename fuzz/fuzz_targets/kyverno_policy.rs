//! Any bytes as a Kyverno policy file → loaded or refused with errors, never a panic; whatever
//! loads is evaluated against a few fixed resources without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_kyverno::engine::{KyvernoEngine, Request};

const RESOURCES: &[&str] = &[
    r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"x","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"nginx:latest","securityContext":{"privileged":true},"ports":[{"hostPort":80}]}]}}"#,
    r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"a"}]}}}}"#,
    r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"LoadBalancer"}}"#,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = warden_kyverno::policy::load_str("fuzz.yaml", text);
    let engine = KyvernoEngine::new(loaded.policies, loaded.exceptions).with_validating_policies(loaded.validating_policies);
    for resource in RESOURCES {
        if let Ok(value) = serde_json::from_str(resource) {
            let _ = engine.evaluate_request(&Request::create(value));
        }
    }
});
