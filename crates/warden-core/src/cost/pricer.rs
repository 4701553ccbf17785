//! What a pricer sees and writes: one state of one resource (before or after the change),
//! typed attribute reads that tell "known only after apply" from "left to the provider's
//! default", catalog lookups that say why a price is missing, and the components it adds.

use crate::changeset::{ChangeSet, ResourceConfig};
use crate::value::Value;

use super::catalog::{Catalog, Missing};
use super::estimate::Component;
use super::usage::UsageView;

/// Prices one state of a resource into `out`, or says why it cannot.
pub(crate) type PriceFn = fn(&Ctx<'_>, &mut Priced) -> Result<(), Unpriceable>;

/// The components of one state, and the notes that go with them.
#[derive(Debug, Default)]
pub(crate) struct Priced {
    pub(crate) components: Vec<Component>,
    pub(crate) notes: Vec<String>,
}

impl Priced {
    /// Adds a note once.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// The monthly total of the components.
    pub(crate) fn monthly(&self) -> f64 {
        self.components.iter().map(|c| c.monthly).sum()
    }
}

/// Why a state could not be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unpriceable {
    pub(crate) reason: String,
    /// The reason is a value known only after apply.
    pub(crate) unknown: bool,
}

impl Unpriceable {
    /// A value the catalog cannot price, or a case it does not cover.
    pub(crate) fn new(reason: impl Into<String>) -> Unpriceable {
        Unpriceable {
            reason: reason.into(),
            unknown: false,
        }
    }

    /// A value known only after apply.
    pub(crate) fn unknown(attribute: &str) -> Unpriceable {
        Unpriceable {
            reason: format!("`{attribute}` is known only after apply"),
            unknown: true,
        }
    }
}

/// One state of one resource, as a pricer reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct State<'a> {
    /// The values.
    pub(crate) value: &'a Value,
    /// `after_unknown` for the state after the change; `null` before.
    pub(crate) unknown: &'a Value,
    /// The resource's configuration block, when the plan has it.
    pub(crate) config: Option<&'a ResourceConfig>,
    /// Where this state sits in the configuration (`root_block_device` for a block's
    /// sub-state; empty for the resource).
    pub(crate) config_prefix: &'a str,
}

static NULL: Value = Value::Null;
static ALL_UNKNOWN: Value = Value::Bool(true);

/// A value read from a state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Field<'a> {
    /// Present and not null.
    Known(&'a Value),
    /// Known only after apply, and set in the configuration (or no configuration to tell).
    Unknown,
    /// Absent, null, or known only after apply because the configuration leaves it to the
    /// provider's default.
    Absent,
}

impl<'a> State<'a> {
    /// The state of the block at `path` (`root_block_device.0`), whose configuration path is
    /// `config_path` (`root_block_device`): its attributes read without building paths.
    pub(crate) fn child(&self, path: &str, config_path: &'a str) -> State<'a> {
        let unknown = if self.is_unknown_above(path) {
            &ALL_UNKNOWN
        } else {
            self.unknown.path(path).unwrap_or(&NULL)
        };
        State {
            value: self.value.path(path).unwrap_or(&NULL),
            unknown,
            config: self.config,
            config_prefix: config_path,
        }
    }

    /// `true` when a marker on the way to `path` (not at it) is `true`.
    fn is_unknown_above(&self, path: &str) -> bool {
        crate::resource::mark_at(self.unknown, path, |_| false)
    }

    /// The value at a dotted path (`root_block_device.0.volume_size`).
    pub(crate) fn field(&self, path: &str) -> Field<'a> {
        match self.value.path(path) {
            Some(v) if !v.is_null() => Field::Known(v),
            _ if self.is_unknown(path) => {
                let config_path = self
                    .config_prefix
                    .split('.')
                    .chain(path.split('.'))
                    .filter(|s| !s.is_empty() && s.parse::<usize>().is_err())
                    .collect::<Vec<_>>()
                    .join(".");
                match self.config {
                    Some(c) if !sets_exactly(c, &config_path) => Field::Absent,
                    _ => Field::Unknown,
                }
            }
            _ => Field::Absent,
        }
    }

    /// `path` as the resource names it (`root_block_device.volume_size` in a sub-state).
    fn name(&self, path: &str) -> String {
        if self.config_prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}.{path}", self.config_prefix)
        }
    }

    fn is_unknown(&self, path: &str) -> bool {
        crate::resource::mark_at(self.unknown, path, Value::contains_true)
    }

    /// A string attribute: `Ok(None)` when absent or left to the provider's default.
    pub(crate) fn str(&self, path: &str) -> Result<Option<&'a str>, Unpriceable> {
        match self.field(path) {
            Field::Known(v) => v.as_str().map(Some).ok_or_else(|| {
                Unpriceable::new(format!(
                    "`{}` is a {}, not a string",
                    self.name(path),
                    v.type_name()
                ))
            }),
            Field::Unknown => Err(Unpriceable::unknown(&self.name(path))),
            Field::Absent => Ok(None),
        }
    }

    /// A string attribute the price cannot do without.
    pub(crate) fn required_str(&self, path: &str) -> Result<&'a str, Unpriceable> {
        self.str(path)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Unpriceable::new(format!("no `{}`", self.name(path))))
    }

    /// A number (numeric strings count): `Ok(None)` when absent or left to the default.
    pub(crate) fn number(&self, path: &str) -> Result<Option<f64>, Unpriceable> {
        match self.field(path) {
            Field::Known(v) => v.as_f64().map(Some).ok_or_else(|| {
                Unpriceable::new(format!(
                    "`{}` is a {}, not a number",
                    self.name(path),
                    v.type_name()
                ))
            }),
            Field::Unknown => Err(Unpriceable::unknown(&self.name(path))),
            Field::Absent => Ok(None),
        }
    }

    /// A boolean: `Ok(None)` when absent or left to the default.
    pub(crate) fn bool(&self, path: &str) -> Result<Option<bool>, Unpriceable> {
        match self.field(path) {
            Field::Known(v) => Ok(v.as_bool()),
            Field::Unknown => Err(Unpriceable::unknown(&self.name(path))),
            Field::Absent => Ok(None),
        }
    }

    /// The elements of a list attribute (empty when absent or left to the default).
    pub(crate) fn items(&self, path: &str) -> Result<&'a [Value], Unpriceable> {
        match self.field(path) {
            Field::Known(v) => Ok(v.items()),
            Field::Unknown => Err(Unpriceable::unknown(&self.name(path))),
            Field::Absent => Ok(&[]),
        }
    }
}

/// `true` when the configuration sets the attribute itself or a block inside it. Unlike
/// [`ResourceConfig::sets`], a block that contains it does not count: `settings { tier = .. }`
/// leaves `settings.availability_type` to the provider.
fn sets_exactly(config: &ResourceConfig, path: &str) -> bool {
    config.attributes.iter().any(|a| {
        a == path
            || a.strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Everything a pricer needs for one state of one resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The state being priced.
    pub(crate) state: State<'a>,
    /// The change set the resource is in (for resources priced through others: an
    /// autoscaling group through its launch template).
    pub(crate) changes: &'a ChangeSet,
    /// The prices.
    pub(crate) catalog: &'a Catalog,
    /// The region the resource is priced in.
    pub(crate) region: &'a str,
    /// Its usage entries.
    pub(crate) usage: UsageView<'a>,
    /// Hours it runs per month.
    pub(crate) hours: f64,
}

impl Ctx<'_> {
    /// A price from the catalog, or why there is none.
    pub(crate) fn price(&self, table: &str, key: &str) -> Result<f64, Unpriceable> {
        self.catalog
            .price(table, self.region, key)
            .map_err(|missing| match missing {
                Missing::Table => Unpriceable::new(format!("the catalog has no `{table}` prices")),
                Missing::Region => {
                    Unpriceable::new(format!("no price for region {} (`{table}`)", self.region))
                }
                Missing::Key => Unpriceable::new(format!(
                    "no price for `{key}` in {} (`{table}`)",
                    self.region
                )),
            })
    }

    /// Adds `count` units running every hour of the month at the hourly price of `key`.
    pub(crate) fn hourly(
        &self,
        out: &mut Priced,
        description: impl Into<String>,
        table: &str,
        key: &str,
        count: f64,
    ) -> Result<(), Unpriceable> {
        let price = self.price(table, key)?;
        out.components.push(Component::new(
            description,
            "hour",
            price,
            self.hours * count,
        ));
        Ok(())
    }

    /// Adds `quantity` units a month at the price of `key`.
    pub(crate) fn monthly(
        &self,
        out: &mut Priced,
        description: impl Into<String>,
        unit: &'static str,
        table: &str,
        key: &str,
        quantity: f64,
    ) -> Result<(), Unpriceable> {
        let price = self.price(table, key)?;
        out.components
            .push(Component::new(description, unit, price, quantity));
        Ok(())
    }
}
