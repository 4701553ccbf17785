package main

import rego.v1

bucket(acl) := {"resource_changes": [{
	"address": "aws_s3_bucket.site",
	"type": "aws_s3_bucket",
	"change": {"actions": ["create"], "after": {"acl": acl}},
}]}

test_public_bucket_is_denied if {
	count(deny_public_acl) == 1 with input as bucket("public-read")
}

test_private_bucket_is_allowed if {
	count(deny_public_acl) == 0 with input as bucket("private")
}

test_unlisted_instance_type_warns if {
	warn_instance_type with input as {"resource_changes": [{
		"address": "aws_instance.web",
		"type": "aws_instance",
		"change": {"after": {"instance_type": "p4d.24xlarge"}},
	}]}
		with data.allowed.instance_types as ["t3.micro"]
}
