//! Log template mining on the Loghub-2k samples: grouping accuracy next to
//! Drain's published figure, templates found against the ground truth, and
//! throughput.
//!
//! Run: cargo bench --bench patterns [-- --tsv]
//! The samples are read from $LOGHUB_DIR, by default ../shared/bench/loghub
//! next to the crate: every `<name>/<name>_2k.log_structured.csv`, mining its
//! `Content` column against its `EventId` column. `--tsv` prints one
//! tab-separated row per dataset for scripts (scripts/bench-patterns).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faber_cloud::ops::patterns::{Miner, MinerConfig, TemplateId, grouping_accuracy};

/// Drain's grouping accuracy on the Loghub-2k samples (Zhu et al., "Tools and
/// Benchmarks for Automated Log Parsing", ICSE-SEIP 2019, table III).
const DRAIN_PUBLISHED: &[(&str, f64)] = &[("HDFS", 0.998), ("Spark", 0.920), ("BGL", 0.963), ("Mac", 0.787), ("Linux", 0.690), ("Proxifier", 0.527)];

/// Each dataset is mined repeatedly, each time by a fresh miner, for at least this long.
const MIN_TIMING: Duration = Duration::from_millis(500);

struct Dataset {
    name: String,
    content: Vec<String>,
    truth: Vec<String>,
}

struct Outcome {
    accuracy: f64,
    templates: usize,
    truth_templates: usize,
    lines_per_sec: f64,
}

fn main() {
    let tsv = std::env::args().any(|a| a == "--tsv");
    let dir = std::env::var_os("LOGHUB_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/loghub"));
    let datasets = match load_all(&dir) {
        Ok(d) if !d.is_empty() => d,
        Ok(_) => fail(&format!("no <name>/<name>_2k.log_structured.csv under {}; set LOGHUB_DIR to the Loghub-2k samples", dir.display())),
        Err(e) => fail(&format!("cannot read the Loghub-2k samples under {}: {e}; set LOGHUB_DIR to their directory", dir.display())),
    };
    if tsv {
        println!("dataset\tlines\tga\tdrain_published\ttemplates\ttruth_templates\tlines_per_sec");
    } else {
        println!("{:<10} {:>6} {:>7} {:>7} {:>10} {:>12}", "dataset", "lines", "GA", "Drain", "templates", "lines/s");
    }
    let mut worse = Vec::new();
    for d in &datasets {
        let o = run(d);
        let published = DRAIN_PUBLISHED.iter().find(|(n, _)| *n == d.name).map(|(_, ga)| *ga);
        let shown = published.map_or("-".to_string(), |p| format!("{p:.3}"));
        // The published figures have three decimals.
        if published.is_some_and(|p| (o.accuracy * 1000.0).round() < (p * 1000.0).round()) {
            worse.push(d.name.clone());
        }
        if tsv {
            println!("{}\t{}\t{:.3}\t{shown}\t{}\t{}\t{:.0}", d.name, d.content.len(), o.accuracy, o.templates, o.truth_templates, o.lines_per_sec);
        } else {
            let found = format!("{}/{}", o.templates, o.truth_templates);
            println!("{:<10} {:>6} {:>7.3} {shown:>7} {found:>10} {:>12.0}", d.name, d.content.len(), o.accuracy, o.lines_per_sec);
        }
    }
    if !tsv {
        if worse.is_empty() {
            println!("at or above Drain's published accuracy on every dataset");
        } else {
            println!("below Drain's published accuracy on: {}", worse.join(", "));
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}

fn run(d: &Dataset) -> Outcome {
    let mut miner = Miner::new(MinerConfig::standard());
    let ids: Vec<TemplateId> = d.content.iter().map(|line| miner.add(line)).collect();
    let accuracy = grouping_accuracy(ids.iter().map(|&id| miner.resolve(id)).zip(d.truth.iter().cloned()));
    let templates = miner.templates().count();
    let mut truth: Vec<&String> = d.truth.iter().collect();
    truth.sort();
    truth.dedup();

    let mut rounds = 0u32;
    let mut best = Duration::MAX;
    let started = Instant::now();
    while rounds < 3 || started.elapsed() < MIN_TIMING {
        let t = Instant::now();
        let mut miner = Miner::new(MinerConfig::standard());
        for line in &d.content {
            black_box(miner.add(black_box(line)));
        }
        black_box(miner.templates().count());
        best = best.min(t.elapsed());
        rounds += 1;
    }
    Outcome { accuracy, templates, truth_templates: truth.len(), lines_per_sec: d.content.len() as f64 / best.as_secs_f64() }
}

fn load_all(dir: &Path) -> Result<Vec<Dataset>, String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort_by_key(|n| DRAIN_PUBLISHED.iter().position(|(p, _)| p == n).unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for name in names {
        let path = dir.join(&name).join(format!("{name}_2k.log_structured.csv"));
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (content, truth) = columns(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(Dataset { name, content, truth });
    }
    Ok(out)
}

/// The `Content` and `EventId` columns of a structured Loghub CSV.
fn columns(text: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let mut records = parse_csv(text).into_iter();
    let header = records.next().ok_or("empty file")?;
    let column = |name: &str| header.iter().position(|h| h == name).ok_or(format!("no {name} column"));
    let (content, event) = (column("Content")?, column("EventId")?);
    let mut lines = Vec::new();
    let mut truth = Vec::new();
    for (n, mut record) in records.enumerate() {
        if record.len() != header.len() {
            return Err(format!("record {} has {} fields, the header {}", n + 1, record.len(), header.len()));
        }
        truth.push(std::mem::take(&mut record[event]));
        lines.push(std::mem::take(&mut record[content]));
    }
    Ok((lines, truth))
}

/// RFC 4180 CSV: fields separated by commas, optionally in double quotes, in
/// which a doubled quote is a quote and commas and line breaks are literal.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}
