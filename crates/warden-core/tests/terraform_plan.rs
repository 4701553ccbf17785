//! The plan parser over a hand-written plan that uses every feature rules rely on: modules,
//! `for_each` indexes, provider aliases, a region from a variable (through a module call),
//! `default_tags`, data sources (read now and from `prior_state`), replace, deposed objects,
//! `resource_drift` without addresses (Terraform 1.0), unknown and sensitive markers.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use warden_core::inputs::{parse, InputBytes, InputError};
use warden_core::{Action, Attr, ChangeSet, Mode, Setting, Value};

fn load() -> ChangeSet {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/plan-features.json"
    );
    parse(&InputBytes {
        name: "plan.json".into(),
        bytes: std::fs::read(path).unwrap(),
    })
    .unwrap()
}

fn parse_str(text: &str) -> Result<ChangeSet, InputError> {
    parse(&InputBytes {
        name: "p.json".into(),
        bytes: text.as_bytes().to_vec(),
    })
}

#[test]
fn resources_actions_modules_and_indexes() {
    let cs = load();
    let by = |a: &str| {
        cs.resources
            .iter()
            .find(|r| r.address == a)
            .unwrap_or_else(|| panic!("{a}"))
    };
    assert_eq!(cs.resources.len(), 7);
    assert_eq!(by("aws_db_instance.main").action, Action::Replace);
    assert_eq!(
        by("aws_db_instance.main").action_reason.as_deref(),
        Some("replace_because_cannot_update")
    );
    let subnet = by("module.net.aws_subnet.public[\"a\"]");
    assert_eq!(subnet.module.as_deref(), Some("module.net"));
    assert_eq!(subnet.index, Some(Value::from("a")));
    assert_eq!(subnet.action, Action::NoOp);
    assert!(subnet.before.is_null(), "no-op before is not repeated");
    assert_eq!(
        subnet
            .before_state()
            .path("cidr_block")
            .and_then(Value::as_str),
        Some("10.0.1.0/24")
    );
    assert_eq!(subnet.config_address(), "module.net.aws_subnet.public");
    assert_eq!(by("aws_instance.web").deposed.as_deref(), Some("00000001"));
    assert_eq!(by("data.aws_caller_identity.me").mode, Mode::Data);
    assert_eq!(by("aws_s3_bucket.logs").provider, "aws");
    assert_eq!(
        by("aws_s3_bucket.logs").source.pointer.as_deref(),
        Some("/resource_changes/0")
    );
}

#[test]
fn unknown_and_sensitive_markers() {
    let cs = load();
    let bucket = cs
        .resources
        .iter()
        .find(|r| r.address == "aws_s3_bucket.logs")
        .unwrap();
    assert_eq!(bucket.attr("acl"), Attr::Unknown);
    assert_eq!(bucket.attr("tags"), Attr::Absent);
    assert_eq!(
        bucket.attr("bucket").known().and_then(Value::as_str),
        Some("logs")
    );
    let db = cs
        .resources
        .iter()
        .find(|r| r.address == "aws_db_instance.main")
        .unwrap();
    assert!(db.is_sensitive("password"));
    assert!(!db.is_sensitive("identifier"));
}

#[test]
fn providers_regions_and_default_tags_resolve() {
    let cs = load();
    let tf = cs.terraform.as_ref().unwrap();
    let region = |address: &str| {
        let r = cs.resources.iter().find(|r| r.address == address).unwrap();
        tf.provider_of(r).map(|p| p.region.clone())
    };
    assert_eq!(
        region("aws_s3_bucket.logs"),
        Some(Setting::Known(Value::from("eu-west-1")))
    );
    assert_eq!(
        region("aws_instance.west"),
        Some(Setting::Known(Value::from("us-west-2")))
    );
    // module.net's provider takes var.net_region, which the module call sets from var.region.
    assert_eq!(
        region("module.net.aws_subnet.public[\"a\"]"),
        Some(Setting::Known(Value::from("eu-west-1")))
    );
    let root = tf.providers.iter().find(|p| p.key == "aws").unwrap();
    assert_eq!(
        root.default_tags.get("Team").and_then(Value::as_str),
        Some("web")
    );
}

#[test]
fn configuration_references_and_literals() {
    let cs = load();
    let tf = cs.terraform.as_ref().unwrap();
    let pab = tf
        .config
        .get("aws_s3_bucket_public_access_block.logs")
        .unwrap();
    assert_eq!(
        pab.references_of("bucket"),
        ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]
    );
    let subnet = tf.config.get("module.net.aws_subnet.public").unwrap();
    assert_eq!(
        subnet.references_of("vpc_id"),
        ["module.net.aws_vpc.main.id", "module.net.aws_vpc.main"]
    );
    let db = tf.config.get("aws_db_instance.main").unwrap();
    assert!(db.is_constant("password") && !db.is_constant("identifier"));
    assert!(
        db.sets("tags"),
        "an expression with neither references nor a constant still sets the attribute"
    );
    let west = tf.config.get("aws_instance.west").unwrap();
    assert!(
        west.sets("metadata_options.http_tokens")
            && west.sets("metadata_options")
            && !west.sets("user_data")
    );
}

#[test]
fn data_sources_from_prior_state_and_drift() {
    let cs = load();
    let tf = cs.terraform.as_ref().unwrap();
    let data: Vec<&str> = tf.data_sources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        data,
        [
            "data.aws_iam_policy_document.p",
            "module.net.data.aws_availability_zones.all"
        ]
    );
    assert_eq!(tf.drift.len(), 1);
    assert_eq!(
        tf.drift[0].address, "module.net.aws_vpc.main",
        "address rebuilt from its parts"
    );
    assert_eq!(
        tf.drift[0]
            .after
            .path("tags.Edited")
            .and_then(Value::as_str),
        Some("by-hand")
    );
}

#[test]
fn input_info() {
    let cs = load();
    assert_eq!(cs.input.format_version.as_deref(), Some("1.2"));
    assert_eq!(cs.input.tool_version.as_deref(), Some("1.9.5"));
    assert!(cs.input.digest.starts_with("sha256:") && cs.input.digest.len() == 71);
}

#[test]
fn errors_name_the_place() {
    let e = parse_str("{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [\n    {\"address\": 3}\n  ]\n}").unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("p.json:4:"), "{text}");
    let e = parse_str(r#"{"format_version":"1.0","values":{}}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("state file"), "{e}");
    let e =
        parse_str(r#"{"resource_changes":[{"address":"a.b","type":"a","name":"b","change":{}}]}"#)
            .unwrap_err()
            .to_string();
    assert!(e.contains("actions"), "{e}");
    assert!(matches!(parse_str(""), Err(InputError::Empty { .. })));
}

#[test]
fn parallel_and_sequential_parsing_agree() {
    let change = |i: usize| {
        format!(
            r#"{{"address":"aws_s3_bucket.b{i}","type":"aws_s3_bucket","name":"b{i}","change":{{"actions":["create"],"after":{{"bucket":"b{i}"}}}}}}"#
        )
    };
    let many: Vec<String> = (0..5000).map(change).collect();
    let cs = parse_str(&format!(
        r#"{{"format_version":"1.2","resource_changes":[{}]}}"#,
        many.join(",")
    ))
    .unwrap();
    assert_eq!(cs.resources.len(), 5000);
    for (i, r) in cs.resources.iter().enumerate() {
        assert_eq!(r.address, format!("aws_s3_bucket.b{i}"));
        assert_eq!(
            r.source.pointer.as_deref(),
            Some(format!("/resource_changes/{i}").as_str())
        );
    }
    // An error in the second half still names its line and column in the whole file.
    let mut bad = many.clone();
    bad[4000] =
        r#"{"address":"x.y","type":"x","name":"y","change":{"actions":"create"}}"#.to_owned();
    let text = format!(
        "{{\"format_version\":\"1.2\",\n\"resource_changes\":[\n{}]}}",
        bad.join(",\n")
    );
    let e = parse_str(&text).unwrap_err().to_string();
    assert!(e.starts_with("p.json:4003:"), "{e}");
}
