//! Virtual machines (Linux, pay-as-you-go): the size per hour and the OS disk.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

use super::disk;

/// OS disk size assumed when the image decides it (most Linux marketplace images).
const OS_DISK_DEFAULT_GB: f64 = 30.0;

/// `azurerm_linux_virtual_machine`.
pub(crate) fn linux(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    if s.str("priority")? == Some("Spot") {
        return Err(Unpriceable::new(
            "spot VMs are not priced: their price moves with demand",
        ));
    }
    let size = s.required_str("size")?;
    hours(cx, out, size)?;
    os_disk(
        cx,
        out,
        "os_disk.0.storage_account_type",
        "os_disk.0.disk_size_gb",
    )
}

/// `azurerm_windows_virtual_machine`: the Windows license is not in the catalog.
pub(crate) fn windows(_cx: &Ctx<'_>, _out: &mut Priced) -> Result<(), Unpriceable> {
    windows_vm()
}

/// `azurerm_virtual_machine` (the legacy resource): Linux unless it has a Windows profile.
pub(crate) fn legacy(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let windows = !s.items("os_profile_windows_config")?.is_empty()
        || s.str("storage_os_disk.0.os_type")? == Some("Windows");
    if windows {
        return windows_vm();
    }
    let size = s.required_str("vm_size")?;
    hours(cx, out, size)?;
    if s.str("storage_os_disk.0.vhd_uri")?.is_some() {
        out.note("unmanaged OS disk (VHD in a storage account) not included");
        return Ok(());
    }
    os_disk(
        cx,
        out,
        "storage_os_disk.0.managed_disk_type",
        "storage_os_disk.0.disk_size_gb",
    )
}

fn windows_vm() -> Result<(), Unpriceable> {
    Err(Unpriceable::new(
        "Windows VMs include a license that is not in the catalog (Linux prices only)",
    ))
}

fn hours(cx: &Ctx<'_>, out: &mut Priced, size: &str) -> Result<(), Unpriceable> {
    cx.hourly(
        out,
        format!("{size} VM (Linux, pay-as-you-go)"),
        "azure.vm",
        size,
        1.0,
    )
}

fn os_disk(
    cx: &Ctx<'_>,
    out: &mut Priced,
    type_path: &str,
    size_path: &str,
) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let kind = s.str(type_path)?.unwrap_or("Standard_LRS");
    let size = match s.number(size_path)? {
        Some(size) => size,
        None => {
            out.note(format!(
                "OS disk: its size comes from the image; {OS_DISK_DEFAULT_GB} GB assumed"
            ));
            OS_DISK_DEFAULT_GB
        }
    };
    disk::disk(cx, out, "OS disk", kind, size)
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn linux_vms_and_their_os_disks() {
        // Standard_B2s 0.0416 × 730 = 30.368 → 30.37; OS disk Premium_LRS 64 GB → P6 10.21;
        // total 40.58
        assert_eq!(
            monthly(
                "azurerm_linux_virtual_machine",
                r#"{"size":"Standard_B2s","location":"eastus",
                    "os_disk":[{"storage_account_type":"Premium_LRS","disk_size_gb":64}]}"#
            ),
            40.58
        );
        // Standard_D2s_v3 in West Europe: 0.096 × 1.15 = 0.1104 × 730 = 80.592 → 80.59;
        // OS disk left to the image: 30 GB Standard_LRS → S4 (32 GB) 1.54 × 1.1 = 1.69;
        // total 82.28
        assert_eq!(
            monthly(
                "azurerm_linux_virtual_machine",
                r#"{"size":"Standard_D2s_v3","location":"West Europe","os_disk":[{"storage_account_type":"Standard_LRS"}]}"#
            ),
            82.28
        );
        // legacy resource, Linux: Standard_DS1_v2 0.073 × 730 = 53.29; StandardSSD 128 GB →
        // E10 9.60; total 62.89
        assert_eq!(
            monthly(
                "azurerm_virtual_machine",
                r#"{"vm_size":"Standard_DS1_v2","location":"eastus","os_profile_windows_config":[],
                    "storage_os_disk":[{"managed_disk_type":"StandardSSD_LRS","disk_size_gb":128,"os_type":"Linux"}]}"#
            ),
            62.89
        );
        assert!(unpriced(
            "azurerm_windows_virtual_machine",
            r#"{"size":"Standard_B2s"}"#
        )
        .contains("Windows"));
        assert!(unpriced(
            "azurerm_virtual_machine",
            r#"{"vm_size":"Standard_B2s","os_profile_windows_config":[{"provision_vm_agent":true}]}"#
        )
        .contains("Windows"));
    }
}
