//! `warden audit verify|export`: the hash-chained audit log, offline from the data folder.

use std::path::PathBuf;

use anyhow::Context as _;
use time::OffsetDateTime;

use super::control::{self, DataArg};
use crate::{output, Status};

/// `warden audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// `warden audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the chain: exit 0 when intact, 1 naming the first broken record.
    Verify(VerifyArgs),
    /// Write the records (with their hashes) as JSONL, for an auditor.
    Export(ExportArgs),
}

/// `warden audit verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Verify an exported JSONL file instead of the database.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON record per line.
    Jsonl,
}

/// `warden audit export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Only records at or after this date (`2026-01-01`) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// Runs `warden audit`.
pub fn run(args: &AuditArgs) -> anyhow::Result<Status> {
    match &args.command {
        AuditCommand::Verify(a) => verify(a),
        AuditCommand::Export(a) => export(a),
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<Status> {
    let verification = if let Some(file) = &args.jsonl {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        warden_store::audit::verify_jsonl(&mut std::io::BufReader::new(f))?
    } else {
        control::runtime()?.block_on(async {
            let store = control::open_existing(&args.data).await?;
            let v = store.verify_audit().await?;
            store.close().await;
            anyhow::Ok(v)
        })?
    };
    match &verification.broken {
        None => {
            let head = verification.last.as_ref().map_or_else(
                || "empty log".to_owned(),
                |(seq, hash)| format!("head {seq} {hash}"),
            );
            output::stdout(&format!(
                "audit log intact: {} records, {head}\n",
                verification.records
            ))?;
            Ok(Status::Success)
        }
        Some(broken) => {
            output::stdout(&format!(
                "audit log BROKEN at {broken}\n{} records intact before it\n",
                verification.records
            ))?;
            Ok(Status::Failure)
        }
    }
}

/// `2026-01-01` (midnight UTC) or an RFC 3339 time.
fn parse_since(s: &str) -> anyhow::Result<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let date = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| anyhow::anyhow!("--since `{s}`: expected YYYY-MM-DD or an RFC 3339 time"))?;
    Ok(date.midnight().assume_utc())
}

fn export(args: &ExportArgs) -> anyhow::Result<Status> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let ExportFormat::Jsonl = args.format;
    control::runtime()?.block_on(async {
        let store = control::open_existing(&args.data).await?;
        let mut buf = Vec::new();
        let n = store.export_audit(since, &mut buf).await?;
        store.close().await;
        output::emit(args.output.as_deref(), |out| out.write_all(&buf))?;
        output::note(&format!("{n} audit records exported"));
        anyhow::Ok(Status::Success)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_and_times() {
        assert_eq!(
            parse_since("2026-01-01").ok(),
            Some(time::macros::datetime!(2026-01-01 00:00 UTC))
        );
        assert_eq!(
            parse_since("2026-01-01T10:00:00+02:00").ok(),
            Some(time::macros::datetime!(2026-01-01 08:00 UTC))
        );
        assert!(parse_since("yesterday").is_err());
    }
}
