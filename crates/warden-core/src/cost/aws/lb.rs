//! Elastic Load Balancing: application, network and gateway load balancers per hour plus
//! capacity units (usage); classic load balancers per hour plus GB processed (usage).

use crate::cost::money::unit_usd;
use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `aws_lb`, `aws_alb`.
pub(crate) fn load_balancer(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let kind = cx.state.str("load_balancer_type")?.unwrap_or("application");
    cx.hourly(
        out,
        format!("{kind} load balancer"),
        "aws.lb",
        &format!("{kind}/hour"),
        1.0,
    )?;
    let key = format!("{kind}/lcu_hour");
    match cx.usage.capacity_units() {
        Some(units) => cx.monthly(
            out,
            format!("{kind} load balancer capacity units"),
            "LCU-hour",
            "aws.lb",
            &key,
            units * cx.hours,
        )?,
        None => out.note(format!(
            "capacity units not included ({}/LCU-hour): set `capacity_units` in the usage file",
            unit_usd(cx.price("aws.lb", &key)?)
        )),
    }
    Ok(())
}

/// `aws_elb` (classic).
pub(crate) fn classic(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    cx.hourly(out, "classic load balancer", "aws.lb", "classic/hour", 1.0)?;
    match cx.usage.data_processed_gb() {
        Some(gb) => cx.monthly(
            out,
            "data processed",
            "GB",
            "aws.lb",
            "classic/gb_processed",
            gb,
        )?,
        None => out.note(format!(
            "data processed not included ({}/GB): set `data_processed_gb` in the usage file",
            unit_usd(cx.price("aws.lb", "classic/gb_processed")?)
        )),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, monthly_with};

    #[test]
    fn load_balancers_by_type() {
        // application: 0.0225 × 730 = 16.425 → 16.43 (rounded half away from zero)
        assert_eq!(monthly("aws_lb", "{}"), 16.43);
        // network in eu-west-1 by provider default? No provider: us-east-1. 0.0225 × 730
        assert_eq!(
            monthly("aws_lb", r#"{"load_balancer_type":"network"}"#),
            16.43
        );
        // gateway: 0.0125 × 730 = 9.125 → 9.13
        assert_eq!(
            monthly("aws_lb", r#"{"load_balancer_type":"gateway"}"#),
            9.13
        );
        // application with 2 LCUs: 16.43 + 2 × 730 × 0.008 = 11.68; total 28.11
        assert_eq!(
            monthly_with("aws_alb", "{}", "aws_alb: { capacity_units: 2 }"),
            28.11
        );
        // classic: 0.025 × 730 = 18.25, + 100 GB × 0.008 = 0.80; total 19.05
        assert_eq!(
            monthly_with("aws_elb", "{}", "aws_elb: { data_processed_gb: 100 }"),
            19.05
        );
    }
}
