//! Agreement of `debug` with hand-labelled Terraform/AWS error messages, on
//! two sets:
//!
//! 1. `../shared/fixtures/terraform-errors.jsonl` (`message`,
//!    `category_guess`, `source_url`): the 53 messages the rules were first
//!    written against. Agreement overall and per label, the confusion table
//!    and every disagreement.
//! 2. `tests/fixtures/debug/messages.jsonl` (`message`, `category`,
//!    `source_url`, and for permission cases `action`, `principal`,
//!    `identity_fix`): real messages collected before the rules were changed
//!    for issue 14, split by a hash of the message into a **tuning** half and
//!    a **test** half (see [`half`]). For each half: category agreement, the
//!    IAM action found, and whether the permission fix is right: queued on
//!    the right principal with the right action when an identity-policy
//!    statement would help (`identity_fix: true`), withheld when it would not
//!    (`identity_fix: false`: resource policy, SCP, permissions boundary,
//!    another principal the message does not name). Misses are printed for
//!    the tuning half only; the test half prints totals, so that tuning never
//!    looks at it.
//!
//! Then the time per message. `docs/debug-agreement.md` explains the results.
//!
//! Run: cargo bench --bench debug_agreement

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faber_cloud::eval::in_tuning_half;
use faber_cloud::infra::debug::{Category, Diagnosis, classify};
use serde_json::Value;

struct Labelled {
    line: usize,
    message: String,
    category: Category,
    source_url: String,
    /// The IAM action that is missing, when the message names or implies it.
    action: Option<String>,
    /// The identity (user or role ARN) that lacks it, when the message names it.
    principal: Option<String>,
    /// Whether an identity-policy statement on that principal would fix it.
    identity_fix: Option<bool>,
}

/// Which half of the labelled set a message belongs to ([`in_tuning_half`]).
fn half(message: &str) -> Half {
    if in_tuning_half(message) { Half::Tuning } else { Half::Test }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Tuning,
    Test,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/fixtures/terraform-errors.jsonl");
    let mut all_messages: Vec<String> = Vec::new();
    match load(&shared, "category_guess") {
        Ok(cases) => {
            shared_agreement(&shared, &cases);
            all_messages.extend(cases.into_iter().map(|c| c.message));
        }
        Err(e) => println!("(skipping {}: {e})\n", shared.display()),
    }
    let own = root.join("tests/fixtures/debug/messages.jsonl");
    let cases = load(&own, "category").unwrap_or_else(|e| {
        eprintln!("debug_agreement: {e}");
        std::process::exit(2);
    });
    println!("=== {} ({} messages; split by FNV-1a of the message: even = tuning, odd = test) ===", own.display(), cases.len());
    for h in [Half::Tuning, Half::Test] {
        let part: Vec<&Labelled> = cases.iter().filter(|c| half(&c.message) == h).collect();
        split_agreement(h, &part);
    }
    all_messages.extend(cases.into_iter().map(|c| c.message));

    // Which rule decided, and the speed, over both sets.
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for m in &all_messages {
        *rules.entry(classify(m).rule).or_default() += 1;
    }
    println!();
    println!("deciding rules: {}", rules.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", "));
    let rounds = 100;
    let started = Instant::now();
    for _ in 0..rounds {
        for m in &all_messages {
            black_box(classify(black_box(m)));
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / (rounds * all_messages.len()) as f64;
    println!("classify: {per:.1} µs/message (extraction, rules, signature, solutions)");
}

/// The first set: agreement, per label, confusion table and every disagreement.
fn shared_agreement(path: &Path, cases: &[Labelled]) {
    let mut confusion: BTreeMap<(Category, Category), usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for case in cases {
        let d = classify(&case.message);
        *confusion.entry((case.category, d.category)).or_default() += 1;
        if d.category != case.category {
            disagreements.push((case, d));
        }
    }
    let total = cases.len();
    let agreed = total - disagreements.len();
    println!("=== {} ===", path.display());
    println!("debug agreement: {agreed}/{total} = {:.1}%", pct(agreed, total));
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
    for (case, d) in &disagreements {
        print_miss(case, &format!("theirs {} / ours {} ({}, rule {})", case.category.as_str(), d.category.as_str(), d.explanation, d.rule));
    }
    println!();
}

/// What the permission fix of a diagnosis proposes: (principal, actions, resources).
fn proposed_fix(d: &Diagnosis) -> Option<(Option<String>, Vec<String>, Vec<String>)> {
    let fix = d.suggested_solutions.iter().find_map(|s| s.permission_fix.as_ref())?;
    let strings = |key: &str| -> Vec<String> {
        match &fix.statement[key] {
            Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    Some((fix.principal.clone(), strings("Action"), strings("Resource")))
}

/// How the fix compares with the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FixVerdict {
    /// Queued on the right principal with the right action.
    Right,
    /// Correctly withheld: no identity-policy statement would help.
    RightlyWithheld,
    /// Withheld although a statement would have helped.
    Missed,
    /// Queued although no identity-policy statement can help.
    Useless,
    /// Queued with the wrong action or on the wrong principal.
    Wrong,
}

fn fix_verdict(case: &Labelled, d: &Diagnosis) -> Option<FixVerdict> {
    let wanted = case.identity_fix?;
    let fix = proposed_fix(d);
    Some(match (wanted && case.action.is_some(), fix) {
        (false, None) => FixVerdict::RightlyWithheld,
        (false, Some(_)) if !wanted => FixVerdict::Useless,
        // A statement would help but the label names no action: nothing to check the fix against.
        (false, Some(_)) => FixVerdict::Wrong,
        (true, None) => FixVerdict::Missed,
        (true, Some((principal, actions, _))) => {
            let action_ok = actions.iter().any(|a| Some(a) == case.action.as_ref());
            // No labelled principal: the fix must go to the deploy principal (principal None).
            let principal_ok = principal == case.principal;
            if action_ok && principal_ok { FixVerdict::Right } else { FixVerdict::Wrong }
        }
    })
}

fn split_agreement(h: Half, cases: &[&Labelled]) {
    let name = match h {
        Half::Tuning => "tuning",
        Half::Test => "test",
    };
    let mut category_ok = 0;
    let mut misses: Vec<String> = Vec::new();
    let (mut action_n, mut action_ok) = (0, 0);
    let mut verdicts: BTreeMap<FixVerdict, usize> = BTreeMap::new();
    for case in cases {
        let d = classify(&case.message);
        let mut why = Vec::new();
        if d.category == case.category {
            category_ok += 1;
        } else {
            why.push(format!("category theirs {} / ours {} (rule {})", case.category.as_str(), d.category.as_str(), d.rule));
        }
        if let Some(a) = &case.action {
            action_n += 1;
            let ours = d.extracted.action.clone();
            let fix_actions = proposed_fix(&d).map(|(_, a, _)| a).unwrap_or_default();
            if ours.as_ref() == Some(a) || fix_actions.contains(a) {
                action_ok += 1;
            } else {
                why.push(format!("action theirs {a} / ours {}", ours.as_deref().unwrap_or("none")));
            }
        }
        if let Some(v) = fix_verdict(case, &d) {
            *verdicts.entry(v).or_default() += 1;
            if !matches!(v, FixVerdict::Right | FixVerdict::RightlyWithheld) {
                let fix = proposed_fix(&d);
                why.push(format!(
                    "fix {v:?}: theirs {} on {} / ours {}",
                    case.action.as_deref().unwrap_or("?"),
                    case.principal.as_deref().unwrap_or("the deploy principal"),
                    match fix {
                        Some((p, a, r)) => format!("{a:?} on {r:?} for {}", p.as_deref().unwrap_or("the deploy principal")),
                        None => "no fix".into(),
                    }
                ));
            }
        }
        if !why.is_empty() {
            misses.push(format!("- line {}: {}\n  {}\n  {}", case.line, why.join("; "), excerpt(&case.message), case.source_url));
        }
    }
    let fix_n: usize = verdicts.values().sum();
    let fix_ok = verdicts.get(&FixVerdict::Right).copied().unwrap_or(0) + verdicts.get(&FixVerdict::RightlyWithheld).copied().unwrap_or(0);
    let queued_bad = verdicts.get(&FixVerdict::Useless).copied().unwrap_or(0) + verdicts.get(&FixVerdict::Wrong).copied().unwrap_or(0);
    println!();
    println!("{name} half: {} messages", cases.len());
    println!("  category agreement: {category_ok}/{} = {:.1}%", cases.len(), pct(category_ok, cases.len()));
    println!("  IAM action found:   {action_ok}/{action_n} = {:.1}%", pct(action_ok, action_n));
    println!(
        "  permission fix right (queued right or rightly withheld): {fix_ok}/{fix_n} = {:.1}%; queued fixes that would not work: {queued_bad}; {}",
        pct(fix_ok, fix_n),
        verdicts.iter().map(|(v, n)| format!("{v:?} {n}")).collect::<Vec<_>>().join(", ")
    );
    match h {
        Half::Tuning => {
            println!("  misses: {}", misses.len());
            for m in &misses {
                println!("{m}");
            }
        }
        Half::Test => println!("  misses: {} (not shown: the test half is not tuned on)", misses.len()),
    }
}

fn print_miss(case: &Labelled, why: &str) {
    println!("- line {}: {why}", case.line);
    println!("  {}", excerpt(&case.message));
    println!("  {}", case.source_url);
}

fn excerpt(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(160).collect()
}

fn load(path: &Path, category_field: &str) -> Result<Vec<Labelled>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |e: String| format!("{}:{}: {e}", path.display(), n + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let text_field = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
        let required = |name: &str| text_field(name).ok_or_else(|| at(format!("{name} is missing or not a string")));
        let label = required(category_field)?;
        let category = Category::from_name(&label).ok_or_else(|| at(format!("unknown category {label:?}")))?;
        cases.push(Labelled {
            line: n + 1,
            message: required("message")?,
            category,
            source_url: required("source_url")?,
            action: text_field("action"),
            principal: text_field("principal"),
            identity_fix: v.get("identity_fix").and_then(Value::as_bool),
        });
    }
    Ok(cases)
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 }
}
