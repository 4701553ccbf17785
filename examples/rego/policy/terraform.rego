# Conftest-style policies for Terraform plans: `warden check plan.json --policy policy/`
# evaluates them as conftest does (`input` is the plan JSON, rules in package `main`).
package main

import rego.v1

# METADATA
# title: S3 buckets are not public
# description: A public ACL exposes every object in the bucket to the internet.
# custom:
#   id: ORG-S3-001
#   severity: critical
deny_public_acl contains res if {
	rc := input.resource_changes[_]
	rc.type in {"aws_s3_bucket", "aws_s3_bucket_acl"}
	rc.change.after.acl in {"public-read", "public-read-write"}
	res := {
		"msg": sprintf("%s has the public ACL %q", [rc.address, rc.change.after.acl]),
		"resource": rc.address,
		"attribute": "acl",
		"fix": [{"op": "replace", "path": "/acl", "value": "private"}],
	}
}

# METADATA
# title: Instances use an allowed type
# description: Instance types outside the list are not budgeted.
# custom:
#   id: ORG-EC2-001
#   severity: medium
warn_instance_type contains msg if {
	rc := input.resource_changes[_]
	rc.type == "aws_instance"
	not rc.change.after.instance_type in data.allowed.instance_types
	msg := sprintf("%s uses instance type %s, not one of %v", [rc.address, rc.change.after.instance_type, data.allowed.instance_types])
}

# Conftest exceptions: `deny_public_acl` does not apply to plans that only touch the
# static website (see data/allowed.json).
exception contains rules if {
	every rc in input.resource_changes {
		rc.address in data.allowed.public_buckets
	}
	rules := ["public_acl"]
}
