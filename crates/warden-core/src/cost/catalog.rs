//! The price catalog: public list prices by table, region and key, parsed once.
//!
//! The embedded catalog (`data/prices.json`) ships with Warden and is dated (`as_of`). A user's
//! catalog has the same format and is merged over it entry by entry: their prices win, every
//! other price stays. Lookups are three hash-map reads; nothing is parsed per call.
//!
//! ```json
//! {
//!   "as_of": "2025-01",
//!   "currency": "USD",
//!   "sources": ["https://aws.amazon.com/ec2/pricing/on-demand/"],
//!   "default_regions": {"aws": "us-east-1"},
//!   "free": ["aws_security_group"],
//!   "tables": {
//!     "aws.ec2": {
//!       "description": "EC2 instances: USD per hour, by instance type.",
//!       "prices": {"us-east-1": {"t3.micro": 0.0104}}
//!     }
//!   }
//! }
//! ```

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use super::CostError;

/// The catalog shipped with Warden.
const EMBEDDED: &str = include_str!("../../data/prices.json");

/// Prices by table (`aws.ec2`), region and key, with the catalog's date, sources, default
/// regions and the resource kinds that cost nothing by nature.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    as_of: String,
    currency: String,
    sources: Vec<String>,
    origins: Vec<String>,
    default_regions: HashMap<String, String>,
    free: HashSet<String>,
    tables: HashMap<String, Table>,
}

/// One priced product: its description (what a key means, in which unit) and its prices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// What the keys are and the unit of each price.
    pub description: String,
    prices: HashMap<String, HashMap<String, f64>>,
}

impl Table {
    /// The regions this table prices, sorted.
    #[must_use]
    pub fn regions(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.prices.keys().map(String::as_str).collect();
        out.sort_unstable();
        out
    }
}

/// Why a lookup found no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The catalog has no such table.
    Table,
    /// The table has no prices for the region.
    Region,
    /// The region has no price for the key.
    Key,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    as_of: Option<String>,
    currency: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    default_regions: HashMap<String, String>,
    #[serde(default)]
    free: Vec<String>,
    #[serde(default)]
    tables: HashMap<String, RawTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    prices: HashMap<String, HashMap<String, f64>>,
}

impl Catalog {
    /// The embedded catalog (`crates/warden-core/data/prices.json`), parsed on first use.
    #[must_use]
    pub fn embedded() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        // The file is part of the build and a test parses it; should it ever fail, every
        // resource is reported unpriced rather than the process stopping.
        CATALOG.get_or_init(|| Catalog::parse("embedded", EMBEDDED).unwrap_or_default())
    }

    /// Reads a catalog file.
    pub fn load(path: &Path) -> Result<Catalog, CostError> {
        let text = std::fs::read_to_string(path).map_err(|e| CostError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Catalog::parse(&path.display().to_string(), &text)
    }

    /// Parses catalog JSON; `name` is used in errors and in the estimate's `catalogs`.
    pub fn parse(name: &str, text: &str) -> Result<Catalog, CostError> {
        let raw: RawCatalog = serde_json::from_str(text).map_err(|e| CostError::Syntax {
            path: name.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })?;
        let invalid = |key: String, message: String| CostError::Invalid {
            path: name.to_owned(),
            key,
            message,
        };
        let currency = raw.currency.unwrap_or_else(|| "USD".to_owned());
        if currency != "USD" {
            return Err(invalid(
                "currency".into(),
                format!("`{currency}`: prices are in USD, like the embedded catalog they are merged with"),
            ));
        }
        let mut tables = HashMap::with_capacity(raw.tables.len());
        for (table, t) in raw.tables {
            for (region, prices) in &t.prices {
                for (key, price) in prices {
                    if !price.is_finite() || *price < 0.0 {
                        return Err(invalid(
                            format!("tables.{table}.prices.{region}.{key}"),
                            format!("`{price}` is not a price (a number ≥ 0)"),
                        ));
                    }
                }
            }
            tables.insert(
                table,
                Table {
                    description: t.description.unwrap_or_default(),
                    prices: t.prices,
                },
            );
        }
        let as_of = raw.as_of.unwrap_or_default();
        let origin = if as_of.is_empty() {
            name.to_owned()
        } else {
            format!("{name} ({as_of})")
        };
        let _ = raw.description;
        Ok(Catalog {
            as_of,
            currency,
            sources: raw.sources,
            origins: vec![origin],
            default_regions: raw.default_regions,
            free: raw.free.into_iter().collect(),
            tables,
        })
    }

    /// This catalog with `over`'s entries merged in: their prices, default regions, free
    /// kinds and descriptions win; every other entry stays. The date stays this catalog's.
    #[must_use]
    pub fn merged_with(&self, over: Catalog) -> Catalog {
        let mut out = self.clone();
        for (name, table) in over.tables {
            let mine = out.tables.entry(name).or_default();
            if !table.description.is_empty() {
                mine.description = table.description;
            }
            for (region, prices) in table.prices {
                mine.prices.entry(region).or_default().extend(prices);
            }
        }
        out.default_regions.extend(over.default_regions);
        out.free.extend(over.free);
        for s in over.sources {
            if !out.sources.contains(&s) {
                out.sources.push(s);
            }
        }
        out.origins.extend(over.origins);
        out
    }

    /// The price of `key` in `region` of `table`.
    pub fn price(&self, table: &str, region: &str, key: &str) -> Result<f64, Missing> {
        let table = self.tables.get(table).ok_or(Missing::Table)?;
        let prices = table.prices.get(region).ok_or(Missing::Region)?;
        prices.get(key).copied().ok_or(Missing::Key)
    }

    /// A table by name.
    #[must_use]
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// The table names, sorted.
    #[must_use]
    pub fn table_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.tables.keys().map(String::as_str).collect();
        out.sort_unstable();
        out
    }

    /// The region used for a provider's resources when neither their provider configuration
    /// nor their attributes say (`aws` → `us-east-1`).
    #[must_use]
    pub fn default_region(&self, provider: &str) -> Option<&str> {
        self.default_regions.get(provider).map(String::as_str)
    }

    /// `true` for a resource kind that costs nothing by nature (security groups, IAM ...).
    #[must_use]
    pub fn is_free(&self, kind: &str) -> bool {
        self.free.contains(kind)
    }

    /// When the prices were published (`2025-01`).
    #[must_use]
    pub fn as_of(&self) -> &str {
        &self.as_of
    }

    /// The currency of every price (`USD`).
    #[must_use]
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The public price pages the prices come from.
    #[must_use]
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The catalogs merged into this one, first the base: `embedded (2025-01)`, then each
    /// user file.
    #[must_use]
    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_parses_and_is_dated() {
        let c = Catalog::parse("embedded", EMBEDDED).unwrap();
        assert_eq!(c.as_of(), "2025-01");
        assert_eq!(c.currency(), "USD");
        assert!(!c.sources().is_empty());
        assert_eq!(c.origins(), ["embedded (2025-01)"]);
        assert_eq!(c.default_region("aws"), Some("us-east-1"));
        assert!(c.is_free("aws_security_group"));
        // Every table prices the main regions of its provider.
        for name in c.table_names() {
            let regions = c.table(name).unwrap().regions();
            let wanted: &[&str] = match name.split('.').next() {
                Some("aws") => &[
                    "us-east-1",
                    "us-east-2",
                    "us-west-2",
                    "eu-west-1",
                    "eu-central-1",
                    "ap-southeast-1",
                ],
                Some("gcp") => &["us-central1", "europe-west1", "asia-southeast1"],
                _ => &["eastus", "westeurope", "southeastasia"],
            };
            for r in wanted {
                assert!(regions.contains(r), "{name} has no {r}");
            }
        }
        assert_eq!(c.price("aws.ec2", "us-east-1", "t3.micro"), Ok(0.0104));
        assert_eq!(
            c.price("aws.ec2", "eu-north-1", "t3.micro"),
            Err(Missing::Region)
        );
        assert_eq!(
            c.price("aws.ec2", "us-east-1", "t3.huge"),
            Err(Missing::Key)
        );
        assert_eq!(c.price("aws.nope", "us-east-1", "x"), Err(Missing::Table));
        assert_eq!(&c, Catalog::embedded());
    }

    #[test]
    fn a_user_catalog_wins_entry_by_entry() {
        let user = Catalog::parse(
            "mine.json",
            r#"{"as_of": "2025-06", "free": ["aws_lambda_function"],
                "tables": {"aws.ec2": {"prices": {"us-east-1": {"t3.micro": 0.01},
                                                  "eu-north-1": {"t3.micro": 0.0108}}}}}"#,
        )
        .unwrap();
        let c = Catalog::embedded().merged_with(user);
        assert_eq!(c.price("aws.ec2", "us-east-1", "t3.micro"), Ok(0.01));
        assert_eq!(c.price("aws.ec2", "us-east-1", "t3.small"), Ok(0.0208));
        assert_eq!(c.price("aws.ec2", "eu-north-1", "t3.micro"), Ok(0.0108));
        assert!(c.is_free("aws_lambda_function") && c.is_free("aws_vpc"));
        assert_eq!(c.as_of(), "2025-01");
        assert_eq!(c.origins(), ["embedded (2025-01)", "mine.json (2025-06)"]);
    }

    #[test]
    fn bad_catalogs_name_the_file_and_the_key() {
        let err = |t: &str| Catalog::parse("p.json", t).unwrap_err().to_string();
        let e = err(r#"{"tables": {"aws.ec2": {"prices": {"us-east-1": {"t3.micro": -1}}}}}"#);
        assert!(
            e.starts_with("p.json: tables.aws.ec2.prices.us-east-1.t3.micro:"),
            "{e}"
        );
        let e = err(r#"{"tables": {"aws.ec2": {"pricse": {}}}}"#);
        assert!(e.starts_with("p.json:1:") && e.contains("pricse"), "{e}");
        let e = err(r#"{"tables": {"aws.ec2": {"prices": {"us-east-1": {"t3.micro": "cheap"}}}}}"#);
        assert!(e.starts_with("p.json:1:"), "{e}");
        let e = err(r#"{"currency": "EUR"}"#);
        assert!(e.contains("currency") && e.contains("USD"), "{e}");
    }
}
