use super::blocks;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Compute Engine VMs with an external IPv4 address: a `network_interface` with an
    /// `access_config` block (even an empty `access_config {}` assigns an ephemeral public IP)
    /// on `google_compute_instance`, `google_compute_instance_template`,
    /// `google_compute_region_instance_template` and `google_compute_instance_from_template`.
    /// An external IPv6 address (`ipv6_access_config`) is not covered.
    ///
    /// ## Why it matters
    /// A VM with a public IP is directly reachable from the internet: its exposure then
    /// depends entirely on firewall rules, and the default network's rules (or one broad rule
    /// added later) open it. VMs without external IPs reach the internet through Cloud NAT
    /// and are administered through IAP, which leaves nothing to scan.
    ///
    /// ## Example
    /// ```yaml
    /// google_compute_instance.web: { after: { name: web, network_interface: [{ network: default, access_config: [{ network_tier: PREMIUM }] }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_compute_instance.web: { after: { name: web, network_interface: [{ network: default, access_config: [] }] } }
    /// ```
    ///
    /// ## Fix
    /// Removes the `access_config` blocks of the interface. For outbound internet access add
    /// Cloud NAT to the subnet's router; for SSH use IAP TCP forwarding; to serve traffic put a
    /// load balancer in front.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: IP addresses](https://cloud.google.com/compute/docs/ip-addresses#externaladdresses)
    /// - [Terraform: google_compute_instance](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/compute_instance#access_config)
    /// - Checkov `CKV_GCP_40`; Trivy `AVD-GCP-0031`
    pub(crate) static COMPUTE_INSTANCE_PUBLIC_IP = RuleMeta {
        id: "WD-GCP-007",
        name: "compute-instance-public-ip",
        title: "Compute Engine VM has an external IP address",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &[
            "google_compute_instance",
            "google_compute_instance_template",
            "google_compute_region_instance_template",
            "google_compute_instance_from_template",
        ],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_40", "AVD-GCP-0031"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    // `google_compute_instance_from_template` inherits its interfaces from the template
    // when it does not set them: the template is checked on its own.
    let (interfaces, unknown) = blocks(resource, cx, "network_interface");
    if unknown {
        return out.unknown(resource, "network_interface");
    }
    for (i, interface) in interfaces.iter().enumerate() {
        let attribute = format!("network_interface.{i}.access_config");
        let (configs, unknown) = blocks(resource, cx, &attribute);
        if unknown {
            out.unknown(resource, &attribute);
            continue;
        }
        let Some(config) = configs.first() else {
            continue;
        };
        let network = interface
            .field("network")
            .as_str()
            .or_else(|| interface.field("subnetwork").as_str())
            .map_or_else(String::new, |n| {
                format!(" (`{}`)", n.rsplit('/').next().unwrap_or(n))
            });
        let address = match config.field("nat_ip").as_str().filter(|ip| !ip.is_empty()) {
            Some(ip) => format!("the external IP `{ip}`"),
            None => "an ephemeral external IP".to_owned(),
        };
        out.violation(resource, format!("network interface {i}{network} has an `access_config`, which assigns {address}"))
            .at(&attribute)
            .fix(Fix::set(
                format!("remove the `access_config` of network interface {i} (use Cloud NAT for egress and IAP for SSH)"),
                &attribute,
                Value::from(Vec::<Value>::new()),
            ));
    }
}
