//! `--format json`: the decision document, versioned by `schema_version`.

use crate::decision::Decision;

/// Pretty-printed JSON with a trailing newline.
#[must_use]
pub fn render(decision: &Decision) -> String {
    let mut out =
        serde_json::to_string_pretty(decision).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    out.push('\n');
    out
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
