//! Arguments found in a request: service, filter, timeframe, limit, action,
//! scale target, audit focus, architect's feature text, engineer's design,
//! debug's error text, and deploy's skip flags.

use crate::vocabulary::InfraOperation as I;
use crate::vocabulary::{AuditFocus, OpsOperation as O, RemediationAction};

use super::lexicon::{COMPLIANCE_WORDS, COST_WORDS, Role, SECURITY_WORDS, Verb, Word, classify_word, exposure};
use super::{IntentArgs, Scope, Target};

/// Everything the request says, before choosing what the target uses.
pub(crate) fn args(request: &str, words: &[Word], scoped: &[Scope]) -> IntentArgs {
    let main = |i: usize| scoped[i] != Scope::Negated;
    let has = |names: &[&str]| words.iter().enumerate().any(|(i, w)| main(i) && !w.quoted && names.contains(&w.text.as_str()));
    let negated = |names: &[&str]| words.iter().enumerate().any(|(i, w)| scoped[i] == Scope::Negated && names.contains(&w.text.as_str()));
    let quoted = words.iter().find(|w| w.quoted).map(|w| w.text.trim().to_string()).filter(|q| !q.is_empty());

    // The remediation the words ask for, as the classifier reads them ("put it back" is a rollback, "bump it to 10" a scale).
    let action = (0..words.len()).filter(|&i| main(i)).find_map(|i| match classify_word(words, i) {
        Role::Verb(Verb::Restart) => Some(RemediationAction::Restart),
        Role::Verb(Verb::Scale) => Some(RemediationAction::Scale),
        Role::Verb(Verb::Rollback) => Some(RemediationAction::Rollback),
        _ => None,
    });
    // The focus most words point at; ties go to cost, then security.
    // The focus named as such ("a compliance pass") counts twice.
    let count = |names: &[&str]| {
        words
            .iter()
            .enumerate()
            .filter(|(i, w)| main(*i) && !w.quoted && names.contains(&w.text.as_str()))
            .map(|(_, w)| if matches!(w.text.as_str(), "cost" | "costs" | "security" | "compliance") { 2 } else { 1 })
            .sum::<usize>()
    };
    let votes = [
        (count(COST_WORDS), AuditFocus::Cost),
        (count(SECURITY_WORDS) + usize::from(exposure(words, scoped)), AuditFocus::Security),
        (count(COMPLIANCE_WORDS), AuditFocus::Compliance),
    ];
    let focus = votes.iter().filter(|(n, _)| *n > 0).fold(None, |best: Option<(usize, AuditFocus)>, &(n, f)| match best {
        Some((m, _)) if m >= n => best,
        _ => Some((n, f)),
    });
    let focus = focus.map(|(_, f)| f);
    let filter = quoted.clone().or_else(|| {
        if has(&["error", "errors", "exception", "exceptions", "failure", "failures"]) {
            Some("ERROR".to_string())
        } else if has(&["warn", "warning", "warnings"]) {
            Some("WARN".to_string())
        } else {
            None
        }
    });
    IntentArgs {
        service: service(words, scoped),
        filter,
        timeframe: timeframe(words),
        limit: limit(words),
        action,
        target: scale_target(words),
        focus,
        feature: feature(request, words),
        design: design(words),
        error: quoted,
        skip_tests: negated(&["test", "tests", "testing", "scan", "scans"]),
        skip_preview: negated(&["preview", "plan", "previewing"]),
        region: region(request, words),
    }
}

/// Places people name instead of a region code, with their region.
const PLACES: &[(&str, &str)] = &[
    ("virginia", "us-east-1"),
    ("ohio", "us-east-2"),
    ("california", "us-west-1"),
    ("oregon", "us-west-2"),
    ("canada", "ca-central-1"),
    ("montreal", "ca-central-1"),
    ("ireland", "eu-west-1"),
    ("dublin", "eu-west-1"),
    ("london", "eu-west-2"),
    ("paris", "eu-west-3"),
    ("frankfurt", "eu-central-1"),
    ("zurich", "eu-central-2"),
    ("stockholm", "eu-north-1"),
    ("milan", "eu-south-1"),
    ("spain", "eu-south-2"),
    ("mumbai", "ap-south-1"),
    ("hyderabad", "ap-south-2"),
    ("tokyo", "ap-northeast-1"),
    ("seoul", "ap-northeast-2"),
    ("osaka", "ap-northeast-3"),
    ("singapore", "ap-southeast-1"),
    ("sydney", "ap-southeast-2"),
    ("jakarta", "ap-southeast-3"),
    ("melbourne", "ap-southeast-4"),
    ("bahrain", "me-south-1"),
    ("uae", "me-central-1"),
    ("israel", "il-central-1"),
    ("paulo", "sa-east-1"),
    ("brazil", "sa-east-1"),
];

/// An AWS region code: `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`.
fn is_region_code(w: &str) -> bool {
    let parts: Vec<&str> = w.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts.last().is_some_and(|n| n.len() == 1 && n.chars().all(|c| c.is_ascii_digit()))
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| matches!(*p, "gov" | "iso" | "north" | "south" | "east" | "west" | "central" | "northeast" | "southeast" | "northwest" | "southwest"))
}

/// The region a request names: a region code ("eu-west-1") or a place ("in Frankfurt"), when exactly one.
fn region(request: &str, words: &[Word]) -> Option<String> {
    let lower = request.to_lowercase();
    let mut found: Vec<String> = lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).filter(|w| is_region_code(w)).map(str::to_string).collect();
    found.extend(words.iter().filter(|w| !w.quoted).filter_map(|w| PLACES.iter().find(|(p, _)| *p == w.text).map(|(_, r)| r.to_string())));
    found.dedup();
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// Keeps the arguments the target takes.
pub(crate) fn args_for(target: Target, all: &IntentArgs) -> IntentArgs {
    let a = all.clone();
    let none = IntentArgs::default();
    match target {
        Target::Infra(I::Architect) => IntentArgs { feature: a.feature, ..none },
        Target::Infra(I::Engineer) => IntentArgs { design: a.design, ..none },
        Target::Infra(I::Deploy) => IntentArgs { skip_tests: a.skip_tests, skip_preview: a.skip_preview, region: a.region, ..none },
        Target::Infra(I::PreviewChanges) => IntentArgs { region: a.region, ..none },
        Target::Infra(I::Debug) => IntentArgs { error: a.error, ..none },
        Target::Infra(I::ValidateConfig | I::Test | I::ShowResources | I::Destroy) => none,
        Target::Ops(O::CheckHealth) => IntentArgs { service: a.service, region: a.region, ..none },
        Target::Ops(O::QueryLogs) => IntentArgs { service: a.service, filter: a.filter, timeframe: a.timeframe, limit: a.limit, region: a.region, ..none },
        Target::Ops(O::Investigate) => IntentArgs { service: a.service, timeframe: a.timeframe, region: a.region, ..none },
        Target::Ops(O::AnalyzePerformance) => IntentArgs { service: a.service, timeframe: a.timeframe, region: a.region, ..none },
        Target::Ops(O::Remediate) => IntentArgs { service: a.service, action: a.action, target: a.target, region: a.region, ..none },
        Target::Ops(O::Audit) => IntentArgs { focus: a.focus, ..none },
    }
}

/// Parts of hyphenated words that are not names ("on-call", "root-cause", "pre-deploy", "three-day").
const COMMON_PARTS: &[&str] = &[
    "on", "call", "root", "cause", "pre", "post", "re", "non", "self", "well", "all", "full", "up", "off", "in", "out", "day", "days", "time", "killed",
    "wise", "one", "two", "three", "four", "five", "least", "cross", "follow", "hands", "end", "high", "low", "multi", "real",
];

/// Nouns that end a service name ("API Lambda", "payments service").
const HEADS: &[&str] = &["lambda", "service", "function", "api", "queue", "table", "database", "db", "cluster", "worker", "workers", "job", "jobs", "topic"];
/// Heads dropped when a modifier names the service ("API service" → api).
const GENERIC_HEADS: &[&str] = &["service", "function"];
/// Words that never name a service.
const NOT_NAMES: &[&str] = &[
    "the",
    "my",
    "our",
    "your",
    "a",
    "an",
    "all",
    "this",
    "that",
    "these",
    "those",
    "of",
    "from",
    "in",
    "on",
    "for",
    "to",
    "and",
    "failing",
    "broken",
    "slow",
    "erroring",
    "crashing",
    "unhealthy",
    "running",
    "deployed",
    "main",
    "whole",
    "entire",
    "every",
    "each",
    "some",
    "me",
    "us",
    "restart",
    "rollback",
    "scale",
    "fix",
    "check",
    "logs",
    "log",
    "errors",
    "error",
    "health",
    "investigate",
    "analyze",
    "performance",
    "show",
    "monitor",
    "remediate",
    "test",
    "prod",
    "production",
    "dev",
    "live",
    "staging",
    "environment",
    "env",
    "back",
    "debug",
    "audit",
    "query",
    "with",
    "at",
    "by",
    "is",
    "are",
    "it",
    "previous",
];

fn is_name_word(w: &Word) -> bool {
    !w.quoted
        && !w.is_boundary()
        && !NOT_NAMES.contains(&w.text.as_str())
        && w.text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && w.text.chars().any(|c| c.is_ascii_alphanumeric())
}

/// The service the request names, as a slug: "API Lambda" → `api-lambda`.
fn service(words: &[Word], scoped: &[Scope]) -> Option<String> {
    // A hyphenated name such as "api-lambda" is taken as written.
    for (i, w) in words.iter().enumerate() {
        if scoped[i] != Scope::Negated
            && is_name_word(w)
            && w.text.contains('-')
            && !w.text.split('-').any(|part| COMMON_PARTS.contains(&part))
            && !is_region_code(&w.text)
        {
            return Some(w.text.clone());
        }
    }
    for (i, w) in words.iter().enumerate() {
        if scoped[i] == Scope::Negated || w.quoted || !HEADS.contains(&w.text.as_str()) {
            continue;
        }
        let mut parts: Vec<&str> = Vec::new();
        let mut j = i;
        while j > 0 && parts.len() < 2 && is_name_word(&words[j - 1]) && !HEADS.contains(&words[j - 1].text.as_str()) {
            j -= 1;
            parts.insert(0, &words[j].text);
        }
        // "API Lambda": a head may modify another head.
        if parts.is_empty() && i > 0 && HEADS.contains(&words[i - 1].text.as_str()) && !GENERIC_HEADS.contains(&words[i - 1].text.as_str()) {
            continue;
        }
        let head = w.text.as_str();
        if let Some(next) = words.get(i + 1)
            && HEADS.contains(&next.text.as_str())
            && !GENERIC_HEADS.contains(&next.text.as_str())
        {
            parts.push(head);
            parts.push(&next.text);
            return Some(parts.join("-"));
        }
        if GENERIC_HEADS.contains(&head) {
            if parts.is_empty() {
                continue;
            }
        } else {
            parts.push(head);
        }
        return Some(parts.join("-"));
    }
    None
}

/// "last hour" → 1h, "last 2 hours" → 2h, "past 7 days" → 7d, "today" → 24h, "30m" as written.
fn timeframe(words: &[Word]) -> Option<String> {
    for (i, w) in words.iter().enumerate() {
        let t = w.text.as_str();
        if let Some(unit) = t.strip_prefix(|c: char| c.is_ascii_digit()).map(|_| t.trim_start_matches(|c: char| c.is_ascii_digit()))
            && matches!(unit, "m" | "h" | "d")
        {
            return Some(t.to_string());
        }
        if t == "today" {
            return Some("24h".into());
        }
        if !matches!(t, "last" | "past" | "previous" | "recent") {
            continue;
        }
        let (n, unit_at) = match words.get(i + 1).and_then(Word::number) {
            Some(n) => (n, i + 2),
            None => (1, i + 1),
        };
        let Some(unit) = words.get(unit_at) else { continue };
        let span = match unit.text.as_str() {
            "minute" | "minutes" | "mins" | "min" => format!("{n}m"),
            "hour" | "hours" | "hrs" | "hr" => format!("{n}h"),
            "day" | "days" => format!("{n}d"),
            "week" | "weeks" => format!("{}d", n * 7),
            _ => continue,
        };
        return Some(span);
    }
    None
}

/// "last 50 errors", "top 20 log lines", "100 events".
fn limit(words: &[Word]) -> Option<u32> {
    const COUNTED: &[&str] = &["errors", "logs", "log", "lines", "events", "entries", "messages", "results"];
    words.windows(2).find_map(|pair| {
        let n = pair[0].number()?;
        COUNTED.contains(&pair[1].text.as_str()).then_some(n)
    })
}

/// "scale the workers to 5", "scale to 10 tasks", "bump it to 10".
fn scale_target(words: &[Word]) -> Option<u32> {
    let at = (0..words.len()).find(|&i| matches!(classify_word(words, i), Role::Verb(Verb::Scale)))?;
    words[at + 1..].windows(2).find_map(|pair| if pair[0].text == "to" { pair[1].number() } else { None })
}

/// The feature an architect request describes, in the user's own words:
/// "design an S3 bucket for user uploads" → "S3 bucket for user uploads".
fn feature(request: &str, words: &[Word]) -> Option<String> {
    let verb = words.iter().position(|w| {
        matches!(w.text.as_str(), "design" | "designing" | "architect" | "create" | "build" | "setup" | "scaffold" | "add" | "adding" | "extend")
    })?;
    let mut k = verb + 1;
    let skip = |k: &mut usize, set: &[&str]| {
        while words.get(*k).is_some_and(|w| set.contains(&w.text.as_str())) {
            *k += 1;
        }
    };
    skip(&mut k, &["a", "an", "the", "some", "new", "me", "us"]);
    skip(&mut k, &["infrastructure", "infra", "architecture", "resources"]);
    skip(&mut k, &["for", "to", "that", "which", "supporting", "support"]);
    skip(&mut k, &["a", "an", "the", "some", "new"]);
    // Drop a trailing environment phrase: "… in the test environment".
    let mut end = words.len();
    while end > k && words[end - 1].is_boundary() {
        end -= 1;
    }
    let env_words = ["test", "testing", "dev", "development", "prod", "production", "live", "staging", "environment", "env"];
    if end > k && env_words.contains(&words[end - 1].text.as_str()) {
        let mut cut = end - 1;
        while cut > k
            && (env_words.contains(&words[cut - 1].text.as_str()) || matches!(words[cut - 1].text.as_str(), "the" | "in" | "for" | "on" | "to" | "into"))
        {
            cut -= 1;
        }
        if cut < end - 1 || matches!(words.get(cut.wrapping_sub(1)).map(|w| w.text.as_str()), Some("in" | "for" | "to" | "on")) {
            end = cut;
        }
    }
    if k >= end {
        return None;
    }
    let text = request[words[k].start..words[end - 1].end].trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The design an engineer request names: "implement the user authentication
/// design" → `user-authentication`; "…from user-auth.md" → `user-auth`.
fn design(words: &[Word]) -> Option<String> {
    if let Some(w) = words.iter().find(|w| !w.quoted && w.text.ends_with(".md")) {
        return Some(w.text.trim_end_matches(".md").to_string());
    }
    let at = words.iter().position(|w| matches!(w.text.as_str(), "design" | "designs"))?;
    let mut parts: Vec<&str> = Vec::new();
    let mut j = at;
    while j > 0 {
        let t = words[j - 1].text.as_str();
        if words[j - 1].is_boundary()
            || matches!(t, "the" | "my" | "our" | "this" | "that" | "a" | "an" | "from" | "of" | "implement" | "generate" | "write" | "for" | "new" | "latest")
        {
            break;
        }
        parts.insert(0, t);
        j -= 1;
    }
    if parts.is_empty() {
        // "implement the design for user authentication"
        words.get(at + 1).filter(|w| matches!(w.text.as_str(), "for" | "of"))?;
        let names: Vec<&str> = words[at + 2..]
            .iter()
            .take_while(|w| !w.is_boundary() && !matches!(w.text.as_str(), "in" | "to" | "on" | "and"))
            .map(|w| w.text.as_str())
            .filter(|t| !matches!(*t, "the" | "a" | "an"))
            .collect();
        return (!names.is_empty()).then(|| names.join("-"));
    }
    Some(parts.join("-"))
}
