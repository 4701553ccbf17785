//! Parses a plan and prints what was read: `cargo run --release -p warden-core --example parse_plan -- plan.json`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse_plan PLAN.json");
        std::process::exit(2);
    };
    let start = std::time::Instant::now();
    let input = match warden_core::inputs::read(
        std::path::Path::new(&path),
        warden_core::inputs::DEFAULT_MAX_INPUT_BYTES,
    ) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let read = start.elapsed();
    match warden_core::inputs::parse(&input) {
        Ok(cs) => {
            let tf = cs.terraform.as_ref();
            println!(
                "{path}: {} resources, {} providers, {} config blocks, {} data sources, {} drifted; read {:?}, parsed {:?}",
                cs.resources.len(),
                tf.map_or(0, |t| t.providers.len()),
                tf.map_or(0, |t| t.config.len()),
                tf.map_or(0, |t| t.data_sources.len()),
                tf.map_or(0, |t| t.drift.len()),
                read,
                start.elapsed() - read
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
