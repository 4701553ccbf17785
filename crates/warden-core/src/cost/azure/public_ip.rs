//! Public IP addresses: per hour by SKU.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// `azurerm_public_ip`.
pub(crate) fn address(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let sku = match cx.state.str("sku")? {
        Some(sku) => sku,
        None => {
            out.note("no `sku`: Standard assumed");
            "Standard"
        }
    };
    cx.hourly(
        out,
        format!("{sku} public IP address"),
        "azure.public_ip",
        &format!("{sku}/hour"),
        1.0,
    )
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::monthly;

    #[test]
    fn addresses_by_sku() {
        // Standard 0.005 × 730 = 3.65; Basic 0.004 × 730 = 2.92
        assert_eq!(
            monthly(
                "azurerm_public_ip",
                r#"{"sku":"Standard","location":"eastus"}"#
            ),
            3.65
        );
        assert_eq!(
            monthly(
                "azurerm_public_ip",
                r#"{"sku":"Basic","location":"eastus"}"#
            ),
            2.92
        );
    }
}
