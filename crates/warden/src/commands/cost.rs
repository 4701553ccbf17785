//! `warden cost`: the monthly cost of plans, resource by resource, before and after.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;
use warden_core::cost::money::{signed_usd, usd};
use warden_core::cost::{Catalog, CostEstimate, RegionSource, Usage};
use warden_policy::cost::{CostPolicy, Effective};
use warden_policy::Config;

use crate::{output, Status};

/// `warden cost`.
#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// Plan files (`terraform show -json` output), folders searched for *.json, or `-` for
    /// standard input.
    #[arg(required = true, value_name = "PLAN")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = CostFormat::Text)]
    pub format: CostFormat,
    /// Price catalog merged over the embedded one (instead of `[cost] catalog`).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Usage file: GB stored, GB processed, hours per month (instead of `[cost] usage`).
    #[arg(long, value_name = "FILE")]
    pub usage: Option<PathBuf>,
    /// Configuration file (default: warden.toml found upward from the first plan); its
    /// `[cost]` table gives the catalog, usage file and thresholds.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = warden_core::inputs::DEFAULT_MAX_INPUT_BYTES)]
    pub max_input_size: u64,
}

/// Output formats of `warden cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostFormat {
    /// A table of resources, totals, then what could not be priced.
    Text,
    /// The estimate as JSON (the `cost` member of a decision).
    Json,
}

/// Runs `warden cost`: exit 0 with the estimate, 2 on a usage or input error.
pub fn run(args: &CostArgs) -> anyhow::Result<Status> {
    let config = load_config(args)?;
    let policy = cost_policy(args, &config)?;
    let paths = warden_core::inputs::discover(&args.paths)?;
    let mut changes = Vec::with_capacity(paths.len());
    for path in &paths {
        let input = warden_core::inputs::read(path, args.max_input_size)?;
        changes.push(warden_core::inputs::parse(&input)?);
    }
    let refs: Vec<&warden_core::ChangeSet> = changes.iter().collect();
    let mut estimate = policy.estimate(&refs);
    warden_policy::cost::record_limits(
        &mut estimate,
        &Effective::default().with("cost", &policy.thresholds()),
    );
    let text = match args.format {
        CostFormat::Json => serde_json::to_string_pretty(&estimate)? + "\n",
        CostFormat::Text => table(&estimate),
    };
    output::stdout(&text)?;
    Ok(Status::Success)
}

fn load_config(args: &CostArgs) -> anyhow::Result<Config> {
    let start = args
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    super::load_config(false, args.config.as_deref(), &start)
}

/// The configuration's `[cost]`, with `--catalog` and `--usage` instead of its files.
fn cost_policy(args: &CostArgs, config: &Config) -> anyhow::Result<CostPolicy> {
    if args.catalog.is_none() && args.usage.is_none() {
        return Ok(CostPolicy::load(&config.cost, &config.source_name())?);
    }
    let catalog = match (&args.catalog, &config.cost.catalog) {
        (Some(path), _) => Some(Catalog::load(path).context("--catalog")?),
        (None, Some(path)) => Some(Catalog::load(path).context("[cost] catalog")?),
        (None, None) => None,
    };
    let usage = match (&args.usage, &config.cost.usage) {
        (Some(path), _) => Some(Usage::load(path).context("--usage")?),
        (None, Some(path)) => Some(Usage::load(path).context("[cost] usage")?),
        (None, None) => None,
    };
    Ok(CostPolicy::new(catalog, usage, config.cost.thresholds))
}

/// The text report.
fn table(e: &CostEstimate) -> String {
    let mut out = String::new();
    let headers = ["ADDRESS", "KIND", "ACTION", "BEFORE", "AFTER", "DELTA"];
    let mut rows: Vec<[String; 6]> = e
        .resources
        .iter()
        .map(|r| {
            [
                if r.region_source == RegionSource::Default {
                    format!("{} *", r.address)
                } else {
                    r.address.clone()
                },
                r.kind.clone(),
                r.action.as_str().to_owned(),
                usd(r.before),
                usd(r.after),
                signed_usd(r.delta),
            ]
        })
        .collect();
    rows.push([
        "TOTAL".to_owned(),
        String::new(),
        String::new(),
        usd(e.before),
        usd(e.after),
        signed_usd(e.delta),
    ]);
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i >= 3 {
                let _ = write!(s, "  {cell:>w$}");
            } else if i == 0 {
                let _ = write!(s, "{cell:<w$}");
            } else {
                let _ = write!(s, "  {cell:<w$}");
            }
        }
        s.trim_end().to_owned()
    };
    if e.resources.is_empty() {
        out.push_str("No priced resources.\n");
    } else {
        let _ = writeln!(out, "{}", line(headers));
        let count = rows.len();
        for (i, row) in rows.iter().enumerate() {
            if i + 1 == count {
                let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                let _ = writeln!(out, "{}", "-".repeat(rule));
            }
            let _ = writeln!(out, "{}", line(row.each_ref().map(String::as_str)));
        }
    }
    if e.resources
        .iter()
        .any(|r| r.region_source == RegionSource::Default)
    {
        out.push_str("* priced in the catalog's default region: the plan names none\n");
    }
    if !e.unpriced.is_empty() {
        let _ = writeln!(out, "\nUnpriced ({}), not in the totals:", e.unpriced.len());
        for u in &e.unpriced {
            let _ = writeln!(
                out,
                "  {} ({}, {}): {}",
                u.address,
                u.kind,
                u.action.as_str(),
                u.reason
            );
        }
    }
    // The same note on many resources is said once, with the resources it is about.
    let mut notes: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in &e.resources {
        for note in r.notes.iter().filter(|n| !n.contains("the default region")) {
            match notes.iter_mut().find(|(n, _)| n == note) {
                Some((_, addresses)) => addresses.push(&r.address),
                None => notes.push((note, vec![&r.address])),
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for (note, addresses) in notes {
            let shown: Vec<&str> = addresses.iter().take(3).copied().collect();
            let more = match addresses.len() - shown.len() {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            let _ = writeln!(out, "  {note}: {}{more}", shown.join(", "));
        }
    }
    if !e.limits.is_empty() {
        let _ = writeln!(out, "\nLimits on the monthly delta:");
        for l in &e.limits {
            let _ = writeln!(
                out,
                "  {} = {}: {} (headroom {})",
                l.name,
                usd(l.limit),
                if l.exceeded { "exceeded" } else { "within" },
                usd(l.headroom)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{} priced · {} free · {} unpriced · {} per month · prices as of {} · catalog: {}{}",
        e.counts.priced,
        e.counts.free,
        e.counts.unpriced,
        e.currency,
        e.as_of,
        e.catalogs.join(" + "),
        e.usage
            .as_deref()
            .map(|u| format!(" · usage: {u}"))
            .unwrap_or_default()
    );
    out
}
