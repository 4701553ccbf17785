//! AWS rules (provider `hashicorp/aws` v4+; legacy v3 inline attributes where still common).

mod s3_bucket_public_acl;
mod security_group_admin_port_open_to_world;

use crate::rule::RuleMeta;

/// The AWS rules, in id order.
pub static RULES: &[&RuleMeta] = &[
    &s3_bucket_public_acl::S3_BUCKET_PUBLIC_ACL,
    &security_group_admin_port_open_to_world::SECURITY_GROUP_ADMIN_PORT_OPEN_TO_WORLD,
];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("aws");
    }
}
