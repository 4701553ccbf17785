//! Azure pricers, one file per resource family.

mod disk;
mod firewall;
mod public_ip;
mod vm;

use super::pricer::PriceFn;

/// The Azure kinds the catalog prices, and their pricers.
pub(crate) static PRICERS: &[(&str, PriceFn)] = &[
    ("azurerm_linux_virtual_machine", vm::linux),
    ("azurerm_windows_virtual_machine", vm::windows),
    ("azurerm_virtual_machine", vm::legacy),
    ("azurerm_managed_disk", disk::managed_disk),
    ("azurerm_public_ip", public_ip::address),
    ("azurerm_firewall", firewall::firewall),
];
