//! azure rules.

use crate::rule::RuleMeta;

/// The azure rules, in id order.
pub static RULES: &[&RuleMeta] = &[];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("azure");
    }
}
