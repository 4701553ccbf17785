use super::planned::{ebs_encrypted_by_default, planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EBS block devices that EC2 instances get unencrypted, one finding per device:
    /// - `aws_instance` and `aws_launch_configuration`: the root volume
    ///   (`root_block_device`) and each `ebs_block_device` whose `encrypted` is `false` or not
    ///   set. A missing `root_block_device` block means the root volume follows the AMI's
    ///   snapshot, unencrypted by default.
    /// - `aws_launch_template`: each `block_device_mappings` entry with an `ebs` block whose
    ///   `encrypted` is not `"true"` (the provider carries it as a string).
    ///
    /// A device created from a snapshot (`snapshot_id`) that leaves `encrypted` unset takes the
    /// snapshot's encryption and is not judged, nor is the root volume of an instance launched
    /// from a launch template without a `root_block_device` of its own (the template is checked
    /// instead). The rule passes everything when the plan keeps an
    /// `aws_ebs_encryption_by_default` enabled for the same provider configuration: AWS then
    /// encrypts every new volume in that account and region.
    ///
    /// ## Why it matters
    /// Instance volumes hold application data, logs, credentials cached on disk and swap.
    /// Unencrypted, they and every snapshot or AMI made from them can be read by whoever gets a
    /// copy, such as an AMI or snapshot shared by mistake.
    ///
    /// ## Example
    /// ```yaml
    /// aws_instance.web: { action: create, after: { ami: ami-0abc, instance_type: t3.micro, root_block_device: [{ volume_size: 20, encrypted: false }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_instance.web: { action: create, after: { ami: ami-0abc, instance_type: t3.micro, root_block_device: [{ volume_size: 20, encrypted: true }] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `encrypted = true` on the device (`"true"` in a launch template). Changing it on an
    /// existing instance's volumes replaces the instance. Better still, enable
    /// `aws_ebs_encryption_by_default` in every account and region.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Amazon EBS encryption](https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html)
    /// - [Terraform: aws_instance block devices](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/instance#ebs-ephemeral-and-root-block-devices)
    /// - Checkov `CKV_AWS_8`; Trivy `AVD-AWS-0131`, `AVD-AWS-0008`
    pub(crate) static INSTANCE_BLOCK_DEVICE_UNENCRYPTED = RuleMeta {
        id: "WD-AWS-020",
        name: "instance-block-device-unencrypted",
        title: "EC2 instance block device is not encrypted",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_instance", "aws_launch_configuration", "aws_launch_template"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_8", "AVD-AWS-0131", "AVD-AWS-0008"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// An unencrypted (or undecidable) device found on the resource.
enum Device {
    /// Unencrypted: the `encrypted` path to fix, the device description, what was found.
    Unencrypted {
        path: String,
        device: String,
        found: &'static str,
    },
    /// `encrypted` (at this path) is known only after apply.
    Unknown(String),
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let devices = if resource.kind == "aws_launch_template" {
        template_devices(resource, cx)
    } else {
        instance_devices(resource, cx)
    };
    if devices.is_empty() || ebs_encrypted_by_default(resource, cx) {
        return;
    }
    for device in devices {
        match device {
            Device::Unencrypted {
                path,
                device,
                found,
            } => {
                let value = if resource.kind == "aws_launch_template" {
                    Value::from("true")
                } else {
                    Value::from(true)
                };
                out.violation(resource, format!("{device} is not encrypted: {found}"))
                    .at(&path)
                    .fix(Fix::set(
                        format!("set `encrypted` to true on the {device}"),
                        &path,
                        value,
                    ));
            }
            Device::Unknown(path) => out.unknown(resource, &path),
        }
    }
}

/// `root_block_device` and `ebs_block_device` of an instance or launch configuration.
fn instance_devices(resource: &Resource, cx: &CheckContext<'_>) -> Vec<Device> {
    let mut devices = Vec::new();
    let roots = resource.after.field("root_block_device").items();
    // An instance launched from a launch template gets its root volume from the template,
    // which this rule checks on its own.
    let from_template = !resource.after.field("launch_template").items().is_empty();
    if roots.is_empty() && !from_template {
        match planned(resource, cx, "root_block_device") {
            Planned::Unknown => devices.push(Device::Unknown("root_block_device".to_owned())),
            _ => devices.push(Device::Unencrypted {
                path: "root_block_device.0.encrypted".to_owned(),
                device: "root volume".to_owned(),
                found: "no `root_block_device` sets `encrypted`",
            }),
        }
    }
    for i in 0..roots.len() {
        judge(
            resource,
            cx,
            &format!("root_block_device.{i}"),
            "root volume".to_owned(),
            &mut devices,
        );
    }
    if resource.after.get("ebs_block_device").is_none()
        && planned(resource, cx, "ebs_block_device") == Planned::Unknown
    {
        devices.push(Device::Unknown("ebs_block_device".to_owned()));
    }
    for (i, device) in resource
        .after
        .field("ebs_block_device")
        .items()
        .iter()
        .enumerate()
    {
        let name = device.field("device_name").as_str().map_or_else(
            || format!("EBS block device {i}"),
            |n| format!("EBS block device `{n}`"),
        );
        judge(
            resource,
            cx,
            &format!("ebs_block_device.{i}"),
            name,
            &mut devices,
        );
    }
    devices
}

/// `block_device_mappings[*].ebs[*]` of a launch template.
fn template_devices(resource: &Resource, cx: &CheckContext<'_>) -> Vec<Device> {
    let mut devices = Vec::new();
    if resource.after.get("block_device_mappings").is_none()
        && planned(resource, cx, "block_device_mappings") == Planned::Unknown
    {
        devices.push(Device::Unknown("block_device_mappings".to_owned()));
    }
    for (i, mapping) in resource
        .after
        .field("block_device_mappings")
        .items()
        .iter()
        .enumerate()
    {
        let name = mapping.field("device_name").as_str().map_or_else(
            || format!("block device mapping {i}"),
            |n| format!("block device `{n}`"),
        );
        for j in 0..mapping.field("ebs").items().len() {
            judge(
                resource,
                cx,
                &format!("block_device_mappings.{i}.ebs.{j}"),
                name.clone(),
                &mut devices,
            );
        }
    }
    devices
}

/// Judges the EBS device block at `prefix` and records what is wrong with it.
fn judge(
    resource: &Resource,
    cx: &CheckContext<'_>,
    prefix: &str,
    device: String,
    devices: &mut Vec<Device>,
) {
    let path = format!("{prefix}.encrypted");
    let explicitly_false = match planned(resource, cx, &path) {
        Planned::Set(v) => match v.as_bool() {
            Some(true) => return,
            Some(false) => true,
            None if v.as_str() == Some("") => false,
            None => return,
        },
        Planned::Unknown => return devices.push(Device::Unknown(path)),
        Planned::Default => false,
    };
    if !explicitly_false {
        // A volume from a snapshot takes the snapshot's encryption unless told otherwise.
        let from_snapshot = match planned(resource, cx, &format!("{prefix}.snapshot_id")) {
            Planned::Set(v) => v.as_str().is_some_and(|s| !s.is_empty()),
            Planned::Unknown => true,
            Planned::Default => false,
        };
        if from_snapshot {
            return;
        }
    }
    let found = if explicitly_false {
        "`encrypted` is false"
    } else {
        "`encrypted` is not set"
    };
    devices.push(Device::Unencrypted {
        path,
        device,
        found,
    });
}
