//! What an estimate says: every resource priced before and after, free, or unpriced with the
//! reason; the totals; and the limits checked against them.

use serde::Serialize;

use crate::resource::Action;

use super::money::round_cents;

/// The monthly cost of a change: totals, every priced resource with its price components,
/// the resources that cost nothing by nature, and those that could not be priced (never
/// counted as zero).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    /// Currency of every amount (`USD`).
    pub currency: String,
    /// When the catalog's prices were published (`2025-01`).
    pub as_of: String,
    /// The catalogs used, base first (`embedded (2025-01)`, then a user's file).
    pub catalogs: Vec<String>,
    /// The usage file, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// Hours in a month (730) unless a usage entry says otherwise.
    pub hours_per_month: f64,
    /// Monthly cost of the priced resources before the change.
    pub before: f64,
    /// Monthly cost of the priced resources after the change.
    pub after: f64,
    /// `after - before`.
    pub delta: f64,
    /// How many resources are priced, free and unpriced.
    pub counts: CostCounts,
    /// The priced resources, in input order.
    pub resources: Vec<ResourceCost>,
    /// The resources that cost nothing by nature.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub free: Vec<FreeResource>,
    /// The resources that could not be priced, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<Unpriced>,
    /// Limits checked against this estimate (`[cost]` thresholds; later budgets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<CostLimit>,
}

/// Resource counts of an estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CostCounts {
    /// Priced resources.
    pub priced: usize,
    /// Resources that cost nothing by nature.
    pub free: usize,
    /// Resources that could not be priced.
    pub unpriced: usize,
}

/// Where the region a resource was priced in came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionSource {
    /// The region of the resource's provider configuration.
    Provider,
    /// The resource's own attributes (`availability_zone`, `zone`, `region`, `location`).
    Attribute,
    /// Neither said: the catalog's default region for the provider.
    Default,
}

/// One priced resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceCost {
    /// Resource address.
    pub address: String,
    /// Resource type.
    pub kind: String,
    /// What the change does to it.
    pub action: Action,
    /// The region it was priced in.
    pub region: String,
    /// Where that region came from.
    pub region_source: RegionSource,
    /// Monthly cost before the change (0 when created).
    pub before: f64,
    /// Monthly cost after the change (0 when deleted).
    pub after: f64,
    /// `after - before`.
    pub delta: f64,
    /// Price components of the state before the change (when it existed and differs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components_before: Vec<Component>,
    /// Price components of the state after the change (of the state before, for a delete).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    /// Assumptions and parts left out (a root volume sized by its image, usage not given).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One line of a resource's price: unit price × quantity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// What is priced (`t3.micro instance`, `gp3 storage`).
    pub description: String,
    /// The unit of the quantity (`hour`, `GB-month`, `IOPS-month`).
    pub unit: &'static str,
    /// USD per unit.
    pub unit_price: f64,
    /// Units per month.
    pub quantity: f64,
    /// `unit_price × quantity`, rounded to the cent.
    pub monthly: f64,
}

impl Component {
    /// A component; the monthly figure is rounded to the cent.
    #[must_use]
    pub fn new(
        description: impl Into<String>,
        unit: &'static str,
        unit_price: f64,
        quantity: f64,
    ) -> Component {
        Component {
            description: description.into(),
            unit,
            unit_price,
            quantity,
            monthly: round_cents(unit_price * quantity),
        }
    }
}

/// A resource that costs nothing by nature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeResource {
    /// Resource address.
    pub address: String,
    /// Resource type.
    pub kind: String,
}

/// A resource that could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unpriced {
    /// Resource address.
    pub address: String,
    /// Resource type.
    pub kind: String,
    /// What the change does to it.
    pub action: Action,
    /// Why (`no price for region eu-north-1`, `instance_type is known only after apply`).
    pub reason: String,
    /// `true` when the reason is a value known only after apply.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
    /// `true` when the catalog prices this kind (a value was missing, not the kind).
    #[serde(skip)]
    pub(crate) kind_priced: bool,
}

/// What a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    /// The monthly delta of this change (`[cost] approval-above`, `deny-above`).
    Change,
}

/// A limit checked against the estimate: the budget, the amount and the headroom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLimit {
    /// The setting that sets it (`cost.approval-above`, `spaces.prod.cost.deny-above`).
    pub name: String,
    /// What it applies to.
    pub scope: LimitScope,
    /// The limit, USD per month.
    pub limit: f64,
    /// The amount checked against it, USD per month.
    pub amount: f64,
    /// `limit - amount`: negative when exceeded.
    pub headroom: f64,
    /// `true` when the amount is above the limit.
    pub exceeded: bool,
}

impl CostLimit {
    /// Checks `amount` against `limit`.
    #[must_use]
    pub fn check(name: impl Into<String>, scope: LimitScope, limit: f64, amount: f64) -> CostLimit {
        CostLimit {
            name: name.into(),
            scope,
            limit,
            amount,
            headroom: round_cents(limit - amount),
            exceeded: amount > limit,
        }
    }
}

impl CostEstimate {
    /// An empty estimate over a catalog and usage file.
    #[must_use]
    pub fn empty(catalog: &super::Catalog, usage: &super::Usage) -> CostEstimate {
        CostEstimate {
            currency: catalog.currency().to_owned(),
            as_of: catalog.as_of().to_owned(),
            catalogs: catalog.origins().to_vec(),
            usage: usage.origin().map(str::to_owned),
            hours_per_month: super::HOURS_PER_MONTH,
            before: 0.0,
            after: 0.0,
            delta: 0.0,
            counts: CostCounts::default(),
            resources: Vec::new(),
            free: Vec::new(),
            unpriced: Vec::new(),
            limits: Vec::new(),
        }
    }

    /// `true` when the change has resources the catalog prices (priced, or unpriced for a
    /// missing value): the estimate then belongs in the decision.
    #[must_use]
    pub fn is_relevant(&self) -> bool {
        !self.resources.is_empty() || self.unpriced.iter().any(|u| u.kind_priced)
    }

    /// Resources left unpriced because a value is known only after apply.
    pub fn unknown(&self) -> impl Iterator<Item = &Unpriced> {
        self.unpriced.iter().filter(|u| u.unknown)
    }

    /// Recomputes the totals and counts from the resources.
    pub fn refresh(&mut self) {
        self.before = round_cents(self.resources.iter().map(|r| r.before).sum());
        self.after = round_cents(self.resources.iter().map(|r| r.after).sum());
        self.delta = round_cents(self.after - self.before);
        self.counts = CostCounts {
            priced: self.resources.len(),
            free: self.free.len(),
            unpriced: self.unpriced.len(),
        };
    }

    /// Adds another estimate's resources (the next input of the same decision).
    pub fn absorb(&mut self, other: CostEstimate) {
        self.resources.extend(other.resources);
        self.free.extend(other.free);
        self.unpriced.extend(other.unpriced);
        self.refresh();
    }

    /// The one-line summary the `warden check` outputs show:
    /// `+$12.00/month (before $3.00, after $15.00); 2 resources unpriced`.
    #[must_use]
    pub fn summary(&self) -> String {
        use super::money::{signed_usd, usd};
        let mut out = format!(
            "{}/month (before {}, after {})",
            signed_usd(self.delta),
            usd(self.before),
            usd(self.after)
        );
        if self.counts.unpriced > 0 {
            out.push_str(&format!(
                "; {} unpriced",
                crate::render::plural(self.counts.unpriced, "resource", "resources")
            ));
        }
        out
    }
}
