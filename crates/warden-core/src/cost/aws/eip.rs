//! Elastic IPs: every public IPv4 address is billed per hour, in use or idle.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_eip`.
pub(crate) fn address(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    cx.hourly(out, "public IPv4 address", "aws.public_ipv4", "hour", 1.0)
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::monthly;

    #[test]
    fn an_address() {
        // 0.005 × 730 = 3.65
        assert_eq!(monthly("aws_eip", r#"{"domain":"vpc"}"#), 3.65);
    }
}
