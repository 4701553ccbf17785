//! Secrets Manager: per secret-month, replicas included (API calls not priced).

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_secretsmanager_secret`.
pub(crate) fn secret(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let replicas = cx.state.items("replica")?.len();
    #[expect(clippy::cast_precision_loss, reason = "a handful of replicas")]
    let count = 1.0 + replicas as f64;
    cx.monthly(
        out,
        "secret",
        "month",
        "aws.secretsmanager",
        "secret",
        count,
    )
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::monthly;

    #[test]
    fn a_secret_and_its_replicas() {
        // 1 × 0.40 = 0.40; with two replicas 3 × 0.40 = 1.20
        assert_eq!(monthly("aws_secretsmanager_secret", r#"{"name":"s"}"#), 0.4);
        assert_eq!(
            monthly(
                "aws_secretsmanager_secret",
                r#"{"replica":[{"region":"eu-west-1"},{"region":"us-west-2"}]}"#
            ),
            1.2
        );
    }
}
