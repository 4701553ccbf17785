//! `--format json`: the decision document, versioned by `schema_version`.

use std::io::Write;

use crate::decision::Decision;
use crate::finding::Finding;

/// Pretty-printed JSON with a trailing newline.
#[must_use]
pub fn render(decision: &Decision) -> String {
    let mut out =
        serde_json::to_string_pretty(decision).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    out.push('\n');
    out
}

/// Findings from which the report's findings are written on both cores.
const PARALLEL_FROM: usize = 4_000;

/// [`render`] streamed to `out`: the same bytes. Large reports write their findings on two
/// threads (each finding pretty-printed on its own, indented to its place), the rest of the
/// document around them.
///
/// # Errors
/// Writing to `out` failed.
pub fn render_to(decision: &Decision, out: &mut dyn Write) -> std::io::Result<()> {
    if decision.findings.len() < PARALLEL_FROM {
        serde_json::to_writer_pretty(&mut *out, decision)?;
        return out.write_all(b"\n");
    }
    // The document without its findings, split where they belong.
    let shell = serde_json::to_string_pretty(&without_findings(decision))?;
    let marker = "\n  \"findings\": [],";
    let Some(at) = shell.find(marker) else {
        serde_json::to_writer_pretty(&mut *out, decision)?;
        return out.write_all(b"\n");
    };
    out.write_all(&shell.as_bytes()[..at])?;
    out.write_all(b"\n  \"findings\": [\n")?;
    // Blocks of findings, each half on its own thread, written as they are done: memory
    // stays at two blocks whatever the report's size.
    const BLOCK: usize = 4_096;
    for (i, block) in decision.findings.chunks(BLOCK).enumerate() {
        let (first, second) = block.split_at(block.len().div_ceil(2));
        let (a, b) = std::thread::scope(|scope| {
            let other = scope.spawn(|| findings_block(second));
            let mine = findings_block(first);
            (mine, other.join())
        });
        let b = b.map_err(|_| std::io::Error::other("rendering the findings failed"))??;
        if i > 0 {
            out.write_all(b",\n")?;
        }
        out.write_all(&a?)?;
        if !second.is_empty() {
            out.write_all(b",\n")?;
            out.write_all(&b)?;
        }
    }
    out.write_all(b"\n  ],")?;
    out.write_all(&shell.as_bytes()[at + marker.len()..])?;
    out.write_all(b"\n")
}

/// A copy of the decision with no findings (and nothing else copied twice).
fn without_findings(d: &Decision) -> Decision {
    Decision {
        schema_version: d.schema_version,
        outcome: d.outcome,
        summary: d.summary.clone(),
        findings: Vec::new(),
        waived: d.waived.clone(),
        errors: d.errors.clone(),
        inputs: d.inputs.clone(),
        input_digest: d.input_digest.clone(),
        policy_revision: d.policy_revision.clone(),
        bundles: d.bundles.clone(),
        evaluated_at: d.evaluated_at.clone(),
        duration_ms: d.duration_ms,
        tool: d.tool.clone(),
    }
}

/// Findings as elements of the pretty-printed `findings` array: each indented by two levels,
/// separated by `,` and a newline. JSON strings hold no raw newline, so indenting every line
/// is exact.
fn findings_block(findings: &[Finding]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(findings.len() * 1024);
    let mut one = Vec::with_capacity(2048);
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        one.clear();
        serde_json::to_writer_pretty(&mut one, finding)?;
        out.extend_from_slice(b"    ");
        for line in one.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(line);
            if line.ends_with(b"\n") {
                out.extend_from_slice(b"    ");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    fn assert_valid(decision: &Decision) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/schemas/decision.schema.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let instance: serde_json::Value = serde_json::from_str(&render(decision)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "JSON output does not match its schema:\n{}",
            errors.join("\n")
        );
    }

    /// The parallel writer gives exactly the bytes of the plain one.
    #[test]
    fn large_reports_are_byte_identical_to_the_plain_rendering() {
        let mut big = sample::decision();
        let one = big.findings.clone();
        while big.findings.len() < 2 * PARALLEL_FROM + 3 {
            big.findings.extend(one.iter().cloned());
        }
        for d in [big, sample::decision(), sample::clean()] {
            let mut streamed = Vec::new();
            render_to(&d, &mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), render(&d));
        }
    }

    #[test]
    fn validates_against_the_decision_schema() {
        assert_valid(&sample::decision());
        assert_valid(&sample::clean());
    }

    #[test]
    fn schema_is_closed() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/schemas/decision.schema.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let good: serde_json::Value = serde_json::from_str(&render(&sample::decision())).unwrap();
        assert!(validator.is_valid(&good));

        // An unknown member of a finding, of a waived finding, or of the document is rejected.
        let mut bad = good.clone();
        bad["findings"][0]["surprise"] = serde_json::Value::Bool(true);
        assert!(!validator.is_valid(&bad));
        let mut bad = good.clone();
        bad["waived"][0]["surprise"] = serde_json::Value::Bool(true);
        assert!(!validator.is_valid(&bad));
        let mut bad = good.clone();
        bad["surprise"] = serde_json::Value::Bool(true);
        assert!(!validator.is_valid(&bad));
        // A waiver's kind decides its members.
        for i in 0..2 {
            let kind = &good["waived"][i]["waiver"]["kind"];
            let other = if kind == "tag" { "exception" } else { "tag" };
            let mut bad = good.clone();
            bad["waived"][i]["waiver"]["kind"] = other.into();
            assert!(!validator.is_valid(&bad), "{other}");
        }
        // Enums are snake_case.
        let mut bad = good;
        bad["outcome"] = "RequireApproval".into();
        assert!(!validator.is_valid(&bad));
    }
}
