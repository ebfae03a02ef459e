//! Agreement of `debug`'s classifier with the hand-labelled Terraform/AWS
//! error messages in `../shared/fixtures/terraform-errors.jsonl` (one JSON
//! object per line: `message`, `category_guess`, `source_url`). Prints the
//! agreement overall and per label, the confusion table, every disagreement,
//! and the time per message. `docs/debug-agreement.md` explains the results.
//!
//! Run: cargo bench --bench debug_agreement

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use faber_cloud::infra::debug::{Category, classify};
use serde_json::Value;

struct Labelled {
    message: String,
    category_guess: String,
    source_url: String,
}

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform-errors.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("debug_agreement: cannot read {}: {e}\nThe labelled error messages live in the shared fixtures beside this repository.", path.display());
        std::process::exit(2);
    });
    let mut cases: Vec<(usize, Labelled, Category)> = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case = parse(line).unwrap_or_else(|e| {
            eprintln!("debug_agreement: {}:{}: {e}", path.display(), n + 1);
            std::process::exit(2);
        });
        let label = Category::from_name(&case.category_guess).unwrap_or_else(|| {
            eprintln!("debug_agreement: {}:{}: unknown category {:?}", path.display(), n + 1, case.category_guess);
            std::process::exit(2);
        });
        cases.push((n + 1, case, label));
    }

    // Agreement and confusion (rows: their label; columns: ours).
    let mut confusion: BTreeMap<(Category, Category), usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for (line, case, label) in &cases {
        let d = classify(&case.message);
        *confusion.entry((*label, d.category)).or_default() += 1;
        if d.category != *label {
            disagreements.push((line, case, label, d));
        }
    }
    let total = cases.len();
    let agreed = total - disagreements.len();
    println!("debug agreement with {}: {agreed}/{total} = {:.1}%", path.display(), pct(agreed, total));
    println!();
    println!("{:<14} {:>5} {:>7} {:>7}  (recall: of their label, ours agrees; precision: of ours, theirs agrees)", "category", "n", "recall", "prec.");
    for c in Category::ALL {
        let labelled: usize = Category::ALL.iter().map(|o| confusion.get(&(c, *o)).copied().unwrap_or(0)).sum();
        let predicted: usize = Category::ALL.iter().map(|o| confusion.get(&(*o, c)).copied().unwrap_or(0)).sum();
        if labelled == 0 && predicted == 0 {
            continue;
        }
        let hit = confusion.get(&(c, c)).copied().unwrap_or(0);
        println!("{:<14} {labelled:>5} {:>6.1}% {:>6.1}%", c.as_str(), pct(hit, labelled), pct(hit, predicted));
    }
    println!();
    let short = |c: Category| &c.as_str()[..4];
    print!("{:<14}", "label \\ ours");
    for c in Category::ALL {
        print!(" {:>5}", short(c));
    }
    println!();
    for r in Category::ALL {
        print!("{:<14}", r.as_str());
        for c in Category::ALL {
            match confusion.get(&(r, c)) {
                Some(n) => print!(" {n:>5}"),
                None => print!(" {:>5}", "."),
            }
        }
        println!();
    }
    println!();
    println!("disagreements: {}", disagreements.len());
    for (line, case, label, d) in &disagreements {
        let excerpt: String = case.message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(160).collect();
        println!("- line {line}: theirs {} / ours {} ({}, rule {})", label.as_str(), d.category.as_str(), d.explanation, d.rule);
        println!("  {excerpt}");
        println!("  {}", case.source_url);
    }

    // Which rule decided, for the report.
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for (_, case, _) in &cases {
        *rules.entry(classify(&case.message).rule).or_default() += 1;
    }
    println!();
    println!("deciding rules: {}", rules.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", "));

    // Speed.
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        for (_, case, _) in &cases {
            black_box(classify(black_box(&case.message)));
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / (rounds * total) as f64;
    println!("classify: {per:.1} µs/message (extraction, rules, signature, solutions)");
}

fn parse(line: &str) -> Result<Labelled, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let field = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("{name} is missing or not a string"));
    Ok(Labelled { message: field("message")?, category_guess: field("category_guess")?, source_url: field("source_url")? })
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 }
}
