//! Compute Engine VMs: the machine type per hour (on-demand, no sustained-use discount) and
//! the boot disk.

use crate::cost::pricer::{Ctx, Priced, Unpriceable};

use super::disk;

/// Boot disk size assumed when the image decides it (most public images).
const BOOT_DEFAULT_GB: f64 = 10.0;

/// `google_compute_instance`.
pub(crate) fn instance(cx: &Ctx<'_>, out: &mut Priced) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let machine_type = s.required_str("machine_type")?;
    let machine_type = machine_type.rsplit('/').next().unwrap_or(machine_type);
    spot_check(cx, "scheduling.0")?;
    vm(cx, out, machine_type, 1.0)?;
    // The image sizes the boot disk unless the configuration says.
    let size = match s.number("boot_disk.0.initialize_params.0.size")? {
        Some(size) => size,
        None if s.str("boot_disk.0.source")?.is_some() => {
            out.note("boot disk: an existing disk (`source`), priced as that disk");
            return Ok(());
        }
        None => {
            out.note(format!(
                "boot disk: its size comes from the image; {BOOT_DEFAULT_GB} GB assumed"
            ));
            BOOT_DEFAULT_GB
        }
    };
    let kind = s
        .str("boot_disk.0.initialize_params.0.type")?
        .unwrap_or(disk::DEFAULT_TYPE);
    disk::storage(cx, out, "boot disk", kind, size)
}

/// `count` VMs of `machine_type`.
pub(crate) fn vm(
    cx: &Ctx<'_>,
    out: &mut Priced,
    machine_type: &str,
    count: f64,
) -> Result<(), Unpriceable> {
    if machine_type.contains("-custom-") || machine_type.starts_with("custom-") {
        return Err(Unpriceable::new(format!(
            "custom machine type `{machine_type}` is not in the catalog"
        )));
    }
    let description = if count == 1.0 {
        format!("{machine_type} VM (on-demand)")
    } else {
        format!("{count} × {machine_type} VM (on-demand)")
    };
    cx.hourly(out, description, "gcp.compute", machine_type, count)
}

/// Refuses spot and preemptible VMs (their price moves).
pub(crate) fn spot_check(cx: &Ctx<'_>, scheduling: &str) -> Result<(), Unpriceable> {
    let s = &cx.state;
    let preemptible = s
        .bool(&format!("{scheduling}.preemptible"))?
        .unwrap_or(false);
    let spot = s.str(&format!("{scheduling}.provisioning_model"))? == Some("SPOT")
        || s.bool(&format!("{scheduling}.spot"))?.unwrap_or(false);
    if preemptible || spot {
        return Err(Unpriceable::new(
            "spot and preemptible VMs are not priced: their price moves with demand",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cost::testing::{monthly, unpriced};

    #[test]
    fn vms_and_boot_disks() {
        // e2-standard-2 0.067006 × 730 = 48.91438 → 48.91; boot pd-balanced 20 GB × 0.10 =
        // 2.00; total 50.91
        assert_eq!(
            monthly(
                "google_compute_instance",
                r#"{"machine_type":"e2-standard-2","zone":"us-central1-a",
                    "boot_disk":[{"initialize_params":[{"size":20,"type":"pd-balanced"}]}]}"#
            ),
            50.91
        );
        // n1-standard-1 in europe-west1: 0.0475 × 1.1 = 0.05225 × 730 = 38.1425 → 38.14;
        // boot 10 GB pd-standard assumed × 0.04 = 0.40; total 38.54
        assert_eq!(
            monthly(
                "google_compute_instance",
                r#"{"machine_type":"n1-standard-1","zone":"europe-west1-b","boot_disk":[{}]}"#
            ),
            38.54
        );
        assert!(unpriced(
            "google_compute_instance",
            r#"{"machine_type":"n2-custom-4-8192","zone":"us-central1-a"}"#
        )
        .contains("custom"));
        assert!(unpriced(
            "google_compute_instance",
            r#"{"machine_type":"e2-medium","scheduling":[{"preemptible":true}]}"#
        )
        .contains("spot"));
    }
}
