//! Managed disks: a monthly price per disk, at the smallest tier that holds its size.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

/// Tiers of each storage account type: (largest size in GiB, tier name).
const TIERS: &[(&str, &[(f64, &str)])] = &[
    (
        "Premium_LRS",
        &[
            (4.0, "P1"),
            (8.0, "P2"),
            (16.0, "P3"),
            (32.0, "P4"),
            (64.0, "P6"),
            (128.0, "P10"),
            (256.0, "P15"),
            (512.0, "P20"),
            (1024.0, "P30"),
            (2048.0, "P40"),
            (4096.0, "P50"),
            (8192.0, "P60"),
            (16384.0, "P70"),
            (32767.0, "P80"),
        ],
    ),
    (
        "StandardSSD_LRS",
        &[
            (4.0, "E1"),
            (8.0, "E2"),
            (16.0, "E3"),
            (32.0, "E4"),
            (64.0, "E6"),
            (128.0, "E10"),
            (256.0, "E15"),
            (512.0, "E20"),
            (1024.0, "E30"),
            (2048.0, "E40"),
            (4096.0, "E50"),
            (8192.0, "E60"),
            (16384.0, "E70"),
            (32767.0, "E80"),
        ],
    ),
    (
        "Standard_LRS",
        &[
            (32.0, "S4"),
            (64.0, "S6"),
            (128.0, "S10"),
            (256.0, "S15"),
            (512.0, "S20"),
            (1024.0, "S30"),
            (2048.0, "S40"),
            (4096.0, "S50"),
            (8192.0, "S60"),
            (16384.0, "S70"),
            (32767.0, "S80"),
        ],
    ),
];

/// `azurerm_managed_disk`.
pub(crate) fn managed_disk(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let kind = s.required_str("storage_account_type")?;
    let Some(size) = s.number("disk_size_gb")? else {
        return Err(Unpriceable::new("no `disk_size_gb`"));
    };
    disk(cx, out, "disk", kind, size)
}

/// One disk of `kind` and `size` GiB.
pub(crate) fn disk(
    cx: &Ctx<'_>,
    out: &mut Priced,
    name: &str,
    kind: &str,
    size: f64,
) -> Result<(), Unpriceable> {
    let tiers = TIERS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            Unpriceable::new(format!(
                "storage account type `{kind}` is not in the catalog (Premium_LRS, StandardSSD_LRS, Standard_LRS)"
            ))
        })?;
    let (_, tier) = tiers
        .iter()
        .find(|(max, _)| size <= *max)
        .ok_or_else(|| Unpriceable::new(format!("{size} GiB is larger than the largest tier")))?;
    cx.monthly(
        out,
        format!("{name}: {kind} {tier} ({size} GiB)"),
        "month",
        "azure.managed_disk",
        &format!("{kind}/{tier}"),
        1.0,
    )
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn disks_at_their_tier() {
        // 100 GiB Premium → P10 (128 GiB): 19.71
        assert_eq!(
            monthly(
                "azurerm_managed_disk",
                r#"{"storage_account_type":"Premium_LRS","disk_size_gb":100,"location":"eastus"}"#
            ),
            19.71
        );
        // 1024 GiB Standard HDD → S30: 40.96; in North Europe × 1.06 = 43.42
        assert_eq!(
            monthly(
                "azurerm_managed_disk",
                r#"{"storage_account_type":"Standard_LRS","disk_size_gb":1024,"location":"northeurope"}"#
            ),
            43.42
        );
        assert!(unpriced(
            "azurerm_managed_disk",
            r#"{"storage_account_type":"UltraSSD_LRS","disk_size_gb":10}"#
        )
        .contains("UltraSSD_LRS"));
    }
}
