//! Conformance with Kyverno's own CLI tests: every test of the shared corpus
//! (`../shared/corpus/kyverno/MANIFEST.json`), scored per tier as the corpus README defines
//! (matched expected results ÷ expected results). The matched counts may not drop below the
//! committed ratchet `tests/kyverno.score`; `WARDEN_UPDATE_GENERATED=1` rewrites it.
//!
//! It lives in warden-policy, not warden-kyverno, because `validate.podSecurity` rules run
//! Warden's built-in Pod Security Standards rules (`BuiltinPodSecurity`), which
//! warden-kyverno cannot depend on. Skipped when the corpus is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use warden_kyverno::pod_security::PodSecurity;
use warden_kyverno::test_runner::run_test_file_with;
use warden_policy::pod_security::BuiltinPodSecurity;

const TIERS: [&str; 3] = ["classic", "cel-in-clusterpolicy", "validatingpolicy"];

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/kyverno"
    ))
}

fn ratchet_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kyverno.score"))
}

#[derive(Default, Debug, Clone, Copy)]
struct Score {
    tests: usize,
    tests_all_matched: usize,
    expected: usize,
    matched: usize,
    matched_lenient: usize,
    got_error: usize,
}

/// `tier matched` lines; `#` starts a comment.
fn read_ratchet(path: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((parts.next()?.to_owned(), parts.next()?.parse().ok()?))
        })
        .collect()
}

fn write_ratchet(path: &Path, scores: &BTreeMap<String, Score>) -> std::io::Result<()> {
    let mut text = String::from(
        "# Kyverno conformance ratchet: matched expected results per tier (tests/kyverno_conformance.rs).\n\
         # Rewrite with WARDEN_UPDATE_GENERATED=1 cargo test -p warden-policy --test kyverno_conformance\n",
    );
    for tier in TIERS {
        let s = scores.get(tier).copied().unwrap_or_default();
        text.push_str(&format!("{tier} {}\n", s.matched));
    }
    std::fs::write(path, text)
}

#[test]
fn kyverno_corpus_conformance() {
    let root = corpus();
    let manifest_path = root.join("MANIFEST.json");
    if !manifest_path.exists() {
        println!("skipped: corpus absent ({})", root.display());
        return;
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let tests = manifest["tests"].as_array().cloned().unwrap_or_default();
    let pod_security: Arc<dyn PodSecurity> = Arc::new(BuiltinPodSecurity::new());
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    for t in &tests {
        let tier = t["tier"].as_str().unwrap_or("unknown").to_owned();
        let file = root.join(t["test"].as_str().unwrap_or_default());
        let report = run_test_file_with(&file, Some(pod_security.clone()));
        let s = scores.entry(tier).or_default();
        s.tests += 1;
        s.expected += report.cases.len();
        let matched = report.cases.iter().filter(|c| c.matched()).count();
        s.matched += matched;
        s.matched_lenient += report.cases.iter().filter(|c| c.matched_lenient()).count();
        s.got_error += report
            .cases
            .iter()
            .filter(|c| c.got == Some(warden_kyverno::engine::Status::Error))
            .count();
        if matched == report.cases.len() && !report.cases.is_empty() {
            s.tests_all_matched += 1;
        }
        if std::env::var_os("WARDEN_KYVERNO_VERBOSE").is_some() {
            for c in report.cases.iter().filter(|c| !c.matched()) {
                println!(
                    "MISS {} {}/{} {} {}: want {} got {:?}: {}",
                    t["test"].as_str().unwrap_or_default(),
                    c.policy,
                    c.rule.as_deref().unwrap_or("-"),
                    c.kind,
                    c.resource,
                    c.want,
                    c.got,
                    c.message
                );
            }
            for e in &report.errors {
                println!("LOAD {}: {e}", t["test"].as_str().unwrap_or_default());
            }
        }
    }
    for tier in TIERS {
        let s = scores.get(tier).copied().unwrap_or_default();
        let want = manifest["summary"]["by_tier"][tier]["expected_results"]
            .as_u64()
            .unwrap_or(0);
        let pct = if want == 0 {
            0.0
        } else {
            100.0 * s.matched as f64 / want as f64
        };
        println!(
            "{tier:>22}: {}/{want} expected results matched ({pct:.1}%), lenient {}, errors {}, tests all matched {}/{}",
            s.matched, s.matched_lenient, s.got_error, s.tests_all_matched, s.tests
        );
    }
    let path = ratchet_path();
    if std::env::var_os("WARDEN_UPDATE_GENERATED").is_some() {
        write_ratchet(&path, &scores).unwrap();
        return;
    }
    let ratchet = read_ratchet(&path);
    for (tier, floor) in &ratchet {
        let got = scores.get(tier).map_or(0, |s| s.matched);
        assert!(
            got >= *floor,
            "Kyverno conformance dropped in tier {tier}: {got} matched, ratchet {floor} (tests/kyverno.score)"
        );
    }
}
