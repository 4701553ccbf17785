//! Any bytes → `Ok` or `Err` from the plan parser, never a panic; and whatever parses must
//! evaluate under every built-in rule without panicking.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use warden_core::inputs::{parse, InputBytes};
use warden_policy::{Config, PolicySet};

fn policy() -> &'static PolicySet {
    static POLICY: OnceLock<PolicySet> = OnceLock::new();
    POLICY.get_or_init(|| PolicySet::load(Config::default()).expect("default policy loads"))
}

fuzz_target!(|data: &[u8]| {
    let input = InputBytes { name: "fuzz.json".into(), bytes: data.to_vec() };
    if let Ok(changes) = parse(&input) {
        let decision = policy().evaluate(&[&changes], time::OffsetDateTime::UNIX_EPOCH);
        let _ = warden_core::render::render(
            warden_core::render::Format::Text,
            &decision,
            &warden_core::render::RenderOptions { rules: policy().rules(), color: false },
        );
    }
});
