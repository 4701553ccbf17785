//! `warden check`: inputs → change sets → decision → report → exit code.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use warden_core::render::{self, Format, RenderOptions};

use warden_core::Outcome;
use warden_policy::{Config, FailOn, PolicySet};

use crate::args::{CheckArgs, CheckFormat, ColorChoice};
use crate::{output, Status};

/// Runs `warden check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<Status> {
    let paths = warden_core::inputs::discover(&args.paths)?;
    let config = load_config(args)?;
    let fail_on = config.fail_on;
    let policy = PolicySet::load_with_policies(
        config,
        &args.policy,
        &warden_policy::RegoOptions {
            namespaces: args.namespace.clone(),
            all_namespaces: args.all_namespaces,
            data: args.data.clone(),
        },
    )?;
    let raw_documents = policy.wants_raw_documents();

    // The decision time, fixed first: Rego rules may be evaluated while a plan is parsed.
    let now = super::decision_time()?;
    let timings = Timings::from_env();
    let mut sources = Vec::with_capacity(paths.len());
    let mut changes = Vec::with_capacity(paths.len());
    for path in &paths {
        let input = warden_core::inputs::read(path, args.max_input_size)?;
        timings.mark("read");
        // Rego policies read a plan as conftest passes it: the raw document, converted for
        // them, and their rules evaluated, while the plan is parsed (on the other core; a
        // JSON manifest's conversion is dropped).
        let prepare = || -> anyhow::Result<Option<warden_core::RawDocument>> {
            let text = warden_core::inputs::decode_text(&input.name, &input.bytes)?;
            Ok(policy.prepare_document(&String::from_utf8_lossy(&text), now))
        };
        let (parsed, document) = if raw_documents
            && looks_like_json(&input.bytes)
            && input.bytes.len() > PREPARE_FIRST_BYTES
        {
            // A large plan: converted and evaluated first, its converted form dropped, then
            // parsed, so the two never take memory at once.
            let document = prepare();
            (warden_core::inputs::parse(&input), Some(document))
        } else if raw_documents && looks_like_json(&input.bytes) {
            std::thread::scope(|scope| {
                let document = scope.spawn(prepare);
                let parsed = warden_core::inputs::parse(&input);
                let document = document
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("preparing {} failed", input.name)));
                (parsed, Some(document))
            })
        } else {
            (warden_core::inputs::parse(&input), None)
        };
        let mut parsed = parsed?;
        if let Some(t) = parsed.terraform.as_mut().filter(|_| raw_documents) {
            t.document = match document {
                Some(document) => document?,
                None => prepare()?, // not recognisable before parsing (UTF-16)
            };
        }
        timings.mark("parse and prepare");
        // Manifests carry their lines from parsing; only plans need the second pass.
        let plan = parsed.input.kind == warden_core::InputKind::TerraformPlan;
        changes.push(parsed);
        sources.push(Source::keep(path, input, plan));
    }

    let refs: Vec<&warden_core::ChangeSet> = changes.iter().collect();
    let mut decision = policy.evaluate(&refs, now);
    timings.mark("evaluate");
    // Free the plans on the other core while this one renders; the process may exit first.
    std::thread::spawn(move || drop(changes));
    for source in sources {
        source.locate(&mut decision);
    }
    timings.mark("locate");

    let format = match args.format {
        CheckFormat::Text => Format::Text,
        CheckFormat::Json => Format::Json,
        CheckFormat::Sarif => Format::Sarif,
        CheckFormat::Junit => Format::Junit,
        CheckFormat::Markdown => Format::Markdown,
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let options = RenderOptions {
        rules: policy.rules(),
        color,
    };
    output::emit(args.output.as_deref(), |out| {
        render::render_to(format, &decision, &options, out)
    })?;
    timings.mark("render");
    Ok(status(decision.outcome, fail_on))
}

/// Plans above this size are prepared for Rego before they are parsed rather than while:
/// slower on two cores, but the parsed plan and the converted one are never in memory at
/// once (at 100k resources, 1.2 GB peak → under 1 GB).
const PREPARE_FIRST_BYTES: usize = 64 << 20;

/// `true` when the input starts like a JSON document (`{`, after a BOM and whitespace).
fn looks_like_json(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Phase timings on stderr when `WARDEN_TIMINGS` is set (for profiling large plans).
struct Timings(Option<std::cell::Cell<std::time::Instant>>);

impl Timings {
    fn from_env() -> Timings {
        Timings(
            std::env::var_os("WARDEN_TIMINGS")
                .map(|_| std::cell::Cell::new(std::time::Instant::now())),
        )
    }

    fn mark(&self, phase: &str) {
        if let Some(last) = &self.0 {
            let now = std::time::Instant::now();
            output::note(&format!(
                "{phase}: {:.1} ms",
                (now - last.get()).as_secs_f64() * 1e3
            ));
            last.set(now);
        }
    }
}

/// What is kept of an input after parsing, to find the line of each finding's resource.
/// Minified plans have no useful lines; the bytes of a file are dropped and read again only
/// for pretty-printed plans (standard input cannot be read again, so it is kept).
struct Source {
    name: String,
    path: PathBuf,
    bytes: Option<Vec<u8>>,
    multiline: bool,
}

impl Source {
    fn keep(path: &std::path::Path, input: warden_core::inputs::InputBytes, plan: bool) -> Source {
        let head = input
            .bytes
            .get(..input.bytes.len().min(1 << 16))
            .unwrap_or_default();
        let multiline = plan && head.iter().filter(|&&b| b == b'\n').nth(1).is_some();
        let stdin = path.as_os_str() == "-";
        Source {
            name: input.name,
            path: path.to_path_buf(),
            bytes: (stdin && multiline).then_some(input.bytes),
            multiline,
        }
    }

    fn locate(self, decision: &mut warden_core::Decision) {
        if !self.multiline {
            return;
        }
        if let Some(bytes) = self.bytes.or_else(|| std::fs::read(&self.path).ok()) {
            warden_policy::locate_lines(decision, &self.name, &bytes);
        }
    }
}

fn load_config(args: &CheckArgs) -> anyhow::Result<Config> {
    let start = args
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let mut config = super::load_config(args.no_config, args.config.as_deref(), &start)?;
    if let Some(select) = &args.select {
        config.select = Some(select.clone());
    }
    config.ignore.extend(args.ignore.iter().cloned());
    if let Some(level) = &args.fail_on {
        config.fail_on = level
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--fail-on: {e}"))?;
    }
    Ok(config)
}

/// Exit status for an outcome under the `fail-on` threshold.
fn status(outcome: Outcome, fail_on: FailOn) -> Status {
    match outcome {
        Outcome::Deny if fail_on != FailOn::Never => Status::Failure,
        Outcome::RequireApproval if fail_on <= FailOn::RequireApproval => Status::Approval,
        Outcome::Warn if fail_on == FailOn::Warn => Status::Failure,
        _ => Status::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_thresholds() {
        use FailOn::*;
        assert_eq!(status(Outcome::Deny, RequireApproval), Status::Failure);
        assert_eq!(
            status(Outcome::RequireApproval, RequireApproval),
            Status::Approval
        );
        assert_eq!(status(Outcome::Warn, RequireApproval), Status::Success);
        assert_eq!(status(Outcome::Warn, Warn), Status::Failure);
        assert_eq!(status(Outcome::RequireApproval, Deny), Status::Success);
        assert_eq!(status(Outcome::Deny, Never), Status::Success);
        assert_eq!(status(Outcome::Allow, Warn), Status::Success);
    }
}
