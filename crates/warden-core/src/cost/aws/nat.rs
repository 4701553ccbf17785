//! NAT gateways: per hour, and per GB processed when the usage file says how much.

use crate::cost::money::unit_usd;
use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_nat_gateway`.
pub(crate) fn gateway(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    cx.hourly(out, "NAT gateway", "aws.nat_gateway", "hour", 1.0)?;
    match cx.usage.data_processed_gb() {
        Some(gb) => cx.monthly(
            out,
            "data processed",
            "GB",
            "aws.nat_gateway",
            "gb_processed",
            gb,
        )?,
        None => out.note(format!(
            "data processed not included ({}/GB): set `data_processed_gb` in the usage file",
            unit_usd(cx.price("aws.nat_gateway", "gb_processed")?)
        )),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{estimate_one, monthly_with};

    #[test]
    fn hours_and_data_processed() {
        // 0.045 × 730 = 32.85
        let e = estimate_one("aws_nat_gateway", "{}", "");
        assert_eq!(e.after, 32.85);
        assert!(e.resources[0]
            .notes
            .iter()
            .any(|n| n.contains("data_processed_gb")));
        // + 1000 GB × 0.045 = 45.00; total 77.85
        assert_eq!(
            monthly_with(
                "aws_nat_gateway",
                "{}",
                "aws_nat_gateway: { data_processed_gb: 1000 }"
            ),
            77.85
        );
    }
}
