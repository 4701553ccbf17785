//! Azure Firewall: per deployment-hour by tier, plus GB processed from the usage file.

use crate::cost::money::unit_usd;
use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `azurerm_firewall`.
pub(crate) fn firewall(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let tier = cx.state.str("sku_tier")?.unwrap_or("Standard");
    cx.hourly(
        out,
        format!("{tier} firewall"),
        "azure.firewall",
        &format!("{tier}/hour"),
        1.0,
    )?;
    let key = format!("{tier}/gb_processed");
    match cx.usage.data_processed_gb() {
        Some(gb) => cx.monthly(out, "data processed", "GB", "azure.firewall", &key, gb)?,
        None => out.note(format!(
            "data processed not included ({}/GB): set `data_processed_gb` in the usage file",
            unit_usd(cx.price("azure.firewall", &key)?)
        )),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, monthly_with};

    #[test]
    fn firewalls_by_tier() {
        // Standard 1.25 × 730 = 912.50
        assert_eq!(
            monthly(
                "azurerm_firewall",
                r#"{"sku_tier":"Standard","location":"eastus"}"#
            ),
            912.5
        );
        // Premium 1.75 × 730 = 1277.50 + 1000 GB × 0.016 = 16.00; total 1293.50
        assert_eq!(
            monthly_with(
                "azurerm_firewall",
                r#"{"sku_tier":"Premium","location":"eastus"}"#,
                "azurerm_firewall: { data_processed_gb: 1000 }"
            ),
            1293.5
        );
    }
}
