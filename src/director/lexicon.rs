//! The director's vocabulary: tokens, the verbs and objects it knows, and
//! which operation each proposes. All the word lists live here.

use crate::vocabulary::InfraOperation as I;
use crate::vocabulary::OpsOperation as O;

use super::{Scope, Target, typo};

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
        // A single quote opens a quotation only at the start of a word, and
        // closes at one that ends a word ("the deploy failed with 'AccessDenied: …'").
        let single = c == '\'' && (i == 0 || chars[i - 1].1.is_whitespace() || matches!(chars[i - 1].1, '(' | ':'));
        if c == '"' || c == '`' || c == '“' || single {
            let close = if c == '“' { '”' } else { c };
            let closes = |j: usize| chars[j].1 == close && (!single || chars.get(j + 1).is_none_or(|n| !n.1.is_alphanumeric()));
            if let Some(j) = (i + 1..chars.len()).find(|&j| closes(j)) {
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
            let mut raw = request[pos..end].to_lowercase().replace('’', "'");
            // "security-wise", "cost-wise": the noun.
            if let Some(noun) = raw.strip_suffix("-wise") {
                raw = noun.to_string();
            }
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
            } else if let Some((base, rest)) = raw.split_once('\'') {
                push(&mut words, base.to_string(), pos, end, false, false);
                // "it's test" → "it is test", "we're deploying" → "we are deploying": the verb tells what follows.
                let verb = match rest {
                    "s" if matches!(base, "it" | "that" | "what" | "where" | "there" | "here" | "who" | "everything" | "nothing" | "he" | "she") => Some("is"),
                    "re" => Some("are"),
                    "m" => Some("am"),
                    "ve" => Some("have"),
                    "ll" => Some("will"),
                    "d" => Some("would"),
                    _ => None,
                };
                if let Some(verb) = verb {
                    push(&mut words, verb.into(), pos, end, false, false);
                }
            } else {
                push(&mut words, raw, pos, end, false, false);
            }
            i = j;
            continue;
        }
        // A dash between spaces ends a clause like a comma ("don't touch prod - roll back test").
        let dash = matches!(c, '-' | '–' | '—') && chars.get(i + 1).is_none_or(|n| n.1.is_whitespace()) && (i == 0 || chars[i - 1].1.is_whitespace());
        if matches!(c, ',' | ';' | '.' | '!' | '?' | ':' | '(' | ')') || dash {
            push(&mut words, c.to_string(), pos, pos + c.len_utf8(), false, true);
        }
        i += 1;
    }
    // A word the vocabulary does not know may be a form of one it knows
    // ("restarting" → restart; "validated" is a past event and stays), or a
    // slip of one ("deplyo" → deploy).
    let mut previous = String::new();
    for w in words.iter_mut().filter(|w| !w.quoted && !w.boundary) {
        let after = std::mem::replace(&mut previous, w.text.clone());
        // "dry-run", "roll-back", "spin-up": a phrasal verb written with a hyphen is the phrasal verb.
        if let Some((a, b)) = w.text.split_once('-')
            && let Some(joined) = phrasal(a, b)
        {
            w.text = joined.to_string();
            continue;
        }
        if is_known(&w.text) {
            continue;
        }
        // "marketing is launching a campaign": what someone is doing, not a request.
        if w.text.ends_with("ing") && matches!(after.as_str(), "is" | "are" | "am" | "was" | "were" | "been" | "be") {
            continue;
        }
        match inflection(&w.text) {
            Some(Some(base)) => w.text = base.to_string(),
            Some(None) => {}
            None => {
                if let Some(meant) = typo::correct(&w.text, VOCABULARY) {
                    w.text = meant.to_string();
                }
            }
        }
    }
    // "do not" → "dont"; "roll back" → "rollback"; "root cause" → "rootcause";
    // phrasal verbs become one word ("spin up" → "spinup", "dig into" → "diginto").
    let mut merged: Vec<Word> = Vec::with_capacity(words.len());
    for w in words {
        if let Some(prev) = merged.last_mut() {
            let joined = phrasal(&prev.text, &w.text);
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

/// Two words that mean one: "do not" → "dont"; "roll back" → "rollback"; "root cause" → "rootcause";
/// phrasal verbs become one word ("spin up" → "spinup", "dig into" → "diginto").
fn phrasal(first: &str, second: &str) -> Option<&'static str> {
    match (first, second) {
        ("do" | "does" | "did", "not") => Some("dont"),
        ("roll", "back") => Some("rollback"),
        ("roll", "out") => Some("rollout"),
        ("root", "cause") => Some("rootcause"),
        ("cold", "start" | "starts") => Some("coldstarts"),
        ("set", "up") => Some("setup"),
        ("spin" | "bring" | "stand" | "fire", "up") => Some("spinup"),
        ("tear" | "wind" | "take" | "shut", "down") => Some("teardown"),
        ("plan" | "lay" | "map" | "think", "out" | "through") => Some("planout"),
        ("dig" | "look" | "delve" | "drill", "into" | "in") => Some("diginto"),
        ("figure", "out") => Some("diginto"),
        ("dry", "run") => Some("dryrun"),
        ("scale", "up" | "out" | "down" | "in") => Some("scale"),
        ("go", "live") => Some("golive"),
        ("make", "sure") => Some("ensure"),
        ("keep", "an") => Some("keepan"),
        ("keepan", "eye") => Some("monitor"),
        ("what", "wrong") => Some("wrong"),
        ("go" | "goes" | "went" | "going", "wrong") => Some("wrong"),
        ("clean", "up") => Some("teardown"),
        ("put" | "pull", "together") => Some("create"),
        ("come", "up") => Some("comeup"),
        ("work", "out") => Some("planout"),
        ("hold" | "holding" | "holds", "up") => Some("holdup"),
        ("load", "balancer" | "balancers") => Some("loadbalancer"),
        ("look" | "looks", "like") => Some("looklike"),
        ("beef" | "ramp", "up") => Some("scale"),
        ("sort" | "suss", "out") => Some("diginto"),
        ("make", "sense") => Some("diginto"),
        ("rather", "than") => Some("ratherthan"),
        ("instead", "of") => Some("ratherthan"),
        ("walk", "through") => Some("walkthrough"),
        // "when you get a sec": a moment, not security.
        ("a", "sec" | "second" | "minute") => Some("amoment"),
        ("security", "group" | "groups") => Some("securitygroup"),
        _ => None,
    }
}

/// Every word of four letters or more the lexicon acts on: what a slip is read as.
/// `every_vocabulary_word_is_recognised` keeps it honest.
pub(crate) const VOCABULARY: &[&str] = &[
    "account",
    "alarm",
    "alarms",
    "alert",
    "alerts",
    "alive",
    "analyse",
    "analyze",
    "anyone",
    "anything",
    "apigateway",
    "apis",
    "application",
    "apply",
    "apps",
    "architect",
    "architecture",
    "assess",
    "audit",
    "auditing",
    "aurora",
    "availability",
    "back",
    "backend",
    "bill",
    "billing",
    "blueprint",
    "bottleneck",
    "bottlenecks",
    "bounce",
    "breakdown",
    "broken",
    "bucket",
    "buckets",
    "budget",
    "bugs",
    "build",
    "calculate",
    "change",
    "changed",
    "changes",
    "charges",
    "cheaper",
    "check",
    "checks",
    "cloudfront",
    "cluster",
    "clusters",
    "code",
    "codegen",
    "cognito",
    "compare",
    "compliance",
    "compliant",
    "config",
    "configuration",
    "container",
    "containers",
    "cost",
    "costing",
    "costly",
    "costs",
    "crash",
    "crashes",
    "crashing",
    "create",
    "cves",
    "database",
    "databases",
    "debug",
    "debugging",
    "decommission",
    "degraded",
    "delete",
    "demo",
    "deploy",
    "deployed",
    "deploying",
    "deployment",
    "deployments",
    "describe",
    "design",
    "designing",
    "designs",
    "destroy",
    "development",
    "diagnose",
    "diff",
    "display",
    "down",
    "downgrade",
    "draft",
    "drift",
    "drop",
    "duration",
    "dynamodb",
    "elasticache",
    "encrypted",
    "encryption",
    "endpoint",
    "endpoints",
    "ensure",
    "environment",
    "environments",
    "error",
    "errored",
    "erroring",
    "errors",
    "estimate",
    "evaluate",
    "everyone",
    "everything",
    "examine",
    "exception",
    "exceptions",
    "expensive",
    "exploding",
    "exposed",
    "exposure",
    "failed",
    "failing",
    "fails",
    "failure",
    "failures",
    "fetch",
    "find",
    "finops",
    "firing",
    "formatting",
    "frontend",
    "function",
    "functions",
    "gateway",
    "gdpr",
    "generate",
    "give",
    "grep",
    "group",
    "groups",
    "hardening",
    "health",
    "healthy",
    "heartbeat",
    "hipaa",
    "implement",
    "incident",
    "incidents",
    "infra",
    "infrastructure",
    "insecure",
    "inspect",
    "instance",
    "instances",
    "integration",
    "internet",
    "into",
    "inventory",
    "investigate",
    "investigating",
    "invoice",
    "issue",
    "issues",
    "jobs",
    "kinesis",
    "laggy",
    "lambda",
    "lambdas",
    "latencies",
    "latency",
    "launch",
    "lint",
    "list",
    "live",
    "loadbalancer",
    "logs",
    "look",
    "make",
    "measure",
    "memory",
    "microservice",
    "microservices",
    "misconfiguration",
    "misconfigurations",
    "misconfigured",
    "mitigate",
    "module",
    "modules",
    "money",
    "monitor",
    "monitoring",
    "mysql",
    "naming",
    "need",
    "needs",
    "network",
    "noncompliant",
    "nuke",
    "observe",
    "okay",
    "open",
    "optimise",
    "optimize",
    "outage",
    "outages",
    "overspend",
    "overspending",
    "patch",
    "perf",
    "performance",
    "permissions",
    "plan",
    "please",
    "pods",
    "port",
    "ports",
    "postgres",
    "posture",
    "predeploy",
    "preflight",
    "preprod",
    "preview",
    "pricing",
    "print",
    "problem",
    "problems",
    "prod",
    "production",
    "profile",
    "promote",
    "provision",
    "provisioned",
    "public",
    "publicly",
    "publish",
    "pull",
    "push",
    "query",
    "queue",
    "queues",
    "reachable",
    "reboot",
    "recycle",
    "redeploy",
    "redis",
    "release",
    "remediate",
    "remediation",
    "remove",
    "repair",
    "report",
    "require",
    "resize",
    "resolve",
    "resource",
    "resources",
    "responding",
    "restart",
    "revert",
    "review",
    "roll",
    "rollback",
    "rollout",
    "sandbox",
    "savings",
    "scaffold",
    "scale",
    "scan",
    "search",
    "secrets",
    "security",
    "server",
    "servers",
    "service",
    "services",
    "setup",
    "ship",
    "show",
    "site",
    "sketch",
    "slow",
    "slower",
    "slowly",
    "slowness",
    "sluggish",
    "spec",
    "speed",
    "spend",
    "spending",
    "spin",
    "stack",
    "stage",
    "staging",
    "status",
    "still",
    "stream",
    "streams",
    "subnet",
    "subnets",
    "syntax",
    "table",
    "tables",
    "tagged",
    "tagging",
    "tags",
    "tail",
    "task",
    "tasks",
    "tear",
    "tell",
    "terraform",
    "test",
    "testing",
    "tests",
    "things",
    "throttled",
    "throttles",
    "throttling",
    "throughput",
    "throwing",
    "timeouts",
    "topic",
    "topics",
    "triage",
    "troubleshoot",
    "typecheck",
    "unencrypted",
    "unhealthy",
    "untagged",
    "uptime",
    "utilization",
    "validate",
    "verify",
    "view",
    "vitals",
    "vulnerabilities",
    "vulnerability",
    "vulnerable",
    "want",
    "warn",
    "warning",
    "warnings",
    "watch",
    "website",
    "what",
    "whats",
    "where",
    "which",
    "wipe",
    "worker",
    "workers",
    "workloads",
    "world",
    "write",
    "wrong",
];

/// Words that carry no content of their own: requests made only of these and
/// an operation verb ("deploy it now please") are ours.
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "my",
    "our",
    "your",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "them",
    "they",
    "me",
    "us",
    "we",
    "i",
    "you",
    "to",
    "in",
    "on",
    "into",
    "for",
    "from",
    "of",
    "at",
    "with",
    "and",
    "or",
    "but",
    "just",
    "only",
    "now",
    "please",
    "pls",
    "again",
    "latest",
    "new",
    "changes",
    "change",
    "everything",
    "all",
    "can",
    "could",
    "would",
    "will",
    "should",
    "is",
    "are",
    "be",
    "do",
    "dont",
    "not",
    "no",
    "let",
    "lets",
    "go",
    "ahead",
    "right",
    "away",
    "asap",
    "quickly",
    "real",
    "quick",
    "hey",
    "ok",
    "okay",
    "so",
    "then",
    "up",
    "out",
    "back",
    "down",
    "over",
    "there",
    "here",
    "what",
    "how",
    "why",
    "when",
    "where",
    "which",
    "who",
    "whats",
    "current",
    "version",
    "previous",
    "last",
    "one",
    "some",
    "any",
    "anything",
    "something",
    "things",
    "stuff",
    "thing",
    "state",
    "need",
    "want",
    "help",
    "make",
    "sure",
    "if",
    "has",
    "have",
    "been",
    "was",
    "were",
    "did",
    "does",
    "today",
    "yesterday",
    "hour",
    "hours",
    "minutes",
    "day",
    "days",
    "week",
    "time",
    "happen",
    "happens",
    "safe",
    "fine",
    "good",
    "bad",
    "wrong",
    "going",
    "on",
    "ready",
    "yet",
    "still",
    "same",
    "other",
    "another",
    "more",
    "less",
    "before",
    "after",
    "prior",
    "once",
    "until",
    "following",
    "first",
    "straight",
    "directly",
    "immediately",
    "soon",
    "later",
    "tonight",
    "tomorrow",
    "morning",
    "afternoon",
    "evening",
    "past",
    "recent",
    "recently",
    "since",
    "about",
    "by",
    "via",
    "using",
    "as",
    "than",
    "very",
    "really",
    "also",
    "too",
    "every",
    "each",
    "both",
    "either",
    "whole",
    "entire",
    "kindly",
    "thanks",
    "thank",
    "currently",
    "there",
    "amoment",
    "run",
    "execute",
    "trigger",
    "itself",
    "themselves",
    "ourselves",
    "yourself",
];

/// Words that only a request about infrastructure or its operation uses.
const DOMAIN: &[&str] = &[
    "infra",
    "infrastructure",
    "stack",
    "stacks",
    "terraform",
    "tf",
    "hcl",
    "module",
    "modules",
    "deployment",
    "deployments",
    "deployed",
    "redeploy",
    "provision",
    "provisioned",
    "rollback",
    "environment",
    "environments",
    "env",
    "envs",
    "uptime",
    "outage",
    "outages",
    "incident",
    "incidents",
    "latency",
    "latencies",
    "throughput",
    "coldstarts",
    "p99",
    "p95",
    "p90",
    "p50",
    "alarms",
    "alarm",
    "alerts",
    "metrics",
    "dashboard",
    "dashboards",
    "cloudwatch",
    "aws",
    "cloud",
    "resources",
    "resource",
    "drift",
    "500s",
    "5xx",
    "4xx",
    "502s",
    "503s",
    "504s",
    "timeouts",
    "throttling",
    "throttles",
    "throttled",
    "audit",
    "golive",
    "spinup",
    "pipeline",
    "iam",
    "rootcause",
    "posture",
    "compliance",
    "teardown",
    "config",
    "configuration",
    "region",
    "regions",
    "account",
    "arn",
    "vpc",
    "ami",
    "canary",
    "hotfix",
    "release",
    "releases",
    "variable",
    "variables",
    "output",
    "outputs",
    "provider",
    "providers",
    "tfvars",
    "backend",
    "statefile",
];

/// Whether the request is about infrastructure at all: it names a part of a
/// stack, an environment, an operational concern, or is an operation verb
/// with nothing else of substance ("deploy it"). "Write me a poem" is not,
/// even about Terraform.
pub(crate) fn in_scope(words: &[Word], envs: &[String]) -> bool {
    // "translate this error message", "summarize the logs for my essay": a task of another kind, unless one of ours is asked too.
    let first = words.iter().find(|w| !w.is_boundary() && !matches!(w.text.as_str(), "please" | "pls" | "can" | "could" | "you" | "hey"));
    if first.is_some_and(|w| !w.quoted && FOREIGN_VERBS.contains(&w.text.as_str()))
        && !(0..words.len()).any(|i| matches!(classify_word(words, i), Role::Verb(_)))
    {
        return false;
    }
    if words.iter().any(|w| !w.quoted && FOREIGN_OBJECTS.contains(&w.text.as_str())) {
        return false;
    }
    if writes_prose(words) || asks_to_learn(words, envs) {
        return false;
    }
    // "set up a Jira board for the infra team": "infra" there names people, not a stack.
    let ours_only = words
        .iter()
        .enumerate()
        .any(|(i, w)| !w.quoted && OURS_ONLY.contains(&w.text.as_str()) && !words.get(i + 1).is_some_and(|n| PEOPLE.contains(&n.text.as_str())));
    // "invoices come out with the wrong tax" from the billing lambda: an everyday topic inside a request about the stack.
    if !ours_only && words.iter().any(|w| !w.quoted && EVERYDAY_TOPICS.contains(&w.text.as_str())) {
        return false;
    }
    let ours = ours_only || (0..words.len()).any(|i| env_word(words, i, envs).is_some());
    if !ours && words.iter().any(|w| !w.quoted && OTHER_WORLDS.contains(&w.text.as_str())) {
        return false;
    }
    let mut verb = false;
    let mut named = false;
    // A concern operations share with everyday life (health, cost, speed…).
    let mut concern = false;
    let mut foreign = 0;
    for (i, w) in words.iter().enumerate() {
        if w.quoted {
            // A quoted error message is something to debug.
            let q = w.text.to_lowercase();
            if ["error", "denied", "exception", "failed", "invalid", "timeout"].iter().any(|k| q.contains(k)) {
                return true;
            }
            continue;
        }
        let t = w.text.as_str();
        if FOREIGN_OBJECTS.contains(&t) {
            return false;
        }
        if w.is_boundary() || FILLER.contains(&t) {
            continue;
        }
        if DOMAIN.contains(&t)
            || SERVICE_NOUNS.contains(&t)
            || SECURITY_WORDS.contains(&t)
            || COMPLIANCE_WORDS.contains(&t)
            || env_word(words, i, envs).is_some()
            || (matches!(t, "deploy" | "deploys" | "apply" | "release" | "rollout") && deploy_noun(words, i))
        {
            return true;
        }
        // "payments-worker": a name, neither ours nor foreign by itself.
        if t.contains('-') {
            named = true;
            continue;
        }
        concern |= COST_WORDS.contains(&t) || about_operations(words, i);
        match classify_word(words, i) {
            // A design takes any feature in the person's own words.
            Role::Verb(Verb::Design) => return true,
            Role::Verb(Verb::Generate | Verb::Create) if words.iter().any(|w| matches!(w.text.as_str(), "design" | "designs" | "architecture")) => {
                return true;
            }
            // "show", "check", "calculate" alone ask nothing of ours.
            Role::Verb(_) => verb = true,
            Role::Generic(_) => {}
            Role::Other => foreign += usize::from(!VOCABULARY.contains(&t)),
        }
    }
    // "logs of checkout" is ours; "the health of my sourdough starter" is not:
    // a shared concern counts unless two words of another world surround it.
    // An operation verb on a named thing ("restart the order-processor, or will it recover?") tolerates a few words of its own.
    (concern && (verb || foreign < 2)) || (verb && foreign <= if named { 2 } else { 0 })
}

/// "write an email to the team about the deploy", "draft the release notes", "a slack message
/// saying prod is down": a message for people, whatever it is about. The message is the object of
/// the writing verb (within a few words, before any preposition).
fn writes_prose(words: &[Word]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        !w.quoted
            && WRITING_VERBS.contains(&w.text.as_str())
            && words[i + 1..]
                .iter()
                .take(4)
                .take_while(|n| !n.is_boundary() && !PREPOSITIONS.contains(&n.text.as_str()))
                .any(|n| !n.quoted && MESSAGES.contains(&n.text.as_str()))
    })
}

/// "explain how pods differ from deployments", "the difference between an ALB and an NLB": a lesson,
/// not an operation, when no environment says it is about ours.
fn asks_to_learn(words: &[Word], envs: &[String]) -> bool {
    let text = |i: usize| words.get(i).map_or("", |w| w.text.as_str());
    let lesson = (0..words.len()).any(|i| {
        (matches!(text(i), "explain" | "teach") && (matches!(text(i + 1), "how" | "difference") || (text(i + 1) == "the" && text(i + 2) == "difference")))
            || (text(i) == "difference" && text(i + 1) == "between")
    });
    lesson && !(0..words.len()).any(|i| env_word(words, i, envs).is_some()) && !words.iter().any(|w| w.quoted)
}

/// "public buckets", "ports open to the world": exposure is a security question.
pub(crate) fn exposure(words: &[Word], scoped: &[Scope]) -> bool {
    let main_text = |set: &[&str]| words.iter().enumerate().any(|(i, w)| scoped[i] == Scope::Main && !w.quoted && set.contains(&w.text.as_str()));
    main_text(EXPOSED) && main_text(EXPOSABLE)
}

/// Whether the word names something an operation looks at (health, logs,
/// warnings, latency, what is deployed…), by the objects the classifier reads.
fn about_operations(words: &[Word], i: usize) -> bool {
    // The word and the one before it, for the words that need it ("it is up").
    let from = i.saturating_sub(1);
    let mut scoped = vec![Scope::Negated; i + 1 - from];
    scoped[i - from] = Scope::Main;
    let o = Objects::collect(&words[from..=i], &scoped);
    o.health || o.logs || o.errors || o.warnings || o.resources || o.deployed || o.deploy_context || o.performance || o.infra || o.services
}

/// Words that name a whole environment as the object of a teardown ("tear down the stack", "destroy everything").
const WHOLE_ENVIRONMENT: &[&str] =
    &["environment", "environments", "env", "envs", "stack", "stacks", "infra", "infrastructure", "everything", "all", "deployment"];

/// Whether the teardown in main scope is of a whole environment ("tear down prod", "destroy the test environment"),
/// not of a part of one ("delete the sessions table", "clean up and delete the unused volumes"): after the first
/// teardown verb, a word names the environment or all of it, and no word names a component or what one holds.
pub(crate) fn teardown_of_environment(words: &[Word], scoped: &[Scope], envs: &[String]) -> bool {
    let Some(verb) = (0..words.len()).find(|&i| scoped[i] == Scope::Main && matches!(classify_word(words, i), Role::Verb(Verb::Teardown))) else {
        return false;
    };
    let object: Vec<usize> = (verb + 1..words.len()).filter(|&i| scoped[i] == Scope::Main).collect();
    let names_part = object.iter().any(|&i| PARTS.contains(&words[i].text.as_str()));
    let names_whole = object.iter().any(|&i| WHOLE_ENVIRONMENT.contains(&words[i].text.as_str()) || env_word(words, i, envs).is_some());
    names_whole && !names_part
}

/// Whether the request sets a function's memory ("give the api lambda 1024 MB", "bump the worker to 2 GB"):
/// a change of the design, not of the running function. A question about it is not.
pub(crate) fn sets_memory(words: &[Word], questions: &[bool]) -> bool {
    let amount = words.windows(2).any(|p| p[0].text.chars().all(|c| c.is_ascii_digit()) && matches!(p[1].text.as_str(), "mb" | "gb"))
        || words
            .iter()
            .any(|w| w.text.len() > 2 && (w.text.ends_with("mb") || w.text.ends_with("gb")) && w.text[..w.text.len() - 2].chars().all(|c| c.is_ascii_digit()));
    let function = words.iter().any(|w| matches!(w.text.as_str(), "lambda" | "function" | "handler" | "worker" | "memory"));
    let verb = words.iter().any(|w| matches!(w.text.as_str(), "give" | "set" | "bump" | "raise" | "increase" | "lower" | "reduce" | "change" | "make"));
    amount && function && verb && !questions.iter().any(|&q| q)
}

/// Components of a design that a request can take out of it ("remove the sessions table").
const REMOVABLE: &[&str] = &["table", "bucket", "queue", "topic", "lambda", "function", "secret", "schedule"];
/// Words that put a "table" inside a database engine: rows, not a component.
const ENGINE_WORDS: &[&str] = &["postgres", "postgresql", "mysql", "sql", "database", "db", "rows", "schema", "tables", "buckets", "all"];

/// Whether the teardown in main scope takes one component out of the design ("remove the sessions table",
/// "delete the uploads bucket"): a revision of the design, which the next preview shows with its data loss.
pub(crate) fn removes_component(words: &[Word], scoped: &[Scope]) -> bool {
    let Some(verb) = (0..words.len()).find(|&i| scoped[i] == Scope::Main && matches!(classify_word(words, i), Role::Verb(Verb::Teardown))) else {
        return false;
    };
    let object: Vec<&str> = (verb + 1..words.len()).filter(|&i| scoped[i] == Scope::Main).map(|i| words[i].text.as_str()).collect();
    object.iter().any(|w| REMOVABLE.contains(w)) && !object.iter().any(|w| ENGINE_WORDS.contains(w) || PARTS.contains(w) && !REMOVABLE.contains(w))
}

/// What one component of a stack, or what it holds, is called.
const PARTS: &[&str] = &[
    "table",
    "tables",
    "bucket",
    "buckets",
    "queue",
    "queues",
    "lambda",
    "lambdas",
    "function",
    "functions",
    "database",
    "databases",
    "db",
    "topic",
    "topics",
    "role",
    "roles",
    "key",
    "keys",
    "cluster",
    "clusters",
    "alarm",
    "alarms",
    "api",
    "gateway",
    "vpc",
    "vpcs",
    "subnet",
    "subnets",
    "volume",
    "volumes",
    "instance",
    "instances",
    "cache",
    "stream",
    "streams",
    "snapshot",
    "snapshots",
    "object",
    "objects",
    "file",
    "files",
    "logs",
    "log",
    "image",
    "images",
    "items",
    "rows",
    "records",
    "data",
    "secret",
    "secrets",
    "user",
    "users",
    "policy",
    "policies",
    "branch",
    "branches",
];

/// Whether a word in main scope asks to destroy something.
/// `questions` is [`question_clauses`]: "would a deploy destroy anything?" asks about a plan.
pub(crate) fn asks_teardown(words: &[Word], scoped: &[Scope], questions: &[bool]) -> bool {
    (0..words.len()).any(|i| scoped[i] == Scope::Main && !questions[i] && matches!(classify_word(words, i), Role::Verb(Verb::Teardown)))
}

/// Marks the words of clauses that ask a question about an action rather
/// than ask for it: "what happens if I deploy", "is it safe to deploy",
/// "should we roll back", "how do I scale", "can I restart". ("Can you
/// deploy" is a request.)
pub(crate) fn question_clauses(words: &[Word]) -> Vec<bool> {
    const FILLERS: &[&str] = &["so", "ok", "okay", "hey", "and", "well", "quick", "question", "honestly", "but", "also", "team", "guys", "folks", "hi"];
    const ASKING: &[&str] = &[
        "is", "are", "am", "was", "were", "should", "shall", "would", "will", "can", "could", "may", "might", "do", "does", "did", "what", "how", "when",
        "which", "any", "wouldnt", "shouldnt", "isnt", "dont", "whats", "must",
    ];
    let mut out = vec![false; words.len()];
    let mut start = 0;
    while start < words.len() {
        let end = (start..words.len()).find(|&j| words[j].boundary).unwrap_or(words.len());
        let mut k = start;
        while k < end && FILLERS.contains(&words[k].text.as_str()) {
            k += 1;
        }
        let at = |n: usize| words.get(k + n).filter(|_| k + n < end).map_or("", |w| w.text.as_str());
        // An auxiliary or a question word opens the clause; "can you deploy" and
        // "could you restart" ask the assistant to act, and are requests.
        let asks = ASKING.contains(&at(0))
            && !(matches!(at(0), "can" | "could" | "would" | "will" | "wouldnt") && matches!(at(1), "you" | "u" | "someone" | "ya"))
            && (!matches!(at(0), "do" | "dont") || matches!(at(1), "i" | "we" | "you" | "they"))
            && !(at(0) == "what" && matches!(at(1), "is" | "are" | "s") && !matches!(at(2), "the" | "risk" | "risks" | "impact"));
        if asks {
            out[start..end].iter_mut().for_each(|q| *q = true);
        }
        start = end + 1;
    }
    // "If I apply it now, is it going to recreate the load balancer?": a
    // question sentence is a question in all its clauses. "Thinking about
    // scaling prod up, thoughts?", "ok to redeploy prod?": a sentence that
    // deliberates, or asks whether an action is all right, asks about it.
    let mut sentence = 0;
    for j in 0..=words.len() {
        let ends = j == words.len() || matches!(words[j].text.as_str(), "." | "!" | "?");
        if !ends {
            continue;
        }
        let asked = j < words.len() && words[j].text == "?";
        let span = &words[sentence..j];
        let deliberates = span.iter().any(|w| DELIBERATION.contains(&w.text.as_str()));
        let all_right = asked && span.windows(2).any(|p| ALL_RIGHT.contains(&p[0].text.as_str()) && p[1].text == "to");
        if (asked && out[sentence..j].iter().any(|q| *q)) || deliberates || all_right {
            out[sentence..j].iter_mut().for_each(|q| *q = true);
        }
        sentence = j + 1;
    }
    out
}

/// Words of a sentence that weighs an action instead of asking for it.
const DELIBERATION: &[&str] =
    &["thinking", "considering", "wondering", "debating", "contemplating", "thoughts", "opinion", "opinions", "advice", "advise", "worth", "tempted"];
/// "ok to redeploy?", "safe to roll back?": whether an action is all right.
const ALL_RIGHT: &[&str] = &["ok", "okay", "safe", "fine", "good", "wise", "risky", "alright", "smart", "sensible", "reasonable", "dangerous"];

/// Whether the environment word at `i` is itself what a negation negates
/// ("not prod", "not in production", "no prod"), rather than a verb before it
/// ("don't deploy to prod").
pub(crate) fn env_negated(words: &[Word], i: usize) -> bool {
    words[..i]
        .iter()
        .rev()
        .map(|w| w.text.as_str())
        .find(|t| !DETERMINERS.contains(t) && !PREPOSITIONS.contains(t))
        .is_some_and(|t| matches!(t, "not" | "no" | "never" | "except" | "excluding"))
}

/// A known word with an ending: `Some(Some(base))` for the progressive
/// ("restarting" → the verb), `Some(None)` for the past and the third person
/// ("validated", "looks": what happened or is, not what to do), `None` otherwise.
fn inflection(word: &str) -> Option<Option<&'static str>> {
    let known = |stem: &str| VOCABULARY.iter().copied().find(|v| *v == stem);
    if let Some(stem) = word.strip_suffix("ing")
        && let Some(base) = known(stem).or_else(|| known(&format!("{stem}e")))
        && !is_env_name(base)
    {
        return Some(Some(base));
    }
    // "regenerate", "rerun the scan": the verb again. ("recreate" is what a plan does.)
    if let Some(stem) = word.strip_prefix("re")
        && stem.len() >= 4
        && stem != "create"
        && let Some(base) = known(stem)
    {
        return Some(Some(base));
    }
    // "prod looks fine", "it restarts every hour": the third person tells, it does not ask.
    if word.strip_suffix('s').is_some_and(|stem| known(stem).is_some()) {
        return Some(None);
    }
    // "validated" is "validate" + "d"; "prodd" is a slip, not a past.
    let past = word.strip_suffix("ed").is_some_and(|stem| known(stem).is_some())
        || word.strip_suffix('d').is_some_and(|stem| stem.ends_with('e') && known(stem).is_some());
    if past {
        return Some(None);
    }
    None
}

/// Whether the lexicon knows the word (it is never "corrected").
fn is_known(word: &str) -> bool {
    VOCABULARY.contains(&word) || FILLER.contains(&word) || DOMAIN.contains(&word)
}

/// Whether "deploy" (or "apply", "release") at `i` names the event: after
/// "the", "last", "failed"…, or before "failed", "broke"….
fn deploy_noun(words: &[Word], i: usize) -> bool {
    // "the deploy", "the prod deploy"
    let after_marker = i > 0
        && (NOUN_MARKERS.contains(&words[i - 1].text.as_str())
            || (matches!(words[i - 1].text.as_str(), "terraform" | "tf") && !(i > 1 && matches!(words[i - 2].text.as_str(), "run" | "execute" | "do")))
            || (i > 1
                && NOUN_MARKERS.contains(&words[i - 2].text.as_str())
                && matches!(words[i - 1].text.as_str(), "prod" | "production" | "test" | "staging" | "dev" | "live")));
    after_marker || deploy_failed(words, i)
}

/// Whether the deploy (or apply, release) at `i` is what failed: "deploy failed", "the apply just blew up".
fn deploy_failed(words: &[Word], i: usize) -> bool {
    words.get(i + 1).is_some_and(|w| FAILURE_WORDS.contains(&w.text.as_str()) && w.text != "is" && w.text != "was")
        || (words.get(i + 1).is_some_and(|w| matches!(w.text.as_str(), "is" | "was" | "has" | "keeps" | "just"))
            && words.get(i + 2).is_some_and(|w| FAILURE_WORDS.contains(&w.text.as_str())))
}

/// Whether a scale target follows an amount verb within a few words ("bump it to 10", "raise the concurrency").
fn scale_follows(words: &[Word], i: usize) -> bool {
    // "more ECS tasks": the amount modifies the capacity itself.
    if matches!(words[i].text.as_str(), "more" | "fewer" | "extra") {
        return words[i + 1..words.len().min(i + 4)].iter().any(|w| CAPACITY.contains(&w.text.as_str()));
    }
    let next = &words[i + 1..words.len().min(i + 6)];
    next.iter().any(|w| CAPACITY.contains(&w.text.as_str())) || next.windows(2).any(|p| p[0].text == "to" && p[1].number().is_some())
}

/// "the previous version back", "back to the last good release": "back" with an earlier version as what comes back.
fn version_back(words: &[Word], i: usize) -> bool {
    const EARLIER: &[&str] = &["previous", "prior", "old", "older", "earlier", "last", "stable"];
    const VERSIONS: &[&str] = &["version", "release", "build", "image", "deploy", "revision"];
    let earlier_version = |span: &[Word]| {
        span.iter().any(|w| EARLIER.contains(&w.text.as_str()) || (w.text.starts_with('v') && w.text[1..].starts_with(|c: char| c.is_ascii_digit())))
            && span.iter().any(|w| VERSIONS.contains(&w.text.as_str()))
    };
    let before = i > 0 && VERSIONS.contains(&words[i - 1].text.as_str()) && earlier_version(&words[i.saturating_sub(4)..i]);
    let after = words.get(i + 1).is_some_and(|n| n.text == "to") && earlier_version(&words[i + 1..words.len().min(i + 6)]);
    before || after
}

/// "I edited main.tf to add a bucket policy": what a verb of work done was for, told, not asked.
pub(crate) fn narrative_purpose(words: &[Word], i: usize) -> bool {
    const DONE: &[&str] = &[
        "edited",
        "changed",
        "modified",
        "updated",
        "tweaked",
        "refactored",
        "wrote",
        "added",
        "made",
        "renamed",
        "touched",
        "merged",
        "committed",
        "rewrote",
    ];
    i > 1
        && words[i - 1].text == "to"
        && words[..i - 1]
            .iter()
            .rev()
            .take_while(|w| !w.is_boundary())
            .collect::<Vec<_>>()
            .windows(2)
            .any(|p| DONE.contains(&p[0].text.as_str()) && matches!(p[1].text.as_str(), "i" | "we" | "they" | "he" | "she" | "you" | "just" | "already"))
}

/// Which clause of the request the word at `i` is in (0 for the first).
pub(crate) fn clause_index(words: &[Word], i: usize) -> usize {
    words[..i].iter().filter(|w| w.is_boundary()).count()
}

/// The words of the clause around `i`.
fn clause(words: &[Word], i: usize) -> &[Word] {
    let start = words[..i].iter().rposition(Word::is_boundary).map_or(0, |b| b + 1);
    let end = words[i..].iter().position(Word::is_boundary).map_or(words.len(), |b| i + b);
    &words[start..end]
}

/// Whether the word names an environment, configured or not.
pub(crate) fn is_env_name(word: &str) -> bool {
    matches!(word, "prod" | "production" | "live" | "test" | "testing" | "dev" | "development" | "staging" | "stage") || KNOWN_ENV_NAMES.contains(&word)
}

/// Words that point at something but carry no operation of their own.
const DETERMINERS: &[&str] = &["the", "my", "our", "your", "this", "that", "these", "those", "a", "an", "all", "its", "their"];
const PREPOSITIONS: &[&str] = &["to", "in", "on", "into", "for", "against", "from", "of", "at", "across", "with"];
/// "it's test I'm worried about": after a copula, an environment.
const COPULAS: &[&str] = &["is", "was"];
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
    "is",
    "was",
    "looks",
    "seems",
];
/// Words after which "test" ending a clause is the environment ("health test", "plan test").
const ENV_PRECEDERS: &[&str] = &[
    "health",
    "status",
    "logs",
    "errors",
    "costs",
    "cost",
    "resources",
    "alerts",
    "perf",
    "performance",
    "latency",
    "uptime",
    "deploy",
    "preview",
    "plan",
    "diff",
    "audit",
    "monitor",
    "restart",
    "rollback",
    "resources",
    "inventory",
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
    let after_preposition = prev_content(words, i).is_some_and(|p| PREPOSITIONS.contains(&p) || COPULAS.contains(&p));
    let before_noun = words.get(i + 1).is_some_and(|n| ENV_FOLLOWERS.contains(&n.text.as_str()));
    // "health test", "logs test", "deploy test": terse, the environment ends the clause after what to do there.
    let terse = i > 0 && words.get(i + 1).is_none_or(Word::is_boundary) && ENV_PRECEDERS.contains(&words[i - 1].text.as_str());
    // "promote test to prod": the environment something moves from, before "to" and the one it moves to.
    let source = words.get(i + 1).is_some_and(|n| n.text == "to")
        && words.get(i + 2).is_some_and(|n| matches!(n.text.as_str(), "prod" | "production" | "live" | "prd" | "staging" | "preprod" | "pre-prod"));
    after_preposition || before_noun || terse || source
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
        "prod" | "production" | "live" | "prd" => Some(if configured { EnvWord::Configured(text.into()) } else { EnvWord::Alias("prod", text) }),
        "staging" | "preprod" | "pre-prod" => Some(if configured { EnvWord::Configured(text.into()) } else { EnvWord::Alias("staging", text) }),
        "stage" | "stg" if env_position(words, i) => Some(if configured { EnvWord::Configured(text.into()) } else { EnvWord::Alias("staging", text) }),
        _ if configured => Some(EnvWord::Configured(text.into())),
        // "QA says", "the integration suite": a name of an environment only where an environment goes.
        _ if KNOWN_ENV_NAMES.contains(&text) && env_position(words, i) => Some(EnvWord::Unconfigured(text)),
        _ => None,
    }
}

/// Words shared by the classifier and the argument extractor, kept in one place.
pub(crate) const RESTART_WORDS: &[&str] = &["restart", "reboot", "bounce", "recycle", "kick", "kickstart", "cycle"];
pub(crate) const SCALE_WORDS: &[&str] = &["scale", "resize", "autoscale"];
pub(crate) const ROLLBACK_WORDS: &[&str] = &["rollback", "revert", "downgrade", "undo"];
/// Words that change an amount; a scale when a capacity or a target number follows ("bump it to 10", "raise the concurrency").
/// "more tasks", "fewer replicas": an amount word before a capacity asks for a scale as the verbs do.
const AMOUNT_VERBS: &[&str] = &[
    "bump", "increase", "raise", "reduce", "decrease", "lower", "double", "halve", "add", "more", "fewer", "extra", "cut", "trim", "shrink", "grow", "expand",
];
const CAPACITY: &[&str] =
    &["tasks", "instances", "capacity", "concurrency", "replicas", "workers", "containers", "nodes", "count", "desired", "memory", "throughput"];
/// What Terraform says it was doing when it failed ("Error creating …", "Error acquiring the state lock").
const TF_ERROR_GERUNDS: &[&str] =
    &["create", "creating", "updating", "update", "deleting", "reading", "modifying", "refreshing", "acquiring", "configuring", "waiting", "applying"];
/// How AWS error codes end ("EntityAlreadyExists", "AccessDeniedException").
const AWS_ERROR_ENDINGS: &[&str] = &["alreadyexists", "accessdenied", "notfound", "limitexceeded", "exception", "unauthorizedoperation"];
/// Service nouns a word before them may name ("the reporting service").
const NAMED_BY_MODIFIER: &[&str] =
    &["service", "services", "lambda", "api", "function", "queue", "worker", "workers", "job", "jobs", "cluster", "table", "database", "db"];
/// Words that name code or configuration ("whether the configuration is valid").
const CODE_WORDS: &[&str] = &["config", "configuration", "configs", "terraform", "tf", "hcl", "syntax", "code", "module", "modules", "template", "templates"];
/// Scanners people name for the pre-deployment tests, and linters for validation.
const SCANNERS: &[&str] = &["checkov", "tfsec", "trivy", "terrascan", "kics", "snyk", "infracost", "scans", "scanners"];
const LINTERS: &[&str] = &["tflint", "fmt", "linter", "linters"];
/// Words after "deploy" that make it the failed event, not the verb ("deploy failed, help").
const FAILURE_WORDS: &[&str] =
    &["failed", "fails", "failing", "errored", "errors", "error", "broke", "blew", "crashed", "died", "bombed", "timed", "hung", "stuck", "is", "was"];
/// Other technology and other worlds: a request about them is not ours unless
/// it also names AWS, Terraform or an environment ("write a python function
/// that reverses a list", "roll back my git commit", "resize my droplet").
const OTHER_WORLDS: &[&str] = &[
    "python",
    "javascript",
    "typescript",
    "java",
    "golang",
    "ruby",
    "php",
    "css",
    "html",
    "react",
    "vue",
    "angular",
    "regex",
    "algorithm",
    "leetcode",
    "git",
    "github",
    "commit",
    "commits",
    "rebase",
    "merge",
    "azure",
    "gcp",
    "digitalocean",
    "droplet",
    "heroku",
    "vercel",
    "netlify",
    "excel",
    "spreadsheet",
    "slides",
    "powerpoint",
    "expense",
    "expenses",
    "receipt",
    "essay",
    "board",
    "troops",
    "recipe",
    "pancake",
    "pancakes",
    "vacation",
    "flight",
    "hotel",
    "weather",
    "football",
    "movie",
    "laptop",
    "phone",
    "printer",
    "wifi",
    "router",
    "pagerduty",
    "opsgenie",
    "jira",
    "confluence",
    "slack",
    "kyoto",
    "april",
    "guests",
    "living",
    "room",
    // Application frameworks, test runners and container orchestrators other than ours.
    "jest",
    "mocha",
    "pytest",
    "junit",
    "cypress",
    "selenium",
    "playwright",
    "rspec",
    "vitest",
    "flask",
    "django",
    "rails",
    "nodejs",
    "node",
    "express",
    "spring",
    "docker",
    "kubernetes",
    "k8s",
    "kubectl",
    "helm",
    "minikube",
    "sql",
    "npm",
    "webpack",
    "eslint",
    "cloudflare",
    "chef",
];
/// Verbs that write something for people to read.
const WRITING_VERBS: &[&str] = &["write", "draft", "compose", "prepare", "send", "post"];
/// What people write to each other.
const MESSAGES: &[&str] = &[
    "email",
    "e-mail",
    "emails",
    "message",
    "messages",
    "note",
    "notes",
    "announcement",
    "memo",
    "changelog",
    "newsletter",
    "blog",
    "reply",
    "ticket",
    "description",
    "apology",
];
/// Words after which a word of ours names people ("the infra team", "the aws folks").
const PEOPLE: &[&str] = &["team", "teams", "folks", "people", "guys", "org", "channel", "meeting", "standup", "lead", "manager", "chapter", "guild"];
/// Everyday topics that mean another world unless the request names a part of the stack.
const EVERYDAY_TOPICS: &[&str] =
    &["tax", "taxes", "deductions", "garden", "kitchen", "wedding", "invitation", "birthday", "itinerary", "remodel", "sofa", "couch", "furniture"];
/// Words that only AWS, Terraform or this product use.
const OURS_ONLY: &[&str] = &[
    "aws",
    "terraform",
    "tf",
    "hcl",
    "lambda",
    "lambdas",
    "s3",
    "dynamodb",
    "sqs",
    "sns",
    "rds",
    "ec2",
    "ecs",
    "eks",
    "vpc",
    "cloudfront",
    "route53",
    "kinesis",
    "aurora",
    "elasticache",
    "cognito",
    "kms",
    "apigateway",
    "cloudwatch",
    "iam",
    "alb",
    "elb",
    "loadbalancer",
    "securitygroup",
    "fargate",
    "infra",
    "infrastructure",
];

/// Tasks of another kind, when they lead the request.
const FOREIGN_VERBS: &[&str] = &[
    "translate",
    "book",
    "order",
    "schedule",
    "remind",
    "email",
    "cook",
    "sing",
    "draw",
    "buy",
    "sell",
    "recommend",
    "proofread",
    "rewrite",
    "paraphrase",
    "compose",
    "spellcheck",
    "reply",
    "respond",
    "quiz",
    "teach",
    "tutor",
    // Access and credentials are not an operation of ours.
    "rotate",
    "grant",
    "revoke",
    "invite",
    "onboard",
    "offboard",
];
/// What a person may ask us to write that is not infrastructure.
pub(crate) const FOREIGN_OBJECTS: &[&str] = &[
    "poem",
    "haiku",
    "song",
    "story",
    "essay",
    "joke",
    "limerick",
    "letter",
    "tweet",
    "recipe",
    "novel",
    "lyrics",
    "resume",
    "cv",
    "sonnet",
    "speech",
    "homework",
    "riddle",
    "logo",
    "flyer",
    "poster",
    "tattoo",
    "résumé",
    "cv",
    "quiz",
    "exam",
    "certification",
    "course",
    "tutorial",
    "learning",
    "gke",
    "aks",
    "pulumi",
    "bicep",
    "cloudformation",
    "ansible",
    "puppet",
    "azure",
    "gcp",
    "google",
    "digitalocean",
    "heroku",
    // A person's editor and an application's container file are not infrastructure we manage.
    "vim",
    "neovim",
    "nvim",
    "emacs",
    "vscode",
    "intellij",
    "jetbrains",
    "dockerfile",
    // Other clouds' services and other infrastructure-as-code tools.
    "gcs",
    "bigquery",
    "firebase",
    "linode",
    "vultr",
    "openstack",
    "alibaba",
    "cdk",
    "cdktf",
    "crossplane",
    "saltstack",
    // Reading and a person's own machine.
    "article",
    "articles",
    "podcast",
    "mac",
    "macbook",
    "homebrew",
    "zsh",
    "dotfiles",
    "linkedin",
];
pub(crate) const COST_WORDS: &[&str] = &[
    "cost",
    "costs",
    "costing",
    "costly",
    "spend",
    "spending",
    "bill",
    "billing",
    "budget",
    "money",
    "pricing",
    "expensive",
    "savings",
    "invoice",
    "charges",
    "cheaper",
    "overspend",
    "overspending",
    "finops",
    "burn",
    "burning",
    "burned",
];
pub(crate) const SECURITY_WORDS: &[&str] = &[
    "security",
    "vulnerabilities",
    "vulnerability",
    "posture",
    "encryption",
    "iam",
    "permissions",
    "exposure",
    "unencrypted",
    "encrypted",
    "insecure",
    "vulnerable",
    "misconfigured",
    "misconfiguration",
    "misconfigurations",
    "cve",
    "cves",
    "hardening",
    "least-privilege",
    "sec",
    "secops",
    "publicly",
];
pub(crate) const COMPLIANCE_WORDS: &[&str] =
    &["compliance", "compliant", "noncompliant", "non-compliant", "tags", "tagging", "naming", "tagged", "untagged", "cis", "soc2", "hipaa", "pci", "gdpr"];
/// Words that make "public", "open" or "exposed" a security question ("public buckets", "ports open to the world").
const EXPOSABLE: &[&str] =
    &["bucket", "buckets", "s3", "port", "ports", "ssh", "rdp", "sg", "sgs", "group", "groups", "internet", "world", "anyone", "everyone", "0.0.0.0/0"];
const EXPOSED: &[&str] = &["public", "publicly", "open", "exposed", "world-readable", "world-open"];
/// Nouns that name a running part of the stack.
pub(crate) const SERVICE_NOUNS: &[&str] = &[
    "services",
    "service",
    "lambda",
    "lambdas",
    "function",
    "functions",
    "api",
    "apis",
    "queue",
    "queues",
    "database",
    "databases",
    "db",
    "table",
    "tables",
    "ecs",
    "cluster",
    "clusters",
    "container",
    "containers",
    "app",
    "application",
    "apps",
    "bucket",
    "buckets",
    "s3",
    "dynamodb",
    "sqs",
    "sns",
    "rds",
    "ec2",
    "vpc",
    "worker",
    "workers",
    "endpoint",
    "endpoints",
    "topic",
    "topics",
    "cdn",
    "cloudfront",
    "gateway",
    "instance",
    "instances",
    "server",
    "servers",
    "backend",
    "frontend",
    "website",
    "site",
    "microservice",
    "microservices",
    "task",
    "tasks",
    "pods",
    "job",
    "jobs",
    "aurora",
    "postgres",
    "mysql",
    "redis",
    "elasticache",
    "kinesis",
    "stream",
    "streams",
    "eks",
    "alb",
    "elb",
    "loadbalancer",
    "dns",
    "route53",
    "cognito",
    "kms",
    "secrets",
    "subnet",
    "subnets",
    "network",
    "nat",
    "apigateway",
    "securitygroup",
];
/// Words after which "up", "down" or "ok" asks about health ("is it up", "everything ok").
const UP_AFTER: &[&str] =
    &["it", "everything", "anything", "still", "all", "things", "prod", "production", "test", "staging", "site", "is", "are", "be", "back"];

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
    /// Destroying resources: not something the product does.
    Teardown,
}

/// Verbs whose operation depends on their object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generic {
    Show,
    Check,
    Analyze,
    /// "I need a DynamoDB table": a design, when it names a resource and nothing else.
    Want,
    /// "is prod healthy?": only what the objects name.
    Ask,
}

pub(crate) enum Role {
    Verb(Verb),
    Generic(Generic),
    Other,
}

/// Question words: as generic verbs they only count where no operation verb
/// in their clause says what to do ("what is causing the 500s" is an
/// investigation, not a listing).
pub(crate) const INTERROGATIVES: &[&str] = &["what", "whats", "which", "how", "is", "are", "where"];

/// Words after "design" that make it a noun ("design review", "design doc").
const DESIGN_NOUN_BEFORE: &[&str] = &["review", "doc", "docs", "document", "was", "is", "has", "from", "spec", "approved", "looks"];

/// Words before "deploy" / "release" after which it is a noun ("roll back the deploy").
/// A time before it names the event too ("yesterday's deploy", "friday's release").
const NOUN_MARKERS: &[&str] = &[
    "the",
    "this",
    "that",
    "my",
    "our",
    "last",
    "latest",
    "previous",
    "recent",
    "failed",
    "bad",
    "a",
    "next",
    "yesterday",
    "today",
    "tonight",
    "morning",
    "weekend",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Words before "design" after which it is a verb ("help me design", "I want to design").
const DESIGN_VERB_AFTER: &[&str] = &["to", "and", "please", "me", "us", "lets", "let", "can", "could", "you", "i", "we", "then", "help"];

pub(crate) fn classify_word(words: &[Word], i: usize) -> Role {
    let w = &words[i];
    if w.quoted {
        return Role::Other;
    }
    // "the reporting service", "our search api": a word between a determiner and a service names it.
    if i > 0
        && (DETERMINERS.contains(&words[i - 1].text.as_str()) || matches!(words[i - 1].text.as_str(), "for" | "of" | "on" | "from" | "with"))
        && words.get(i + 1).is_some_and(|n| NAMED_BY_MODIFIER.contains(&n.text.as_str()))
    {
        return Role::Other;
    }
    let verb = match w.text.as_str() {
        "design" | "designing" => {
            let first = i == 0 || words[..i].iter().all(|p| p.is_boundary() || p.text == "please");
            // "…, design it": a verb at the start of a clause too.
            let after = i > 0 && (DESIGN_VERB_AFTER.contains(&words[i - 1].text.as_str()) || words[i - 1].is_boundary());
            // "design review for X was signed off", "the design doc": the noun.
            let noun = words.get(i + 1).is_some_and(|n| DESIGN_NOUN_BEFORE.contains(&n.text.as_str()));
            if (first || after) && !noun { Verb::Design } else { return Role::Other }
        }
        "architect" | "architecture" if i == 0 => Verb::Design,
        // "work out what's going on", "figure out why": an investigation, not a plan.
        "planout" if words.get(i + 1).is_some_and(|n| matches!(n.text.as_str(), "why" | "what" | "whats" | "where" | "who")) => Verb::Investigate,
        "architect" | "sketch" | "draft" | "planout" | "blueprint" => Verb::Design,
        // "put the changes live", "take it live"
        "put" | "make" | "take" | "bring" | "set" if clause(words, i).iter().skip_while(|w| w.start <= words[i].start).any(|w| w.text == "live") => {
            Verb::Deploy
        }
        t if AMOUNT_VERBS.contains(&t) && scale_follows(words, i) => Verb::Scale,
        // "get the new vpc up in sandbox"
        "get" | "bring" if words[i + 1..].iter().take(5).any(|w| w.text == "up") && !words[i + 1..].iter().take(5).any(|w| w.text == "to") => Verb::Deploy,
        // "the old build", "the last build": the noun.
        "build" if i > 0 && (NOUN_MARKERS.contains(&words[i - 1].text.as_str()) || matches!(words[i - 1].text.as_str(), "old" | "good" | "stable")) => {
            return Role::Other;
        }
        "create" | "build" | "setup" | "scaffold" | "make" | "add" => Verb::Create,
        // "update the design", "give the api lambda 1024 MB": a revision of the design.
        "update" | "revise" | "amend" | "modify" | "extend" | "tweak" | "adjust" => Verb::Create,
        "generate" | "implement" | "write" | "codegen" | "gen" | "produce" | "convert" | "turn" | "emit" | "render" => Verb::Generate,
        "validate" | "lint" | "verify" | "typecheck" => Verb::Validate,
        "test" | "tests" | "testing" => {
            if env_word(words, i, &[]).is_some() {
                return Role::Other;
            }
            Verb::Test
        }
        "scan" | "checks" | "preflight" | "pre-flight" | "pre-deploy" | "predeploy" => Verb::Test,
        // "the deploy", "last release", "deploy failed", "terraform plan gives": a noun, not the verb.
        "deploy" | "apply" | "release" | "rollout" | "deployment" | "plan" if deploy_noun(words, i) => return Role::Other,
        "preview" | "plan" | "diff" | "dryrun" => Verb::Preview,
        // "the deploy", "last release", "deploy failed": a noun, not the verb.
        // "roll it back", "put the api back": a rollback; "roll it out": a deploy.
        "roll" | "put" | "move" | "switch" | "set" | "take" | "bring" if words[i + 1..].iter().take(4).any(|w| w.text == "back") => Verb::Rollback,
        "roll" | "push" | "get" | "send" if words[i + 1..].iter().take(6).any(|w| w.text == "out") => Verb::Deploy,
        "ping" | "probe" | "healthcheck" => Verb::Monitor,
        // "get to the bottom of the timeouts"
        "bottom" if i > 0 && words[i - 1].text == "the" && words.get(i + 1).is_some_and(|n| n.text == "of") => Verb::Investigate,
        "root-cause" | "postmortem" => Verb::Investigate,
        "walkthrough" | "summarize" | "summarise" | "recap" => return Role::Generic(Generic::Show),
        "analysis" => return Role::Generic(Generic::Analyze),
        t if SCANNERS.contains(&t) => Verb::Test,
        t if LINTERS.contains(&t) => Verb::Validate,
        "comeup" if words.get(i + 1).is_some_and(|w| w.text == "with") => Verb::Design,
        // "what would the infrastructure for X look like": a design; "what does prod look like": a listing.
        "looklike" if clause(words, i).iter().any(|w| matches!(w.text.as_str(), "would" | "should" | "could" | "might")) => Verb::Design,
        "looklike" => return Role::Generic(Generic::Show),
        "deploy" | "deploying" | "apply" | "ship" | "rollout" | "promote" | "provision" | "launch" | "release" | "push" | "redeploy" | "spinup" | "golive"
        | "publish" => Verb::Deploy,
        "monitor" | "monitoring" | "watch" | "observe" => Verb::Monitor,
        "investigate" | "investigating" | "diagnose" | "troubleshoot" | "why" | "rootcause" | "diginto" | "triage" | "causing" | "cause" | "rca" => {
            Verb::Investigate
        }

        // "what caused the 503s": the cause is asked for, though the verb is past.
        "caused" if i > 0 && matches!(words[i - 1].text.as_str(), "what" | "whats" | "who") => Verb::Investigate,
        // "whether the configuration is valid": validity of code or configuration.
        "valid" | "invalid" | "validity" if clause(words, i).iter().any(|w| CODE_WORDS.contains(&w.text.as_str())) => Verb::Validate,
        // "the previous version back", "back to the last release": a rollback.
        "back" if version_back(words, i) => Verb::Rollback,
        "debug" | "debugging" => Verb::Debug,
        "fix" | "remediate" | "repair" | "resolve" | "mitigate" => Verb::Fix,
        t if RESTART_WORDS.contains(&t) => Verb::Restart,
        t if SCALE_WORDS.contains(&t) => Verb::Scale,
        t if ROLLBACK_WORDS.contains(&t) => Verb::Rollback,
        "audit" | "auditing" => Verb::Audit,
        "tail" | "grep" | "stream" => Verb::Tail,
        "teardown" | "destroy" | "decommission" | "delete" | "remove" | "nuke" | "wipe" | "drop" | "terminate" | "purge" | "deprovision" | "dismantle"
        | "erase" | "obliterate" => Verb::Teardown,
        "show" | "list" | "display" | "get" | "see" | "view" | "what" | "whats" | "which" | "give" | "tell" | "find" | "search" | "query" | "fetch"
        | "print" | "describe" | "pull" | "where" => {
            return Role::Generic(Generic::Show);
        }
        "is" | "are" if i == 0 || words[i - 1].is_boundary() => return Role::Generic(Generic::Ask),

        "check" | "inspect" | "review" | "look" | "examine" | "how" | "ensure" => return Role::Generic(Generic::Check),
        "analyze" | "analyse" | "assess" | "evaluate" | "measure" | "estimate" | "calculate" | "compare" | "optimize" | "optimise" | "report" | "breakdown"
        | "profile" | "understand" => {
            return Role::Generic(Generic::Analyze);
        }
        "need" | "want" | "require" | "needs" => return Role::Generic(Generic::Want),
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
    /// "the design", "user-auth.md".
    pub design: bool,
    /// "a design", "a new design": one to write, not one to implement.
    pub new_design: bool,
    /// A deployment as an event: "the deploy", "the prod apply", "the deployment".
    pub deploy_event: bool,
    /// The deployment itself failed ("the apply blew up with …"): the debugger's, whatever it was creating.
    pub deploy_failed: bool,
    /// A quoted Terraform or AWS error ("Error: creating …", "AccessDenied").
    pub terraform_error: bool,
    /// "would", "if we deployed", "estimate": about what is not deployed yet.
    pub hypothetical: bool,
    /// A quoted phrase, such as an error message.
    pub quoted: bool,
}

impl Objects {
    pub fn collect(words: &[Word], scoped: &[Scope]) -> Objects {
        let mut o = Objects::default();
        for (i, w) in words.iter().enumerate() {
            // A quoted error counts wherever it is told, unless negated ("it died after lunch with \"Error: …\"").
            if w.quoted && scoped[i] == Scope::Temporal {
                o.terraform_error |= ["Error", "error:", "denied", "Denied", "Exception", "InvalidParameter"].iter().any(|k| w.text.contains(k));
            }
            if scoped[i] != Scope::Main {
                continue;
            }
            // "Error creating IAM role: EntityAlreadyExists": the shape of a Terraform or AWS error, unquoted.
            let t = w.text.as_str();
            if (t == "error" && words.get(i + 1).is_some_and(|n| TF_ERROR_GERUNDS.contains(&n.text.as_str())))
                || (t.len() > 12 && AWS_ERROR_ENDINGS.iter().any(|e| t.ends_with(e)))
            {
                o.terraform_error = true;
            }
            if w.quoted {
                o.quoted = true;
                o.terraform_error |= ["Error", "error:", "denied", "Denied", "Exception", "InvalidParameter"].iter().any(|k| w.text.contains(k));
                continue;
            }
            match w.text.as_str() {
                "health" | "healthy" | "unhealthy" | "status" | "uptime" | "alive" | "degraded" | "availability" | "alarms" | "alarm" | "alerts" | "alert"
                | "firing" | "responding" | "reachable" | "heartbeat" | "vitals" => o.health = true,
                // "is the api up?", "everything down?"
                "up" | "down" | "ok" | "okay"
                    if i > 0 && (UP_AFTER.contains(&words[i - 1].text.as_str()) || SERVICE_NOUNS.contains(&words[i - 1].text.as_str())) =>
                {
                    o.health = true
                }
                // "how the prod api is doing"
                "doing" | "holding" if clause(words, i).iter().any(|w| w.text == "how") => o.health = true,
                "logs" | "log" => o.logs = true,
                "error" | "errors" | "exception" | "exceptions" | "failure" | "failures" | "failing" | "failed" | "fails" | "crash" | "crashes"
                | "crashing" | "5xx" | "broken" | "timeouts" | "500s" | "500" | "502" | "502s" | "503" | "503s" | "504" | "504s" | "4xx" | "errored"
                | "erroring" | "exploding" | "throwing" | "died" | "dies" | "blew" | "broke" | "bombed" | "oom" | "oomkilled" | "oom-killed" | "killed"
                | "crashloop" | "crashloopbackoff" | "panic" | "panics" | "segfault" => o.errors = true,
                "incident" | "incidents" | "outage" | "outages" | "rootcause" | "wrong" | "problem" | "problems" | "issue" | "issues" | "bug" | "bugs" => {
                    o.incident = true
                }
                "warn" | "warning" | "warnings" => o.warnings = true,
                "resources" | "resource" | "inventory" => o.resources = true,
                "deployed" | "provisioned" => o.deployed = true,
                "deployment" | "deployments" | "terraform" | "tf" => o.deploy_context = true,
                // "roll back the deploy", "the apply failed": the noun.
                "deploy" | "release" | "rollout" | "apply" | "plan" if deploy_noun(words, i) => {
                    o.deploy_context = true;
                    o.deploy_event = true;
                    o.deploy_failed |= deploy_failed(words, i);
                }

                _ => {}
            }
            match w.text.as_str() {
                "terraform" | "code" | "hcl" | "tf" | "module" | "modules" => o.code = true,
                "configuration" | "config" | "syntax" | "formatting" => o.config = true,
                "changes" | "change" | "changed" | "diff" | "plan" | "drift" => o.changes = true,
                // "what terraform would do", "what will happen"
                "would" | "will"
                    if words.get(i + 1).is_some_and(|n| {
                        matches!(n.text.as_str(), "do" | "change" | "happen" | "create" | "destroy" | "modify" | "touch" | "add" | "delete" | "replace")
                    }) =>
                {
                    o.changes = true
                }
                "performance" | "latency" | "slow" | "load" | "traffic" | "holdup" | "slowness" | "duration" | "throughput" | "coldstarts" | "memory"
                | "p99" | "p95" | "p90" | "p50" | "speed" | "throttles" | "throttling" | "throttled" | "sluggish" | "laggy" | "lag" | "bottleneck"
                | "bottlenecks" | "cpu" | "utilization" | "latencies" | "perf" | "slowly" | "slower" | "concurrency" | "capacity" | "perform"
                | "performing" | "performs" => o.performance = true,
                "recreate" | "recreated" | "replace" | "replaced" | "replacement" | "destroyed" => o.changes = true,
                // "what we have running in test"
                "running" if clause(words, i).iter().any(|w| matches!(w.text.as_str(), "what" | "whats" | "have" | "which")) => o.deployed = true,
                t if COST_WORDS.contains(&t) => o.cost = true,
                t if SECURITY_WORDS.contains(&t) => o.security = true,
                t if COMPLIANCE_WORDS.contains(&t) => o.compliance = true,
                "infrastructure" | "infra" | "stack" | "architecture" | "environment" | "env" => o.infra = true,
                t if SERVICE_NOUNS.contains(&t) => o.services = true,
                "remediation" | "fix" | "patch" => o.fix = true,
                "design" | "designs" | "spec" | "blueprint" => {
                    o.design = true;
                    // "write that up as a design": a new one.
                    o.new_design |= i > 0 && matches!(words[i - 1].text.as_str(), "a" | "new");
                }
                "deployment" | "deployments" | "pipeline" => o.deploy_event = true,
                "would" | "if" | "estimate" | "estimated" | "projected" | "forecast" => o.hypothetical = true,
                t if t.ends_with(".md") => o.design = true,
                _ => {}
            }
        }
        o.security |= exposure(words, scoped);
        o
    }

    /// The code's security, compliance or cost, or the cost of what is not
    /// deployed yet: what the pre-deployment tests answer, not an audit.
    fn reviewed_before_deploy(&self) -> bool {
        let code = self.code && !self.deployed;
        (code && (self.security || self.compliance || self.cost)) || (self.cost && self.hypothetical)
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
        // "create a report of costs"
        Verb::Create | Verb::Generate if o.cost && !o.code => Target::Ops(O::Audit),
        Verb::Create if o.services || o.infra || o.design => Target::Infra(I::Architect),
        Verb::Generate if o.new_design && !o.code => Target::Infra(I::Architect),
        Verb::Generate if o.code || o.design || o.infra || o.services => Target::Infra(I::Engineer),
        // "write me a poem", "make a sandwich": nothing of ours to create.
        Verb::Create | Verb::Generate | Verb::Teardown => return,
        Verb::Validate => Target::Infra(I::ValidateConfig),
        Verb::Test => Target::Infra(I::Test),
        Verb::Preview => Target::Infra(I::PreviewChanges),
        Verb::Deploy if o.fix => Target::Ops(O::Remediate),
        Verb::Deploy => Target::Infra(I::Deploy),
        Verb::Monitor if o.logs => Target::Ops(O::QueryLogs),
        Verb::Monitor if o.performance => Target::Ops(O::AnalyzePerformance),
        Verb::Monitor if o.cost => Target::Ops(O::Audit),
        Verb::Monitor => Target::Ops(O::CheckHealth),
        Verb::Investigate | Verb::Fix if o.terraform_error || o.deploy_failed || (o.deploy_context && !o.services) => Target::Infra(I::Debug),
        Verb::Investigate if o.performance && !o.errors => Target::Ops(O::AnalyzePerformance),
        Verb::Investigate => Target::Ops(O::Investigate),
        // A quoted message is an error text for the deployment debugger.
        Verb::Debug if o.deploy_context || o.code || o.quoted || o.terraform_error => Target::Infra(I::Debug),
        Verb::Debug if o.services || o.errors || o.performance || o.logs => Target::Ops(O::Investigate),
        Verb::Debug => {
            out.push(Target::Infra(I::Debug));
            Target::Ops(O::Investigate)
        }
        Verb::Fix if o.code && !o.services => Target::Infra(I::Debug),
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
    // "the deploy failed", "the apply died with \"Error: …\"": the deployment debugger.
    if (o.deploy_event && (o.errors || o.incident) && !o.logs && !o.services)
        || (o.deploy_failed && !o.logs)
        || (o.terraform_error && (o.deploy_event || !o.services))
    {
        out.push(Target::Infra(I::Debug));
        return;
    }
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
    // "which resources are untagged": the resources are what the audit looks at.
    if (o.resources || (o.deployed && !o.health && !o.logs)) && !(o.cost || o.security || o.compliance) {
        out.push(Target::Infra(I::ShowResources));
    }
    if o.changes {
        out.push(Target::Infra(I::PreviewChanges));
    }
    // "the design doc … turning it into Terraform": code from a design.
    if o.design && o.code && !o.changes && !o.new_design {
        out.push(Target::Infra(I::Engineer));
    } else if (o.config || o.code) && !matches!(g, Generic::Show | Generic::Want) && !o.reviewed_before_deploy() {
        out.push(Target::Infra(I::ValidateConfig));
    }
    if o.performance {
        out.push(Target::Ops(O::AnalyzePerformance));
    }
    if o.reviewed_before_deploy() {
        // The code's security, compliance or cost, or what a deploy would cost: the pre-deployment tests.
        out.push(Target::Infra(I::Test));
    } else if o.cost || o.security || o.compliance {
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
        Generic::Want if o.services => out.push(Target::Infra(I::Architect)),
        Generic::Ask if o.services => out.push(Target::Ops(O::CheckHealth)),
        Generic::Show | Generic::Analyze | Generic::Want | Generic::Ask => {}
    }
}

/// Requests with no verb at all ("health of prod?", "logs from API Lambda").
pub(crate) fn noun_targets(o: &Objects, out: &mut Vec<Target>) {
    generic_targets(Generic::Check, o, out);
    if !o.specific() && !o.infra && !o.services {
        out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slip is read as a vocabulary word, so every vocabulary word must be one
    /// the lexicon acts on: in some short sentence it is a verb, an object, an
    /// environment, or a word one of the rules looks for.
    #[test]
    fn every_vocabulary_word_is_recognised() {
        let lists: &[&[&str]] = &[
            ENV_FOLLOWERS,
            KNOWN_ENV_NAMES,
            CAPACITY,
            FAILURE_WORDS,
            AMOUNT_VERBS,
            EXPOSABLE,
            EXPOSED,
            UP_AFTER,
            NOUN_MARKERS,
            DESIGN_NOUN_BEFORE,
            DESIGN_VERB_AFTER,
            SERVICE_NOUNS,
            COST_WORDS,
            SECURITY_WORDS,
            COMPLIANCE_WORDS,
            DOMAIN,
            INTERROGATIVES,
        ];
        let nothing = format!("{:?}", Objects::default());
        let stale: Vec<&str> = VOCABULARY
            .iter()
            .copied()
            .filter(|word| {
                let listed = lists.iter().any(|l| l.contains(word));
                // Parts of phrasal verbs ("spin up", "dig into") are merged by the tokenizer.
                let acted_on = ["{}", "{} it", "the {}", "to {}", "is it {}", "{} up", "{} down", "{} back", "dig {}"].iter().any(|form| {
                    let text = form.replace("{}", word);
                    let words = tokenize(&text);
                    let merged = words.len() < text.split_whitespace().count();
                    let at = words.iter().position(|w| w.text == *word);
                    let scoped = vec![Scope::Main; words.len()];
                    merged
                        || at.is_some_and(|i| !matches!(classify_word(&words, i), Role::Other) || env_word(&words, i, &[]).is_some())
                        || format!("{:?}", Objects::collect(&words, &scoped)) != nothing
                });
                !listed && !acted_on
            })
            .collect();
        assert!(stale.is_empty(), "vocabulary words the lexicon no longer acts on: {stale:?}");
    }
}
