//! The director on requests it was not written from, and its speed.
//!
//! Reads `tests/fixtures/director/requests.jsonl` (one request per line with
//! the operations a person would accept, the environment, and for questions
//! and out-of-scope requests what must not happen). The set is split in two
//! by a hash of the request text, fixed before any tuning: the tuning half
//! prints every miss; the test half prints only its numbers, so that tuning
//! never sees what it is measured on. Then microseconds per request.
//!
//! Run: cargo bench --bench director [-- --show-test-misses]
//! (`--show-test-misses` is for after a change is final, never while tuning.)

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use faber_cloud::director::{Context, Routing, route};
use faber_cloud::eval::in_tuning_half;
use faber_cloud::vocabulary::{Intent, RemediationAction};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    #[serde(skip)]
    half: &'static str,
    request: String,
    #[serde(default)]
    ops: Vec<String>,
    env: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    focus: Option<String>,
    #[serde(default)]
    envs: Option<Vec<String>>,
    kind: String,
    #[serde(default)]
    unsupported: bool,
}

#[derive(Default)]
struct Tally {
    total: usize,
    right: usize,
    out_of_scope: usize,
    out_of_scope_routed: usize,
    unrequested_mutations: usize,
    by_kind: BTreeMap<String, (usize, usize)>,
}

/// The half a request of the first set belongs to ([`in_tuning_half`]).
fn half(request: &str) -> &'static str {
    if in_tuning_half(request) { "tune" } else { "test" }
}

fn matches(case: &Case, intent: &Intent) -> bool {
    let op = intent.target.operation();
    if !case.ops.iter().any(|o| o == op) || intent.env != case.env {
        return false;
    }
    if op == "remediate"
        && let Some(want) = &case.action
        && intent.args.action.map(RemediationAction::as_str) != Some(want.as_str())
    {
        return false;
    }
    if op == "audit"
        && let Some(want) = &case.focus
        && intent.args.focus.map(|f| f.as_str()) != Some(want.as_str())
    {
        return false;
    }
    true
}

fn mutating(intent: &Intent) -> bool {
    matches!(intent.target.operation(), "deploy" | "remediate" | "destroy")
}

/// (right, routed although out of scope, routed to a mutation nobody asked for, what happened)
fn judge(case: &Case, routing: &Routing) -> (bool, bool, bool, String) {
    let unrequested = |i: &Intent| mutating(i) && !(case.ops.iter().any(|o| o == i.target.operation()) && i.env == case.env);
    match routing {
        Routing::Unsupported { .. } => (case.unsupported, false, false, "unsupported".into()),
        Routing::Routed(i) => {
            let got = format!("{} {}", i.target.operation(), i.env);
            (!case.unsupported && matches(case, i), case.unsupported, unrequested(i), got)
        }
        Routing::InvestigateFirst { investigate, remedies } => {
            let right = !case.unsupported && (matches(case, investigate) || remedies.choices.iter().any(|c| matches(case, &c.intent)));
            (right, case.unsupported, false, format!("investigate-first {}", investigate.env))
        }
        Routing::Clarify(c) => {
            let right = !case.unsupported && c.choices.iter().any(|ch| matches(case, &ch.intent));
            let offered: Vec<String> = c.choices.iter().map(|ch| format!("{} {}", ch.operation, ch.env)).collect();
            (right, false, false, format!("clarify [{}]", offered.join(", ")))
        }
        Routing::UnknownEnv { named, .. } => (false, false, false, format!("unknown env {named}")),
    }
}

fn main() {
    let show_test = std::env::args().any(|a| a == "--show-test-misses");
    let mut cases = load("requests.jsonl", half);
    // The second set, written later by another hand, was measured once as a whole before any tuning on it, then joined the tuning half.
    cases.extend(load("requests-2.jsonl", |_| "tune"));
    cases.extend(load("requests-3.jsonl", |_| "tune"));
    // The fourth set was the held-out set of the third round (92.5% when it arrived); it joined the tuning half after.
    cases.extend(load("requests-4.jsonl", |_| "tune"));
    // Written blind before the fourth round, measured as a held-out set of its own; never tuned on.
    cases.extend(load("requests-5.jsonl", |_| "held"));
    let default_envs = vec!["prod".to_string(), "test".to_string()];
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    for case in &cases {
        let envs = case.envs.clone().unwrap_or_else(|| default_envs.clone());
        let routing = route(&case.request, &Context { envs: &envs, explicit_env: None });
        let (right, oos_routed, unrequested, got) = judge(case, &routing);
        let h = case.half;
        let t = tallies.entry(h).or_default();
        t.total += 1;
        t.right += usize::from(right);
        t.out_of_scope += usize::from(case.unsupported);
        t.out_of_scope_routed += usize::from(oos_routed);
        t.unrequested_mutations += usize::from(unrequested);
        let k = t.by_kind.entry(case.kind.clone()).or_default();
        k.0 += 1;
        k.1 += usize::from(right);
        if !right && (h == "tune" || show_test) {
            let want = if case.unsupported { "unsupported".to_string() } else { format!("{} {}", case.ops.join("|"), case.env) };
            misses.push(format!(
                "[{h}/{}] {:?}\n    want {want}{}{}; got {got}",
                case.kind,
                case.request,
                opt(" action=", &case.action),
                opt(" focus=", &case.focus)
            ));
        }
    }
    for (h, t) in &tallies {
        println!(
            "{h:<4} half: {}/{} right = {:.1}%; out of scope routed: {}/{}; unrequested mutating routes: {}",
            t.right,
            t.total,
            100.0 * t.right as f64 / t.total as f64,
            t.out_of_scope_routed,
            t.out_of_scope,
            t.unrequested_mutations
        );
        let kinds: Vec<String> = t.by_kind.iter().map(|(k, (n, r))| format!("{k} {r}/{n}")).collect();
        println!("          {}", kinds.join(", "));
    }
    if !misses.is_empty() {
        println!("\nmisses{}:", if show_test { "" } else { " (tuning half only)" });
        for m in &misses {
            println!("{m}");
        }
    }

    // Speed over the whole set.
    let rounds = 200;
    let contexts: Vec<Vec<String>> = cases.iter().map(|c| c.envs.clone().unwrap_or_else(|| default_envs.clone())).collect();
    let started = Instant::now();
    for _ in 0..rounds {
        for (case, envs) in cases.iter().zip(&contexts) {
            black_box(route(black_box(&case.request), &Context { envs, explicit_env: None }));
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / (rounds * cases.len()) as f64;
    println!("\nrouting: {per:.2} µs/request over {} requests", cases.len());
}

fn opt(label: &str, v: &Option<String>) -> String {
    v.as_ref().map_or(String::new(), |v| format!("{label}{v}"))
}

/// The cases of one file under tests/fixtures/director, each put in a half.
fn load(name: &str, half: impl Fn(&str) -> &'static str) -> Vec<Case> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/director").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("director bench: cannot read {}: {e}", path.display());
        std::process::exit(2);
    });
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let mut case: Case = serde_json::from_str(l).unwrap_or_else(|e| {
                eprintln!("director bench: {}:{}: {e}", path.display(), n + 1);
                std::process::exit(2);
            });
            case.half = half(&case.request);
            case
        })
        .collect()
}
