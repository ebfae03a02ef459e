//! The director's vocabulary: tokens, the verbs and objects it knows, and
//! which operation each proposes. All the word lists live here.

use crate::vocabulary::InfraOperation as I;
use crate::vocabulary::OpsOperation as O;

use super::{Scope, Target};

/// One token of a request, lowercased, with its place in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
    boundary: bool,
}

impl Word {
    /// Punctuation or a conjunction that ends a clause.
    pub fn is_boundary(&self) -> bool {
        self.boundary || matches!(self.text.as_str(), "but" | "just" | "only" | "instead" | "then" | "rather" | "except")
    }

    pub fn number(&self) -> Option<u32> {
        if self.quoted { None } else { self.text.parse().ok() }
    }
}

/// Splits a request into words. Quoted phrases stay whole; contractions
/// become their negation ("don't" → "do", "not"); "roll back" → "rollback".
pub(crate) fn tokenize(request: &str) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let chars: Vec<(usize, char)> = request.char_indices().collect();
    let mut i = 0;
    let push = |words: &mut Vec<Word>, text: String, start: usize, end: usize, quoted: bool, boundary: bool| {
        words.push(Word { text, start, end, quoted, boundary });
    };
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == '"' || c == '`' || c == '“' {
            let close = if c == '“' { '”' } else { c };
            if let Some(j) = (i + 1..chars.len()).find(|&j| chars[j].1 == close) {
                let start = chars[i + 1].0;
                let end = chars[j].0;
                push(&mut words, request[start..end].to_string(), start, end, true, false);
                i = j + 1;
                continue;
            }
            i += 1;
            continue;
        }
        if c.is_alphanumeric() {
            let mut j = i;
            while j < chars.len() {
                let d = chars[j].1;
                let inner = matches!(d, '-' | '_' | '.' | '\'' | '’') && j + 1 < chars.len() && chars[j + 1].1.is_alphanumeric();
                if d.is_alphanumeric() || inner {
                    j += 1;
                } else {
                    break;
                }
            }
            let end = if j < chars.len() { chars[j].0 } else { request.len() };
            let raw = request[pos..end].to_lowercase().replace('’', "'");
            if let Some(base) = raw.strip_suffix("n't") {
                let base = match base {
                    "wo" => "will",
                    "ca" => "can",
                    "do" | "does" | "did" => "dont",
                    b => b,
                };
                push(&mut words, base.to_string(), pos, end, false, false);
                if base != "dont" {
                    push(&mut words, "not".into(), pos, end, false, false);
                }
            } else if let Some((base, _)) = raw.split_once('\'') {
                push(&mut words, base.to_string(), pos, end, false, false);
            } else {
                push(&mut words, raw, pos, end, false, false);
            }
            i = j;
            continue;
        }
        if matches!(c, ',' | ';' | '.' | '!' | '?' | ':' | '(' | ')') {
            push(&mut words, c.to_string(), pos, pos + c.len_utf8(), false, true);
        }
        i += 1;
    }
    // "do not" → "dont"; "roll back" → "rollback"; "root cause" → "rootcause".
    let mut merged: Vec<Word> = Vec::with_capacity(words.len());
    for w in words {
        if let Some(prev) = merged.last_mut() {
            let pair = (prev.text.as_str(), w.text.as_str());
            let joined = match pair {
                ("do" | "does" | "did", "not") => Some("dont"),
                ("roll", "back") => Some("rollback"),
                ("root", "cause") => Some("rootcause"),
                ("cold", "start" | "starts") => Some("coldstarts"),
                ("set", "up") => Some("setup"),
                _ => None,
            };
            if let (Some(joined), false, false) = (joined, prev.quoted, w.quoted) {
                prev.text = joined.to_string();
                prev.end = w.end;
                continue;
            }
        }
        merged.push(w);
    }
    merged
}

/// Words that point at something but carry no operation of their own.
const DETERMINERS: &[&str] = &["the", "my", "our", "your", "this", "that", "these", "those", "a", "an", "all", "its", "their"];
const PREPOSITIONS: &[&str] = &["to", "in", "on", "into", "for", "against", "from", "of", "at", "across", "with"];
/// Words after "test" that make it an environment ("test services").
const ENV_FOLLOWERS: &[&str] = &[
    "env",
    "environment",
    "environments",
    "stage",
    "account",
    "services",
    "service",
    "resources",
    "deployment",
    "stack",
    "logs",
    "health",
    "costs",
    "cost",
    "errors",
    "lambda",
    "api",
    "database",
    "db",
    "cluster",
    "queue",
    "workloads",
];
/// Environment names that are never ordinary words here; named but not configured → an error.
const KNOWN_ENV_NAMES: &[&str] = &["staging", "qa", "uat", "preprod", "pre-prod", "sandbox", "demo", "integration"];

pub(crate) enum EnvWord<'a> {
    /// The word is a configured environment name.
    Configured(String),
    /// A synonym of test or prod: (canonical family, the word as written).
    Alias(&'static str, &'a str),
    /// An environment name that is not configured.
    Unconfigured(&'a str),
}

fn prev_content(words: &[Word], i: usize) -> Option<&str> {
    words[..i].iter().rev().map(|w| w.text.as_str()).find(|t| !DETERMINERS.contains(t))
}

fn env_position(words: &[Word], i: usize) -> bool {
    let after_preposition = prev_content(words, i).is_some_and(|p| PREPOSITIONS.contains(&p));
    let before_noun = words.get(i + 1).is_some_and(|n| ENV_FOLLOWERS.contains(&n.text.as_str()));
    after_preposition || before_noun
}

pub(crate) fn env_word<'a>(words: &'a [Word], i: usize, envs: &[String]) -> Option<EnvWord<'a>> {
    let w = &words[i];
    if w.quoted {
        return None;
    }
    let text = w.text.as_str();
    let configured = envs.iter().any(|e| e == text);
    match text {
        "test" | "testing" => {
            if !env_position(words, i) {
                return None;
            }
            Some(if configured { EnvWord::Configured(text.into()) } else { EnvWord::Alias("test", text) })
        }
        "dev" | "development" => Some(if configured { EnvWord::Configured(text.into()) } else { EnvWord::Alias("test", text) }),
        "prod" | "production" | "live" => Some(if configured { EnvWord::Configured(text.into()) } else { EnvWord::Alias("prod", text) }),
        _ if configured => Some(EnvWord::Configured(text.into())),
        _ if KNOWN_ENV_NAMES.contains(&text) => Some(EnvWord::Unconfigured(text)),
        _ => None,
    }
}

/// Words shared by the classifier and the argument extractor, kept in one place.
pub(crate) const RESTART_WORDS: &[&str] = &["restart", "reboot", "bounce", "recycle"];
pub(crate) const SCALE_WORDS: &[&str] = &["scale", "resize"];
pub(crate) const ROLLBACK_WORDS: &[&str] = &["rollback", "revert", "downgrade"];
pub(crate) const COST_WORDS: &[&str] = &["cost", "costs", "spend", "spending", "bill", "billing", "budget", "money", "pricing", "expensive"];
pub(crate) const SECURITY_WORDS: &[&str] = &["security", "vulnerabilities", "vulnerability", "posture", "encryption", "iam", "permissions", "exposure"];
pub(crate) const COMPLIANCE_WORDS: &[&str] = &["compliance", "compliant", "tags", "tagging", "naming"];

/// Operation verbs: each proposes its own operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Design,
    Create,
    Generate,
    Validate,
    Test,
    Preview,
    Deploy,
    Monitor,
    Investigate,
    Debug,
    Fix,
    Restart,
    Scale,
    Rollback,
    Audit,
    Tail,
}

/// Verbs whose operation depends on their object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generic {
    Show,
    Check,
    Analyze,
}

pub(crate) enum Role {
    Verb(Verb),
    Generic(Generic),
    Other,
}

/// Words before "deploy" / "release" after which it is a noun ("roll back the deploy").
const NOUN_MARKERS: &[&str] = &["the", "this", "that", "my", "our", "last", "latest", "previous", "recent", "failed", "bad", "a"];

/// Words before "design" after which it is a verb ("help me design", "I want to design").
const DESIGN_VERB_AFTER: &[&str] = &["to", "and", "please", "me", "us", "lets", "let", "can", "could", "you", "i", "we", "then", "help"];

pub(crate) fn classify_word(words: &[Word], i: usize) -> Role {
    let w = &words[i];
    if w.quoted {
        return Role::Other;
    }
    let verb = match w.text.as_str() {
        "design" | "designing" => {
            let first = i == 0 || words[..i].iter().all(|p| p.is_boundary() || p.text == "please");
            let after = i > 0 && DESIGN_VERB_AFTER.contains(&words[i - 1].text.as_str());
            if first || after { Verb::Design } else { return Role::Other }
        }
        "architect" | "architecture" if i == 0 => Verb::Design,
        "architect" => Verb::Design,
        "create" | "build" | "setup" | "scaffold" => Verb::Create,
        "generate" | "implement" | "write" | "codegen" => Verb::Generate,
        "validate" | "lint" | "verify" => Verb::Validate,
        "test" | "tests" | "testing" => {
            if env_word(words, i, &[]).is_some() {
                return Role::Other;
            }
            Verb::Test
        }
        "scan" => Verb::Test,
        "preview" | "plan" | "diff" => Verb::Preview,
        // "the deploy", "last release": a noun, not the verb.
        "deploy" | "apply" | "release" | "rollout" if i > 0 && NOUN_MARKERS.contains(&words[i - 1].text.as_str()) => return Role::Other,
        "deploy" | "deploying" | "apply" | "ship" | "rollout" | "promote" | "provision" | "launch" | "release" => Verb::Deploy,
        "monitor" | "monitoring" | "watch" => Verb::Monitor,
        "investigate" | "diagnose" | "troubleshoot" | "why" | "rootcause" => Verb::Investigate,
        "debug" | "debugging" => Verb::Debug,
        "fix" | "remediate" | "repair" | "resolve" | "mitigate" => Verb::Fix,
        t if RESTART_WORDS.contains(&t) => Verb::Restart,
        t if SCALE_WORDS.contains(&t) => Verb::Scale,
        t if ROLLBACK_WORDS.contains(&t) => Verb::Rollback,
        "audit" => Verb::Audit,
        "tail" => Verb::Tail,
        "show" | "list" | "display" | "get" | "see" | "view" | "what" | "which" | "give" | "tell" | "find" | "search" | "query" | "fetch" | "print"
        | "describe" | "pull" => {
            return Role::Generic(Generic::Show);
        }
        "check" | "inspect" | "review" | "look" | "examine" | "how" => return Role::Generic(Generic::Check),
        "analyze" | "analyse" | "assess" | "evaluate" | "measure" | "estimate" | "calculate" | "compare" | "optimize" | "optimise" | "report" => {
            return Role::Generic(Generic::Analyze);
        }
        _ => return Role::Other,
    };
    Role::Verb(verb)
}

/// What the request talks about (main scope only).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Objects {
    pub health: bool,
    pub logs: bool,
    pub errors: bool,
    pub incident: bool,
    pub warnings: bool,
    pub resources: bool,
    pub deployed: bool,
    pub deploy_context: bool,
    pub code: bool,
    pub config: bool,
    pub changes: bool,
    pub performance: bool,
    pub cost: bool,
    pub security: bool,
    pub compliance: bool,
    pub infra: bool,
    pub services: bool,
    pub fix: bool,
    /// A quoted phrase, such as an error message.
    pub quoted: bool,
}

impl Objects {
    pub fn collect(words: &[Word], scoped: &[Scope]) -> Objects {
        let mut o = Objects::default();
        for (i, w) in words.iter().enumerate() {
            if scoped[i] != Scope::Main {
                continue;
            }
            if w.quoted {
                o.quoted = true;
                continue;
            }
            match w.text.as_str() {
                "health" | "healthy" | "unhealthy" | "status" | "uptime" | "alive" | "degraded" | "availability" => o.health = true,
                "logs" | "log" => o.logs = true,
                "error" | "errors" | "exception" | "exceptions" | "failure" | "failures" | "failing" | "failed" | "fails" | "crash" | "crashes"
                | "crashing" | "5xx" | "broken" | "timeouts" => o.errors = true,
                "incident" | "incidents" | "outage" | "outages" | "rootcause" => o.incident = true,
                "warn" | "warning" | "warnings" => o.warnings = true,
                "resources" | "resource" | "inventory" => o.resources = true,
                "deployed" => o.deployed = true,
                "deployment" | "deployments" | "terraform" | "tf" => o.deploy_context = true,
                // "roll back the deploy": the noun.
                "deploy" | "release" | "rollout" if i > 0 && NOUN_MARKERS.contains(&words[i - 1].text.as_str()) => o.deploy_context = true,
                _ => {}
            }
            match w.text.as_str() {
                "terraform" | "code" | "hcl" | "tf" | "module" | "modules" => o.code = true,
                "configuration" | "config" | "syntax" => o.config = true,
                "changes" | "change" | "changed" | "diff" | "plan" | "drift" => o.changes = true,
                "performance" | "latency" | "slow" | "slowness" | "duration" | "throughput" | "coldstarts" | "memory" | "p99" | "p90" | "speed"
                | "throttles" | "throttling" => o.performance = true,
                t if COST_WORDS.contains(&t) => o.cost = true,
                t if SECURITY_WORDS.contains(&t) => o.security = true,
                t if COMPLIANCE_WORDS.contains(&t) => o.compliance = true,
                "infrastructure" | "infra" | "stack" | "architecture" => o.infra = true,
                "services" | "service" | "lambda" | "lambdas" | "function" | "functions" | "api" | "queue" | "database" | "db" | "table" | "ecs"
                | "cluster" | "container" | "containers" | "app" | "application" => o.services = true,
                "remediation" | "fix" | "patch" => o.fix = true,
                _ => {}
            }
        }
        o
    }

    /// Whether any object names a specific operation.
    fn specific(&self) -> bool {
        self.health
            || self.logs
            || self.errors
            || self.incident
            || self.warnings
            || self.resources
            || self.deployed
            || self.code
            || self.config
            || self.changes
            || self.performance
            || self.cost
            || self.security
            || self.compliance
    }
}

pub(crate) fn verb_targets(v: Verb, o: &Objects, out: &mut Vec<Target>) {
    let t = match v {
        Verb::Design => Target::Infra(I::Architect),
        Verb::Create if o.code => Target::Infra(I::Engineer),
        Verb::Create => Target::Infra(I::Architect),
        Verb::Generate if o.cost && !o.code => Target::Ops(O::Audit),
        Verb::Generate => Target::Infra(I::Engineer),
        Verb::Validate => Target::Infra(I::ValidateConfig),
        Verb::Test => Target::Infra(I::Test),
        Verb::Preview => Target::Infra(I::PreviewChanges),
        Verb::Deploy if o.fix => Target::Ops(O::Remediate),
        Verb::Deploy => Target::Infra(I::Deploy),
        Verb::Monitor if o.logs => Target::Ops(O::QueryLogs),
        Verb::Monitor if o.performance => Target::Ops(O::AnalyzePerformance),
        Verb::Monitor if o.cost => Target::Ops(O::Audit),
        Verb::Monitor => Target::Ops(O::CheckHealth),
        Verb::Investigate if o.deploy_context && !o.services => Target::Infra(I::Debug),
        Verb::Investigate if o.performance && !o.errors => Target::Ops(O::AnalyzePerformance),
        Verb::Investigate => Target::Ops(O::Investigate),
        // A quoted message is an error text for the deployment debugger.
        Verb::Debug if o.deploy_context || o.code || o.quoted => Target::Infra(I::Debug),
        Verb::Debug if o.services || o.errors || o.performance || o.logs => Target::Ops(O::Investigate),
        Verb::Debug => {
            out.push(Target::Infra(I::Debug));
            Target::Ops(O::Investigate)
        }
        Verb::Fix if (o.deploy_context || o.code) && !o.services => Target::Infra(I::Debug),
        Verb::Fix | Verb::Restart | Verb::Scale | Verb::Rollback => Target::Ops(O::Remediate),
        Verb::Audit => Target::Ops(O::Audit),
        Verb::Tail => Target::Ops(O::QueryLogs),
    };
    out.push(t);
}

/// The guide's own clarification for "check my infrastructure".
fn check_infrastructure(out: &mut Vec<Target>) {
    out.extend([Target::Ops(O::CheckHealth), Target::Infra(I::ValidateConfig), Target::Infra(I::ShowResources)]);
}

pub(crate) fn generic_targets(g: Generic, o: &Objects, out: &mut Vec<Target>) {
    // Analyzing logs or errors is an investigation; showing or checking them is a query.
    if o.logs || ((o.errors || o.warnings) && !o.incident) {
        out.push(if g == Generic::Analyze { Target::Ops(O::Investigate) } else { Target::Ops(O::QueryLogs) });
    }
    if o.incident {
        out.push(Target::Ops(O::Investigate));
    }
    if o.health {
        out.push(Target::Ops(O::CheckHealth));
    }
    if o.resources || (o.deployed && !o.health && !o.logs) {
        out.push(Target::Infra(I::ShowResources));
    }
    if o.changes {
        out.push(Target::Infra(I::PreviewChanges));
    }
    if (o.config || o.code) && g != Generic::Show {
        out.push(Target::Infra(I::ValidateConfig));
    }
    if o.performance {
        out.push(Target::Ops(O::AnalyzePerformance));
    }
    if o.cost || o.security || o.compliance {
        out.push(Target::Ops(O::Audit));
    }
    if o.specific() {
        return;
    }
    match g {
        Generic::Check if o.services && !o.infra => out.push(Target::Ops(O::CheckHealth)),
        Generic::Check => check_infrastructure(out),
        Generic::Show if o.infra || o.services => out.push(Target::Infra(I::ShowResources)),
        Generic::Analyze if o.services => out.push(Target::Ops(O::AnalyzePerformance)),
        Generic::Analyze if o.infra => check_infrastructure(out),
        Generic::Show | Generic::Analyze => {}
    }
}

/// Requests with no verb at all ("health of prod?", "logs from API Lambda").
pub(crate) fn noun_targets(o: &Objects, out: &mut Vec<Target>) {
    generic_targets(Generic::Check, o, out);
    if !o.specific() && !o.infra && !o.services {
        out.clear();
    }
}
